// The token box in the header: enter or forget a token, or sign in through one of the agent's
// auth methods: a JWT (docs/security.md, "Logging in with a JWT") or a browser sign-in at an
// OIDC provider ("Logging in through an OIDC provider"); shows the policy in use.
import { useState } from 'preact/hooks';
import { signal } from '@preact/signals';
import { authMethods, loadPolicy, loginWithJwt, needToken, oidcAuthUrl, oidcCompleteAuth, policy, setToken, token } from '../api.js';
import { startLive } from '../live.js';
import { newNonce, redirectUri, savePending, takeCallback } from '../oidc.js';

// Why the last OIDC sign-in failed, shown with the sign-in buttons.
const oidcProblem = signal('');

// Starts using token `t` (or none): its policy read, the live streams and the page refetched.
async function useToken(t) {
  setToken(t);
  await loadPolicy();
  startLive();
  dispatchEvent(new HashChangeEvent('hashchange'));
}

// Completes the OIDC sign-in this page was loaded to finish (the provider sent the browser
// back to /ui/settings/tokens), if it was: the token used, the address bar back to the jobs.
export async function finishOidcSignIn() {
  const back = takeCallback(location, sessionStorage);
  if (!back) return;
  history.replaceState(null, '', '/ui/#/jobs');
  if (back.error) {
    oidcProblem.value = back.error;
    return;
  }
  try {
    setToken(await oidcCompleteAuth(back, redirectUri(location.origin)));
  } catch (err) {
    oidcProblem.value = err.message;
  }
}

// A button per OIDC method: the browser goes to the provider, and comes back signed in.
function OidcLogin({ methods }) {
  const [busy, setBusy] = useState('');
  return (
    <div class="oidc-login" data-testid="oidc-login">
      {methods.map((m) => (
        <button
          data-testid={'oidc-' + m.Name}
          disabled={!!busy}
          onClick={async () => {
            setBusy(m.Name);
            oidcProblem.value = '';
            try {
              const nonce = newNonce(crypto);
              const url = await oidcAuthUrl(m.Name, redirectUri(location.origin), nonce);
              savePending(sessionStorage, m.Name, nonce);
              location.assign(url);
            } catch (err) {
              oidcProblem.value = err.message;
              setBusy('');
            }
          }}
        >
          Sign in with {m.Name}
        </button>
      ))}
      {oidcProblem.value && (
        <span class="error" data-testid="oidc-problem">
          {oidcProblem.value}
        </span>
      )}
    </div>
  );
}

// Below the notice that a token is needed: the OIDC sign-ins, then the JWT sign-in (the
// method, the default one first; the JWT; why a login was refused).
export function AuthMethodLogin() {
  const oidc = authMethods.value.filter((m) => m.Type === 'OIDC');
  return (
    <>
      {(oidc.length > 0 || oidcProblem.value) && <OidcLogin methods={oidc} />}
      <JwtLogin />
    </>
  );
}

function JwtLogin() {
  const methods = authMethods.value.filter((m) => m.Type === 'JWT');
  const [jwt, setJwt] = useState('');
  const [method, setMethod] = useState('');
  const [problem, setProblem] = useState('');
  if (!methods.length) return null;
  const chosen = method || (methods.find((m) => m.Default) || methods[0]).Name;
  return (
    <form
      class="jwt-login"
      data-testid="jwt-login"
      onSubmit={async (e) => {
        e.preventDefault();
        setProblem('');
        try {
          const secret = await loginWithJwt(chosen, jwt.trim());
          setJwt('');
          await useToken(secret);
        } catch (err) {
          setProblem(err.message);
        }
      }}
    >
      Or sign in with a JWT through{' '}
      {methods.length > 1 ? (
        <select data-testid="jwt-method" value={chosen} onChange={(e) => setMethod(e.currentTarget.value)}>
          {methods.map((m) => (
            <option value={m.Name}>{m.Name}</option>
          ))}
        </select>
      ) : (
        <b>{chosen}</b>
      )}
      <input
        type="password"
        autocomplete="off"
        placeholder="JWT"
        data-testid="jwt-input"
        value={jwt}
        onInput={(e) => setJwt(e.currentTarget.value)}
      />
      <button type="submit">Sign in</button>
      {problem && (
        <span class="error" data-testid="jwt-problem">
          {problem}
        </span>
      )}
    </form>
  );
}

export function TokenBox() {
  const [text, setText] = useState('');
  if (policy.value === null) return <span class="token muted">ACLs off</span>;
  // Not known yet (the first /v1/acl/token/self is under way): nothing to offer.
  if (policy.value === undefined && !needToken.value) return null;
  const use = async (t) => {
    setText('');
    await useToken(t);
  };
  if (token.value && policy.value)
    return (
      <span class="token">
        token: <b data-testid="token-policy">{policy.value}</b>{' '}
        <button onClick={() => use('')}>forget</button>
      </span>
    );
  return (
    <form
      class="token"
      onSubmit={(e) => {
        e.preventDefault();
        use(text.trim());
      }}
    >
      <input
        type="password"
        autocomplete="off"
        placeholder="ACL token (Secret ID)"
        data-testid="token-input"
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
      />
      <button type="submit">Use</button>
      {token.value && policy.value === undefined && <span class="error">token refused</span>}
    </form>
  );
}
