"""MDX (Docusaurus) down to Markdown, every line kept in place, before the Markdown parser.

MDX is Markdown plus JavaScript module lines and JSX. There is no maintained MDX parser for
Python (the reference one, mdx-js, needs Node at ingest time), and what MDX adds is small and
regular, so this layer follows MDX's own rules and leaves the rest to markdown-it-py:

- ``import``/``export`` at the start of a line, outside code, opens a module block that runs
  to the next blank line (MDX's rule); it is dropped.
- A line that is only a JSX tag of a component (a capitalised name; a tag may span lines,
  braces and quotes included) is dropped, and its children stay as Markdown. A tab's
  ``<TabItem label="...">`` becomes a heading one level under the heading it sits in, so a
  tab reads as a labelled section. Children indented under their tag are dedented to it:
  MDX has no indented code blocks, so indentation there is layout, not code.
- ``{...}`` expressions and ``{/* comments */}`` outside code go.

Code fences and inline code are never touched: an ``import`` in a code block stays.
"""

from __future__ import annotations

import re

from ingest.text import FENCE, closes

_ESM = re.compile(r"^(?:import|export)\b")
# An import naming a module, or an export of a declaration: what a Docusaurus .md starts with.
_BINDING = r"(?:[\w$]+|\*\s*as\s+[\w$]+|\{[^}]*\})"
_ESM_SURE = re.compile(
    rf"^(?:import\s+(?:{_BINDING}(?:\s*,\s*{_BINDING})?\s+from\s+)?['\"][^'\"]+['\"];?\s*$|"
    r"export\s+(?:const|let|default|function)\b)")
_OPEN = re.compile(r"^(\s*)<(/?)([A-Z][\w.]*)\b")
_ATTR = re.compile(r"""\b(label|value)\s*=\s*(?:"([^"]*)"|'([^']*)'|\{\s*["'`]([^"'`]*)["'`]\s*\})""")
_ATX = re.compile(r"^ {0,3}(#{1,6})\s")
_EXPR = re.compile(r"\{[^{}`\n]*\}")


def is_mdx(text: str) -> bool:
    """True when a Markdown file is MDX in fact: a module line outside code blocks (Docusaurus
    reads ``.md`` files as MDX)."""
    if not re.search(r"^(?:import|export)\s", text, re.M):  # most Markdown: no line to check
        return False
    fence = ""
    for line in text.split("\n"):
        fence = _fence_state(line, fence)
        if not fence and _ESM_SURE.match(line):
            return True
    return False


def _fence_state(line: str, fence: str) -> str:
    """The open fence after ``line`` ("" outside code)."""
    m = FENCE.match(line)
    if not m:
        return fence
    if not fence:
        return m.group(1)
    return "" if closes(line, fence) else fence


def _tag_end(lines: list[str], i: int, col: int) -> tuple[int, int, bool]:
    """(line and column where the tag opening at ``lines[i][col]`` closes, whether it
    self-closes); quotes and braces are skipped over, so ``values={[...]}`` may hold ``>``."""
    depth, quote = 0, ""
    for j in range(i, min(len(lines), i + 200)):
        text = lines[j][col:] if j == i else lines[j]
        for k, ch in enumerate(text):
            if quote:
                quote = "" if ch == quote else quote
            elif ch in "\"'`":
                quote = ch
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth = max(0, depth - 1)
            elif ch == ">" and depth == 0:
                return j, k + (col if j == i else 0), text[:k].rstrip().endswith("/")
    return i, len(lines[i]), True  # never closed: the line alone is taken for the tag


def _label(tag: str) -> str:
    found = {m.group(1): next(g for g in m.groups()[1:] if g is not None)
             for m in _ATTR.finditer(tag)}
    return (found.get("label") or found.get("value") or "").strip()


class _Mdx:
    """One pass over the lines: module blocks, component tags, expressions."""

    def __init__(self, text: str):
        self.lines = text.split("\n")
        self.stack: list[tuple[str, int, int]] = []  # (component, tag indent, dedent)
        self.level = 1  # of the last ATX heading outside components
        self.heading = ""  # that heading's line
        self.labelled = False  # a tab heading was written since the last heading outside
        self.fence = ""

    def run(self) -> str:
        i = 0
        while i < len(self.lines):
            i = self._line(i) + 1
        return "\n".join(self.lines)

    def _line(self, i: int) -> int:
        line = self.lines[i]
        if self.stack:  # children dedented to their tag, never past it (a fence's last line)
            _, at, dedent = self.stack[-1]
            cut = min(dedent, len(line) - len(line.lstrip(" ")) - at)
            if cut > 0:
                line = self.lines[i] = line[cut:]
        was = self.fence
        self.fence = _fence_state(line, self.fence)
        if was or self.fence:
            return i
        if not self.stack and _ESM.match(line):
            return self._drop_until_blank(i)
        tag = _OPEN.match(line)
        if tag:
            return self._tag(i, tag)
        heading = _ATX.match(line)
        if heading and not self.stack:
            self.level, self.heading, self.labelled = len(heading.group(1)), line.strip(), False
        self.lines[i] = _outside_code(line)
        return i

    def _drop_until_blank(self, i: int) -> int:
        while i < len(self.lines) and self.lines[i].strip():
            self.lines[i] = ""
            i += 1
        return i - 1

    def _tag(self, i: int, tag: re.Match[str]) -> int:
        indent, closing, name = len(tag.group(1)), tag.group(2), tag.group(3)
        end, col, self_closing = _tag_end(self.lines, i, indent)
        text = "\n".join(self.lines[i:end + 1])
        rest = self.lines[end][col + 1:]
        for j in range(i, end + 1):
            self.lines[j] = ""
        rest = _outside_code(rest.strip())
        if rest:  # text after the tag on its line: a child, kept
            self.lines[end] = " " * indent + rest
        if closing:
            while self.stack and self.stack.pop()[0] != name:
                pass
            if not self.stack and self.labelled and self.heading and self._text_follows(end):
                # Text after a group of tabs is the section's again, not the last tab's.
                self.lines[end] = self.heading
                self.labelled = False
            return end
        label = _label(text) if name.split(".")[-1] == "TabItem" else ""
        if label and rest and end == i:  # <TabItem label="A">text</TabItem>: "A: text"
            self.lines[i] = f"{' ' * indent}{label}: {rest}"
        elif label:
            self.lines[i] = f"{' ' * indent}{'#' * min(6, self.level + 1)} {label}"
            self.labelled = True
        if not self_closing:
            self.stack.append((name, indent, self._child_indent(end, indent)))
        return end

    def _text_follows(self, end: int) -> bool:
        """Whether prose follows line ``end`` before the next heading or component tag."""
        for line in self.lines[end + 1:]:
            if line.strip():
                return not (_ATX.match(line) or _OPEN.match(line) or _ESM.match(line))
        return False

    def _child_indent(self, end: int, indent: int) -> int:
        """How far the children under a tag at ``indent`` are indented past it."""
        for line in self.lines[end + 1:end + 40]:
            if line.strip():
                return max(0, len(line) - len(line.lstrip()) - indent)
        return 0


def _outside_code(line: str) -> str:
    """``line`` without ``{...}`` expressions, except inside inline code spans."""
    parts = re.split(r"(`+[^`]*`+)", line)
    return "".join(p if n % 2 else _EXPR.sub("", p) for n, p in enumerate(parts))


def strip_mdx(text: str) -> str:
    """MDX ``text`` as Markdown with the same lines: module blocks, component tags and
    expressions removed, tab items turned into headings."""
    return _Mdx(text).run()
