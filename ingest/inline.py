"""Inline Markdown as plain text: link text kept, images, tags and noisy URLs dropped, and a
bold glossary term ("**Drift** When ...") followed by a colon once its markers go."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["inline_text", "strip_urls"]


_URL = re.compile(r"<?https?://[^\s<>)\]]+>?")


def _drop_url(match: re.Match[str]) -> str:
    url = match.group().strip("<>")
    # Long or query-carrying URLs are tracking/CDN noise that only dilutes embeddings.
    return "" if len(url) > 80 or "?" in url else url


def strip_urls(text: str) -> str:
    """``text`` without long or query-carrying URLs (tracking noise); short ones stay."""
    return _URL.sub(_drop_url, text)


# After a bold lead, what shows it is no glossary term: punctuation, or a word that goes on
# with the sentence ("**Kestrel** or **Osprey** boats ...", "**Drift** is ..."); a glossary
# entry's own words follow it as a new sentence or a noun phrase ("**Drift** the gap ...").
_PUNCT_AFTER = re.compile(
    r"^\s*(?:[:.,;!?)\]–—-]|(?:and|or|nor|but|is|are|was|were|can|could|will|would|should|"
    r"may|must|has|have|had|does|do|to|in|on|of|for|with|from|by|at|than|also|which|that)"
    r"\b)")


def _lead_end(kids: list[Any]) -> int:
    """Where a bold lead ("**A**", or "**A** and **B**") that a colon should follow ends:
    the index of its last ``strong_close``, else -1."""
    if len(kids) <= 2 or kids[0].type != "strong_open":
        return -1
    close = next((i for i, t in enumerate(kids) if t.type == "strong_close"), -1)
    chained = False
    while (0 < close < len(kids) - 2 and kids[close + 1].type == "text"
           and re.fullmatch(r"\s*(?:and|or|&|,)\s*", kids[close + 1].content)
           and kids[close + 2].type == "strong_open"):
        nxt = next((i for i in range(close + 3, len(kids)) if kids[i].type == "strong_close"), -1)
        if nxt < 0:
            break
        close, chained = nxt, True
    rest = "".join(t.content for t in kids[close + 1 :] if t.type == "text")
    if not (0 < close < len(kids) - 1 and rest.strip()) or _PUNCT_AFTER.match(rest):
        return -1
    # "**Start time:** Select ...", "**Use it sparingly.** There are ...": the bold run ends
    # with its own colon, or is a sentence of its own.
    inner = "".join(t.content for t in kids[1:close] if t.type in ("text", "code_inline"))
    if inner.rstrip().endswith((":", ".", "!", "?", ";")):
        return -1
    # "**A** or **B** boats ...": two named things, then the sentence going on
    return -1 if chained and rest.lstrip()[:1].islower() else close


def inline_text(children: list[Any]) -> str:
    """Plain text of an inline token's children: link text kept, images and tags dropped.

    A strong span that opens a block and is followed by more text is a glossary-style term
    ("**Drift** When a system's ..."): it keeps a colon after it once the markers go, unless
    the sentence goes on through it ("**Kestrel** or **Osprey** boats ...").
    """
    out: list[str] = []
    skip = 0  # inside an image's alt text
    kids = [t for t in children or [] if not (t.type == "text" and not t.content)]
    lead_end = _lead_end(kids)
    for n, t in enumerate(kids):
        if n == lead_end:
            out.append(":")
        if t.type == "image":
            continue
        elif t.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif t.type == "code_inline":
            out.append(f"`{t.content}`")
        elif t.type == "text" and not skip:
            out.append(strip_urls(t.content))
        elif t.type == "html_inline":
            out.append(" " if re.match(r"<br\b", t.content, re.I) else "")
    return re.sub(r"[ \t]+", " ", "".join(out)).strip()
