import { describe, expect, it } from 'vitest';
import { conflictText, filterVariables, itemsFromRows, pathProblem, rowsFromItems, varApi, varHref } from '../../src/variables.js';

describe('variable paths and links', () => {
  it('escapes each segment and keeps the slashes, with the namespace and cas', () => {
    expect(varApi('app/db config', 'default')).toBe('/v1/var/app/db%20config?namespace=default');
    expect(varApi('nomad/jobs/web', 'prod', 17)).toBe('/v1/var/nomad/jobs/web?namespace=prod&cas=17');
    expect(varApi('a', undefined, 0)).toBe('/v1/var/a?namespace=default&cas=0');
    expect(varHref('nomad/jobs/web')).toBe('#/variable/nomad/jobs/web');
    expect(varHref('x/y', 'prod')).toBe('#/variable/x/y?namespace=prod');
  });

  it("checks Nomad's path rules before a write", () => {
    expect(pathProblem('app/db')).toBeNull();
    expect(pathProblem('nomad/jobs/web/g/t')).toBeNull();
    expect(pathProblem('nomad/job-templates/t')).toBeNull();
    expect(pathProblem('')).toMatch(/needs a path/);
    expect(pathProblem('a.b')).toMatch(/only letters, digits/);
    expect(pathProblem('x'.repeat(129))).toMatch(/129 characters/);
    expect(pathProblem('nomad')).toMatch(/reserved/);
    expect(pathProblem('nomad/other')).toMatch(/only nomad\/jobs/);
    expect(pathProblem('nomad/job-templates/a/b')).toMatch(/nomad\/job-templates\/<name>/);
  });
});

describe('the item editor', () => {
  it('turns rows into Items, skipping empty rows', () => {
    expect(itemsFromRows([{ key: 'user', value: 'admin' }, { key: ' pass ', value: 's3' }, { key: '', value: '' }])).toEqual({
      items: { user: 'admin', pass: 's3' },
    });
    expect(itemsFromRows([{ key: 'empty', value: '' }])).toEqual({ items: { empty: '' } });
  });

  it('names what is wrong with the rows', () => {
    expect(itemsFromRows([{ key: '', value: 'v' }]).problem).toBe('item 1 has a value but no key');
    expect(itemsFromRows([{ key: 'a', value: '1' }, { key: 'a', value: '2' }]).problem).toBe('the key "a" is given twice');
    expect(itemsFromRows([{ key: '', value: '' }]).problem).toBe('a variable needs at least one item');
  });

  it('shows Items as sorted rows with one empty row to add to', () => {
    expect(rowsFromItems({ b: '2', a: '1' })).toEqual([
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
      { key: '', value: '' },
    ]);
    expect(rowsFromItems(undefined)).toEqual([{ key: '', value: '' }]);
  });
});

describe('the list and its conflicts', () => {
  it('filters by path, any case, and sorts by namespace then path', () => {
    const list = [
      { Namespace: 'prod', Path: 'app/b' },
      { Namespace: 'default', Path: 'App/a' },
      { Namespace: 'default', Path: 'other' },
    ];
    expect(filterVariables(list, 'app').map((v) => v.Namespace + '/' + v.Path)).toEqual(['default/App/a', 'prod/app/b']);
    expect(filterVariables(list, '').length).toBe(3);
  });

  it('tells a lock from a check-and-set conflict', () => {
    expect(conflictText({ error: 'attempting to modify locked variable' })).toMatch(/locked \(attempting to modify locked variable\)/);
    expect(conflictText({ error: 'cas conflict: ...', ModifyIndex: 9 })).toMatch(/at index 9 now/);
  });
});
