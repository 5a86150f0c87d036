#!/usr/bin/env bash
# The README's test command: sets up a bare Debian 12, builds, and runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
cd "${BUILD_DIR:-build}"
rc=0
ctest --output-on-failure --timeout 300 -j "$(nproc)" "$@" || rc=$?
# A log that is cut in the middle (CI shows its head and its tail) would lose a failed test's
# output among a thousand lines: the tail of each failed test's output again, last.
if [ "$rc" != 0 ] && [ -s Testing/Temporary/LastTestsFailed.log ]; then
  python3 - Testing/Temporary/LastTestsFailed.log Testing/Temporary/LastTest.log <<'PY' || true
import sys
failed = [line.split(":", 1)[1].strip() for line in open(sys.argv[1]) if ":" in line]
log = open(sys.argv[2], errors="replace").read()
for name in failed:
    at = log.find(f'"{name}" start time')
    end = log.find("<end of output>", at)
    if at < 0 or end < 0:
        continue
    lines = log[at:end].splitlines()
    print(f"\n==== {name}: the last lines of its output ====")
    print("\n".join(lines[-40:]))
PY
fi
exit "$rc"
