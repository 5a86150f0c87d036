// The token box in the header: enter or forget a token, or sign in with a JWT through one of
// the agent's JWT auth methods (docs/security.md, "Logging in with a JWT"); shows the policy
// in use.
import { useState } from 'preact/hooks';
import { authMethods, loadPolicy, loginWithJwt, needToken, policy, setToken, token } from '../api.js';
import { startLive } from '../live.js';

// Starts using token `t` (or none): its policy read, the live streams and the page refetched.
async function useToken(t) {
  setToken(t);
  await loadPolicy();
  startLive();
  dispatchEvent(new HashChangeEvent('hashchange'));
}

// The JWT sign-in, shown below the notice that a token is needed: the method (the default one
// first), the JWT, and why a login was refused.
export function JwtLogin() {
  const methods = authMethods.value;
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
