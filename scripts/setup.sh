#!/usr/bin/env bash
# Installs every package drover needs to build, test and run, from Debian 12 by name.
# Idempotent and quiet; fails loudly naming what went wrong.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  # drover-monitor links musl statically (monitor/README.md, "Why musl")
  musl-tools
  libyaml-cpp-dev nlohmann-json3-dev libsqlite3-dev sqlite3 libboost-dev libboost-filesystem-dev
  libcgroup-dev cgroup-tools libspdlog-dev libfmt-dev libcli11-dev
  libgtest-dev libgmock-dev googletest libcpp-httplib-dev libssl-dev libsystemd-dev zlib1g-dev
  prometheus-cpp-dev
  # etcd's v3 API over gRPC (agent/upstream/etcd_rpc.proto)
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  # artifacts (agent/artifact/): HTTP downloads and unpacking
  libcurl4-openssl-dev libarchive-dev
  runc crun procps psmisc curl docker.io busybox-static docker-registry
  openssl clang-14 libclang-rt-14-dev
  systemd dpkg-dev file python3 lintian
  # a relying party checking workload identities against the JWKS (tests/e2e/workload_identity_test.cpp)
  python3-jwt python3-cryptography
  # periodic jobs' time_zone reads the system's zoneinfo
  tzdata
  # promtool (tests/e2e/metrics_test.cpp) comes only with the server: ~19 MB, 11 small
  # JavaScript packages for its web UI beside it
  prometheus
  etcd-server etcd-client
  # the web UI (ui/): its browser tests drive Debian's Chromium through playwright-core
  chromium
  # network mode bridge and none: the CNI reference plugins, in /usr/lib/cni
  containernetworking-plugins iptables iproute2
  # tests/vm boots a cgroup v2 guest: Debian's kernel (not -cloud: it has no 9p) under qemu
  qemu-system-x86 linux-image-amd64 kmod cpio
  # a wall clock that jumps for one process (tests/e2e/health_test.cpp): libfaketime
  faketime
)

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: must run as root (it installs packages with apt-get)" >&2
  exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get update -qq >/tmp/drover-apt-update.log 2>&1; then
    echo "setup.sh: apt-get update failed; see /tmp/drover-apt-update.log" >&2
    tail -n 20 /tmp/drover-apt-update.log >&2
    exit 1
  fi
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/drover-apt-install.log 2>&1; then
    echo "setup.sh: apt-get install failed; see /tmp/drover-apt-install.log" >&2
    tail -n 30 /tmp/drover-apt-install.log >&2
    exit 1
  fi
fi
# The docker tests start their own registry on a loopback port; the service that installing
# the package enables would listen on :5000 on every interface (left alone if it was there).
if [[ " ${missing[*]} " == *" docker-registry "* ]] && [ -d /run/systemd/system ]; then
  systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi
# Likewise the Prometheus server that the prometheus package enables (:9090, every interface):
# the tests use only its promtool.
if [[ " ${missing[*]} " == *" prometheus "* ]] && [ -d /run/systemd/system ]; then
  systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
# Node builds the web UI (ui/, Vite) and runs its tests; the agent never needs it at run time.
# Debian's nodejs and npm, unless a Node with its npm is already installed.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "setup.sh: installing nodejs npm"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/tmp/drover-apt-update.log 2>&1 || true
  if ! apt-get install -y -qq --no-install-recommends nodejs npm >/tmp/drover-apt-install.log 2>&1; then
    echo "setup.sh: apt-get install nodejs npm failed; see /tmp/drover-apt-install.log" >&2
    tail -n 30 /tmp/drover-apt-install.log >&2
    exit 1
  fi
fi
# The UI's packages, exactly as ui/package-lock.json pins them (again only when it changed).
UI_DIR="$(dirname "$0")/../ui"
if [ ! -f "$UI_DIR/node_modules/.package-lock.json" ] ||
  [ "$UI_DIR/package-lock.json" -nt "$UI_DIR/node_modules/.package-lock.json" ]; then
  if ! (cd "$(dirname "$0")/../ui" && npm ci --no-audit --no-fund >/tmp/drover-npm-ci.log 2>&1); then
    echo "setup.sh: npm ci in ui/ failed; see /tmp/drover-npm-ci.log" >&2
    tail -n 30 /tmp/drover-npm-ci.log >&2
    exit 1
  fi
fi
echo "setup.sh: all build, test and run dependencies are installed"
