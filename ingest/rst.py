"""reStructuredText (Sphinx) parsed by docutils and walked as a doctree into clean blocks.

docutils is the reference parser: it reads every title underline style, grid, simple, list
and CSV tables, field and definition lists, and gives each node its source line. Sphinx's
own directives and roles, and those of any extension, are handled by ``ingest.rst_sphinx``
so they keep their text instead of aborting the file. The walk gives the same block kinds
the Markdown reader gives: section titles as ``#`` headings by depth, paragraphs on one
line, list items as ``- `` or ``1. `` lines, code as fenced blocks, table rows as items
(header rows first, as for Markdown tables), admonitions as their text. docutils' own
reports (system messages) are never printed and never reach the text; a file docutils
cannot parse at all is read as plain text, with a warning.
"""

from __future__ import annotations

import html
import io
import re
from typing import Any

from docutils import nodes

from ingest.blocks import Block, looks_like_heading, text_blocks
from ingest.inline import strip_urls
from ingest.reading import RawFile, Read, decoded, normalise
from ingest.rst_sphinx import include_reader, register

_DROP = (nodes.comment, nodes.target, nodes.substitution_definition, nodes.system_message,
         nodes.raw, nodes.pending, nodes.image, nodes.transition, nodes.footnote_reference,
         nodes.citation_reference, nodes.decoration, nodes.label, nodes.attribution)
_SETTINGS = {
    "report_level": 5, "halt_level": 5, "warning_stream": io.StringIO(),  # silent
    "file_insertion_enabled": False, "raw_enabled": False,  # no file is read behind our back
    "doctitle_xform": False, "docinfo_xform": False, "sectsubtitle_xform": False,
    "_disable_config": True, "syntax_highlight": "none", "smart_quotes": False,
    "pep_references": False, "rfc_references": False, "traceback": True,
}


def read_rst(raw: RawFile) -> Read:
    """A reStructuredText file as clean blocks on their source lines."""
    text = normalise(decoded(raw))
    lines = text.count("\n") + 1
    try:
        tree = parse(text, include_reader(raw.path.parent, raw.root, raw.max_bytes))
    except Exception as exc:  # docutils has no exception family of its own; any bug lands here
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]
        return Read(text_blocks(html.unescape(text)),
                    warnings=[f"reStructuredText parser failed ({reason}); read as plain text"],
                    source_lines=lines)
    walker = _Walker()
    walker.walk(tree)
    title = next((b.text.lstrip("# ") for b in walker.blocks if b.text.startswith("# ")), "")
    return Read(walker.blocks, title, source_lines=lines)


def parse(text: str, include: Any = None) -> nodes.document:
    """docutils' doctree of ``text``, Sphinx markup registered, every report kept silent."""
    from docutils.core import publish_doctree

    register(text)
    settings = {**_SETTINGS, "warning_stream": io.StringIO(), "opsqa_include": include}
    return publish_doctree(text, settings_overrides=settings)


def inline(node: nodes.Node) -> str:
    """The plain text of an inline node tree: code in backticks, references as their text."""
    out: list[str] = []
    for child in node.children:
        if isinstance(child, nodes.Text):
            out.append(strip_urls(str(child)))
        elif isinstance(child, _DROP):
            continue
        elif isinstance(child, nodes.literal):
            out.append(f"`{child.astext()}`")
        elif isinstance(child, nodes.problematic):  # markup docutils could not resolve
            out.append(re.sub(r"^[|`_:]+|[|`_]+$", "", child.astext()))
        else:
            out.append(inline(child))
    return re.sub(r"\s+", " ", "".join(out)).strip()


