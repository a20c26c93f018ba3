"""HTML and Markdown for the web UI: every piece of document or user text is escaped here.

The one rule: text from documents, questions and answers goes through ``html.escape`` before
it meets any markup, and highlights (``<mark>``) are added around already-escaped segments,
so no passage can smuggle a tag into the page. Markdown output (the chat bubbles) is escaped
the same way, and the Chatbot's own sanitizer stays on as a second layer.

In the chat bubbles, Markdown would also turn document text into live links: ``[text](url)``,
images, and the bare ``http://``, ``www.`` and e-mail forms that GitHub Markdown links by
itself. ``chat_markdown`` keeps every such form as text (outside code, where Markdown makes
no links anyway), so the only links are the project's own: a citation ``[n]`` and a source's
"show in document", added after the escaping and carrying nothing but ``href="#oq-TURN-N"``
(``app.ui.assets`` opens them; the Chatbot's sanitizer keeps a fragment link and drops
``data-`` attributes).
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from app.types import Answer, Source

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


def source_link(turn: int, n: int, label: str) -> str:
    """A project link to source ``n`` of answer ``turn``; ``label`` must be escaped already."""
    return f'<a class="oq-link" href="#oq-{turn}-{n}">{label}</a>'


_CITE = re.compile(r"\[(\d+)\]")
_ESCAPED_CITE = re.compile(r"\\\[(\d+)\\\]")  # "[1]" as chat_markdown writes it: "\[1\]"
_CODE = re.compile(r"(```.*?(?:```|$)|`[^`\n]*`)", re.S)  # fenced blocks and inline code


def _linked(escaped: str, turn: int, count: int) -> str:
    """``[n]`` markers of escaped text made links to their sources (code left alone)."""

    def link(m: re.Match[str]) -> str:
        n = int(m.group(1))
        return source_link(turn, n, f"[{n}]") if 0 < n <= count else m.group()

    parts = _CODE.split(escaped)
    return "".join(p if i % 2 else _ESCAPED_CITE.sub(link, p) for i, p in enumerate(parts))


def answer_markdown(answer: Answer, turn: int | None = None) -> str:
    """The assistant's chat bubble: the cited answer, or a clearly labelled refusal (its
    plain sentence only, never the internal note). With ``turn`` (the answer's place in the
    chat) each ``[n]`` links to its source and the cited sources follow the answer."""
    body = chat_markdown(answer.text)
    if answer.refused:
        return f"**{REFUSAL_LABEL}.**\n\n{body}"
    if turn is None:
        return body
    cited = sorted({i for i, _ in answer.used if i < len(answer.sources)})
    cited = cited or sorted({int(n) - 1 for n in _CITE.findall(answer.text)
                             if 0 < int(n) <= len(answer.sources)})
    links = " · ".join(source_link(turn, i + 1, f"[{i + 1}] {esc(source_label(answer.sources[i]))}")
                       for i in cited)
    inline = f'\n\n<div class="oq-inline">Sources: {links}</div>' if links else ""
    return _linked(body, turn, len(answer.sources)) + inline


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
    """Compact plain-text label: title › section (the section's path without the title)."""
    parts = [p.strip() for p in s.section.split(" > ") if p.strip()]
    if parts and parts[0] == s.title.strip():
        parts = parts[1:]
    return " › ".join([s.title, *parts]) if s.title else " › ".join(parts) or "passage"


def sources_html(answer: Answer | None, turn: int | None = None, active: int = 0) -> str:
    """The sources panel for one answer: a refusal banner, then each passage with what the
    answer quotes highlighted; with ``turn`` each card opens its passage in its document, and
    card ``active`` (1-based) is marked as the one shown there."""
    if answer is None:
        return ('<div class="oq-empty">The sources of an answer appear here: click an '
                "answer, or a citation [n] in it.</div>")
    parts = [f'<div class="oq-meta">Sources of: {esc(answer.question)}</div>'] \
        if answer.question else []
    if answer.refused:
        parts.append(
            f'<div class="oq-refusal"><div class="oq-label">{REFUSAL_LABEL}</div>'
            f"<div>{esc(answer.text)}</div>"
            '<div class="oq-meta">The passages below come nearest to the question, but '
            "they do not answer it.</div></div>"
        )
    used: dict[int, list[str]] = {}
    for idx, sentence in answer.used:
        used.setdefault(idx, []).append(sentence)
    for i, s in enumerate(answer.sources):
        n = i + 1
        show = source_link(turn, n, "show in document") if turn is not None else ""
        cls = "oq-src oq-active" if n == active else "oq-src"
        parts.append(
            f'<div class="{cls}" data-source="{n}">'
            f'<div class="oq-head">[{n}] {esc(source_label(s))}</div>'
            f'<div class="oq-meta">{show}</div>'
            f'<div class="oq-pass">{highlight(s.text, used.get(i, []))}</div></div>'
        )
    if not answer.sources:
        parts.append('<div class="oq-empty">No passages were retrieved.</div>')
    return f'<div class="oq-sources">{"".join(parts)}</div>'


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
    return scrolling(
        f'<table class="oq-table"><thead><tr><th></th><th>{esc(left)}</th>'
        f"<th>{esc(right)}</th></tr></thead><tbody>{body}</tbody></table>"
    )


def scrolling(table: str) -> str:
    """A table in a box that scrolls sideways when the screen is narrower (a phone)."""
    return f'<div class="oq-scroll">{table}</div>'


def documents_html(records: list[Any], names: dict[str, str] | None = None) -> str:
    """The indexed documents as a table: title, where it comes from, chunks, when ingested.

    Args:
        names: how each record's path is shown ("built-in: guide.md"), never a server path.
    """
    if not records:
        return '<div class="oq-empty">Nothing is indexed yet: upload a document.</div>'
    names = names or {}
    rows = "".join(
        f"<tr><td>{esc(r.title)}</td><td>{esc(names.get(r.path, Path(r.path).name))}</td>"
        f"<td>{r.chunks}</td>"
        f"<td>{esc(time.strftime('%Y-%m-%d %H:%M', time.localtime(r.ingested_at)))}</td></tr>"
        for r in records
    )
    return scrolling(
        '<table class="oq-table"><thead><tr><th>Title</th><th>Document</th><th>Chunks</th>'
        f"<th>Ingested</th></tr></thead><tbody>{rows}</tbody></table>")


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
