// xterm.js writes its theme and cell sizes into <style> elements it makes, which the UI's
// Content-Security-Policy (style-src 'self': no inline styles, docs/ui.md) refuses. Once
// installed, a <style> the page asks the document for is an inert <template> whose text goes
// into a constructed stylesheet adopted by the document: CSSOM, which the policy allows, so
// the policy stays as strict as it was. Markup that reaches the page (none should) still gets
// no inline styles: only script, which the policy already limits to the UI's own, makes these.
export function installCssomStyles(doc) {
  if (doc.cssomStylesInstalled) return;
  doc.cssomStylesInstalled = true;
  const create = doc.createElement.bind(doc);
  doc.createElement = (tag, options) => {
    if (String(tag).toLowerCase() !== 'style') return create(tag, options);
    const holder = create('template');
    const sheet = new doc.defaultView.CSSStyleSheet();
    doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
    let text = '';
    Object.defineProperty(holder, 'textContent', {
      get: () => text,
      set: (v) => {
        text = String(v ?? '');
        sheet.replaceSync(text);
      },
    });
    const remove = holder.remove.bind(holder);
    holder.remove = () => {
      doc.adoptedStyleSheets = doc.adoptedStyleSheets.filter((s) => s !== sheet);
      remove();
    };
    return holder;
  };
}
