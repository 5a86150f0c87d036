// An API error shown in place: a 403 says the token may not do this, others say what failed.
export function Problem({ error }) {
  if (!error) return null;
  if (error.status === 403)
    return (
      <p class="error denied" data-testid="denied">
        Permission denied (403): {error.message}
      </p>
    );
  return (
    <p class="error" data-testid="error">
      {error.status ? `Error ${error.status}: ` : ''}
      {error.message}
    </p>
  );
}
