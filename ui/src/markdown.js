// A job's `ui { description }` as Nomad's UI shows it: Markdown (docs/ui.md). The text is the
// job writer's, so it is never HTML: raw HTML in it is shown as text, and what marked makes of
// the Markdown goes through DOMPurify with a short list of tags, links only to http and https
// (opened in a new tab without a referrer), no images, no attributes but a link's.
import DOMPurify from 'dompurify';
import { Marked } from 'marked';

const escapeHtml = (s) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const marked = new Marked({
  gfm: true,
  breaks: true,
  renderer: {
    // Raw HTML, inline or as a block, is shown as what it is: text.
    html: (token) => escapeHtml(typeof token === 'string' ? token : token.text),
  },
});

const ALLOWED_TAGS = ['p', 'br', 'strong', 'em', 'del', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'a', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'table', 'thead', 'tbody', 'tr', 'th', 'td'];

let hooked = false;
function purifier() {
  if (!hooked) {
    DOMPurify.addHook('afterSanitizeAttributes', (node) => {
      if (node.tagName === 'A') {
        node.setAttribute('target', '_blank');
        node.setAttribute('rel', 'noopener noreferrer');
      }
    });
    hooked = true;
  }
  return DOMPurify;
}

// The description as safe HTML, for an element's innerHTML.
export function descriptionHtml(text) {
  const html = marked.parse(text || '');
  return purifier().sanitize(html, {
    ALLOWED_TAGS,
    ALLOWED_ATTR: ['href', 'title', 'target', 'rel'],
    ALLOWED_URI_REGEXP: /^https?:\/\//i,
  });
}
