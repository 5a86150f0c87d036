import { describe, expect, test } from 'vitest';
import { lastTemplateEvent, taskTemplates } from '../../src/templates.js';

const alloc = {
  TaskGroup: 'web',
  Job: {
    TaskGroups: [
      { Name: 'other', Tasks: [{ Name: 'x', Templates: [{ DestPath: 'local/no' }] }] },
      {
        Name: 'web',
        Tasks: [
          { Name: 'plain' },
          {
            Name: 'httpd',
            Templates: [
              { DestPath: 'local/index.html', ChangeMode: 'signal', ChangeSignal: 'SIGHUP' },
              { DestPath: 'secrets/app.env', Envvars: true, SourcePath: 'local/app.tpl', ChangeMode: 'noop' },
              { DestPath: 'local/x', ChangeSignal: 'SIGHUP' },
            ],
          },
        ],
      },
    ],
  },
};

describe('task templates', () => {
  test("lists each template of the alloc's own group, with how a change reaches the task", () => {
    expect(taskTemplates(alloc)).toEqual({
      httpd: [
        { dest: 'local/index.html', changeMode: 'signal', signal: 'SIGHUP', env: false, source: '' },
        { dest: 'secrets/app.env', changeMode: 'noop', signal: '', env: true, source: 'local/app.tpl' },
        { dest: 'local/x', changeMode: 'restart', signal: '', env: false, source: '' },
      ],
    });
    expect(taskTemplates({ TaskGroup: 'g' })).toEqual({});
  });
  test('the latest template event says whether the last render failed and why', () => {
    const events = [
      { Type: 'Received', Time: 1 },
      { Type: 'Template Rendered', Time: 2, DisplayMessage: 'Rendered 2 templates' },
      { Type: 'Started', Time: 3 },
      { Type: 'Template Failed', Time: 4, Message: 'Template failed: local/x: no key' },
    ];
    expect(lastTemplateEvent(events)).toEqual({ failed: true, time: 4, message: 'Template failed: local/x: no key' });
    expect(lastTemplateEvent(events.slice(0, 3))).toEqual({ failed: false, time: 2, message: 'Rendered 2 templates' });
    expect(lastTemplateEvent([{ Type: 'Started', Time: 1 }])).toBe(null);
  });
});
