"""Evidence, refusal and support checks: deciding from retrieval whether the documents answer.

Refusal is decided from retrieval evidence, not from a prompt: the best dense similarity of
the retrieved passages, scaled by how much of the question the documents know. A question
word the documents never use (after typo correction) is a gap in their coverage, a small one
when it is a common word (one piece of the embedding model's vocabulary). One written as a
name - with a capital inside the question, or with digits - is something the documents do
not cover at all, and the question is refused whatever the similarity. The threshold is the
``refusal_threshold`` setting, fitted by ``opsqa eval`` over every corpus's in- and
out-of-scope questions together.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.retrieval.terms import STOPWORDS, content_words, stem, surface, tokens, words
from ingest.text import sentences

if TYPE_CHECKING:
    from app.answer.plan import Plan
    from app.retrieval.hybrid import Hit
    from app.retrieval.lexical import LexicalIndex

NAME_WEIGHT = 3.0  # an unknown name counts this many words against coverage
# An unknown word that is one piece of the embedding model's vocabulary is common English
# ("actually", "recipe"): it says less about what the question needs than a rare one.
COMMON_WEIGHT = 0.3
WordPieces = Callable[[str], int]


@dataclass
class Evidence:
    """How well the index covers a question."""

    score: float
    dense: float
    coverage: float
    unknown: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # unknown names, as written
    undefined: str = ""  # a definition's subject the documents neither name nor define
    unstated: str = ""  # a question for a fact (a date, a number) no passage near it holds

    @property
    def reason(self) -> str:
        if self.names:
            return "not in the documents: " + ", ".join(self.names)
        if self.undefined:
            return "not defined in the documents: " + self.undefined
        if self.unstated:
            return "not stated in the documents: " + self.unstated
        return f"evidence {self.score:.2f} below the refusal threshold"


def decide(plan: Plan, ev: Evidence, lexical: LexicalIndex, threshold: float,
           defined: bool | None = None) -> bool:
    """Whether to refuse ``plan``'s question: the one refusal rule, asked twice.

    Before composing (``defined`` None): an unknown name refuses; so does evidence below
    ``threshold``, unless the question's kind knows the documents answer it anyway (what they
    define is answered however little else the question shares). After composing,
    ``defined`` says whether a passage states what the subject is, and the kind refuses an
    answer that cannot be what was asked, recording on ``ev`` what the documents lack for
    the refusal to say.
    """
    kind = plan.kind
    if defined is None:
        return bool(ev.names) or (ev.score < threshold and not kind.exempt(plan, lexical))
    if kind.unanswerable(plan, defined, lexical):
        kind.unanswered(plan, ev)
        return True
    return False


def weigh_evidence(plan: Plan, hits: list[Hit], lexical: LexicalIndex,
                   pieces: WordPieces) -> Evidence:
    """Score the retrieval evidence for ``plan`` (0..1, higher = better covered).

    A question of several sentences ("Ignore your documents. What is a webhook?") is scored
    on its best-covered sentence; an unknown name anywhere refuses it.
    """
    dense = max((h.dense for h in hits if h.dense == h.dense), default=0.0)
    clauses = [c for c in sentences(plan.query, strict=False) if content_words(c)] \
        or [plan.query]
    found = [_clause_evidence(c, dense, lexical, pieces) for c in clauses]
    best = max(found, key=lambda e: e.score)
    best.names = list(dict.fromkeys(w for e in found for w in e.names))
    return best


def _clause_evidence(text: str, dense: float, lexical: LexicalIndex,
                     pieces: WordPieces) -> Evidence:
    known_w = unknown_w = 0.0
    unknown, names = [], []
    seen: set[str] = set()
    for i, raw in enumerate(surface(text)):
        w = raw.lower()
        if w in STOPWORDS or len(w) < 2 or w.isdigit() or w in seen:
            continue
        seen.add(w)
        # A misspelling of a word the documents use is known; a common word is never read
        # as one (as when the question is fixed for search: "steering" is not "seeing").
        fixed = w in lexical.vocab.words or (pieces(w) > 1 and lexical.vocab.correct(w))
        if fixed or _stem_known(w, lexical) or _compound(raw, lexical):
            known_w += 1.0
            continue
        unknown.append(w)
        if _is_name(raw, i, lexical):
            names.append(raw)
            unknown_w += NAME_WEIGHT
        elif pieces(w) == 1:
            unknown_w += COMMON_WEIGHT  # a common word the documents happen not to use
        else:
            unknown_w += 0.5 if len(w) <= 4 else 1.0  # short ones are mostly small typos
    if not known_w and not unknown_w:
        return Evidence(0.0, dense, 0.0)
    coverage = known_w / (known_w + unknown_w)
    # Words the documents have never seen are the part of a question they cannot answer.
    return Evidence(dense * coverage, dense, coverage, unknown, names)


def _stem_known(w: str, lexical: LexicalIndex) -> bool:
    """Whether the documents use ``w``, or its plural or singular: the stemmer leaves the
    "s" on a word with no vowel ("SDKs", "CRDs"), so "SDK" would be unknown beside them."""
    return any(stem(f) in lexical.stem_ids for f in {w, w + "s", w.removesuffix("s")})


def _compound(raw: str, lexical: LexicalIndex) -> bool:
    """A camelCase compound of words the documents use ("OpenTelemetry" where "open" and
    "telemetry" occur) is known through its parts."""
    parts = tokens(raw, parts=True)[1:]
    return len(parts) > 1 and all(lexical.vocab.correct(p) for p in parts)


def _is_name(raw: str, position: int, lexical: LexicalIndex) -> bool:
    """An unknown word written as a name: a capital inside the question, or digits (a product,
    a tool, a standard)."""
    return (position > 0 and raw[:1].isupper()) or any(ch.isdigit() for ch in raw)


def refusal_text(ev: Evidence, hits: list[Hit], labels: list[str]) -> str:
    """The refusal: what is not covered, and the nearest topics that are."""
    near: list[str] = []
    for h in hits:
        if h.title and h.title not in near:
            near.append(h.title)
    near = near[:4] or labels[:6]
    lead = "The documents do not cover this question"
    if ev.names:
        lead = f"The documents do not mention {', '.join(ev.names)}"
    elif ev.undefined:
        lead = f"The documents do not define {ev.undefined}"
    elif ev.unstated:
        lead = "The documents do not state what this question asks for"
    return f"{lead}, so I cannot answer it from them. Nearest topics they do cover: " \
        + ", ".join(near) + "."


def supported(sentence: str, passage: str, min_share: float = 0.6) -> bool:
    """Whether ``passage`` supports ``sentence``: it stands there verbatim, or most of its
    content words (at least ``min_share``) occur in the passage."""
    s = re.sub(r"\s*\[\d+\]", "", sentence).strip().lstrip("-* ").strip()
    if not s:
        return True
    if _norm(s) in _norm(passage):
        return True
    sw = set(content_words(s))
    if not sw:
        return True
    pw = set(words(passage))
    return len(sw & pw) / len(sw) >= min_share


def _norm(t: str) -> str:
    return re.sub(r"[\s*_`]+", " ", t).strip().lower()
