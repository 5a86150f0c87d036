// An alloc's page: status, resource use as live charts, health, checks and services, where a
// server placed it and why, each task's state, event timeline and templates, its network and
// ports, live logs, and the alloc dir's files.
import { useEffect, useState } from 'preact/hooks';
import { get, send, policy, cluster, grantFor } from '../api.js';
import { useLive } from '../live.js';
import { allows, formatTime, shortId, taskReason } from '../status.js';
import { Problem } from '../components/Problem.jsx';
import { LogView } from '../components/LogView.jsx';
import { AllocResources } from '../components/AllocResources.jsx';
import { AllocHealth } from '../components/AllocHealth.jsx';
import { jobHref } from '../namespaces.js';
import { AllocPlacement } from '../components/AllocPlacement.jsx';
import { ExecPane } from '../components/ExecPane.jsx';
import { AllocFiles } from '../components/AllocFiles.jsx';
import { driverCanExec, taskActions, taskDrivers } from '../exec.js';
import { lastTemplateEvent, taskTemplates } from '../templates.js';
import { allocNetwork, allocPorts } from '../network.js';
import { reservedCores } from '../cores.js';

export function AllocPage({ id }) {
  const [alloc, setAlloc] = useState(null);
  const [error, setError] = useState(null);
  const [actionError, setActionError] = useState(null);
  // Which drivers can exec (Capabilities.Exec): this agent's node, or on a server the alloc's
  // node as it registered itself (the server passes the websocket on to it).
  const [node, setNode] = useState(null);
  const nodeId = alloc?.NodeID;
  useEffect(() => {
    if (cluster.value === false) get('/v1/node').then(setNode, () => setNode(null));
    else if (cluster.value === true && nodeId)
      get('/v1/node/' + encodeURIComponent(nodeId)).then(setNode, () => setNode(null));
  }, [cluster.value, nodeId]);
  useLive(
    () =>
      get('/v1/allocation/' + encodeURIComponent(id)).then((a) => {
        setAlloc(a);
        setError(null);
      }, setError),
    (e) => (e.Topic === 'alloc' || e.Topic === 'task' || e.Topic === 'Allocation' || e.Topic === 'health') && (!e.Key || e.Key.startsWith(id) || id.startsWith(e.Key)),
    [id],
  );
  if (error && !alloc) return <Problem error={error} />;
  if (!alloc) return <p class="muted">Loading…</p>;
  const tasks = Object.entries(alloc.TaskStates || {});
  const running = alloc.ClientStatus === 'running' || alloc.ClientStatus === 'pending';
  const grant = grantFor(alloc.Namespace);
  const mayStop = allows(policy.value, 'alloc-stop', grant);
  const act = async (what) => {
    setActionError(null);
    try {
      await send('POST', `/v1/client/allocation/${alloc.ID}/${what}`, {});
    } catch (e) {
      setActionError(e);
    }
  };
  const p = allocPorts(alloc);
  const net = allocNetwork(alloc);
  const cores = reservedCores(alloc);
  const drivers = taskDrivers(alloc);
  const actions = taskActions(alloc);
  const templates = taskTemplates(alloc);
  const canExec = (name, st) => st.State === 'running' && allows(policy.value, 'exec', grant) && driverCanExec(node, drivers[name]);
  return (
    <section>
      <h1>
        Alloc <span class="mono">{shortId(alloc.ID)}</span>{' '}
        <span class={'status ' + alloc.ClientStatus} data-testid="alloc-status">
          {alloc.ClientStatus}
        </span>
      </h1>
      <p class="muted">
        {alloc.Name} · job <a href={jobHref(alloc.JobID, alloc.Namespace)}>{alloc.JobID}</a> · node {alloc.NodeName} ·
        desired {alloc.DesiredStatus} · created {formatTime(alloc.CreateTime)}
        {alloc.ClientDescription ? ' · ' + alloc.ClientDescription : ''}
      </p>
      {running && (
        <div class="actions">
          <button disabled={!mayStop} onClick={() => act('stop')} data-testid="stop-alloc" class="danger">
            Stop alloc
          </button>
          <button disabled={!mayStop} onClick={() => act('restart')}>
            Restart
          </button>
        </div>
      )}
      <Problem error={actionError} />
      <h2>Resources</h2>
      <AllocResources alloc={alloc} />
      <AllocHealth alloc={alloc} />
      <AllocPlacement alloc={alloc} />
      <h2>Tasks</h2>
      {tasks.map(([name, st]) => (
        <div class="task" data-task={name}>
          <h3>
            {name}{' '}
            <span class={'status ' + (st.Failed ? 'failed' : st.State)} data-testid="task-state">
              {st.State}
              {st.Failed ? ' (failed)' : ''}
            </span>{' '}
            <span class="muted">
              restarts {st.Restarts} · started {st.StartedAt || '—'} · finished {st.FinishedAt || '—'}
              {cores[name] && (
                <>
                  {' '}
                  · cores <span class="mono" data-testid="reserved-cores">{cores[name]}</span>
                </>
              )}
            </span>
          </h3>
          {st.Failed && (
            <p class="error" data-testid="task-reason">
              {taskReason(st)}
            </p>
          )}
          <ol class="timeline" data-testid="timeline">
            {(st.Events || []).map((e) => (
              <li class={e.FailsTask ? 'fails' : ''}>
                <span class="muted">{formatTime(e.Time)}</span> <b>{e.Type}</b> {e.DisplayMessage || e.Message}
                {e.ExitCode ? ` (exit code ${e.ExitCode})` : ''}
              </li>
            ))}
          </ol>
          {templates[name] && <TemplateList templates={templates[name]} last={lastTemplateEvent(st.Events)} />}
        </div>
      ))}
      {net && (
        <>
          <h2>Network</h2>
          <p data-testid="alloc-network">
            mode <b>{net.mode}</b>
            {net.address ? (
              <>
                {' '}
                · address <span class="mono">{net.address}</span> ({net.iface})
              </>
            ) : net.mode === 'none' ? (
              ' · loopback only'
            ) : (
              ''
            )}
          </p>
        </>
      )}
      {p.length > 0 && (
        <>
          <h2>Ports</h2>
          <table class="list" data-testid="ports">
            <thead>
              <tr>
                <th>Label</th>
                <th>Host address</th>
                <th>{net ? 'Inside the alloc' : 'To'}</th>
              </tr>
            </thead>
            <tbody>
              {p.map((x) => (
                <tr>
                  <td>{x.Label}</td>
                  <td class="mono">
                    {x.HostIP}:{x.Value}
                  </td>
                  <td>{x.To || ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {tasks.some(([name, st]) => canExec(name, st)) && <h2>Exec</h2>}
      {tasks.map(([name, st]) => canExec(name, st) && <ExecPane allocId={alloc.ID} jobId={alloc.JobID} task={name} actions={actions[name]} />)}
      <h2>Logs</h2>
      {tasks.map(([name]) => (
        <LogView allocId={alloc.ID} task={name} />
      ))}
      {allows(policy.value, 'files', grant) && (
        <>
          <h2>Files</h2>
          <AllocFiles allocId={alloc.ID} />
        </>
      )}
    </section>
  );
}

// Where each template of a task renders (beneath its task dir) and how a change reaches the
// task; the latest render's outcome under it.
function TemplateList({ templates, last }) {
  return (
    <>
      <table class="list" data-testid="templates">
        <thead>
          <tr>
            <th>Template</th>
            <th>From</th>
            <th>On change</th>
          </tr>
        </thead>
        <tbody>
          {templates.map((t) => (
            <tr data-template={t.dest}>
              <td class="mono" data-testid="template-dest">
                {t.dest}
                {t.env ? ' (environment)' : ''}
              </td>
              <td class="mono">{t.source || 'inline'}</td>
              <td>{t.changeMode + (t.signal ? ' ' + t.signal : '')}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {last && (
        <p class={last.failed ? 'error' : 'muted'} data-testid="template-last">
          {formatTime(last.time)} {last.message}
        </p>
      )}
    </>
  );
}
