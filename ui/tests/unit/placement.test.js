// An alloc's placement scores and preemption links, as the Alloc page shows them.
import { describe, expect, it } from 'vitest';
import { placementTable, preemption, scoreText } from '../../src/placement.js';

describe('placementTable', () => {
  it('names the columns after the best node, sorted, and keeps Nomad order of the nodes', () => {
    const t = placementTable({
      ScoreMetaData: [
        { NodeID: 'b', Scores: { 'job-anti-affinity': 0, binpack: 0.21875, preemption: 0.99 }, NormScore: 0.6 },
        { NodeID: 'a', Scores: { binpack: 0.1, 'job-anti-affinity': -0.5 }, NormScore: -0.2 },
      ],
    });
    expect(t.columns).toEqual(['binpack', 'job-anti-affinity', 'preemption']);
    expect(t.rows).toEqual([
      { node: 'b', scores: [0.21875, 0, 0.99], final: 0.6 },
      { node: 'a', scores: [0.1, -0.5, 0], final: -0.2 },
    ]);
  });
  it('is null for an alloc without scores (an agent of its own)', () => {
    expect(placementTable(undefined)).toBeNull();
    expect(placementTable({ ScoreMetaData: [] })).toBeNull();
  });
});

describe('scoreText and preemption', () => {
  it('prints three significant digits as Nomad does', () => {
    expect(scoreText(0.21875)).toBe('0.219');
    expect(scoreText(0.99993)).toBe('1');
    expect(scoreText(-0.5)).toBe('-0.5');
  });
  it('reads both directions of a preemption', () => {
    expect(preemption({ PreemptedByAllocation: 'x', PreemptedAllocations: null })).toEqual({ by: 'x', evicted: [] });
    expect(preemption({ PreemptedAllocations: ['y', 'z'] })).toEqual({ by: null, evicted: ['y', 'z'] });
  });
});
