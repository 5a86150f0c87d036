// A task's templates as the alloc page lists them: where each renders (beneath the task dir,
// docs/templates.md), how a change reaches the task, and the task's latest template event.
// No DOM here, so the unit tests drive it alone.

const TEMPLATE_EVENTS = new Set(['Template Rendered', 'Template Failed']);

// The templates of each task of an alloc, from the alloc's job: {task: [{dest, changeMode,
// signal, env, source}]}; tasks without templates are left out.
export function taskTemplates(alloc) {
  const out = {};
  for (const g of alloc?.Job?.TaskGroups || []) {
    if (g.Name !== alloc.TaskGroup) continue;
    for (const t of g.Tasks || []) {
      const list = (t.Templates || []).map((x) => ({
        dest: x.DestPath,
        changeMode: x.ChangeMode || 'restart',
        signal: x.ChangeMode === 'signal' ? x.ChangeSignal || '' : '',
        env: !!x.Envvars,
        source: x.SourcePath || '',
      }));
      if (list.length) out[t.Name] = list;
    }
  }
  return out;
}

// The newest template event of a task's events (rendered, or failed with why), or null.
export function lastTemplateEvent(events) {
  let last = null;
  for (const e of events || []) if (TEMPLATE_EVENTS.has(e.Type) && (!last || e.Time >= last.Time)) last = e;
  return last && { failed: last.Type === 'Template Failed', time: last.Time, message: last.DisplayMessage || last.Message || '' };
}
