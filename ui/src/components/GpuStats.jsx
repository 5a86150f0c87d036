// Each GPU's utilisation, memory (against its total) and temperature as live charts, from the
// device stats in /v1/client/stats (what the nvidia plugin reads from NVML), once a second.
import { useState } from 'preact/hooks';
import { get } from '../api.js';
import { usePoll } from '../poll.js';
import { append, gpuSamples } from '../series.js';
import { Chart } from './Chart.jsx';

export function GpuStats() {
  // id -> {name, memTotal, util: [], mem: [], temp: []}
  const [gpus, setGpus] = useState({});
  usePoll(async () => {
    const host = await get('/v1/client/stats');
    const t = Number(host.Timestamp || Date.now() * 1e6) / 1e6;
    setGpus((old) => {
      const next = {};
      for (const g of gpuSamples(host)) {
        const o = old[g.id] || { util: [], mem: [], temp: [] };
        next[g.id] = {
          name: g.name,
          memTotal: g.memTotal,
          util: g.util === null ? o.util : append(o.util, t, g.util),
          mem: g.memUsed === null ? o.mem : append(o.mem, t, g.memUsed),
          temp: g.temp === null ? o.temp : append(o.temp, t, g.temp),
        };
      }
      return next;
    });
  });
  const ids = Object.keys(gpus).sort();
  if (!ids.length) return null;
  return (
    <>
      <h2>GPUs</h2>
      {ids.map((id) => {
        const g = gpus[id];
        return (
          <div class="gpu" data-gpu={id}>
            <h3>
              <span class="mono">{id}</span> <span class="muted">{g.name}</span>
            </h3>
            <div class="charts">
              <Chart label="Utilisation" series={g.util} max={100} format={(v) => v + ' %'} testid="gpu-util" />
              <Chart label="Memory" series={g.mem} limit={g.memTotal || 0} format={(v) => v + ' MiB'} testid="gpu-memory" />
              <Chart label="Temperature" series={g.temp} format={(v) => v + ' °C'} testid="gpu-temp" />
            </div>
          </div>
        );
      })}
    </>
  );
}
