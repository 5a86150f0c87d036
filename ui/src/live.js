// One event-stream connection for the whole page (events.js), shared by the pages: each
// subscribes with a callback and refetches what it shows when an event concerns it. A server
// (cluster mode) has no event stream: there the pages refetch every POLL_MS.
import { signal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { apiFetch, cluster } from './api.js';
import { followEvents } from './events.js';

// 'connecting' | 'live' | 'reconnecting' | 'denied' | 'polling'
export const streamState = signal('connecting');
const listeners = new Set();
let stream = null;
const POLL_MS = 2000;

export function startLive({ poll = cluster.value === true } = {}) {
  if (stream) stream.stop();
  if (poll) {
    streamState.value = 'polling';
    // As after a reconnect: every page refetches what it shows.
    const timer = setInterval(() => {
      for (const l of listeners) l([{ Topic: 'reconnect' }]);
    }, POLL_MS);
    stream = { stop: () => clearInterval(timer) };
    return;
  }
  streamState.value = 'connecting';
  stream = followEvents({
    fetchImpl: apiFetch,
    onState: (s) => (streamState.value = s),
    onEvents: (events) => {
      for (const l of listeners) l(events);
    },
  });
}

// Calls `refresh` once now and again (at most every 200 ms) whenever the stream brings events
// that `matters(event)` accepts, or reconnects (anything may have changed meanwhile).
export function useLive(refresh, matters = () => true, deps = []) {
  const ref = useRef(refresh);
  ref.current = refresh;
  useEffect(() => {
    let pending = null;
    const run = () => {
      pending = null;
      ref.current();
    };
    run();
    const l = (events) => {
      if (!events.some((e) => e.Topic === 'reconnect' || matters(e))) return;
      if (!pending) pending = setTimeout(run, 200);
    };
    listeners.add(l);
    return () => {
      listeners.delete(l);
      if (pending) clearTimeout(pending);
    };
  }, deps);
}
