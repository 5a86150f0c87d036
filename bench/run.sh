#!/bin/sh
# The one benchmark command: builds drover in release mode (build-bench/), prepares what the
# baselines need (dockerd and the local busybox image, conmon, containerd), runs every
# benchmark (or those named) and writes the tables to bench/results/<date>[-n<N>].md as well.
#   bench/run.sh                      # all, N=1000 tasks, 20 runs per side
#   bench/run.sh raw_exec docker      # only these
#   N=200 RUNS=10 bench/run.sh        # fewer tasks / runs
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench}
N=${N:-1000}
RUNS=${RUNS:-20}

if [ "$(id -u)" != 0 ]; then
  echo "bench/run.sh runs as root (it makes cgroups and talks to dockerd)" >&2
  exit 1
fi

echo "== building release into $BUILD" >&2
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDROVER_BUILD_TESTS=OFF >/dev/null
ninja -C "$BUILD" -j"$(nproc)" drover drover-monitor raw_exec docker drover_bench_hcl >&2
# The exec driver is built when its folder exists; the benchmark asks the agent if it loaded.
ninja -C "$BUILD" -t targets all 2>/dev/null | grep -q '^exec:' && ninja -C "$BUILD" exec >&2 || true

echo "== baselines" >&2
if ! command -v conmon >/dev/null 2>&1 || ! command -v containerd >/dev/null 2>&1; then
  apt-get install -y conmon containerd >&2 || echo "could not install conmon/containerd" >&2
fi
sh "$ROOT/tests/drivers/docker/docker_fixture.sh" >&2 || echo "docker fixture failed: docker rows will fail" >&2

mkdir -p "$ROOT/bench/results"
# A run with fewer tasks than the issue's 1000 says so in its file name.
SUFFIX=""
[ "$N" = 1000 ] || SUFFIX="-n$N"
OUT="$ROOT/bench/results/$(date +%Y-%m-%d)$SUFFIX.md"
echo "== running; tables also go to $OUT" >&2
exec python3 "$ROOT/bench/bench.py" --build-dir "$BUILD" --build-type Release \
  -n "$N" --runs "$RUNS" --out "$OUT" "$@"
