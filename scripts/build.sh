#!/usr/bin/env bash
# Configures and builds drover into build/ (Release with debug info), quietly unless it fails.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
# The web UI first: the agent embeds ui/dist (ui/embed.cmake). Node is needed only here, never
# at run time; scripts/setup.sh installs it.
if command -v node >/dev/null && command -v npm >/dev/null; then
  if [ ! -d ui/node_modules ]; then
    (cd ui && npm ci --no-audit --no-fund >/dev/null) || { echo "build.sh: npm ci in ui/ failed" >&2; exit 1; }
  fi
  (cd ui && npx vite build --logLevel error) || { echo "build.sh: the web UI's Vite build failed" >&2; exit 1; }
else
  echo "build.sh: node/npm not found: building the agent without its web UI (scripts/setup.sh installs them)" >&2
fi
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} >"$BUILD_DIR.configure.log" 2>&1 \
  || { cat "$BUILD_DIR.configure.log" >&2; echo "build.sh: cmake configure failed" >&2; exit 1; }
ninja -C "$BUILD_DIR" -j "$JOBS" ${TARGETS:-}
