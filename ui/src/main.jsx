// The web UI's entry: the layout (header, token box, stream state) and the hash router; on a
// server (cluster mode) the nodes and servers pages instead of this node's.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { cluster, loadMode, loadPolicy, needToken, policy } from './api.js';
import { startLive, streamState } from './live.js';
import { JobsPage } from './pages/Jobs.jsx';
import { JobPage } from './pages/Job.jsx';
import { DEFAULT, parseHash } from './namespaces.js';
import { SubmitPage } from './pages/Submit.jsx';
import { AllocPage } from './pages/Alloc.jsx';
import { NodePage } from './pages/Node.jsx';
import { NodesPage } from './pages/Nodes.jsx';
import { ServersPage } from './pages/Servers.jsx';
import { VariablesPage } from './pages/Variables.jsx';
import { NewVariablePage, VariablePage } from './pages/Variable.jsx';
import { AuthMethodLogin, finishOidcSignIn, TokenBox } from './components/TokenBox.jsx';
import './style.css';

function useHash() {
  const [hash, setHash] = useState(location.hash || '#/jobs');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/jobs');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function route(hash) {
  const { parts, query } = parseHash(hash);
  const rest = decodeURIComponent(parts.slice(1).join('/'));
  switch (parts[0]) {
    case 'job':
      return <JobPage id={rest} ns={query.get('namespace') || DEFAULT} />;
    case 'alloc':
      return <AllocPage id={rest} />;
    case 'node':
      return <NodePage id={rest} />;
    case 'nodes':
      return <NodesPage />;
    case 'servers':
      return <ServersPage />;
    case 'submit':
      return <SubmitPage />;
    case 'variables':
      return <VariablesPage />;
    case 'variable':
      return <VariablePage path={rest} ns={query.get('namespace') || DEFAULT} />;
    case 'new-variable':
      return <NewVariablePage />;
    default:
      return <JobsPage />;
  }
}

function App() {
  const hash = useHash();
  useEffect(() => {
    const start = () => loadMode().then(() => startLive());
    finishOidcSignIn().then(() => loadPolicy().then(start, start));
  }, []);
  const tab = parseHash(hash).parts[0] || 'jobs';
  return (
    <>
      <header>
        <a class="brand" href="#/jobs">drover</a>
        <nav>
          <a href="#/jobs" class={tab === 'jobs' || tab === 'job' ? 'on' : ''}>Jobs</a>
          <a href="#/submit" class={tab === 'submit' ? 'on' : ''}>Run a job</a>
          {cluster.value ? (
            <>
              <a href="#/nodes" class={tab === 'nodes' || tab === 'node' ? 'on' : ''}>Nodes</a>
              <a href="#/servers" class={tab === 'servers' ? 'on' : ''}>Servers</a>
            </>
          ) : (
            <a href="#/node" class={tab === 'node' ? 'on' : ''}>Node</a>
          )}
          <a href="#/variables" class={tab.includes('variable') ? 'on' : ''}>Variables</a>
        </nav>
        <span class={'stream ' + streamState.value} data-testid="stream-state" title="event stream">
          {streamState.value}
        </span>
        <TokenBox />
      </header>
      {needToken.value && policy.value === undefined ? (
        <main>
          <p class="notice" data-testid="token-needed">
            This agent has ACLs on: enter a token (its Secret ID) above to see anything.
          </p>
          <AuthMethodLogin />
        </main>
      ) : (
        <main key={hash}>{route(hash)}</main>
      )}
    </>
  );
}

render(<App />, document.getElementById('app'));
