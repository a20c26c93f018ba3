"""Sphinx's directives and roles for docutils, reduced to what a reader sees of them.

docutils knows reStructuredText; Sphinx adds directives (``code-block``, ``toctree``,
``versionadded`` ...) and roles (``:ref:``, ``:doc:``, ``:term:`` ...), and every Sphinx
extension adds more. Without them docutils reports errors and shows the raw markup. Here
code directives make literal blocks (``literalinclude`` reads its file only inside the
ingested folder), navigation and index directives make nothing, version notes make their
sentence, and every other directive keeps its content (and a short argument as its label).
Roles keep their text: the title of ``title <target>``, else the target. Any directive or
role a file uses that docutils does not know is registered, before it is parsed, as one of
these permissive fallbacks, so an extension's markup never costs a file its text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import Directive, directives, roles
from docutils.parsers.rst.languages import en

from ingest.files import read_file

# Directives whose content is code, and roles whose text is code, file names or commands.
CODE = ("code-block", "sourcecode", "code", "highlight", "productionlist", "parsed-literal",
        "doctest", "testcode", "testoutput", "ipython", "prompt", "jinja", "graphviz", "mermaid",
        "plantuml", "uml", "math")
NOTHING = ("toctree", "index", "only", "highlight", "tabularcolumns", "sectionauthor",
           "codeauthor", "moduleauthor", "currentmodule", "module", "py:module",
           "py:currentmodule", "autosummary", "include", "raw", "meta", "contents",
           "default-role", "default-domain", "ifconfig", "spelling:word-list", "todolist")
VERSIONS = {"versionadded": "Added in version {}.", "versionchanged": "Changed in version {}.",
            "deprecated": "Deprecated since version {}.", "versionremoved":
            "Removed in version {}."}
LITERAL_ROLES = {"code", "literal", "option", "file", "command", "samp", "envvar", "program",
                 "kbd", "makevar", "regexp", "mailheader", "func", "meth", "class", "attr",
                 "mod", "obj", "data", "exc", "const", "type", "var", "member", "macro",
                 "confval", "setting"}
_EXPLICIT = re.compile(r"^(.*?)\s*<([^<>]*)>\s*$", re.S)


class _AnyOption(dict[str, Callable[[str | None], Any]]):
    """An option spec that takes every option as text (truthy, so docutils reads options)."""

    def __init__(self) -> None:
        super().__init__(class_=directives.unchanged)

    def __missing__(self, key: str) -> Callable[[str | None], Any]:
        return directives.unchanged

    def __contains__(self, key: object) -> bool:
        return True


class Nothing(Directive):
    """Navigation, index and build directives: no text."""

    optional_arguments = 99
    final_argument_whitespace = True
    option_spec = _AnyOption()
    has_content = True

    def run(self) -> list[nodes.Node]:
        return []


class Code(Directive):
    """A code directive: its content as a literal block in its language."""

    optional_arguments = 1
    final_argument_whitespace = True
    option_spec = _AnyOption()
    has_content = True

    def run(self) -> list[nodes.Node]:
        text = "\n".join(self.content)
        if not text.strip():
            return []
        node = nodes.literal_block(text, text, language=(self.arguments or [""])[0])
        node.line = self.content_offset + 1
        return [node]


class Contents(Directive):
    """Any other directive: its content parsed as reStructuredText, under its argument as a
    label when that reads as words (a tab's name, an option's signature)."""

    optional_arguments = 99
    final_argument_whitespace = True
    option_spec = _AnyOption()
    has_content = True

    def run(self) -> list[nodes.Node]:
        box = nodes.container()
        box.line = self.lineno
        label = " ".join(self.arguments).strip()
        if self.name in VERSIONS:
            version, _, said = label.partition(" ")
            text = f"{VERSIONS[self.name].format(version)} {said.strip()}".strip()
            box += nodes.paragraph(text, text)
            box[-1].line = self.lineno
        elif label and _reads_as_words(label):
            box["label"] = label
        if self.content:
            self.state.nested_parse(self.content, self.content_offset, box)
        return [box]


class LiteralInclude(Directive):
    """``literalinclude``: the named file as code when it sits inside the ingested folder and
    can be read; nothing otherwise."""

    required_arguments = 1
    final_argument_whitespace = True
    option_spec = _AnyOption()
    has_content = False

    def run(self) -> list[nodes.Node]:
        settings = self.state.document.settings
        found = getattr(settings, "opsqa_include", None)
        text = found(self.arguments[0]) if found else None
        if not text:
            return []
        text = _select(text, self.options)
        node = nodes.literal_block(text, text, language=self.options.get("language", ""))
        node.line = self.lineno
        return [node] if text.strip() else []


def _select(text: str, options: dict[str, Any]) -> str:
    """The part of an included file its ``start-after``/``end-before``/``lines`` keep."""
    after, before = options.get("start-after"), options.get("end-before")
    if after and after in text:
        text = text.split(after, 1)[1].split("\n", 1)[-1]
    if before and before in text:
        text = text.split(before, 1)[0].rsplit("\n", 1)[0]
    lines = text.split("\n")
    keep = str(options.get("lines") or "").strip()
    if keep and re.fullmatch(r"[\d,\s-]+", keep):
        picked: list[str] = []
        for part in keep.split(","):
            lo, _, hi = part.strip().partition("-")
            a = int(lo) if lo.strip() else 1
            b = int(hi) if hi.strip() else (a if not _ else len(lines))
            picked += lines[a - 1:b]
        lines = picked
    return "\n".join(lines).strip("\n")


def _reads_as_words(text: str) -> bool:
    return (bool(re.search(r"[A-Za-z]", text)) and len(text) <= 80 and "/" not in text
            and not re.search(r"\.\w{1,5}$", text))


def role(name: str, rawtext: str, text: str, lineno: int, inliner: Any,
         options: dict[str, Any] | None = None, content: list[str] | None = None
         ) -> tuple[list[nodes.Node], list[nodes.system_message]]:
    """Any Sphinx role: its title (``title <target>``), else its target, as text."""
    explicit = _EXPLICIT.match(text)
    shown = explicit.group(1) if explicit and explicit.group(1) else (
        explicit.group(2) if explicit else text)
    shown = shown.strip().lstrip("!")
    if shown.startswith("~"):
        shown = shown[1:].rsplit(".", 1)[-1]
    base = name.split(":")[-1].lower()
    if base == "doc" and not (explicit and explicit.group(1)):
        shown = Path(shown).name.replace("-", " ").replace("_", " ")
    elif base == "ref" and not (explicit and explicit.group(1)):
        shown = shown.replace("-", " ").replace("_", " ")
    elif base == "menuselection":
        shown = shown.replace("-->", ">")
    elif base == "guilabel":
        shown = shown.replace("&&", "\0").replace("&", "").replace("\0", "&")
    if base in LITERAL_ROLES or name.lower().startswith(("py:", "c:", "cpp:", "js:", "rst:")):
        return [nodes.literal(rawtext, shown)], []
    return [nodes.Text(shown)], []


def _known_directives() -> set[str]:
    registry = directives._directive_registry  # noqa: SLF001 - docutils' own name table
    return set(registry) | set(en.directives) | set(directives._directives)  # noqa: SLF001


def _known_roles() -> set[str]:
    return (set(roles._role_registry) | set(en.roles)  # noqa: SLF001
            | set(roles._roles))  # noqa: SLF001


def register(source: str) -> None:
    """Register Sphinx's directives and roles, and a fallback for every other one ``source``
    uses that docutils does not know (docutils' registry is process-wide)."""
    if "code-block" not in directives._directives:  # noqa: SLF001 - once per process
        for name in CODE:
            directives.register_directive(name, Code)
        for name in NOTHING:
            directives.register_directive(name, Nothing)
        for name in VERSIONS:
            directives.register_directive(name, Contents)
        directives.register_directive("literalinclude", LiteralInclude)
        for name in ("ref", "doc", "term", "option", "envvar", "any", "numref", "download",
                     "abbr", "guilabel", "menuselection", "program", "file", "command",
                     "samp", "kbd", "keyword", "dfn", "manpage", "eq"):
            roles.register_local_role(name, role)
    known = _known_directives()
    for name in set(re.findall(r"^[ \t]*\.\.[ \t]+([A-Za-z][\w:.+-]*)::", source, re.M)):
        if name.lower() not in known:
            directives.register_directive(name.lower(), Contents)
    known_roles = _known_roles()
    for name in set(re.findall(r"(?<![\w`]):([A-Za-z][\w:.+-]*):`", source)):
        if name.lower() not in known_roles:
            roles.register_local_role(name.lower(), role)


def include_reader(base: Path, root: Path, max_bytes: int) -> Callable[[str], str | None]:
    """The reader ``literalinclude`` uses: a file named relative to ``base`` (or to ``root``
    with a leading ``/``), read only when it resolves inside ``root``; None otherwise."""
    from ingest.decoding import decode_bytes, looks_binary
    from ingest.errors import SkipFile
    from ingest.reading import relative_inside

    def read(name: str) -> str | None:
        path = relative_inside(root, base, name.strip())
        if path is None:
            return None
        try:
            data = read_file(path, min(max_bytes, 2_000_000))
        except SkipFile:
            return None
        return None if looks_binary(data) else decode_bytes(data)

    return read
