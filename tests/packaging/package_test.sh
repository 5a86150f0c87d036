#!/usr/bin/env bash
# Packaging tests, run by ctest (tests/packaging/CMakeLists.txt), one step per call:
#   package_test.sh STEP BUILD_DIR SOURCE_DIR
# build     builds the .deb (ninja package-deb) and unpacks it into a clean root (dpkg -x)
# contents  dpkg-deb -c / -f / -e: binaries, plugins, unit, conffile, Depends, Recommends
# unit      systemd-analyze verify on the unit (and proof that the check catches a bad one)
# agent     the installed agent starts from the installed config (+ an agent.d drop-in),
#           tells systemd READY/WATCHDOG/STOPPING, and runs a raw_exec job
# plugins   examples/plugins build against the unpacked SDK; the agent lists them with their
#           versions, runs a job on each, and refuses one built for another ABI version
# lintian   Debian's checker finds no error in the .deb (warnings are printed, not failed on),
#           and it does find one once the package's override for the static monitor is gone
# The clean root is a dpkg -x tree rather than dpkg -i: it needs no chroot and leaves the
# machine as it was; the binaries run from it, finding plugins and the monitor beside them.
set -euo pipefail

step=$1 build=$(realpath "$2") src=$(realpath "$3")
work=$build/packaging-test
root=$work/root
fail() { echo "FAIL: $*" >&2; exit 1; }
deb() { ls "$build"/package/drover_*_*.deb 2>/dev/null | head -n1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# `job run` may return once the alloc runs: wait (up to 20s) for the alloc to be complete.
wait_complete() {
  local job=$1 alloc=$2
  for _ in $(seq 200); do
    "$root/usr/bin/drover" job status "$job" | grep -Eq "^$alloc .* complete " && return 0
    sleep 0.1
  done
  fail "alloc $alloc of $job did not complete: $("$root/usr/bin/drover" job status "$job")"
}

agent_pid=""
stop_agent() {
  if [ -n "$agent_pid" ] && kill -0 "$agent_pid" 2>/dev/null; then
    kill -INT "$agent_pid"; wait "$agent_pid" 2>/dev/null || true
  fi
  agent_pid=""
  # The test agent's parent cgroup, once empty, goes too (rmdir refuses a busy one).
  if [ -n "${cg_parent:-}" ]; then
    for d in /sys/fs/cgroup/*/"$cg_parent"; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
  fi
  true
}
trap stop_agent EXIT

# Starts the installed agent with the installed config, then drop-ins from $1 (agent.d).
start_agent() {
  local confd=$1 log=$2; shift 2
  "$root/usr/bin/drover" agent -config "$root/etc/drover/agent.yaml" -config "$confd" "$@" \
    >"$log" 2>&1 &
  agent_pid=$!
  for _ in $(seq 100); do
    if "$root/usr/bin/drover" node status >/dev/null 2>&1; then return 0; fi
    kill -0 "$agent_pid" 2>/dev/null || { cat "$log" >&2; fail "the installed agent exited"; }
    sleep 0.1
  done
  cat "$log" >&2; fail "the installed agent did not answer within 10s"
}

# A drop-in pointing every path into the test root, on a free port, with its own cgroup parent
# so that it never takes other agents' task cgroups for orphans.
write_dropin() {
  local dir=$1 port=$2 extra=${3:-}
  cg_parent=drover-pkgtest-$port
  mkdir -p "$dir"
  cp "$root/etc/drover/agent.d/"*.yaml "$dir/" 2>/dev/null || true
  cat >"$dir/50-test.yaml" <<YAML
data_dir: $work/data-$port
plugin_dir: $root/usr/lib/drover/plugins
port: $port
cgroup_parent: drover-pkgtest-$port
$extra
YAML
}

case $step in
build)
  rm -rf "$work"; mkdir -p "$work"
  rm -f "$build"/package/drover_*.deb
  cmake --build "$build" --target package-deb >"$work/cpack.log" 2>&1 || { tail -n 30 "$work/cpack.log"; fail "cpack"; }
  d=$(deb); [ -f "$d" ] || fail "no drover_<version>_<arch>.deb in $build/package"
  case $(basename "$d") in drover_[0-9]*.[0-9]*_$(dpkg --print-architecture).deb) ;; *) fail "bad name $d";; esac
  mkdir -p "$root"; dpkg -x "$d" "$root"
  echo "built and unpacked $(basename "$d")"
  ;;

contents)
  d=$(deb); [ -f "$d" ] || fail "run the build step first"
  listing=$(dpkg-deb -c "$d" | awk '{print $1, $6}')
  for want in "-rwxr-xr-x ./usr/bin/drover" "-rwxr-xr-x ./usr/bin/drover-monitor" \
              "./usr/lib/drover/plugins/raw_exec.so" "drwx--x--x ./var/lib/drover/" \
              "./usr/lib/drover/etcd-grpc.so" "./usr/lib/drover/artifact-io.so" \
              "-rw-r--r-- ./etc/drover/agent.yaml" "./etc/drover/agent.d/" \
              "-rw-r--r-- ./lib/systemd/system/drover.service" "./usr/include/drover/plugin.h" \
              "-rw-r--r-- ./etc/drover/server.yaml" "-rw-r--r-- ./lib/systemd/system/drover-server.service" \
              "./usr/include/drover/sdk/driver.hpp" "./usr/share/cmake/drover/drover-config.cmake" \
              "./usr/share/pkgconfig/drover.pc" "-rw-r--r-- ./usr/share/doc/drover/changelog.Debian.gz" \
              "-rw-r--r-- ./usr/share/doc/drover/copyright" "-rw-r--r-- ./usr/share/lintian/overrides/drover"; do
    grep -qF -- "$want" <<<"$listing" || fail "the package lacks '$want'"
  done
  ! grep -q "\./usr/local\|/usr/lib/x86_64-linux-gnu/drover" <<<"$listing" || fail "files outside /usr"
  depends=$(dpkg-deb -f "$d" Depends)
  for lib in libc6 libstdc++6 libsqlite3 libyaml-cpp libsystemd0 libcgroup libprometheus-cpp-core; do
    grep -q "$lib" <<<"$depends" || fail "Depends lacks $lib: $depends"
  done
  maintainer=$(dpkg-deb -f "$d" Maintainer)
  grep -Eq '^[^<>@]+ <[^<>@ ]+@[^<>@ ]+\.[^<>@ .]+>$' <<<"$maintainer" && ! grep -q "@localhost" <<<"$maintainer" \
    || fail "Maintainer is not 'Name <user@host.domain>': $maintainer"
  [ "$(dpkg-deb -f "$d" Recommends)" = "runc, docker.io, tzdata" ] || fail "Recommends: $(dpkg-deb -f "$d" Recommends)"
  ctl=$work/control; rm -rf "$ctl"; dpkg-deb -e "$d" "$ctl"
  [ "$(cat "$ctl/conffiles")" = "$(printf '/etc/drover/agent.yaml\n/etc/drover/server.yaml')" ] \
    || fail "conffiles: $(cat "$ctl/conffiles")"
  for s in postinst prerm postrm; do
    [ -x "$ctl/$s" ] || fail "$s missing or not executable"; sh -n "$ctl/$s" || fail "$s: syntax"
  done
  grep -q "/run/systemd/system" "$ctl/postinst" || fail "postinst reloads systemd unconditionally"
  grep -q "0711 .*/var/lib/drover" "$ctl/postinst" || fail "postinst does not make /var/lib/drover 0711"
  # prerm stops the service on remove, not on upgrade: run it with a fake systemctl.
  fake=$work/fakebin; mkdir -p "$fake"
  printf '#!/bin/sh\necho "$@" >>%s/systemctl.calls\n' "$work" >"$fake/systemctl"; chmod +x "$fake/systemctl"
  rm -f "$work/systemctl.calls"
  if [ -d /run/systemd/system ]; then
    PATH=$fake:$PATH "$ctl/prerm" upgrade 0.2.0
    [ ! -s "$work/systemctl.calls" ] || fail "prerm upgrade touched the service: $(cat "$work/systemctl.calls")"
    PATH=$fake:$PATH "$ctl/prerm" remove
    grep -q "stop drover.service" "$work/systemctl.calls" || fail "prerm remove did not stop the service"
    grep -q "stop drover-server.service" "$work/systemctl.calls" || fail "prerm remove did not stop the server"
  else
    # Without systemd running, prerm must not call systemctl at all.
    PATH=$fake:$PATH "$ctl/prerm" remove
    [ ! -s "$work/systemctl.calls" ] || fail "prerm called systemctl with no systemd running"
    grep -A4 "remove|deconfigure)" "$ctl/prerm" | grep -q "for unit in drover.service drover-server.service" \
      && grep -A6 "remove|deconfigure)" "$ctl/prerm" | grep -q 'systemctl stop "$unit"' || fail "prerm remove does not stop"
    ! grep -A3 "upgrade|failed-upgrade)" "$ctl/prerm" | grep -q "systemctl" || fail "prerm upgrade stops the service"
  fi
  echo "contents, control fields, conffiles and maintainer scripts are as expected"
  ;;

unit)
  unit=$root/lib/systemd/system/drover.service
  [ -f "$unit" ] || fail "run the build step first"
  for key in Type=notify KillMode=process KillSignal=SIGINT Delegate=yes Restart=on-failure \
             RestartSec=2 WatchdogSec=30 LimitNOFILE=65536 TasksMax=infinity OOMScoreAdjust=-1000 \
             "ExecStart=/usr/bin/drover agent -config /etc/drover/agent.yaml -config /etc/drover/agent.d"; do
    grep -qxF "$key" "$unit" || fail "the unit lacks $key"
  done
  # verify wants ExecStart's binary to exist: check a copy that points into the unpacked root.
  # It exits 0 on unknown values (it only warns), so any output is a failure too.
  v=$work/unit; rm -rf "$v"; mkdir -p "$v"
  sed "s|/usr/bin/drover|$root/usr/bin/drover|" "$unit" >"$v/drover.service"
  out=$(systemd-analyze verify "$v/drover.service" 2>&1) || fail "systemd-analyze verify: $out"
  [ -z "$out" ] || fail "systemd-analyze verify: $out"
  server=$root/lib/systemd/system/drover-server.service
  for key in Type=notify KillSignal=SIGTERM Restart=on-failure \
             "ExecStart=/usr/bin/drover server -config /etc/drover/server.yaml"; do
    grep -qxF "$key" "$server" || fail "the server's unit lacks $key"
  done
  sed "s|/usr/bin/drover|$root/usr/bin/drover|" "$server" >"$v/drover-server.service"
  out=$(systemd-analyze verify "$v/drover-server.service" 2>&1) || fail "systemd-analyze verify: $out"
  [ -z "$out" ] || fail "systemd-analyze verify (server): $out"
  sed 's/^Type=notify/Type=notfy/' "$v/drover.service" >"$v/broken.service"
  out=$(systemd-analyze verify "$v/broken.service" 2>&1 || true)
  [ -n "$out" ] || fail "systemd-analyze verify did not notice a broken unit: this check proves nothing"
  echo "systemd-analyze verify passes"
  ;;

agent)
  [ -x "$root/usr/bin/drover" ] || fail "run the build step first"
  port=$(free_port); export DROVER_ADDR=http://127.0.0.1:$port
  write_dropin "$work/agent.d-agent" "$port" "plugin: {raw_exec: {config: {enabled: true}}}"
  "$root/usr/bin/drover" config validate "$root/etc/drover/agent.yaml" "$work/agent.d-agent" \
    || fail "the installed config does not validate"
  # A fake systemd notify socket: the agent must say READY=1, ping the watchdog, say STOPPING=1.
  sock=$work/notify.sock; rm -f "$sock" "$work/notify.log"
  python3 - "$sock" "$work/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.settimeout(30)
