#!/bin/sh
# ctest fixture for the docker driver tests: makes sure a dockerd answers on the default
# socket and that the local image drover-test/busybox:latest exists. No registry is reachable
# here, so the image is built with `docker import` from a root made of busybox-static.
set -eu

DOCKER=/usr/bin/docker   # the Debian docker.io CLI, by full path
IMAGE=drover-test/busybox:latest
LOG=/tmp/drover-test-dockerd.log

if ! "$DOCKER" info >/dev/null 2>&1; then
  if [ ! -x /usr/sbin/dockerd ]; then
    echo "dockerd is not installed (scripts/setup.sh installs docker.io)" >&2
    exit 1
  fi
  # A dockerd that died without cleaning up leaves its pid file, and a new one refuses to
  # start while any process has that pid ("pid file found"): in a suite that spawns
  # thousands of processes, some test's often has. Not a dockerd's: stale, removed.
  PIDFILE=/var/run/docker.pid
  if [ -f "$PIDFILE" ]; then
    pid=$(cat "$PIDFILE" 2>/dev/null || true)
    if [ -z "$pid" ] || [ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" != dockerd ]; then
      echo "removing the stale $PIDFILE (pid ${pid:-none} is not a dockerd)" >&2
      rm -f "$PIDFILE"
    fi
  fi
  # No bridge/iptables: this VM may lack the netfilter modules; tests use network_mode none.
  # setsid: the daemon must outlive this script and ctest's process group.
  setsid /usr/sbin/dockerd --iptables=false --ip-masq=false --bridge=none \
    >"$LOG" 2>&1 </dev/null &
  i=0
  until "$DOCKER" info >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt 150 ]; then
      echo "dockerd did not come up within 30s; its log ($LOG):" >&2
      tail -n 30 "$LOG" >&2
      exit 1
    fi
    sleep 0.2
  done
fi

if ! "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
  BUSYBOX=/bin/busybox
  [ -x "$BUSYBOX" ] || { echo "busybox-static is not installed" >&2; exit 1; }
  root=$(mktemp -d /tmp/drover-busybox-root.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/proc" "$root/sys" "$root/dev"
  chmod 1777 "$root/tmp"
  cp "$BUSYBOX" "$root/bin/busybox"
  for applet in $("$BUSYBOX" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
  done
  echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
  echo "root:x:0:" >"$root/etc/group"
  tar -C "$root" -cf - . | "$DOCKER" import \
    --change 'ENV PATH=/bin' --change 'CMD ["/bin/sh"]' - "$IMAGE" >/dev/null
fi
echo "dockerd up, $IMAGE present"
