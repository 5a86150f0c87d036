// The API client: every request goes to this agent's own origin with the token (when one is
// set) as X-Nomad-Token. Errors become ApiError with the HTTP status and the reply's JSON.
import { signal } from '@preact/signals';

const TOKEN_KEY = 'drover.token';

// The token lives for the browser tab only (sessionStorage): closing the tab forgets it.
export const token = signal(sessionStorage.getItem(TOKEN_KEY) || '');
// The token's policy (read, submit, operate, management, or client: a token of Nomad ACL
// policies); null when ACLs are off; undefined until known.
export const policy = signal(undefined);
// A client token's grants, by namespace, as /v1/acl/token/self/capabilities answers them:
// {Capabilities: [...], Node, Agent, Operator}.
export const grants = signal({});
const grantsAsked = new Set();
// Set when a request was refused for want of a (valid) token: the page asks for one.
export const needToken = signal(false);
// The auth methods a login may use (GET /v1/acl/auth-methods, asked once a token is needed):
// [{Name, Type, Default}].
export const authMethods = signal([]);
// True when the page is served by `drover server` (cluster mode: nodes, servers, versions),
// false on an agent; undefined until known.
export const cluster = signal(undefined);

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || 'HTTP ' + status);
    this.status = status;
    this.body = body || {};
  }
}

export function setToken(t) {
  token.value = t;
  grants.value = {};
  grantsAsked.clear();
  if (t) sessionStorage.setItem(TOKEN_KEY, t);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export function apiFetch(path, init = {}) {
  const headers = new Headers(init.headers || {});
  if (token.value) headers.set('X-Nomad-Token', token.value);
  return fetch(path, { ...init, headers, credentials: 'omit', cache: 'no-store' });
}

async function parse(res) {
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = { error: text };
  }
  if (!res.ok) {
    if (res.status === 403 && !token.value) needToken.value = true;
    throw new ApiError(res.status, body);
  }
  return body;
}

export async function get(path) {
  return parse(await apiFetch(path));
}

export async function send(method, path, body, contentType = 'application/json') {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers['Content-Type'] = contentType;
  }
  return parse(await apiFetch(path, init));
}

// Works out whether ACLs are on and what this token may do: /v1/acl/token/self is 404 without
// ACLs, 403 without a valid token, else the token.
export async function loadPolicy() {
  const res = await apiFetch('/v1/acl/token/self');
  if (res.status === 404) {
    policy.value = null;
    needToken.value = false;
    return;
  }
  if (res.status === 403) {
    policy.value = undefined;
    needToken.value = true;
    get('/v1/acl/auth-methods').then(
      (list) => (authMethods.value = Array.isArray(list) ? list.filter((m) => m.Type === 'JWT' || m.Type === 'OIDC') : []),
      () => (authMethods.value = []),
    );
    return;
  }
  const t = await res.json();
  // A client token of Nomad ACL policies (no built-in Policy): its grants differ by
  // namespace, asked for per namespace as pages need them (grantFor).
  policy.value = t.Policy || (t.Type === 'client' ? 'client' : 'read');
  needToken.value = false;
}

// Trades a JWT for a token through auth method `method` (POST /v1/acl/login); returns the
// new token's secret. An ApiError says why not (403 with the check that failed).
export async function loginWithJwt(method, jwt) {
  const t = await send('POST', '/v1/acl/login', { AuthMethodName: method, LoginToken: jwt });
  return t.SecretID;
}

// Begins a sign-in through OIDC auth method `method` (POST /v1/acl/oidc/auth-url): the
// provider's URL to send the browser to.
export async function oidcAuthUrl(method, redirectUri, nonce) {
  const r = await send('POST', '/v1/acl/oidc/auth-url', { AuthMethodName: method, RedirectURI: redirectUri, ClientNonce: nonce });
  return r.AuthURL;
}

// Completes a sign-in the provider sent back (POST /v1/acl/oidc/complete-auth); returns the
// new token's secret. An ApiError says why not (403 with the check that failed).
export async function oidcCompleteAuth(c, redirectUri) {
  const t = await send('POST', '/v1/acl/oidc/complete-auth', {
    AuthMethodName: c.method, ClientNonce: c.nonce, State: c.state, Code: c.code, RedirectURI: redirectUri, Iss: c.iss,
  });
  return t.SecretID;
}

// What a client token may do in namespace `ns`: undefined until /v1/acl/token/self/capabilities
// has answered (asked for here once), and for other tokens.
export function grantFor(ns) {
  if (policy.value !== 'client') return undefined;
  ns = ns || 'default';
  if (!grantsAsked.has(ns)) {
    grantsAsked.add(ns);
    get('/v1/acl/token/self/capabilities?namespace=' + encodeURIComponent(ns)).then(
      (g) => (grants.value = { ...grants.value, [ns]: g }),
      () => grantsAsked.delete(ns),
    );
  }
  return grants.value[ns];
}

// Whether this is a server (its /v1/agent/self says Server.Enabled) or an agent.
export async function loadMode() {
  try {
    const self = await get('/v1/agent/self');
    cluster.value = self?.config?.Server?.Enabled === true;
  } catch {
    cluster.value = false;
  }
}
