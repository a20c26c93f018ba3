"""The question kinds, in the order they are tried: the first that recognises a question answers it.

A new kind is one module (a ``Kind`` subclass: see ``app/answer/kinds/base.py``) and one entry
in ``KINDS``, placed before the kinds it should win over.
"""

from __future__ import annotations

from app.answer.grammar import Grammar
from app.answer.kinds.base import Kind
from app.answer.kinds.comparison import Comparison
from app.answer.kinds.definition import Definition
from app.answer.kinds.fact import Fact
from app.answer.kinds.general import General
from app.answer.kinds.howto import Howto
from app.answer.kinds.listing import Listing

KINDS: tuple[Kind, ...] = (Comparison(), Howto(), Fact(), Definition(), Listing(), General())
BY_NAME = {k.name: k for k in KINDS}

__all__ = ["BY_NAME", "KINDS", "Kind", "classify"]


def classify(g: Grammar) -> Kind:
    """The first kind that recognises the question (``General`` recognises every one)."""
    return next(k for k in KINDS if k.detect(g))
