"""HTML and Markdown for the web UI: every piece of document or user text is escaped here.

The one rule: text from documents, questions and answers goes through ``html.escape`` before
it meets any markup, and highlights (``<mark>``) are added around already-escaped segments,
so no passage can smuggle a tag into the page. Markdown output (the chat bubbles) is escaped
the same way, and the Chatbot's own sanitizer stays on as a second layer.

In the chat bubbles, Markdown would also turn document text into live links: ``[text](url)``,
images, and the bare ``http://``, ``www.`` and e-mail forms that GitHub Markdown links by
itself. ``chat_markdown`` keeps every such form as text (outside code, where Markdown makes
no links anyway), so the only links in a bubble are the ones opsqa adds to escaped text.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from app.types import Answer, Source

CSS = """
.oq-src {border:1px solid var(--border-color-primary); border-radius:8px; padding:8px 10px;
  margin:0 0 8px 0; font-size:0.92em}
.oq-src .oq-head {font-weight:600}
.oq-src .oq-meta {color:var(--body-text-color-subdued); font-size:0.9em; margin:2px 0 6px}
.oq-src .oq-pass {white-space:pre-wrap; line-height:1.45}
.oq-src mark {background:#fde68a; color:#111; padding:0 1px; border-radius:2px}
.oq-refusal {border-left:4px solid #6366f1; background:rgba(99,102,241,0.08);
  padding:8px 12px; border-radius:6px; margin-bottom:8px}
.oq-refusal .oq-label {font-weight:700; color:#4f46e5}
.oq-empty {color:var(--body-text-color-subdued)}
.oq-table {width:100%; border-collapse:collapse; font-size:0.92em}
.oq-table th, .oq-table td {border:1px solid var(--border-color-primary); padding:6px 8px;
  white-space:pre-wrap;
  vertical-align:top; text-align:left}
.oq-cite {color:var(--body-text-color-subdued); font-size:0.85em; margin-top:4px}
.oq-cell-refused {color:var(--body-text-color-subdued); font-style:italic}
"""

REFUSAL_LABEL = "Not covered by the documents"


def esc(text: object) -> str:
    """HTML-escape any value (quotes included)."""
    return html.escape(str(text), quote=True)


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)[^`\n]*?\1")
# In prose: link and image brackets, and what GitHub Markdown links on its own (a scheme's
# "://", "www.", the "@" of an address), each written so that it shows the same and links
# nothing: a backslash escape, or an HTML entity the bubble decodes back to the character.
_LINKING = re.compile(r"[\[\]]|(?<=[A-Za-z]):(?=//)|(?<![\w.])(?i:www)\.|@")
_INERT = {"[": "\\[", "]": "\\]", ":": "&#58;", "@": "&#64;"}


def _inert(prose: str) -> str:
    return _LINKING.sub(lambda m: _INERT.get(m.group(), m.group()[:-1] + "&#46;"), esc(prose))


def chat_markdown(text: str) -> str:
    """Chat bubble text: escaped, so Markdown renders it as text, never as HTML and never as a
    link (emphasis, lists and code blocks still render). A citation ``[1]`` comes out as
    ``\\[1\\]``: links of opsqa's own are made on this escaped text."""
    out: list[str] = []
    fence = ""
    for line in text.split("\n"):
        opened = _FENCE.match(line)
        if fence or opened:  # code: shown verbatim by Markdown, links included
            out.append(esc(line))
            if opened and not fence:
                fence = opened.group(1)
            elif opened and line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                fence = ""
            continue
        parts = _CODE_SPAN.split(line)
        spans = [m.group() for m in _CODE_SPAN.finditer(line)]
        pieces = [_inert(p) for p in parts[::2]]
        out.append("".join(p + (esc(c) if i < len(spans) else "")
                           for i, (p, c) in enumerate(zip(pieces, [*spans, ""], strict=True))))
    return "\n".join(out)


def answer_markdown(answer: Answer) -> str:
    """The assistant's chat bubble: the cited answer, or a clearly labelled refusal."""
    body = chat_markdown(answer.text)
    if answer.refused:
        return f"**{REFUSAL_LABEL}.**\n\n{body}"
    return body


def _sentence_pattern(sentence: str) -> re.Pattern[str] | None:
    words = sentence.split()
    if not words:
        return None
    return re.compile(r"\s+".join(re.escape(w) for w in words))


def highlight(passage: str, sentences: Iterable[str]) -> str:
    """``passage`` escaped, with each of ``sentences`` found in it wrapped in ``<mark>``.

    Spans are located in the raw text (whitespace-tolerant) and every segment, marked or
    not, is escaped on its own, so a highlight never unescapes anything.
    """
    spans: list[tuple[int, int]] = []
    for s in sentences:
        pat = _sentence_pattern(s)
        m = pat.search(passage) if pat else None
        if m:
            spans.append((m.start(), m.end()))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    out, pos = [], 0
    for a, b in merged:
        out.append(esc(passage[pos:a]))
        out.append(f"<mark>{esc(passage[a:b])}</mark>")
        pos = b
    out.append(esc(passage[pos:]))
    return "".join(out)


def source_label(s: Source) -> str:
    """Compact plain-text label: title › section (file)."""
    name = Path(s.path).name if s.path else "?"
    sec = f" › {s.section}" if s.section else ""
    return f"{s.title}{sec} ({name})"


def sources_html(answer: Answer | None) -> str:
    """The sources panel for one answer: refusal banner, then each passage with highlights."""
    if answer is None:
        return '<div class="oq-empty">Sources of the latest answer appear here.</div>'
    parts = []
    if answer.refused:
        parts.append(
            f'<div class="oq-refusal"><div class="oq-label">{REFUSAL_LABEL}</div>'
            f"<div>{esc(answer.text)}</div>"
            '<div class="oq-meta">The closest passages below were not strong enough '
            "evidence to answer.</div></div>"
        )
    used: dict[int, list[str]] = {}
    for idx, sentence in answer.used:
        used.setdefault(idx, []).append(sentence)
    for i, s in enumerate(answer.sources):
        meta = " · ".join(
            x
            for x in (
                f"file {esc(Path(s.path).name)}" if s.path else "",
                f"section {esc(s.section)}" if s.section else "",
                f"score {s.score:.3f}",
            )
            if x
        )
        parts.append(
            f'<div class="oq-src" data-source="{i + 1}">'
            f'<div class="oq-head">[{i + 1}] {esc(s.title)}</div>'
            f'<div class="oq-meta">{meta}</div>'
            f'<div class="oq-pass">{highlight(s.text, used.get(i, []))}</div></div>'
        )
    if not answer.sources:
        parts.append('<div class="oq-empty">No passages were retrieved.</div>')
    note = f'<div class="oq-meta">{esc(answer.note)}</div>' if answer.note else ""
    return f'<div class="oq-sources">{note}{"".join(parts)}</div>'


def compare_html(left: str, right: str, rows: list[tuple[str, Answer | str, Answer | str]]) -> str:
    """Side-by-side table: one row per facet, each cell an answer (or an error) with citations."""

    def cell(a: Answer | str) -> str:
        if isinstance(a, str):
            return f'<td class="oq-cell-refused">{esc(a)}</td>'
        if a.refused:
            return f'<td class="oq-cell-refused">{REFUSAL_LABEL}.</td>'
        cited = sorted({int(n) for n in re.findall(r"\[(\d+)\]", a.text)})
        refs = [f"[{n}] {esc(source_label(a.sources[n - 1]))}" for n in cited if 0 < n <= len(a.sources)]
        cite = f'<div class="oq-cite">{"<br>".join(refs)}</div>' if refs else ""
        return f"<td>{esc(a.text)}{cite}</td>"

    body = "".join(f"<tr><th>{esc(facet)}</th>{cell(a)}{cell(b)}</tr>" for facet, a, b in rows)
    return (
        f'<table class="oq-table"><thead><tr><th></th><th>{esc(left)}</th>'
        f"<th>{esc(right)}</th></tr></thead><tbody>{body}</tbody></table>"
    )


def documents_html(records: list[Any]) -> str:
    """The indexed documents as a table: title, path, chunks, when ingested."""
    if not records:
        return '<div class="oq-empty">Nothing is indexed yet: upload a document.</div>'
    rows = "".join(
        f"<tr><td>{esc(r.title)}</td><td>{esc(r.path)}</td><td>{r.chunks}</td>"
        f"<td>{esc(time.strftime('%Y-%m-%d %H:%M', time.localtime(r.ingested_at)))}</td></tr>"
        for r in records
    )
    return (
        '<table class="oq-table"><thead><tr><th>Title</th><th>Path</th><th>Chunks</th>'
        f"<th>Ingested</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def status_markdown(status: dict[str, Any]) -> str:
    """Index status as one escaped Markdown line."""
    return (
        f"**Index:** {esc(status.get('documents', 0))} documents, "
        f"{esc(status.get('chunks', 0))} chunks · model `{esc(status.get('model', '?'))}` "
        f"({esc(status.get('backend', '?'))}) · store {esc(status.get('store', '?'))}"
    )


def answer_json(answer: Answer) -> dict[str, Any]:
    """The API form of an answer: ``Answer.to_dict()`` (``path`` named ``file``) plus ``used``."""
    d = answer.to_dict()
    sources: list[dict[str, Any]] = d["sources"]  # type: ignore[assignment]
    for src in sources:
        src["file"] = src.pop("path")  # gradio treats any {"path": str} in JSON as a file
    d["used"] = [[i, s] for i, s in answer.used]
    return d
