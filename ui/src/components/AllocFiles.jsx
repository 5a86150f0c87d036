// An alloc's files, a dir at a time (/v1/client/fs/ls), and the start of one file as text
// (/v1/client/fs/readat; a text node: a task's bytes never become markup). Links are listed,
// never followed; a task's secrets dir is refused by the agent, and the refusal is shown.
import { useEffect, useState } from 'preact/hooks';
import { apiFetch, get } from '../api.js';
import { crumbs, joinPath, lsUrl, parentPath, readUrl, shownTime, sortEntries } from '../files.js';
import { formatBytes } from '../series.js';
import { Problem } from './Problem.jsx';

const PREVIEW = 64 * 1024;

export function AllocFiles({ allocId }) {
  const [dir, setDir] = useState('/');
  const [entries, setEntries] = useState(null);
  const [file, setFile] = useState(null); // {path, size, text}
  const [error, setError] = useState(null);
  useEffect(() => {
    setError(null);
    get(lsUrl(allocId, dir)).then((list) => setEntries(sortEntries(list)), setError);
  }, [allocId, dir]);

  const go = (path) => {
    setFile(null);
    setDir(path);
  };
  const open = async (entry) => {
    const path = joinPath(dir, entry.Name);
    if (entry.IsDir) return go(path);
    setError(null);
    try {
      const res = await apiFetch(readUrl(allocId, path, PREVIEW));
      if (!res.ok) {
        const body = await res.json().catch(() => ({}));
        throw Object.assign(new Error(body.error || `HTTP ${res.status}`), { status: res.status });
      }
      const text = new TextDecoder().decode(await res.arrayBuffer());
      setFile({ path, size: entry.Size, text });
    } catch (e) {
      setFile(null);
      setError(e);
    }
  };

  return (
    <div class="files" data-testid="files">
      <div class="crumbs" data-testid="files-path">
        {crumbs(dir).map((c, i) => (
          <>
            {i > 0 && ' / '}
            <button class="link" onClick={() => go(c.path)}>
              {c.name}
            </button>
          </>
        ))}
      </div>
      <Problem error={error} />
      {entries && (
        <table class="list" data-testid="files-list">
          <thead>
            <tr>
              <th>Name</th>
              <th>Size</th>
              <th>Mode</th>
              <th>Modified</th>
            </tr>
          </thead>
          <tbody>
            {dir !== '/' && (
              <tr>
                <td colSpan={4}>
                  <button class="link" onClick={() => go(parentPath(dir))}>
                    ..
                  </button>
                </td>
              </tr>
            )}
            {entries.map((e) => (
              <tr data-file={e.Name}>
                <td class="mono">
                  {e.FileMode.startsWith('L') ? (
                    <span title="a link: not followed">{e.Name} →</span>
                  ) : (
                    <button class="link" onClick={() => open(e)}>
                      {e.Name + (e.IsDir ? '/' : '')}
                    </button>
                  )}
                </td>
                <td>{e.IsDir ? '' : formatBytes(e.Size)}</td>
                <td class="mono">{e.FileMode}</td>
                <td class="muted">{shownTime(e.ModTime)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {file && (
        <>
          <p class="muted" data-testid="file-name">
            {file.path}
            {file.size > PREVIEW ? ` (the first ${formatBytes(PREVIEW)} of ${formatBytes(file.size)})` : ''}
          </p>
          <pre class="file" data-testid="file-text">
            {file.text}
          </pre>
        </>
      )}
    </div>
  );
}
