"""The page's own CSS and JavaScript: styles for answers, sources, the document view, tables
that scroll on a phone, and one click handler that opens a cited passage in its document.

The script never builds markup from text: a citation link carries only ``href="#oq-T-N"``
(answer T, source N), which the handler hands to the server through a hidden text box; the server answers with
already-escaped HTML (``app.ui.render``, ``app.ui.views``).
"""

from __future__ import annotations

CSS = """
.oq-src {border:1px solid var(--border-color-primary); border-radius:8px; padding:8px 10px;
  margin:0 0 8px 0; font-size:0.92em}
.oq-src.oq-active {border-color:#6366f1; box-shadow:0 0 0 2px rgba(99,102,241,0.25)}
.oq-src .oq-head {font-weight:600}
.oq-src .oq-meta, .oq-meta {color:var(--body-text-color-subdued); font-size:0.9em; margin:2px 0 6px}
.oq-src .oq-pass {white-space:pre-wrap; line-height:1.45}
.oq-src mark, .oq-doc mark {background:#fde68a; color:#111; padding:0 1px; border-radius:2px}
.oq-refusal {border-left:4px solid #6366f1; background:rgba(99,102,241,0.08);
  padding:8px 12px; border-radius:6px; margin-bottom:8px}
.oq-refusal .oq-label {font-weight:700; color:#4f46e5}
.oq-empty {color:var(--body-text-color-subdued)}
.oq-scroll {overflow-x:auto; -webkit-overflow-scrolling:touch; max-width:100%}
.oq-table {width:100%; border-collapse:collapse; font-size:0.92em}
.oq-table th, .oq-table td {border:1px solid var(--border-color-primary); padding:6px 8px;
  white-space:pre-wrap; vertical-align:top; text-align:left; min-width:7em}
.oq-cite {color:var(--body-text-color-subdued); font-size:0.85em; margin-top:4px}
a.oq-link {color:#4f46e5; text-decoration:none; font-weight:600; cursor:pointer}
a.oq-link:hover {text-decoration:underline}
.oq-inline {font-size:0.85em; margin-top:6px; color:var(--body-text-color-subdued)}
.oq-cell-refused {color:var(--body-text-color-subdued); font-style:italic}
.oq-doc {max-height:560px; overflow:auto; border:1px solid var(--border-color-primary);
  border-radius:8px; padding:8px 12px}
.oq-doc h4 {margin:12px 0 4px}
.oq-doc .oq-chunk {white-space:pre-wrap; line-height:1.45; margin:0 0 8px}
.oq-doc .oq-hit {background:rgba(253,230,138,0.35); outline:2px solid #f59e0b;
  border-radius:4px; padding:2px 4px}
.oq-welcome {text-align:left; max-width:40em}
@media (max-width: 640px) {
  #oq-chat {height:420px !important}
  .oq-doc {max-height:420px}
  .oq-table {font-size:0.85em}
}
"""

# Runs once when the page loads: clicks on [n] links and "show in document" links ask the
# server for that passage's document, through the hidden box #oq-open-req and button
# #oq-open-btn (Gradio's own way in for a value the page chooses).
JS = r"""
() => {
  document.addEventListener('click', (ev) => {
    const link = ev.target.closest && ev.target.closest('a[href^="#oq-"]');
    const m = link && link.getAttribute('href').match(/^#oq-(\d+)-(\d+)$/);
    if (!m) return;
    ev.preventDefault();
    ev.stopPropagation();
    const box = document.querySelector('#oq-open-req textarea, #oq-open-req input');
    const btn = document.querySelector('#oq-open-btn');
    if (!box || !btn) return;
    box.value = m[1] + ':' + m[2];
    box.dispatchEvent(new Event('input', {bubbles: true}));
    setTimeout(() => btn.click(), 30);
  }, true);
  // On a phone the chat list would cover the chat: it starts closed there (its toggle opens it).
  const closeOnPhone = (left) => {
    const open = document.querySelector('#oq-sidebar.open .toggle-button');
    if (open && window.innerWidth < 768) { open.click(); return; }
    if (!open && left > 0) setTimeout(() => closeOnPhone(left - 1), 100);
  };
  closeOnPhone(50);
}
"""

# After the document view is filled: bring the cited passage into view, inside the view and
# on the page (on a phone the view sits below the chat).
SCROLL_JS = """
() => {
  const tryScroll = (left) => {
    const hit = document.querySelector('#oq-docview .oq-hit');
    if (hit) {
      hit.scrollIntoView({block: 'center', behavior: 'instant'});
      return;
    }
    if (left > 0) setTimeout(() => tryScroll(left - 1), 100);
  };
  tryScroll(30);
}
"""
