#!/usr/bin/env bash
# Runs a command inside a throw-away qemu guest whose kernel has a pure cgroup v2 hierarchy, so
# that drover's v2 code meets a real v2 kernel on hosts (CI's included) that boot v1 or hybrid.
#
#   tests/vm/run-in-v2-guest.sh [--cache DIR] [--timeout SECS] [--mem SIZE] [--cpus N] [--keep]
#                               [--stall-retries N] -- COMMAND [ARGS...]
#
# The guest boots Debian's linux-image-amd64 kernel with cgroup_no_v1=all and a small
# initramfs made here from busybox-static and the kernel's own virtio, 9p and overlay modules
# (cached under --cache, default build/vm, and remade when the kernel or the guest scripts
# change). Its root is this host's / shared read-only over 9p under a tmpfs overlay: it sees
# every host file (the build dir included) and may write anywhere, and its writes vanish when
# it stops. cgroup2 is on /sys/fs/cgroup with every controller enabled for the children; there
# is no network but loopback. COMMAND runs as root in the current directory with this
# environment; its stdout and stderr come back here, and this script exits with its status.
#
# Exit 125: the guest could not be made or did not boot (the reason and the console's last
# lines on stderr). Exit 124: --timeout (default 1200 s, boot and every attempt included) ran
# out. The boot and run times are reported on stderr.
#
# A guest whose kernel stalls (an RCU stall on its console: a vCPU that stopped running, seen
# under TCG, where one emulated CPU can halt and miss every wake-up after it) can do nothing
# more: the script stops it at once, says so with the console's last lines, and runs the
# command again in a fresh guest, at most --stall-retries times (default 1). The first
# attempt's output stays in the log above the second's.
#
# Acceleration (DROVER_VM_ACCEL: auto, kvm or tcg): auto uses KVM only where the kvm_intel or
# kvm_amd module drives /dev/kvm, TCG (emulation) otherwise. On CI's machines /dev/kvm is
# nested PVM (kvm_pvm), where qemu's `-cpu host` aborts and other CPU models do not boot a stock
# kernel in minutes; under TCG the guest boots in about 10 s and runs a process in ~60 ms.
# DROVER_VM_KERNEL=/boot/vmlinuz-X picks the kernel (default: the newest with a 9p module).
#
# Needs root (the 9p export of / must read every file), qemu-system-x86, linux-image-amd64
# (not the -cloud flavour: it has no 9p), busybox-static, kmod, cpio, python3 (scripts/setup.sh
# installs them all).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
fail() { echo "run-in-v2-guest: $*" >&2; exit 125; }

CACHE=
TIMEOUT=1200
MEM=3G
CPUS=$(nproc)
KEEP=0
STALL_RETRIES=1
while [ $# -gt 0 ]; do
  case "$1" in
    --cache) CACHE=$2; shift 2 ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    --mem) MEM=$2; shift 2 ;;
    --cpus) CPUS=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --stall-retries) STALL_RETRIES=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --) shift; break ;;
    *) fail "unknown option $1 (put -- before the command)" ;;
  esac
done
[ $# -gt 0 ] || fail "no command; usage: run-in-v2-guest.sh [options] -- COMMAND [ARGS...]"
[ "$(id -u)" = 0 ] || fail "must run as root: the guest's root is this host's / over 9p"
for tool in qemu-system-x86_64:qemu-system-x86 busybox:busybox-static modprobe:kmod \
            cpio:cpio python3:python3; do
  command -v "${tool%%:*}" >/dev/null || fail "${tool%%:*} is missing (scripts/setup.sh installs ${tool#*:})"
done
CACHE=${CACHE:-$HERE/../../build/vm}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)

# ---- the kernel: uncompressed, so that qemu can enter it directly (PVH) ----
KERNEL=${DROVER_VM_KERNEL:-}
if [ -z "$KERNEL" ]; then
  for k in $(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -rV); do
    [ -d "/lib/modules/${k#/boot/vmlinuz-}/kernel/fs/9p" ] && { KERNEL=$k; break; }
  done
  [ -n "$KERNEL" ] || fail "no kernel with 9p modules in /boot (scripts/setup.sh installs linux-image-amd64)"
