"""The UI's larger views: a cited passage in its whole document, the gaps table, the first screen.

Escaped as ``app.ui.render`` escapes: every text is escaped on its own before any markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from app.types import Answer, Source
from app.ui.render import esc, highlight, scrolling, source_label

if TYPE_CHECKING:
    from app.gaps import Gap

TOPICS_SHOWN = 12


def _heading(section: str, title: str) -> str:
    parts = [p.strip() for p in section.split(" > ") if p.strip()]
    return parts[-1] if parts and parts[-1] != title else ""


def document_html(answer: Answer, n: int, passages: Sequence[Source]) -> str:
    """Source ``n`` (1-based) of ``answer`` shown in its whole document: every passage in
    order under its headings, the cited one outlined (``.oq-hit``) with what the answer
    quotes from it marked. ``passages``: ``Assistant.document(path)``; when the document is
    no longer indexed, the passage as it was quoted stands alone."""
    src = answer.sources[n - 1]
    quoted = [s for i, s in answer.used if i == n - 1]
    head = (f'<div class="oq-meta">[{n}] of the answer to: {esc(answer.question)}</div>'
            f"<h3>{esc(src.title or source_label(src))}</h3>")
    if not any(p.chunk_id == src.chunk_id for p in passages):
        note = ('<div class="oq-meta">This document is no longer in the index (or has changed); '
                "here is the passage as it was quoted.</div>")
        passages, head = [src], head + note
    body, last = [], ""
    for p in passages:
        h = _heading(p.section, p.title)
        if h and h != last:
            body.append(f"<h4>{esc(h)}</h4>")
        last = h or last
        if p.chunk_id == src.chunk_id:
            body.append(f'<div class="oq-chunk oq-hit" id="oq-hit">{highlight(p.text, quoted)}</div>')
        else:
            body.append(f'<div class="oq-chunk">{esc(p.text)}</div>')
    return f'<div class="oq-doc" id="oq-docview">{head}{"".join(body)}</div>'


def no_document() -> str:
    return ('<div class="oq-empty">Click a citation [n] in an answer, or "show in document" on '
            "a source, to read the passage in its whole document.</div>")


def gaps_html(gaps: list[Gap]) -> str:
    """The gaps table: each group of alike questions, how often, and the nearest topics."""
    if not gaps:
        return ('<div class="oq-empty">No gaps yet: no question was refused or disliked in '
                "the stored chats.</div>")
    rows = []
    for g in gaps:
        also = "<br>".join(esc(w) for w in g.wordings if w != g.question)
        notes = "<br>".join(esc(c) for c in g.comments)
        rows.append(
            f"<tr><td>{esc(g.question)}</td><td>{g.count}</td><td>{g.refused}</td>"
            f"<td>{g.disliked}</td><td>{also}</td><td>{notes}</td>"
            f"<td>{esc(', '.join(g.topics))}</td></tr>")
    return scrolling(
        '<table class="oq-table" id="oq-gaps-table"><thead><tr><th>Question</th><th>Asked</th>'
        "<th>Refused</th><th>Disliked</th><th>Also asked as</th><th>Comments</th>"
        f"<th>Nearest topics</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def welcome_markdown(documents: int, chunks: int, topics: list[str], examples: int) -> str:
    """The first screen: what is loaded and how to start."""
    if not documents:
        return ("### Nothing is loaded yet\n\nAdd documents in the **Documents** tab, then "
                "ask about them here.")
    shown = ", ".join(esc(t) for t in topics[:TOPICS_SHOWN])
    more = f" and {len(topics) - TOPICS_SHOWN} more" if len(topics) > TOPICS_SHOWN else ""
    lines = [
        "### Ask about the documents loaded here",
        f"**{documents} documents** ({chunks} passages) on: {shown}{more}.",
        "Every answer quotes the passages it stands on and cites them as [n]: click one to "
        "read it in its document. When the documents do not cover a question, it says so.",
    ]
    if examples:
        lines.append("Try one of these questions, each answered from the documents:")
    return f'<div class="oq-welcome">\n\n{chr(10).join(lines)}\n\n</div>'
