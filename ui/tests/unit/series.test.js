import { describe, expect, it } from 'vitest';
import { allocSample, append, declaredServices, formatBytes, gpuSamples, memoryLimit } from '../../src/series.js';

describe('append', () => {
  it('keeps the newest samples only', () => {
    let s = [];
    for (let i = 0; i < 5; i++) s = append(s, i, i * 10, 3);
    expect(s).toEqual([
      { t: 2, v: 20 },
      { t: 3, v: 30 },
      { t: 4, v: 40 },
    ]);
  });
  it('returns a new array (a state update)', () => {
    const s = [{ t: 0, v: 1 }];
    expect(append(s, 1, 2)).not.toBe(s);
  });
});

describe('allocSample', () => {
  const stats = {
    Timestamp: 2_000_000_000,
    ResourceUsage: { CpuStats: { Percent: 12.5 }, MemoryStats: { RSS: 4096, Usage: 9999 } },
    Tasks: { a: { Pids: { 10: {}, 11: {} } }, b: { Pids: { 12: {} } } },
  };
  it('takes cpu percent, RSS and the processes of every task', () => {
    expect(allocSample(stats)).toEqual({ t: 2000, cpu: 12.5, memory: 4096, pids: 3 });
  });
  it('falls back to usage when RSS is not measured (cgroup v2 without rss)', () => {
    expect(allocSample({ ResourceUsage: { MemoryStats: { RSS: 0, Usage: 777 } } }).memory).toBe(777);
  });
});

describe('memoryLimit', () => {
  const alloc = (tasks) => ({ TaskGroup: 'g', Job: { TaskGroups: [{ Name: 'other', Tasks: [{ Resources: { MemoryMB: 999 } }] }, { Name: 'g', Tasks: tasks }] } });
  it("sums the group's tasks, the hard limit (MemoryMaxMB) where set", () => {
    expect(memoryLimit(alloc([{ Resources: { MemoryMB: 32 } }, { Resources: { MemoryMB: 64, MemoryMaxMB: 128 } }]))).toBe(160 * 1024 * 1024);
  });
  it('is 0 when the job is not known', () => {
    expect(memoryLimit({ TaskGroup: 'g' })).toBe(0);
  });
});

describe('declaredServices', () => {
  it("lists the group's and each task's services with their checks", () => {
    const alloc = {
      TaskGroup: 'g',
      Job: {
        TaskGroups: [
          {
            Name: 'g',
            Services: [{ Name: 'web', PortLabel: 'http', Checks: [{ Name: 'alive', Type: 'http' }] }],
            Tasks: [{ Name: 't', Services: [{ Name: 'side', Provider: 'nomad', Checks: [{ Type: 'tcp' }] }] }],
          },
        ],
      },
    };
    expect(declaredServices(alloc)).toEqual([
      { Name: 'web', Task: '', PortLabel: 'http', Provider: 'nomad', Checks: ['alive'] },
      { Name: 'side', Task: 't', PortLabel: '', Provider: 'nomad', Checks: ['tcp'] },
    ]);
  });
});

describe('gpuSamples', () => {
  it('flattens device groups into one sample per GPU, sorted by id', () => {
    const host = {
      DeviceStats: [
        {
          Vendor: 'nvidia',
          Type: 'gpu',
          Name: 'H100',
          InstanceStats: {
            'GPU-b': { Stats: { 'GPU utilization': { Value: 7, Unit: '%' }, Temperature: { Value: 40, Unit: 'C' } } },
            'GPU-a': { Stats: { 'Memory used': { Value: 100, Unit: 'MiB' }, 'Memory total': { Value: 800, Unit: 'MiB' } } },
          },
        },
      ],
    };
    const s = gpuSamples(host);
    expect(s.map((g) => g.id)).toEqual(['GPU-a', 'GPU-b']);
    expect(s[0]).toMatchObject({ name: 'nvidia/gpu/H100', util: null, memUsed: 100, memTotal: 800, temp: null });
    expect(s[1]).toMatchObject({ util: 7, temp: 40 });
  });
  it('is empty without device stats', () => {
    expect(gpuSamples({})).toEqual([]);
  });
});

describe('formatBytes', () => {
  it('uses binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(32 * 1024 * 1024)).toBe('32.0 MiB');
    expect(formatBytes(300 * 1024 * 1024)).toBe('300 MiB');
  });
});
