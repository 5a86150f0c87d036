// The web UI's OIDC sign-in (docs/security.md, "Logging in through an OIDC provider"): a
// button per OIDC auth method sends the browser to the provider; the provider sends it back to
// /ui/settings/tokens (Nomad's UI path, the one its AllowedRedirectURIs name) with a code and
// the state, and the page trades them for a token. The nonce and the method wait in
// sessionStorage meanwhile: only this tab, and only this origin, can complete its sign-in.

export const CALLBACK_PATH = '/ui/settings/tokens';
const PENDING_KEY = 'drover.oidc';

// Where the provider sends this page's sign-ins back to.
export function redirectUri(origin) {
  return origin + CALLBACK_PATH;
}

// A nonce of 32 random bytes, as hex: the ID token must carry it back.
export function newNonce(crypto) {
  const b = new Uint8Array(32);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export function savePending(storage, method, nonce) {
  storage.setItem(PENDING_KEY, JSON.stringify({ method, nonce }));
}

// The callback this page was loaded as, or null when it is not one: {code, state, iss} or
// {error} (the provider's error and its description), with the sign-in this tab began
// ({method, nonce}), which is taken: a reload does not complete it twice.
export function takeCallback(loc, storage) {
  if (loc.pathname !== CALLBACK_PATH) return null;
  const q = new URLSearchParams(loc.search);
  let pending = null;
  try {
    pending = JSON.parse(storage.getItem(PENDING_KEY) || 'null');
  } catch {
    pending = null;
  }
  storage.removeItem(PENDING_KEY);
  if (q.get('error'))
    return { error: 'the provider refused the sign-in: ' + q.get('error') + (q.get('error_description') ? ' (' + q.get('error_description') + ')' : '') };
  if (!q.get('code') || !q.get('state')) return { error: 'the provider sent no code back' };
  if (!pending || typeof pending.method !== 'string' || typeof pending.nonce !== 'string')
    return { error: 'no sign-in was begun in this tab (sign in again)' };
  return { code: q.get('code'), state: q.get('state'), iss: q.get('iss') || '', ...pending };
}
