// The event stream's client side: /v1/event/stream is newline-delimited JSON in Nomad's
// framing ({"Index", "Events": [...]}, "{}" as a heartbeat). Split into frames here, followed
// with reconnects that resume from the last index seen (so a page stays right across an agent
// restart).

// Splits a byte stream's text into complete lines; keeps a partial last line for the next push.
export class NdjsonSplitter {
  constructor() {
    this.rest = '';
  }
  // Returns the frames (parsed objects) that the new text completes; a line that is not JSON
  // is skipped and counted in `bad`.
  push(text) {
    this.rest += text;
    const lines = this.rest.split('\n');
    this.rest = lines.pop();
    const frames = [];
    for (const line of lines) {
      const t = line.trim();
      if (!t) continue;
      try {
        frames.push(JSON.parse(t));
      } catch {
        this.bad = (this.bad || 0) + 1;
      }
    }
    return frames;
  }
}

// The events of a frame, flattened; a heartbeat ({}) has none.
export function frameEvents(frame) {
  if (!frame || !Array.isArray(frame.Events)) return [];
  return frame.Events;
}

// The index to resume from after a frame: one past the highest seen.
export function nextIndex(current, frame) {
  let next = current;
  for (const e of frameEvents(frame)) if (typeof e.Index === 'number' && e.Index + 1 > next) next = e.Index + 1;
  if (typeof frame?.Index === 'number' && frame.Index + 1 > next) next = frame.Index + 1;
  return next;
}

// The delay before reconnect attempt n (0-based): 250 ms doubling up to 5 s.
export function backoff(n) {
  return Math.min(5000, 250 * 2 ** Math.min(n, 5));
}

// Follows the stream until stop() is called: onEvents(events) for each frame with events,
// onState('live' | 'reconnecting' | 'denied') as the connection changes, and one
// {Topic: 'reconnect'} event when it is back after a drop. `fetchImpl` is the
// API's fetch (it adds the token).
export function followEvents({ fetchImpl, topics = [], onEvents, onState = () => {} }) {
  let stopped = false;
  let index = 0;
  let attempt = 0;
  let controller = null;
  let timer = null;
  let dropped = false;

  async function connect() {
    if (stopped) return;
    controller = new AbortController();
    const params = new URLSearchParams();
    for (const t of topics) params.append('topic', t);
    // Every namespace's events: the pages refetch what they show, in their own namespace.
    params.set('namespace', '*');
    if (index > 0) params.set('index', String(index));
    try {
      const res = await fetchImpl('/v1/event/stream?' + params.toString(), { signal: controller.signal });
      if (res.status === 403) {
        onState('denied');
        return;
      }
      if (!res.ok || !res.body) throw new Error('event stream: HTTP ' + res.status);
      onState('live');
      attempt = 0;
      // Back after a drop: whatever happened meanwhile is fetched afresh by the pages.
      if (dropped) onEvents([{ Topic: 'reconnect', Type: 'Reconnect' }]);
      dropped = false;
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      const splitter = new NdjsonSplitter();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const frame of splitter.push(decoder.decode(value, { stream: true }))) {
          index = nextIndex(index, frame);
          const events = frameEvents(frame);
          if (events.length) onEvents(events);
        }
      }
    } catch (e) {
      if (stopped) return;
    }
    if (stopped) return;
    onState('reconnecting');
    dropped = true;
    timer = setTimeout(connect, backoff(attempt++));
  }
  connect();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (controller) controller.abort();
    },
  };
}
