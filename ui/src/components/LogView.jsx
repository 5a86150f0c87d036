// A task's log, streamed live through /v1/client/fs/logs/:alloc?follow=true and appended as
// text (a text node, never markup: a task's output cannot become HTML). Pause stops reading;
// the stream resumes from the offset already shown.
import { useEffect, useRef, useState } from 'preact/hooks';
import { apiFetch } from '../api.js';
import { LogBuffer } from '../logbuffer.js';

export function LogView({ allocId, task }) {
  const [type, setType] = useState('stdout');
  const [paused, setPaused] = useState(false);
  const [state, setState] = useState('connecting');
  const pre = useRef(null);
  const buf = useRef(new LogBuffer());
  useEffect(() => {
    buf.current = new LogBuffer();
    if (pre.current) pre.current.textContent = '';
  }, [allocId, task, type]);
  useEffect(() => {
    if (paused) {
      setState('paused');
      return;
    }
    const controller = new AbortController();
    const decoder = new TextDecoder();
    (async () => {
      const q = new URLSearchParams({ task, type, follow: 'true', offset: String(buf.current.bytes) });
      try {
        const res = await apiFetch(`/v1/client/fs/logs/${encodeURIComponent(allocId)}?${q}`, { signal: controller.signal });
        if (!res.ok) {
          const body = await res.json().catch(() => ({}));
          setState(`error ${res.status}: ${body.error || ''}`);
          return;
        }
        setState('following');
        const reader = res.body.getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf.current.bytes += value.length;
          const text = decoder.decode(value, { stream: true });
          if (pre.current) {
            const stick = pre.current.scrollTop + pre.current.clientHeight >= pre.current.scrollHeight - 4;
            pre.current.append(document.createTextNode(text));
            if (stick) pre.current.scrollTop = pre.current.scrollHeight;
          }
          buf.current.push(text);
        }
        setState('ended');
      } catch (e) {
        if (!controller.signal.aborted) setState('disconnected');
      }
    })();
    return () => controller.abort();
  }, [allocId, task, type, paused]);
  const download = () => {
    const blob = new Blob([buf.current.text()], { type: 'text/plain' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${allocId.slice(0, 8)}-${task}.${type}.log`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };
  return (
    <div class="logs">
      <div class="logbar">
        <b>{task}</b>
        {['stdout', 'stderr'].map((t) => (
          <button class={type === t ? 'on small' : 'small'} onClick={() => setType(t)} data-testid={'log-' + t}>
            {t}
          </button>
        ))}
        <button class="small" onClick={() => setPaused(!paused)} data-testid="log-pause">
          {paused ? 'resume' : 'pause'}
        </button>
        <button class="small" onClick={download}>
          download
        </button>
        <span class="muted" data-testid="log-state">
          {state}
        </span>
      </div>
      <pre class="log" ref={pre} data-testid={'log-' + task}></pre>
    </div>
  );
}
