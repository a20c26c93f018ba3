"""A how-to ("how do I X?", "the command to X", "show me an example"): the step or command leads."""

from __future__ import annotations

import re
from functools import lru_cache

from app.answer.choose import Budget
from app.answer.grammar import HOWTO, HOWTO_ONE, Grammar
from app.answer.groups import Group
from app.answer.kinds.base import Candidates, Kind
from app.retrieval.terms import content_words

ACTION = 0.06  # a group holding the action a how-to asks for
_DOER = re.compile(r"\W*(?:i|we|you|one)\b", re.I)  # "how do I ...": the verb comes next
BARE_CODE = 0.05  # code no sentence leads into (0.15 with a lead-in; none at all lost a question)


@lru_cache(maxsize=256)
def _action(q: str) -> str:
    """The verb a how-to asks how to do ("how do I enable X?": "enabl"), "" when none."""
    m = HOWTO.search(q)
    words = content_words(q[m.end():]) if m else []
    return words[0] if words else ""


class Howto(Kind):
    """A command with its lead-in ("To enable X, run:"), or numbered steps, over prose."""

    name = "howto"
    budget = Budget(110, lead=70, sentences=1)
    takes_blocks = True

    def detect(self, g: Grammar) -> bool:
        return bool(HOWTO.search(g.text) or (HOWTO_ONE.search(g.text) and not g.plural))

    def topic_words(self, q: str) -> list[str]:
        """"how do I <verb> X", "how to <verb> X": X is what it is about; "how do the X and
        Y <verb> ...": X and Y are (the verb comes after them)."""
        m = HOWTO.search(q)
        if m is None:
            return super().topic_words(q)
        rest = q[m.end():]
        ws = super().topic_words(rest)
        verb_first = m.group().lower().endswith("to") or bool(_DOER.match(rest))
        return ws[1:] if len(ws) > 1 and verb_first else ws

    def bonus(self, g: Group, c: Candidates) -> float:
        """An instruction: code (more with a "To <do X>" lead-in, little with none: a block no
        sentence explains does not say what it does), numbered steps, or a lead-in quoted
        with what it leads into; more where it does what is asked ("enable"
        in "how do I enable X?": "X can be enabled with ...")."""
        return self._shape(g) + (ACTION if _action(c.plan.text) in g.stems else 0.0)

    def _shape(self, g: Group) -> float:
        if g.shape == "code":
            if g.units[0].kind == "code":
                return BARE_CODE
            return 0.15 + (0.1 if g.purpose else 0.0)
        if g.shape == "list":
            return 0.12 if g.steps else 0.0
        return 0.08 if g.shape == "sentence" and len(g.units) > 1 else 0.0