fi
[ -r "$KERNEL" ] || fail "cannot read the kernel $KERNEL"
KVER=${KERNEL#/boot/vmlinuz-}
[ -d "/lib/modules/$KVER" ] || fail "no /lib/modules/$KVER for $KERNEL"

# Booting the bzImage would run its real-mode setup and xz decompression under emulation (tens
# of seconds); the ELF vmlinux inside it boots through PVH straight into the kernel.
VMLINUX=$CACHE/vmlinux-$KVER
if [ ! -s "$VMLINUX" ]; then
  python3 - "$KERNEL" "$VMLINUX.$$" <<'PY' || { rm -f "$VMLINUX.$$"; fail "cannot find the ELF kernel inside $KERNEL"; }
import sys, lzma, zlib
data = open(sys.argv[1], "rb").read()
decoders = ((b"\xfd7zXZ\x00", lambda b: lzma.LZMADecompressor().decompress(b)),
            (b"\x1f\x8b\x08", lambda b: zlib.decompressobj(31).decompress(b)))
for magic, decode in decoders:
    at = data.find(magic)
    while at >= 0:
        try:
            out = decode(data[at:])
            if out[:4] == b"\x7fELF":
                open(sys.argv[2], "wb").write(out)
                sys.exit(0)
        except Exception:
            pass
        at = data.find(magic, at + 1)
sys.exit(1)
PY
  mv "$VMLINUX.$$" "$VMLINUX"
fi

# ---- the initramfs: busybox, the two guest scripts, the modules to reach the host root ----
MODULES="virtio_pci 9pnet_virtio 9p overlay virtio_rng"
KEY=$(cat "$HERE/guest-init.sh" "$HERE/guest-run.sh" <(echo "$KVER $MODULES") | sha256sum | cut -c1-12)
INITRD=$CACHE/initrd-$KVER-$KEY.cpio.gz
if [ ! -s "$INITRD" ]; then
  BUSYBOX=$(command -v busybox)
  ldd "$BUSYBOX" >/dev/null 2>&1 && fail "$BUSYBOX is linked dynamically (scripts/setup.sh installs busybox-static)"
  T=$(mktemp -d "$CACHE/initrd.XXXXXX")
  trap 'rm -rf "$T"' EXIT
  mkdir -p "$T"/{bin,dev,proc,sys,lower,upper,newroot,modules}
  cp "$BUSYBOX" "$T/bin/busybox"
  cp "$HERE/guest-init.sh" "$T/init"
  cp "$HERE/guest-run.sh" "$T/guest-run.sh"
  mknod "$T/dev/console" c 5 1
  # Dependencies first, each module once, in the order modprobe would load them.
  for m in $MODULES; do
    modprobe -S "$KVER" --show-depends "$m" || fail "no module $m for $KVER"
  done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' | while read -r ko; do
    name=$(basename "$ko")
    case "$ko" in
      *.xz) name=${name%.xz}; xz -dc "$ko" > "$T/modules/$name" ;;
      *.zst) name=${name%.zst}; zstd -qdc "$ko" > "$T/modules/$name" ;;
      *) cp "$ko" "$T/modules/$name" ;;
    esac
    echo "$name" >> "$T/modules/order"
  done
  grep -qx 9p.ko "$T/modules/order" || fail "the 9p module for $KVER was not found"
  (cd "$T" && find . | cpio -o -H newc --quiet | gzip -1) > "$INITRD.$$"
  mv "$INITRD.$$" "$INITRD"
  rm -rf "$T"
  trap - EXIT
  # Older initramfs images of this cache (other kernels or scripts) are not used again.
  find "$CACHE" -maxdepth 1 -name 'initrd-*.cpio.gz' ! -name "${INITRD##*/}" -delete
fi

