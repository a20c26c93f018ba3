"""What the documents do not cover: the refused and disliked questions, grouped by meaning.

Each question is embedded with the index's own model; a question joins the first group whose
first question it is at least ``SIMILAR`` alike to (cosine), else it starts a group. Groups
come largest first, each with its count, how many were refused and disliked, a few of its
wordings, the comments people left and the nearest topics the documents do cover (the titles
of a search for its first question now), so whoever writes the documents sees what to add.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.assistant import Assistant

SIMILAR = 0.75  # all-MiniLM cosine: rewordings of one question score above, neighbours below
WORDINGS = 3


@dataclass
class Gap:
    """One group of alike questions the documents did not serve."""

    question: str  # the first one asked
    count: int = 0
    refused: int = 0
    disliked: int = 0
    wordings: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {"question": self.question, "count": self.count, "refused": self.refused,
                "disliked": self.disliked, "wordings": self.wordings,
                "comments": self.comments, "nearest_topics": self.topics}


@dataclass(frozen=True)
class _Asked:
    question: str
    refused: bool
    disliked: bool
    comment: str = ""


def _asked(bot: Assistant) -> list[_Asked]:
    """Every stored refusal and every disliked answer, one entry per turn."""
    disliked = {f.turn_id: f for f in bot.chats.feedback(disliked_only=True)}
    out = [_Asked(q, True, tid in disliked, disliked[tid].comment if tid in disliked else "")
           for tid, q in bot.chats.refused()]
    refused_ids = {tid for tid, _ in bot.chats.refused()}
    out += [_Asked(f.question, f.answer.refused, True, f.comment)
            for tid, f in disliked.items() if tid not in refused_ids]
    return out


def find_gaps(bot: Assistant, similar: float = SIMILAR, topics: int = 3) -> list[Gap]:
    """The refused and disliked questions of the stored chats, grouped (largest first).

    Args:
        bot: the assistant whose chats (``bot.chats``) and index are read.
        similar: the cosine at which two questions count as one.
        topics: how many nearest topics each group names.

    Raises:
        ChatStoreError: the chat store cannot be read.
    """
    asked = [a for a in _asked(bot) if a.question.strip()]
    if not asked:
        return []
    vecs = bot.encoder.encode([a.question for a in asked])
    groups: list[tuple[int, Gap]] = []  # (index of its first question, the group)
    for i, a in enumerate(asked):
        gap = next((g for first, g in groups if float(vecs[first] @ vecs[i]) >= similar), None)
        if gap is None:
            gap = Gap(a.question)
            groups.append((i, gap))
        gap.count += 1
        gap.refused += a.refused
        gap.disliked += a.disliked
        if a.question not in gap.wordings and len(gap.wordings) < WORDINGS:
            gap.wordings.append(a.question)
        if a.comment and a.comment not in gap.comments:
            gap.comments.append(a.comment)
    gaps = sorted((g for _, g in groups), key=lambda g: -g.count)
    for g in gaps:
        g.topics = _nearest(bot, g.question, topics)
    return gaps


def _nearest(bot: Assistant, question: str, n: int) -> list[str]:
    from app.errors import OpsqaError

    try:
        found = bot.search(question, k=2 * n)
    except OpsqaError:  # a question search cannot read leaves its group without topics
        return []
    return list(dict.fromkeys(s.title for s in found if s.title))[:n]


__all__ = ["Gap", "SIMILAR", "find_gaps"]
