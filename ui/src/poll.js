// Periodic refresh for what the event stream does not carry (resource use, check results):
// the agent collects stats once a second, so a page asks that often while it is open and
// stops when it closes or the tab is hidden.
import { useEffect, useRef } from 'preact/hooks';

export const STATS_PERIOD_MS = 1000;

export function usePoll(fn, everyMs = STATS_PERIOD_MS, deps = []) {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    let timer = null;
    let stopped = false;
    const tick = async () => {
      if (!document.hidden) {
        try {
          await ref.current();
        } catch {
          // the page shows its own errors; a failed sample is just a gap
        }
      }
      if (!stopped) timer = setTimeout(tick, everyMs);
    };
    tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, deps);
}
