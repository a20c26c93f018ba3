"""Checking LLM output against the passages: sentence splitting, citations, support, injection."""

# Trade-off: the check is lexical (``app.answer.grounding.supported``), so it keeps paraphrases that
# reuse the passage's words and drops fluent inventions; it cannot judge meaning. To catch the
# commonest small-model error, a definition copied onto the wrong term ("X is a set of
# practices that joins Dev and Ops"), a sentence must be supported by one or two adjacent
# sentences of the passage, not by words scattered over it, and every name it uses (Kafka, Git,
# AI) must occur there. Sentences need two content words, so a bare echo ("pwned.") never counts,
# and instruction-like sentences in passages are redacted before prompting and before checking.

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.answer.grounding import supported
from app.retrieval.terms import content_words, words
from app.types import Source
from ingest.text import sentence_ends

DECLINE = "The documents do not say."
MIN_CONTENT_WORDS = 2

_CITE = re.compile(r"\[\s*(?:passage\s*)?(\d+(?:\s*,\s*\d+)*)\s*\]", re.I)
# A streamed sentence is complete at . ! ? (plus any citations after it) or at a line break, and
# only once the next visible character has arrived, so a "[1]" that follows the period stays
# with its sentence (``ingest/text.py`` has the sentence rule for text that is all there).
_END = re.compile(r"[.!?]+(?:\s*\[\s*(?:passage\s*)?\d+(?:\s*,\s*\d+)*\s*\])*[ \t]*(?:\n\s*|[ \t]+)"
                  r"(?=[^\s\[])|\n\s*(?=[^\s\[])", re.I)
_INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b[^.!?\n]{0,40}\b(instruction|prompt|rule|direction)s?"
    r"|\byou are now\b|\bsystem prompt\b|\bnew instructions?\b|\b(answer|respond|reply|say)\b"
    r"[^.!?\n]{0,20}\bonly\b[^.!?\n]{0,20}['\"]|\b(answer|respond|reply) with ['\"]", re.I)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w-]*|\b\w+[A-Z][\w-]*")
_TAG = re.compile(r"</?\w+>")
_LABEL = re.compile(r"^(?:answer|response|a)\s*:\s*", re.I)


def redact(text: str) -> str:
    """``text`` with instruction-like sentences (prompt injections) replaced by a marker."""
    out = []
    for line in text.split("\n"):
        bounds = [0, *sentence_ends(line, strict=False), len(line)]
        said = [line[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
        out.append("".join(" [instruction removed] " if _INJECTION.search(s) else s for s in said))
    return "\n".join(out)


def split_complete(buf: str, final: bool = False) -> tuple[list[str], str]:
    """Split ``buf`` into complete sentences and the unfinished rest (all of it when final)."""
    out, start = [], 0
    for m in _END.finditer(buf):
        piece = buf[start:m.end()].strip()
        if piece:
            out.append(piece)
        start = m.end()
    rest = buf[start:]
    if final:
        if rest.strip():
            out.append(rest.strip())
        rest = ""
    return out, rest


def split_sentences(text: str) -> list[str]:
    """All sentences of ``text``."""
    return split_complete(text, final=True)[0]


@dataclass
class Checker:
    """Checks sentences one at a time against ``sources``; counts what it kept and dropped."""

    sources: Sequence[Source]
    kept: list[str] = field(default_factory=list)
    used: list[tuple[int, str]] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    declined: bool = False
    error: str = ""  # why generation failed, when it did
    _seen: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._windows = [windows(redact(s.text)) for s in self.sources]
        # passage headers as the prompt shows them ("Title > Section"): models copy them
        heads = {" > ".join(x for x in (s.title, s.section) if x) for s in self.sources}
        self._heads = sorted(filter(None, heads), key=len, reverse=True)

    def check(self, sentence: str) -> str | None:
        """The sentence with its supporting citation(s) when supported, else None (dropped)."""
        body = _CITE.sub("", sentence).strip().lstrip("-*• ").strip()
        body = _LABEL.sub("", re.sub(r"\s+([.!?,;:])", r"\1", _TAG.sub("", body))).strip()
        for head in self._heads:  # an echoed header is prompt layout, not part of the answer
            if body.startswith(head):
                body = body[len(head):].strip()
        if not body:
            return None
        if body.endswith("?"):  # an echoed or invented question is not an answer
            self.dropped.append(sentence)
            return None
        if body.lower().rstrip(".") == DECLINE.lower().rstrip("."):
            self.declined = True
            return None
        key = " ".join(content_words(body))
        if key in self._seen:  # small models repeat themselves: a repeat is not counted
            return None
        self._seen.add(key)
        cited = [int(n) for m in _CITE.finditer(sentence) for n in re.findall(r"\d+", m.group(1))]
        good = self._support(body, cited) if cited else self._support(body, None)
        if not good or len(content_words(body)) < MIN_CONTENT_WORDS:
            self.dropped.append(sentence)
            return None
        out = f"{body} " + "".join(f"[{n}]" for n in good)
        self.kept.append(out)
        self.used.append((good[0] - 1, body))
        return out

    def _support(self, body: str, cited: list[int] | None) -> list[int]:
        n = len(self._windows)
        if cited is not None:  # cited: keep only the cited sources that really support it
            return [c for c in dict.fromkeys(cited)
                    if 1 <= c <= n and backs(body, self._windows[c - 1])]
        for i, wins in enumerate(self._windows):  # uncited: the best-ranked source backing it
            if backs(body, wins):
                return [i + 1]
        return []

    def note(self) -> str:
        """What the check did, for ``Answer.note``."""
        k, d = len(self.kept), len(self.dropped)
        if not k and not d and not self.declined:
            return "fell back to extractive: the model returned no answer text"
        if not k:
            said = "; the model said the documents do not say" if self.declined else ""
            return f"fell back to extractive: 0 of {d} sentences supported{said}"
        return (f"llm answer checked: {k} sentence{'s' * (k != 1)} kept, "
                f"{d} unsupported dropped")


def windows(passage: str) -> list[str]:
    """The passage as overlapping windows of two adjacent sentences (or the one sentence)."""
    sents = split_sentences(passage) or [passage]
    return [" ".join(sents[i:i + 2]) for i in range(max(1, len(sents) - 1))]


def backs(sentence: str, wins: list[str]) -> bool:
    """Whether one window supports ``sentence`` and holds every name the sentence uses."""
    names = {w for m in _NAME.finditer(sentence) for w in words(m.group())}
    return any(supported(sentence, win) and names <= set(words(win)) for win in wins)


def check_text(text: str, sources: Sequence[Source]) -> Checker:
    """Check a whole generation; the returned ``Checker`` holds kept and dropped sentences."""
    c = Checker(sources)
    for s in split_sentences(text):
        c.check(s)
    return c
