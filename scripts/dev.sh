#!/usr/bin/env bash
# The README's run command: sets up, builds, starts `drover agent -dev` in the background,
# runs the example jobs and says where to look.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
DROVER=$PWD/build/bin/drover
export DROVER_ADDR=${DROVER_ADDR:-http://127.0.0.1:4646}

if curl -fsS "$DROVER_ADDR/v1/agent/health" >/dev/null 2>&1; then
  echo "==> an agent already answers at $DROVER_ADDR; using it"
else
  LOG=/tmp/drover-dev.log
  nohup "$DROVER" agent -dev >"$LOG" 2>&1 &
  echo "==> started drover agent -dev (pid $!), log in $LOG"
  for _ in $(seq 1 100); do
    curl -fsS "$DROVER_ADDR/v1/agent/health" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -fsS "$DROVER_ADDR/v1/agent/health" >/dev/null || { cat "$LOG"; echo "the agent did not come up" >&2; exit 1; }
fi

"$DROVER" job run examples/hello-batch.yaml
"$DROVER" job run -detach examples/counter-service.yaml
sleep 1
"$DROVER" job status
HELLO=$(curl -fsS "$DROVER_ADDR/v1/job/hello-batch/allocations" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["ID"][:8])')
echo
echo "==> $DROVER alloc logs $HELLO"
"$DROVER" alloc logs "$HELLO"
cat <<TXT

==> drover is running in dev mode at $DROVER_ADDR. Where to look:
    $DROVER_ADDR/ui/ in a browser       the web UI: jobs, allocs and live logs, the node
    $DROVER alloc status                      every allocation
    $DROVER alloc status <alloc-id>           one alloc, its tasks and events
    $DROVER alloc logs <alloc-id>             a task's stdout (-stderr, -f to follow)
    $DROVER node status -verbose              what this node says about itself
    $DROVER plugin list                       the loaded driver plugins
    $DROVER job stop counter                  stop the example service
TXT
