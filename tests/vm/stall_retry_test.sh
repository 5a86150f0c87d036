#!/usr/bin/env bash
# V2Guest.AStalledGuestIsStoppedAndItsCommandRunsAgain: a guest whose console shows an RCU stall
# is stopped at once and the command runs again in a fresh guest (run-in-v2-guest.sh, "A guest
# whose kernel stalls"). The first attempt writes the kernel's own stall line to the console
# (through /dev/kmsg at level 3) and then waits far longer than the test may take; the second
# finds the marker it left in the control share and exits 3. Usage: stall_retry_test.sh CACHE
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
err=$(mktemp)
trap 'rm -f "$err"' EXIT
out=$("$HERE/run-in-v2-guest.sh" --cache "$1" --timeout 600 -- sh -c '
  if [ ! -e /.v2-guest/ctl/stalled-once ]; then
    : > /.v2-guest/ctl/stalled-once
    echo "<3>rcu: INFO: rcu_preempt detected stalls on CPUs/tasks: (written by the test)" > /dev/kmsg
    sleep 3600
  fi
  echo "attempt two ran"; exit 3' 2>"$err")
rc=$?
cat "$err" >&2
fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$rc" = 3 ] || fail "exit status $rc, expected the second attempt's 3"
grep -qx "attempt two ran" <<<"$out" || fail "the second attempt's output is missing: $out"
grep -q "the guest's kernel stalled" "$err" || fail "the stall was not reported"
grep -q "attempt 2" "$err" || fail "the second attempt was not announced"
echo "ok: the stalled guest was stopped and the command ran again"
