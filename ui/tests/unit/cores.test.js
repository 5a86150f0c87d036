import { describe, expect, it } from 'vitest';
import { formatCpus, reservedCores } from '../../src/cores.js';

describe('reserved cores', () => {
  it('are written as a cpu list', () => {
    expect(formatCpus([4, 0, 1])).toBe('0-1,4');
    expect(formatCpus([2])).toBe('2');
    expect(formatCpus([])).toBe('');
  });
  it('are shown only for the tasks that hold some', () => {
    const alloc = {
      AllocatedResources: {
        Tasks: { solver: { Cpu: { ReservedCores: [2, 3] } }, sidecar: { Cpu: { ReservedCores: [] } }, web: {} },
      },
    };
    expect(reservedCores(alloc)).toEqual({ solver: '2-3' });
    expect(reservedCores({})).toEqual({});
  });
});