# ---- one run: its control share holds the command, its output, its status, the console ----
RUN=$(mktemp -d "$CACHE/run.XXXXXX")
QEMU_PID=
TAIL_PIDS=()
cleanup() {
  if [ -n "$QEMU_PID" ]; then kill "$QEMU_PID" 2>/dev/null || true; wait "$QEMU_PID" 2>/dev/null || true; fi
  for p in "${TAIL_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ "$KEEP" = 1 ]; then echo "run-in-v2-guest: kept $RUN" >&2; else rm -rf "$RUN"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

{
  echo "# written by run-in-v2-guest.sh: the caller's environment, directory and command"
  while IFS= read -r name; do
    case "$name" in
      _ | PWD | OLDPWD | SHLVL | BASH_FUNC_* | SSH_* | XDG_* | DBUS_SESSION_BUS_ADDRESS | DISPLAY | TMUX*) continue ;;
    esac
    [[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] && printf 'export %s=%q\n' "$name" "${!name}"
  done < <(compgen -e)
  printf 'umask %s\n' "$(umask)"
  printf 'cd -- %q || exit 125\n' "$PWD"
  printf 'exec'
  printf ' %q' "$@"
  printf '\n'
} > "$RUN/cmd.sh"
: > "$RUN/stdout"
: > "$RUN/stderr"

ACCEL=${DROVER_VM_ACCEL:-auto}
if [ "$ACCEL" = auto ]; then
  ACCEL=tcg
  if [ -w /dev/kvm ] && { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; }; then ACCEL=kvm; fi
fi
case "$ACCEL" in
  kvm) ACCEL_ARGS=(-accel kvm -cpu host) ;;
  tcg) ACCEL_ARGS=(-accel tcg,thread=multi,tb-size=512 -cpu max) ;;
  *) fail "DROVER_VM_ACCEL=$ACCEL is not one of auto, kvm, tcg" ;;
esac

# quiet boot; panic=-1 and -no-reboot turn a panic into qemu exiting; cgroup_no_v1=all leaves
# every controller to cgroup2; the rest trims what an emulated boot would wait on. nohz=off
# keeps each CPU's tick while it idles: under TCG a halted vCPU has missed a wake-up (on CI:
# CPU 0 never ran again, its runnable tasks with it); with a tick it looks again 4 ms later.
APPEND="console=ttyS0 quiet loglevel=4 panic=-1 oops=panic cgroup_no_v1=all random.trust_cpu=on"
APPEND+=" mitigations=off nowatchdog i8042.noaux i8042.nokbd nohz=off"
START=$(date +%s.%N)
launch_qemu() {
  : >"$RUN/console.log"
  qemu-system-x86_64 -name drover-v2-guest -machine pc "${ACCEL_ARGS[@]}" -m "$MEM" -smp "$CPUS" \
    -nodefaults -no-user-config -display none -monitor none -no-reboot \
    -serial "file:$RUN/console.log" \
    -kernel "$VMLINUX" -initrd "$INITRD" -append "$APPEND" \
    -device virtio-rng-pci \
    -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
    -virtfs "local,path=$RUN,mount_tag=ctl,security_model=none,multidevs=remap" \
    </dev/null >"$RUN/qemu.log" 2>&1 &
  QEMU_PID=$!
}
elapsed() { echo "$(date +%s.%N) $START" | awk '{ printf "%.1f", $1 - $2 }'; }
console_tail() {
  echo "run-in-v2-guest: last lines of the guest console and qemu:" >&2
  tail -n 30 "$RUN/console.log" "$RUN/qemu.log" >&2 2>/dev/null || true
}
timed_out() { awk -v now="$(elapsed)" -v limit="$TIMEOUT" 'BEGIN { exit !(now >= limit) }'; }
# The kernel's RCU stall report: a CPU or the grace-period kthread has not run for 21 s (the
# kernel's default). In a guest that has the machine to itself this is not a slow machine, it
# is a wedged one: the CI runs that showed it printed a report every minute until the limit.
stalled() { grep -Eq 'rcu: INFO: rcu_[a-z]+ (self-)?detected stall|kthread starved for' "$RUN/console.log" 2>/dev/null; }
stop_qemu() {
  kill "$QEMU_PID" 2>/dev/null || true
  wait "$QEMU_PID" 2>/dev/null || true
  QEMU_PID=
}
# Names the tests a ctest inside had started and not finished.
still_running() {
  awk '$1 == "Start" { sub(":", "", $2); running[$2] = $3 }
       $2 == "Test" { n = $3; sub("#", "", n); sub(":", "", n); delete running[n] }
       END { for (n in running) print "run-in-v2-guest: still running: " running[n] }' \
    "$RUN/stdout" >&2 2>/dev/null || true
}

