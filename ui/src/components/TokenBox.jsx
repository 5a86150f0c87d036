// The token box in the header: enter or forget a token; shows the policy in use.
import { useState } from 'preact/hooks';
import { loadPolicy, needToken, policy, setToken, token } from '../api.js';
import { startLive } from '../live.js';

export function TokenBox() {
  const [text, setText] = useState('');
  if (policy.value === null) return <span class="token muted">ACLs off</span>;
  // Not known yet (the first /v1/acl/token/self is under way): nothing to offer.
  if (policy.value === undefined && !needToken.value) return null;
  const use = async (t) => {
    setToken(t);
    setText('');
    await loadPolicy();
    startLive();
    // The page refetches with the new token.
    dispatchEvent(new HashChangeEvent('hashchange'));
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