with open(sys.argv[2], "a", buffering=1) as log:
    try:
        while True:
            msg = s.recv(4096).decode()
            log.write(msg.replace("\n", " ") + "\n")
            if "STOPPING=1" in msg: break
    except socket.timeout:
        pass
PY
  listener=$!
  for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.05; done
  NOTIFY_SOCKET=$sock WATCHDOG_USEC=400000 start_agent "$work/agent.d-agent" "$work/agent.log"
  out=$(timeout 60 "$root/usr/bin/drover" job run "$src/examples/hello-batch.yaml") || fail "job run: $out"
  alloc=$(grep -o 'Allocations: [0-9a-f]*' <<<"$out" | awk '{print $2}')
  [ -n "$alloc" ] || fail "no allocation for hello-batch: $out"
  wait_complete hello-batch "$alloc"
  logs=$("$root/usr/bin/drover" alloc logs "$alloc" say-hello 2>&1 || true)
  grep -q "hello from drover" <<<"$logs" || fail "the task's output is not in its log: $logs"
  sleep 0.5   # a watchdog ping or two (every 200 ms)
  stop_agent
  wait "$listener" 2>/dev/null || true
  grep -q "^READY=1" "$work/notify.log" || fail "no READY=1: $(cat "$work/notify.log")"
  grep -q "^WATCHDOG=1" "$work/notify.log" || fail "no WATCHDOG=1 pings: $(cat "$work/notify.log")"
  grep -q "^STOPPING=1" "$work/notify.log" || fail "no STOPPING=1: $(cat "$work/notify.log")"
  echo "installed agent ran hello-batch from the installed config; systemd notifications seen"
  ;;

