// The event stream's parsing: frames split across reads, heartbeats, resume index, backoff.
import { describe, expect, it } from 'vitest';
import { NdjsonSplitter, backoff, frameEvents, nextIndex } from '../../src/events.js';

describe('NdjsonSplitter', () => {
  it('returns a frame only once its line is complete, across reads', () => {
    const s = new NdjsonSplitter();
    expect(s.push('{"Index":3,"Events":[{"Topic":"alloc","In')).toEqual([]);
    const frames = s.push('dex":3}]}\n{}\n{"Ind');
    expect(frames).toEqual([{ Index: 3, Events: [{ Topic: 'alloc', Index: 3 }] }, {}]);
    expect(s.push('ex":4}\n')).toEqual([{ Index: 4 }]);
  });
  it('skips a line that is not JSON and goes on', () => {
    const s = new NdjsonSplitter();
    expect(s.push('garbage\n{"Index":1}\n')).toEqual([{ Index: 1 }]);
    expect(s.bad).toBe(1);
  });
});

describe('frameEvents and nextIndex', () => {
  it('a heartbeat has no events and leaves the resume index alone', () => {
    expect(frameEvents({})).toEqual([]);
    expect(nextIndex(7, {})).toBe(7);
  });
  it('resumes one past the highest event seen', () => {
    const f = { Index: 12, Events: [{ Index: 11 }, { Index: 12 }] };
    expect(nextIndex(0, f)).toBe(13);
    expect(nextIndex(20, f)).toBe(20);
  });
});

describe('backoff', () => {
  it('grows from 250 ms and stops at 5 s', () => {
    expect(backoff(0)).toBe(250);
    expect(backoff(1)).toBe(500);
    expect(backoff(10)).toBe(5000);
  });
});

describe('followEvents', () => {
  // A fetch whose every call answers with the next of `bodies` as a stream, then stays open.
  function fakeFetch(bodies, urls) {
    return async (url, init) => {
      urls.push(url);
      const body = bodies.shift();
      if (body === undefined) return new Promise(() => {});
      return new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode(body)); c.close(); } }), { status: 200 });
    };
  }
  it('resumes from the index after the last event seen and says when it is back', async () => {
    const urls = [];
    const got = [];
    const states = [];
    const { followEvents } = await import('../../src/events.js');
    const f = followEvents({
      fetchImpl: fakeFetch(['{"Index":4,"Events":[{"Topic":"alloc","Index":4}]}\n{}\n', '{"Index":5,"Events":[{"Topic":"node","Index":5}]}\n'], urls),
      topics: ['alloc', 'node'],
      onEvents: (e) => got.push(...e.map((x) => x.Topic)),
      onState: (s) => states.push(s),
    });
    const deadline = Date.now() + 5000;
    while (got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    f.stop();
    expect(urls[0]).toBe('/v1/event/stream?topic=alloc&topic=node&namespace=*');
    expect(urls[1]).toBe('/v1/event/stream?topic=alloc&topic=node&namespace=*&index=5');
    expect(got).toEqual(['alloc', 'reconnect', 'node']);
    expect(states.slice(0, 3)).toEqual(['live', 'reconnecting', 'live']);
  });
  it('stops at a 403 and says the stream is denied', async () => {
    const states = [];
    const { followEvents } = await import('../../src/events.js');
    followEvents({ fetchImpl: async () => new Response('{}', { status: 403 }), onEvents: () => {}, onState: (s) => states.push(s) });
    const deadline = Date.now() + 2000;
    while (!states.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(states).toEqual(['denied']);
  });
});
