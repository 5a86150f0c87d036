#!/usr/bin/env bash
# The README's test command: sets up a bare Debian 12, builds, and runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure --timeout 300 -j "$(nproc)" "$@"
