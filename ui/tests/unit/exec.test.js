import { describe, expect, test } from 'vitest';
import { actionUrl, driverCanExec, execUrl, handshake, readMessage, sizeMessage, stdinMessage, taskActions, taskDrivers } from '../../src/exec.js';

describe('exec websocket messages', () => {
  test('the URL is ws on this host with the command as JSON and the token to come first', () => {
    const u = new URL(execUrl({ protocol: 'http:', host: '127.0.0.1:4646' }, 'a/b', 'web', ['/bin/sh']));
    expect(u.protocol).toBe('ws:');
    expect(u.host).toBe('127.0.0.1:4646');
    expect(u.pathname).toBe('/v1/client/allocation/a%2Fb/exec');
    expect(JSON.parse(u.searchParams.get('command'))).toEqual(['/bin/sh']);
    expect(u.searchParams.get('tty')).toBe('true');
    expect(u.searchParams.get('ws_handshake')).toBe('true');
    expect(execUrl({ protocol: 'https:', host: 'x' }, 'a', 't', ['sh']).startsWith('wss://x/')).toBe(true);
  });
  test("an action's URL names the job in the path, and the action, alloc and task in the query", () => {
    const u = new URL(actionUrl({ protocol: 'https:', host: 'h:4646' }, 'batch/periodic-1', 'abc', 'web', 'flush cache'));
    expect(u.protocol).toBe('wss:');
    expect(u.pathname).toBe('/v1/job/batch%2Fperiodic-1/action');
    expect(u.searchParams.get('action')).toBe('flush cache');
    expect(u.searchParams.get('allocID')).toBe('abc');
    expect(u.searchParams.get('task')).toBe('web');
    expect(u.searchParams.get('ws_handshake')).toBe('true');
    expect(u.searchParams.has('command')).toBe(false);
  });
  test("each task's actions come from the alloc's own job version, only its group's", () => {
    const alloc = {
      TaskGroup: 'g',
      Job: { TaskGroups: [{ Name: 'g', Tasks: [{ Name: 'web', Actions: [{ Name: 'flush' }, { Name: 'stats' }] }, { Name: 'db' }] }, { Name: 'other', Tasks: [{ Name: 'web', Actions: [{ Name: 'nope' }] }] }] },
    };
    expect(taskActions(alloc)).toEqual({ web: ['flush', 'stats'], db: [] });
    expect(taskActions({})).toEqual({});
  });
  test('stdin is UTF-8 in base64, the size is rows and columns', () => {
    expect(JSON.parse(stdinMessage('é\n'))).toEqual({ stdin: { data: 'w6kK' } });
    expect(JSON.parse(sizeMessage(24, 80))).toEqual({ tty_size: { height: 24, width: 80 } });
    expect(JSON.parse(handshake('s'))).toEqual({ version: 1, auth_token: 's' });
  });
  test('output comes back as bytes, the exit as its code, anything else as nothing', () => {
    expect(Array.from(readMessage('{"stdout":{"data":"aGkK"}}').output)).toEqual([104, 105, 10]);
    expect(Array.from(readMessage('{"stderr":{"data":"/w=="}}').output)).toEqual([255]);
    expect(readMessage('{"exited":true,"result":{"exit_code":3}}')).toEqual({ exitCode: 3 });
    expect(readMessage('not json')).toEqual({});
    expect(readMessage('{}')).toEqual({});
  });
  test('a task offers exec when its driver says so on the node', () => {
    const alloc = { TaskGroup: 'g', Job: { TaskGroups: [{ Name: 'g', Tasks: [{ Name: 'web', Driver: 'raw_exec' }, { Name: 'db', Driver: 'docker' }] }] } };
    const node = { Drivers: { raw_exec: { Capabilities: { Exec: true } }, docker: { Capabilities: {} } } };
    const drivers = taskDrivers(alloc);
    expect(driverCanExec(node, drivers.web)).toBe(true);
    expect(driverCanExec(node, drivers.db)).toBe(false);
    expect(driverCanExec(undefined, 'raw_exec')).toBe(false);
  });
});