class _Walker:
    """One walk over a doctree, appending ``Block``s in document order."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.depth = 0  # section nesting
        self.items = 0  # list nesting
        self.line = 0  # the last 0-based source line seen

    def at(self, node: nodes.Node, back: int = 1) -> int:
        """The 0-based line ``node`` starts on (docutils counts from 1; a section title's
        line is its underline's, so ``back`` is 2 there), else the last one seen."""
        line = node.line if isinstance(node.line, int) else None
        if line is None:
            for sub in node.findall(include_self=False):
                if isinstance(sub, nodes.Element) and isinstance(sub.line, int):
                    line = sub.line
                    break
        if line is not None:
            self.line = max(0, line - back)
        return self.line

    def add(self, text: str, line: int, joined: bool = False) -> None:
        if text.strip():
            self.blocks.append(Block(text, line, joined and bool(self.blocks)))

    def walk(self, node: nodes.Node) -> None:
        for child in node.children:
            self.visit(child)

    def visit(self, node: nodes.Node) -> None:
        if isinstance(node, (*_DROP, nodes.Text)):
            return
        if isinstance(node, nodes.topic) and "contents" in node.get("classes", []):
            return
        handler = _HANDLERS.get(type(node).__name__)
        if handler:
            handler(self, node)
        else:  # anything else (admonitions, containers, block quotes ...): its children
            label = node.get("label") if isinstance(node, nodes.Element) else None
            if label:
                self.add(f"{label}:", self.at(node))
            self.walk(node)

    def section(self, node: nodes.section) -> None:
        self.depth += 1
        self.walk(node)
        self.depth -= 1

    def title(self, node: nodes.title) -> None:
        text = inline(node)
        if isinstance(node.parent, nodes.section):
            self.add(f"{'#' * min(6, max(1, self.depth))} {text}", self.at(node, 2))
        elif text:
            self.add(text if text.endswith((":", "?", ".")) else f"{text}:", self.at(node))

    def rubric(self, node: nodes.rubric) -> None:
        self.add(f"{'#' * min(6, self.depth + 1)} {inline(node)}", self.at(node))

    def paragraph(self, node: nodes.paragraph) -> None:
        self.add(inline(node), self.at(node))

    def code(self, node: nodes.Element) -> None:
        body = node.astext().rstrip("\n")
        if not body.strip():
            return
        classes = [c for c in node.get("classes", []) if c != "code"]
        lang = str(node.get("language") or (classes[0] if classes else ""))
        ticks = "```"
        while ticks in body:
            ticks += "`"
        self.add(f"{ticks}{lang}\n{body}\n{ticks}", self.at(node), joined=self.items > 0)

    def line_block(self, node: nodes.line_block) -> None:
        self.add(" ".join(inline(ln) for ln in node.findall(nodes.line)), self.at(node))

    def items_of(self, node: nodes.Element) -> None:
        ordered = isinstance(node, nodes.enumerated_list)
        number = int(node.get("start", 1)) if ordered else 0
        for n, item in enumerate(node.children):
            marker = f"{number + n}." if ordered else "-"
            self.item(item, marker, joined=n > 0 or self.items > 0)

    def item(self, item: nodes.Node, marker: str, joined: bool, lead: str = "",
             line: int | None = None) -> None:
        """One list item (or field, or term): its leading paragraphs on the item's line,
        the rest (nested lists, code) after it."""
        kids = list(item.children)
        texts: list[str] = [lead] if lead else []
        while kids and isinstance(kids[0], nodes.paragraph):
            texts.append(inline(kids.pop(0)))
        if len(texts) > 1 and looks_like_heading(texts[0]):  # "* Image options" over its text
            texts[0] += ":"
        text = " ".join(t for t in texts if t)
        line = self.at(item) if line is None else line
        if text:
            self.add(f"{'  ' * self.items}{marker} {text}" if marker else text, line, joined)
        self.items += 1 if marker else 0
        for kid in kids:
            self.visit(kid)
        self.items -= 1 if marker else 0

    def definitions(self, node: nodes.definition_list) -> None:
        for entry in node.children:
            terms = [inline(t) for t in entry.children if isinstance(t, nodes.term)]
            body = next((c for c in entry.children if isinstance(c, nodes.definition)), None)
            lead = " ".join(terms)
            lead = lead if lead.endswith((":", "?")) else f"{lead}:"
            if body is not None:
                self.item(body, "", False, lead, self.at(entry))

    def fields(self, node: nodes.Element) -> None:
        first = True
        for field in node.children:
            name = inline(field.children[0]) if field.children else ""
            body = field.children[1] if len(field.children) > 1 else None
            if body is not None and body.astext().strip():
                self.item(body, "-", not first or self.items > 0, f"{name}:")
                first = False

    def options(self, node: nodes.option_list) -> None:
        for n, entry in enumerate(node.children):
            names = ", ".join(g.astext() for g in entry.findall(nodes.option_group))
            body = next((c for c in entry.children if isinstance(c, nodes.description)), None)
            if body is not None:
                self.item(body, "-", n > 0, f"`{names}`:")

    def table(self, node: nodes.table) -> None:
        for kid in node.children:
            if isinstance(kid, nodes.title):
                self.title(kid)
        first = True
        # The header rows first: they name the columns the other rows fill.
        for body in node.findall(lambda n: isinstance(n, (nodes.thead, nodes.tbody))):
            for row in body.children:
                cells = [" ".join(inline(p) if isinstance(p, nodes.TextElement) else p.astext()
                                  for p in entry.children).replace("|", "/")
                         for entry in row.children]
                text = " | ".join(cells)
                if text.strip(" |"):
                    self.add(f"- {text}", self.at(row), joined=not first)
                    first = False


_HANDLERS: dict[str, Any] = {
    "section": _Walker.section, "title": _Walker.title, "rubric": _Walker.rubric,
    "paragraph": _Walker.paragraph, "literal_block": _Walker.code,
    "doctest_block": _Walker.code, "line_block": _Walker.line_block,
    "bullet_list": _Walker.items_of, "enumerated_list": _Walker.items_of,
    "definition_list": _Walker.definitions, "field_list": _Walker.fields,
    "docinfo": _Walker.fields, "option_list": _Walker.options, "table": _Walker.table,
    "subtitle": _Walker.rubric,
}