plugins)
  [ -x "$root/usr/bin/drover" ] || fail "run the build step first"
  pdir=$work/plugins; rm -rf "$pdir" "$work/ex"; mkdir -p "$pdir"
  cp "$root/usr/lib/drover/plugins/raw_exec.so" "$pdir/"
  for ex in timer hello_c; do
    cmake -S "$src/examples/plugins/$ex" -B "$work/ex/$ex" -G Ninja \
      -DCMAKE_PREFIX_PATH="$root/usr" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
      >"$work/ex-$ex.log" 2>&1 || { cat "$work/ex-$ex.log"; fail "configuring $ex against the installed SDK"; }
    grep -q "$root/usr/share/cmake/drover" "$work/ex/$ex/CMakeCache.txt" \
      || fail "$ex found a drover package other than the unpacked one"
    cmake --build "$work/ex/$ex" >>"$work/ex-$ex.log" 2>&1 || { cat "$work/ex-$ex.log"; fail "building $ex"; }
    cp "$work/ex/$ex/$ex.so" "$pdir/"
  done
  # The same C plugin as built by an SDK of a future ABI version.
  abi=$(sed -n 's/^#define DROVER_PLUGIN_ABI_VERSION \([0-9]*\)u\?$/\1/p' "$root/usr/include/drover/plugin.h")
  future=$((abi + 1))
  cc -shared -fPIC -I"$root/usr/include" -DHELLO_C_ABI_VERSION="$future" -DHELLO_C_VERSION='"9.9.9"' \
    -o "$pdir/hello_future.so" "$src/examples/plugins/hello_c/hello_c.c"
  pkg-config --with-path="$root/usr/share/pkgconfig" --cflags drover | grep -q -- "-I$root/usr/share/pkgconfig/../../include" \
    || fail "drover.pc does not point into the unpacked root: $(pkg-config --with-path="$root/usr/share/pkgconfig" --cflags drover)"

  port=$(free_port); export DROVER_ADDR=http://127.0.0.1:$port
  write_dropin "$work/agent.d-plugins" "$port" "plugin_dir: $pdir"
  sed -i "\|^plugin_dir: $root|d" "$work/agent.d-plugins/50-test.yaml"
  start_agent "$work/agent.d-plugins" "$work/agent-plugins.log"
  list=$("$root/usr/bin/drover" plugin list)
  echo "$list"
  grep -Eq "^timer +driver +0\.2\.0 +$abi +loaded" <<<"$list" || fail "timer 0.2.0 is not listed as loaded"
  grep -Eq "^hello_c +driver +0\.3\.0 +$abi +loaded" <<<"$list" || fail "hello_c 0.3.0 is not listed as loaded"
  refusal=$(grep "hello_future.so" <<<"$list") || fail "the future-ABI plugin is not listed"
  grep -q "refused" <<<"$refusal" || fail "the future-ABI plugin was not refused: $refusal"
  grep -q "version $future" <<<"$refusal" && grep -q "version $abi" <<<"$refusal" \
    || fail "the refusal does not name both ABI versions: $refusal"
  for drv in timer hello_c; do
    case $drv in
      timer) cfg='{message: "tick from timer", duration_ms: 300}'; want="tick from timer";;
      hello_c) cfg='{greeting: "hello from C"}'; want="hello from C";;
    esac
    cat >"$work/$drv-job.yaml" <<YAML
