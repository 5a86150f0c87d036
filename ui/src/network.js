// An alloc's network as the alloc page shows it (docs/networking.md): its ports, and, in a
// network mode of its own (bridge, none, cni/<name>), the mode and the alloc's own address.

// The alloc's ports: the shared ones, then any a network block lists that are not among them,
// each with its host address.
export function allocPorts(alloc) {
  const out = [];
  const shared = alloc?.AllocatedResources?.Shared || {};
  for (const p of shared.Ports || []) out.push(p);
  for (const n of shared.Networks || [])
    for (const p of [...(n.ReservedPorts || []), ...(n.DynamicPorts || [])])
      if (!out.some((o) => o.Label === p.Label)) out.push({ ...p, HostIP: p.HostIP || n.IP });
  return out;
}

// {mode, address, iface} for an alloc with a namespace of its own (Nomad's NetworkStatus gives
// the address once the namespace is up; none has none); null in host mode.
export function allocNetwork(alloc) {
  const nets = alloc?.AllocatedResources?.Shared?.Networks || [];
  const mode = (nets[0] && nets[0].Mode) || 'host';
  if (mode === 'host') return null;
  const status = alloc.NetworkStatus || {};
  return { mode, address: status.Address || '', iface: status.InterfaceName || '' };
}
