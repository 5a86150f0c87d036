import { describe, expect, test } from 'vitest';
import { driverCanExec, execUrl, handshake, readMessage, sizeMessage, stdinMessage, taskDrivers } from '../../src/exec.js';

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