job:
  id: on-$drv
  type: batch
  groups:
    - name: g
      tasks:
        - name: t
          driver: $drv
          config: $cfg
YAML
    out=$(timeout 60 "$root/usr/bin/drover" job run "$work/$drv-job.yaml") || fail "job on $drv: $out"
    alloc=$(grep -o 'Allocations: [0-9a-f]*' <<<"$out" | awk '{print $2}')
    [ -n "$alloc" ] || fail "no allocation for the job on $drv: $out"
    wait_complete "on-$drv" "$alloc"
    logs=$("$root/usr/bin/drover" alloc logs "$alloc" t 2>&1 || true)
    grep -q "$want" <<<"$logs" || fail "the $drv task's output is not in its log: $logs"
  done
  echo "example plugins built against the installed SDK, loaded with their versions and ran jobs"
  ;;

lintian)
  d=$(deb); [ -f "$d" ] || fail "run the build step first"
  command -v lintian >/dev/null || fail "lintian is not installed (scripts/setup.sh installs it)"
  # As root lintian warns that it should not run as root: that line is not a finding.
  out=$(lintian --fail-on error "$d" 2>&1) || fail "lintian finds errors in $(basename "$d"):"$'\n'"$out"
  ! grep -q "^E: " <<<"$out" || fail "lintian: $out"
  echo "$out"
  # The check must be able to fail: the same package without its override is refused.
  bare=$work/lintian-bare; rm -rf "$bare" "$work/bare.deb"; dpkg-deb -R "$d" "$bare"
  rm "$bare/usr/share/lintian/overrides/drover"
  dpkg-deb --root-owner-group -b "$bare" "$work/bare.deb" >/dev/null
  out=$(lintian --fail-on error "$work/bare.deb" 2>&1) && fail "lintian accepted the package without its override: this check proves nothing"
  grep -q "^E: drover: statically-linked-binary \[usr/bin/drover-monitor\]" <<<"$out" \
    || fail "without the override lintian did not name the static monitor: $out"
  echo "lintian finds no error in $(basename "$d")"
  ;;

*) fail "unknown step $step" ;;
esac
