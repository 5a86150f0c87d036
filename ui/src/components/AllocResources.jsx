// An alloc's resource use as live charts: cpu percent, memory against the group's limit, and
// the number of processes, sampled from /v1/client/allocation/:id/stats once a second.
import { useState } from 'preact/hooks';
import { get } from '../api.js';
import { usePoll } from '../poll.js';
import { allocSample, append, formatBytes, memoryLimit } from '../series.js';
import { Chart } from './Chart.jsx';

export function AllocResources({ alloc }) {
  const [series, setSeries] = useState({ cpu: [], memory: [], pids: [] });
  const [why, setWhy] = useState('');
  const live = alloc.ClientStatus === 'running';
  usePoll(
    async () => {
      if (!live) return;
      try {
        const s = allocSample(await get(`/v1/client/allocation/${alloc.ID}/stats`));
        setSeries((old) => ({
          cpu: append(old.cpu, s.t, s.cpu),
          memory: append(old.memory, s.t, s.memory),
          pids: append(old.pids, s.t, s.pids),
        }));
        setWhy('');
      } catch (e) {
        // 404 while no task runs (starting, restarting), 501 without cgroups: say so.
        setWhy(e.message);
      }
    },
    undefined,
    [alloc.ID, live],
  );
  if (!live && !series.cpu.length) return <p class="muted">Resource use is shown while the alloc runs.</p>;
  return (
    <>
      <div class="charts" data-testid="resource-charts">
        <Chart label="CPU" series={series.cpu} max={100} format={(v) => v.toFixed(1) + ' %'} testid="chart-cpu" />
        <Chart label="Memory" series={series.memory} limit={memoryLimit(alloc)} format={formatBytes} testid="chart-memory" />
        <Chart label="Processes" series={series.pids} format={(v) => String(v)} testid="chart-pids" />
      </div>
      {why && <p class="muted" data-testid="stats-why">{why}</p>}
    </>
  );
}