# One attempt: boot, run, wait. Sets OUTCOME to done (the command's status is in $RUN/rc, or
# the guest stopped without one), stalled, or timeout; exits here on a guest that cannot boot.
run_attempt() {
  rm -f "$RUN/booted" "$RUN/rc" "$RUN/failed"
  local began
  began=$(elapsed)
  : > "$RUN/stdout"
  : > "$RUN/stderr"
  launch_qemu
  local crashes=0
  while [ ! -e "$RUN/booted" ]; do
    if ! kill -0 "$QEMU_PID" 2>/dev/null; then
      local qemu_rc=0
      wait "$QEMU_PID" 2>/dev/null || qemu_rc=$?
      QEMU_PID=
      local reason
      reason=$(cat "$RUN/failed" 2>/dev/null || true)
      # qemu itself crashing under TCG before the guest printed a line (seen once in many
      # runs: a segfault 2 s in) says nothing about drover: start it again, at most twice.
      if [ "$qemu_rc" -gt 128 ] && [ -z "$reason" ] && [ ! -s "$RUN/console.log" ] && [ "$crashes" -lt 2 ]; then
        echo "run-in-v2-guest: qemu died (exit $qemu_rc) before the guest's console came up; starting it again" >&2
        tail -n 5 "$RUN/qemu.log" >&2 2>/dev/null || true
        crashes=$((crashes + 1))
        launch_qemu
        continue
      fi
      # A kernel that dies before its console is up (a triple fault, too little memory) ends
      # qemu (-no-reboot) with status 0 and nothing on the console.
      [ -n "$reason" ] || [ -s "$RUN/console.log" ] || reason="no console output: the kernel stopped before its console came up"
      echo "run-in-v2-guest: the guest stopped before it booted (accel $ACCEL, qemu exit $qemu_rc): $reason" >&2
      console_tail
      exit 125
    fi
    if stalled; then stop_qemu; OUTCOME=stalled; return; fi
    if timed_out; then
      echo "run-in-v2-guest: the guest did not boot within ${TIMEOUT}s (accel $ACCEL)" >&2
      console_tail
      exit 124
    fi
    sleep 0.1
  done
  BOOT_S=$(elapsed)
  echo "run-in-v2-guest: booted $KVER with $ACCEL in $(echo "$BOOT_S $began" | awk '{ printf "%.1f", $1 - $2 }')s" >&2

  tail -n +1 -s 0.2 -F --pid="$QEMU_PID" "$RUN/stdout" 2>/dev/null &
  TAIL_PIDS+=($!)
  tail -n +1 -s 0.2 -F --pid="$QEMU_PID" "$RUN/stderr" >&2 2>/dev/null &
  TAIL_PIDS+=($!)

  OUTCOME=done
  while kill -0 "$QEMU_PID" 2>/dev/null; do
    if stalled; then OUTCOME=stalled; stop_qemu; break; fi
    if timed_out; then OUTCOME=timeout; stop_qemu; break; fi
    sleep 0.5
  done
  [ -z "$QEMU_PID" ] || { wait "$QEMU_PID" 2>/dev/null || true; QEMU_PID=; }
  wait "${TAIL_PIDS[@]}" 2>/dev/null || true
  TAIL_PIDS=()
}

ATTEMPT=1
while :; do
  run_attempt
  [ "$OUTCOME" = stalled ] || break
  echo "run-in-v2-guest: the guest's kernel stalled $(elapsed)s in (attempt $ATTEMPT; an RCU stall on its console: a vCPU stopped running, a fault of the emulated machine, not of the command)" >&2
  still_running
  console_tail
  if [ "$ATTEMPT" -gt "$STALL_RETRIES" ]; then
    echo "run-in-v2-guest: no attempts left (--stall-retries $STALL_RETRIES)" >&2
    exit 125
  fi
  ATTEMPT=$((ATTEMPT + 1))
  echo "run-in-v2-guest: ---- running the command again in a fresh guest (attempt $ATTEMPT) ----" >&2
done

TOTAL_S=$(elapsed)
echo "run-in-v2-guest: the command ran $(echo "$TOTAL_S $BOOT_S" | awk '{ printf "%.1f", $1 - $2 }')s" \
  "after boot, ${TOTAL_S}s in all" >&2
if [ -s "$RUN/rc" ]; then exit "$(cat "$RUN/rc")"; fi
if [ "$OUTCOME" = timeout ]; then
  echo "run-in-v2-guest: timed out after ${TIMEOUT}s" >&2
  still_running
  console_tail
  exit 124
fi
echo "run-in-v2-guest: the guest stopped without the command's status" >&2
console_tail
exit 125
