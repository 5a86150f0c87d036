#!/usr/bin/env bash
# Configures and builds drover into build/ (Release with debug info), quietly unless it fails.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} >"$BUILD_DIR.configure.log" 2>&1 \
  || { cat "$BUILD_DIR.configure.log" >&2; echo "build.sh: cmake configure failed" >&2; exit 1; }
ninja -C "$BUILD_DIR" -j "$JOBS" ${TARGETS:-}
