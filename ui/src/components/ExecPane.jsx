// A terminal into a running task (xterm.js) over the agent's exec websocket: what is typed
// goes to the command, its output is drawn as a terminal draws it, the size follows the pane.
// The token goes as the first message (a browser cannot set headers on a websocket). xterm.js
// is loaded when a terminal is first opened: the pages that never open one stay small. The
// task's named actions (the job's `action` blocks) each have a button that runs it there.
import { useEffect, useRef, useState } from 'preact/hooks';
import { token } from '../api.js';
import { installCssomStyles } from '../cssom_styles.js';
import { actionUrl, execUrl, handshake, readMessage, sizeMessage, stdinMessage } from '../exec.js';

export function ExecPane({ allocId, jobId, task, actions = [] }) {
  // null: closed; {}: the command typed; {action}: that action.
  const [session, setSession] = useState(null);
  const open = session !== null;
  const [command, setCommand] = useState('/bin/sh');
  const [state, setState] = useState('');
  const box = useRef(null);
  useEffect(() => {
    if (!session) return undefined;
    let ended = false;
    let end = () => {};
    Promise.all([import('@xterm/xterm'), import('@xterm/xterm/css/xterm.css')]).then(([{ Terminal }]) => {
      if (ended) return;
      installCssomStyles(document);
      const term = new Terminal({ rows: 20, cols: 100, cursorBlink: true, scrollback: 2000 });
      term.open(box.current);
      const argv = command.trim().split(/\s+/).filter(Boolean);
      const ws = new WebSocket(
        session.action
          ? actionUrl(window.location, jobId, allocId, task, session.action)
          : execUrl(window.location, allocId, task, argv.length ? argv : ['/bin/sh']),
      );
      setState('connecting');
      ws.onopen = () => {
        ws.send(handshake(token.value));
        ws.send(sizeMessage(term.rows, term.cols));
        setState('connected');
        term.focus();
      };
      ws.onmessage = (ev) => {
        const m = readMessage(ev.data);
        if (m.output) term.write(m.output);
        if (m.exitCode !== undefined) setState(`exited with code ${m.exitCode}`);
      };
      ws.onclose = (ev) => setState((s) => (s.startsWith('exited') ? s : 'closed' + (ev.reason ? ': ' + ev.reason : '')));
      const typed = term.onData((d) => ws.readyState === WebSocket.OPEN && ws.send(stdinMessage(d)));
      const resized = term.onResize(({ rows, cols }) => ws.readyState === WebSocket.OPEN && ws.send(sizeMessage(rows, cols)));
      end = () => {
        typed.dispose();
        resized.dispose();
        ws.close();
        term.dispose();
      };
    }, (e) => setState('cannot load the terminal: ' + e.message));
    return () => {
      ended = true;
      end();
    };
  }, [session, allocId, jobId, task]);
  return (
    <div class="exec" data-testid={'exec-' + task}>
      <div class="logbar">
        <b>Exec</b>
        <input value={command} onInput={(e) => setCommand(e.currentTarget.value)} disabled={open} data-testid="exec-command" aria-label="command" />
        <button onClick={() => setSession(open ? null : {})} data-testid="exec-toggle">
          {open ? 'Close' : 'Open terminal'}
        </button>
        {actions.map((name) => (
          <button onClick={() => setSession({ action: name })} disabled={open} data-testid={'action-' + name} title="Run this action of the job in the task">
            Run {name}
          </button>
        ))}
        <span class="muted" data-testid="exec-state">
          {state}
        </span>
      </div>
      {open && <div class="terminal" ref={box} data-testid="exec-terminal" />}
    </div>
  );
}
