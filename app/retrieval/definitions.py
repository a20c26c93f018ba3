"""The terms a passage defines (glossary items, "X is a ...", acronyms spelt out), for the term
index, and the rows of the lexical index by what they define."""

from __future__ import annotations

import re

from app.retrieval.snapshots import TermRow
from app.retrieval.terms import content_words
from ingest.site_syntax import ALERT_KINDS

# "- Term: what it is" (a glossary item), "Term is/are/refers to ..." opening a paragraph.
_GLOSSARY = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+`?([A-Za-z][\w .'/+-]{0,48}?)`?\s*(?::|\s[–—-])\s+\S",
                       re.M)
_DEFINES = re.compile(r"^((?:(?:The|An?)\s+[\w.+-]+|[A-Z][\w.+-]*)(?:\s+[\w.+-]+){0,3}?)"
                      r"(?:\s+\([^)]{1,60}\))?\s+(?:is|are|refers\s+to|means|stands\s+for)\s+"
                      r"(?:an?|the|one|a\s+set)\b", re.M)
# A glossary written as paragraphs: "Checkpoint: An object that ...", a name then what it is.
_GLOSSARY_PARAGRAPH = re.compile(r"^`?([A-Z][\w .'/+-]{0,48}?)`?:\s+(?:An?|The|One)\s+\S", re.M)
# ... but not a note or warning set as a label ("Note: The ..."), nor "Case 1:", "Figure 2:".
_LABELS = frozenset([*ALERT_KINDS, "notes", "todo", "hint", "example", "remember", "attention"])
_NOT_TERMS = frozenset(["this", "that", "these", "those", "it", "they", "there", "here", "each",
                        "all", "some", "any", "both", "such", "what", "which", "who", "one",
                        "other", "another"])


# An acronym spelt out: "RAG (Retrieval-Augmented Generation)".
_ACRONYM = re.compile(r"\b([A-Z][A-Z0-9]{1,9}s?)\s+\(([A-Z][\w-]*(?:[ -][\w-]+){1,6})\)")


def definienda(text: str) -> list[str]:
    """The terms a passage defines: glossary items ("- Drift: when ...", or a paragraph
    "Checkpoint: An object that ..."), paragraphs that open by saying what something is ("An
    exporter is a ..."), and acronyms spelt out, at most five words each."""
    found = [m.group(1) for m in _GLOSSARY.finditer(text)] + \
        [t for m in _GLOSSARY_PARAGRAPH.finditer(text) if _glossary_name(t := m.group(1))] + \
        [m.group(1) for m in _DEFINES.finditer(text)] + \
        [m.group(1) for m in _ACRONYM.finditer(text)
         if [w[0].upper() for w in re.split(r"[ -]+", m.group(2))][: len(m.group(1))]
         == list(m.group(1).rstrip("s"))]
    out = []
    for term in found:
        term = re.sub(r"^(?:the|an?)\s+", "", term.strip(" ."), flags=re.I)
        ws = term.split()
        if 0 < len(ws) <= 5 and ws[0].lower() not in _NOT_TERMS and term not in out:
            out.append(term)
    return out


def _glossary_name(term: str) -> bool:
    """Whether a paragraph's "X:" names a term: not a label, not numbered, not all capitals."""
    return term.lower() not in _LABELS and not re.search(r"\d", term) and not term.isupper()


# "(Alternative)", "(recommended)", "(beta)" at a heading's end: how the section stands, not
# part of the name it defines.
_QUALIFIER = re.compile(r"\s*\([^()]*\)\s*$")


def defined_by(rows: list[TermRow]) -> dict[tuple[str, ...], list[int]]:
    """Rows (file, title, aliases, heading path, terms defined) by what they define: each term
    their chunks define, and their own heading, with and without a qualifier in brackets at
    its end ("App Of Apps Pattern (Alternative)" defines the pattern); keys are content words."""
    out: dict[tuple[str, ...], list[int]] = {}
    for i, (_, _, _, path, defines) in enumerate(rows):
        heading = path.split(" > ")[-1]
        names = {tuple(content_words(x))
                 for x in (*defines.split("|"), heading, _QUALIFIER.sub("", heading))}
        for key in names - {()}:
            out.setdefault(key, []).append(i)
    return out
