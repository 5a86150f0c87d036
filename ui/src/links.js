// Links a job brings (its `ui` block): only absolute http and https URLs become links, so that
// a `javascript:` or `data:` URL in a job file never runs in the UI's origin. The agent refuses
// others at submit; this is the page's own check. No DOM here, so the unit tests drive it.
export function safeLink(url) {
  if (typeof url !== 'string') return false;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}
