"""How opsqa cuts text: where a sentence ends, what a word is, where a code fence opens.

One rule of each for every part that reads text: the chunker cuts a long paragraph at its
sentence ends, the answerer quotes sentences and counts a reader's words, refusal reads a
question's sentences, and the LLM checks split a streamed answer into sentences.

- A sentence ends at ".", "!", "?" or "…" (closing quotes or brackets may follow) before
  white space, unless the mark ends a common abbreviation ("e.g.", "i.e.", "etc.", "vs.",
  "cf.", "No."). Read ``strict``ly, only before what can open a sentence: a capital, a digit
  or an opening mark ("see the docs. then" goes on).
- A word, as a reader counts it, is a run of non-space characters with a letter or digit in
  it ("-" and "|" are not words).
- A code fence is three or more backticks or tildes opening a line, indented or not (a fence
  inside a list item is indented); it closes at a line of the same character, at least as
  many, and nothing else.

A maintained splitter was measured for the sentence rule: pysbd 0.3.4 on 400 paragraphs of
an outside documentation set took 43x as long as this rule, and it cut file names and
template expressions apart (".env", ".app.spec.source"); so the rule stays this short
pattern.
"""

from __future__ import annotations

import re

_ABBREVIATION = r"(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\betc\.)(?<!\bvs\.)(?<!\bcf\.)(?<!\bNo\.)"
# The gap after a sentence: its end mark (and closing quotes or brackets), then white space.
SENTENCE_GAP = re.compile(_ABBREVIATION + r"(?<=[.!?…])[\"')\]”’]*\s+")
_OPENS = re.compile(r"[A-Z0-9\"'(\[`“‘]")
WORD = re.compile(r"\S*[^\W_]\S*")
FENCE = re.compile(r"^\s*(`{3,}|~{3,})")


def sentence_ends(text: str, strict: bool = True) -> list[int]:
    """Where each sentence of ``text`` but the last ends: the offset after its gap."""
    return [m.end() for m in SENTENCE_GAP.finditer(text)
            if not strict or _OPENS.match(text, m.end())]


def sentences(text: str, strict: bool = True) -> list[str]:
    """The sentences of ``text``, stripped, empty ones dropped."""
    bounds = [0, *sentence_ends(text, strict), len(text)]
    return [s for a, b in zip(bounds, bounds[1:], strict=False) if (s := text[a:b].strip())]


def has_word(text: str) -> bool:
    """Whether ``text`` holds a letter or digit (brackets and rules alone say nothing)."""
    return WORD.search(text) is not None


def closes(line: str, fence: str) -> bool:
    """Whether ``line`` closes the code block ``fence`` (e.g. "```") opened."""
    mark = line.strip()
    return mark.startswith(fence) and not mark.strip(fence[0])
