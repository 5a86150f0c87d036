import { describe, expect, test } from 'vitest';
import { CALLBACK_PATH, newNonce, redirectUri, savePending, takeCallback } from '../../src/oidc.js';

function memoryStorage() {
  const m = new Map();
  return { getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, String(v)), removeItem: (k) => m.delete(k) };
}
const at = (search, pathname = CALLBACK_PATH) => ({ pathname, search });

describe('the OIDC sign-in of the web UI', () => {
  test("the provider sends the browser back to Nomad's UI path on this origin", () => {
    expect(redirectUri('https://drover.example:4646')).toBe('https://drover.example:4646/ui/settings/tokens');
  });
  test('a nonce is 32 random bytes as hex, new each time', async () => {
    const { webcrypto } = await import('node:crypto');
    const a = newNonce(webcrypto);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(newNonce(webcrypto)).not.toBe(a);
  });
  test('a callback completes the sign-in this tab began, once', () => {
    const s = memoryStorage();
    savePending(s, 'sso', 'n1');
    expect(takeCallback(at('?code=c1&state=s1&iss=https%3A%2F%2Fidp'), s)).toEqual({ code: 'c1', state: 's1', iss: 'https://idp', method: 'sso', nonce: 'n1' });
    expect(takeCallback(at('?code=c1&state=s1'), s)).toEqual({ error: 'no sign-in was begun in this tab (sign in again)' });
  });
  test("the provider's error is shown, and a page that is no callback is left alone", () => {
    const s = memoryStorage();
    savePending(s, 'sso', 'n1');
    expect(takeCallback(at('', '/ui/'), s)).toBeNull();
    expect(takeCallback(at('?error=access_denied&error_description=MFA+failed'), s)).toEqual({
      error: 'the provider refused the sign-in: access_denied (MFA failed)',
    });
    savePending(s, 'sso', 'n1');
    expect(takeCallback(at('?state=s1'), s)).toEqual({ error: 'the provider sent no code back' });
  });
});
