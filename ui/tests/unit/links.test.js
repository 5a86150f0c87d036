import { describe, expect, test } from 'vitest';
import { safeLink } from '../../src/links.js';

describe("a job's ui links", () => {
  test('http and https URLs are links', () => {
    expect(safeLink('https://grafana.example/d/web')).toBe(true);
    expect(safeLink('http://10.0.0.5:3000/')).toBe(true);
  });
  test('script, data and relative URLs, and anything not a string, are not', () => {
    expect(safeLink('javascript:alert(1)')).toBe(false);
    expect(safeLink(' JavaScript:alert(1)')).toBe(false);
    expect(safeLink('data:text/html,<script>alert(1)</script>')).toBe(false);
    expect(safeLink('/v1/acl/tokens')).toBe(false);
    expect(safeLink(undefined)).toBe(false);
  });
});
