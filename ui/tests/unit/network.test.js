import { describe, expect, test } from 'vitest';
import { allocNetwork, allocPorts } from '../../src/network.js';

const alloc = (mode, status, ports = []) => ({
  AllocatedResources: { Shared: { Ports: ports, Networks: [{ Mode: mode, IP: '127.0.0.1', DynamicPorts: [] }] } },
  NetworkStatus: status,
});

describe("an alloc's network", () => {
  test('a CNI network or bridge shows its mode and the address the alloc got', () => {
    expect(allocNetwork(alloc('cni/overlay', { InterfaceName: 'eth0', Address: '10.203.1.2' }))).toEqual({
      mode: 'cni/overlay',
      address: '10.203.1.2',
      iface: 'eth0',
    });
    expect(allocNetwork(alloc('bridge', null))).toEqual({ mode: 'bridge', address: '', iface: '' });
    expect(allocNetwork(alloc('none', { InterfaceName: '', Address: '' })).mode).toBe('none');
  });
  test('host mode, and an alloc without networks, show none', () => {
    expect(allocNetwork(alloc('host', null))).toBeNull();
    expect(allocNetwork({})).toBeNull();
  });
  test('ports are the shared ones, then those only a network block lists', () => {
    const a = alloc('bridge', null, [{ Label: 'http', Value: 24000, To: 8080, HostIP: '127.0.0.1' }]);
    a.AllocatedResources.Shared.Networks[0].DynamicPorts = [{ Label: 'http', Value: 24000 }, { Label: 'admin', Value: 24001 }];
    expect(allocPorts(a).map((p) => [p.Label, p.HostIP])).toEqual([
      ['http', '127.0.0.1'],
      ['admin', '127.0.0.1'],
    ]);
  });
});
