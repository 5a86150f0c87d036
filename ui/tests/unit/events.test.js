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
