import { describe, expect, test } from 'vitest';
import { crumbs, joinPath, lsUrl, parentPath, readUrl, shownTime, sortEntries } from '../../src/files.js';

describe('the alloc files browser', () => {
  test('paths join, climb and break into crumbs from the alloc dir', () => {
    expect(joinPath('/', 't')).toBe('/t');
    expect(joinPath('/t/local', 'app.conf')).toBe('/t/local/app.conf');
    expect(parentPath('/t/local')).toBe('/t');
    expect(parentPath('/t')).toBe('/');
    expect(parentPath('/')).toBe('/');
    expect(crumbs('/t/local')).toEqual([
      { name: 'alloc dir', path: '/' },
      { name: 't', path: '/t' },
      { name: 'local', path: '/t/local' },
    ]);
  });
  test('dirs come first, then files, each by name', () => {
    const sorted = sortEntries([
      { Name: 'b.txt', IsDir: false },
      { Name: 'z', IsDir: true },
      { Name: 'a.txt', IsDir: false },
      { Name: 'alloc', IsDir: true },
    ]);
    expect(sorted.map((e) => e.Name)).toEqual(['alloc', 'z', 'a.txt', 'b.txt']);
    expect(sortEntries(null)).toEqual([]);
  });
  test('times to the second; requests escape the alloc id and the path', () => {
    expect(shownTime('2026-12-06T12:01:02.123456789Z')).toBe('2026-12-06 12:01:02Z');
    expect(lsUrl('a/b', '/t/x y')).toBe('/v1/client/fs/ls/a%2Fb?path=%2Ft%2Fx%20y');
    expect(readUrl('a', '/t/f&x', 10)).toBe('/v1/client/fs/readat/a?path=%2Ft%2Ff%26x&offset=0&limit=10');
  });
});
