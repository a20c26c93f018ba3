"""AsciiDoc read by Asciidoctor (the reference implementation; Debian's ``asciidoctor``)
into DocBook, and DocBook walked into clean blocks.

Asciidoctor runs in its ``secure`` safe mode: it reads no file and runs no command whatever
the document asks (the Python port, asciidoc-py, runs a block's ``filter`` command even in
its safe mode). ``include::`` lines are resolved here instead, before Asciidoctor sees the
text: a file inside the ingested folder is read in, any other include is dropped.
Attributes, conditionals, lists, tables, source blocks and admonitions are Asciidoctor's
job; DocBook names each of them plainly, so the walk is short. DocBook has no source
lines, so each block is found in the source by its words (``ingest.anchors``). Trade-off:
one Asciidoctor process per file (about a quarter of a CPU second), so reading AsciiDoc
costs more than Markdown, still well under embedding it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from ingest.blocks import Block, looks_like_heading
from ingest.errors import SkipFile
from ingest.inline import strip_urls
from ingest.reading import RawFile, Read, anchored, decoded, normalise, relative_inside

TIMEOUT = 60.0  # seconds for one file
_INCLUDE = re.compile(r"^include::([^\[\s][^\[]*)\[[^\]]*\]\s*$")
_SKIP = {"indexterm", "remark", "anchor", "mediaobject", "inlinemediaobject", "imageobject",
         "info", "date", "footnote", "colspec", "thead", "co", "calloutlist"}


def read_asciidoc(raw: RawFile) -> Read:
    """An AsciiDoc file as clean blocks, each on the source line its words are on.

    Raises:
        SkipFile: Asciidoctor is not installed, failed, or timed out.
    """
    source = normalise(decoded(raw))
    text = _resolve_includes(source, raw)
    root = _docbook(_convert(text, raw.path.name))
    walker = _Walker()
    title = ""
    for info in _children(root, "info"):
        title = " ".join(_text(t) for t in _children(info, "title"))
    walker.add(f"# {title}" if title else "")
    walker.walk(root)
    return Read(anchored(walker.blocks, source), title, source_lines=source.count("\n") + 1)


def _resolve_includes(text: str, raw: RawFile, depth: int = 0) -> str:
    """``include::`` lines replaced by their file when it sits inside the ingested folder
    (a partial, a code sample), else by nothing; included files may include, 4 deep."""
    out = []
    for line in text.split("\n"):
        m = _INCLUDE.match(line)
        if not m:
            out.append(line)
            continue
        path = relative_inside(raw.root, raw.path.parent, m.group(1).strip())
        body = ""
        if path is not None and depth < 4 and "{" not in m.group(1):
            from ingest.files import read_file

            try:
                data = read_file(path, min(raw.max_bytes, 2_000_000))
                sub = RawFile(path, data, raw.root, raw.max_bytes)
                body = _resolve_includes(normalise(decoded(sub)), sub, depth + 1)
            except SkipFile:
                body = ""
        out.append(body)
    return "\n".join(out)


def _convert(text: str, name: str) -> bytes:
    exe = shutil.which("asciidoctor")
    if exe is None:
        raise SkipFile("AsciiDoc needs Asciidoctor, which is not installed "
                       "(Debian: apt-get install asciidoctor)")
    try:
        done = subprocess.run(
            [exe, "--safe-mode", "secure", "--backend", "docbook5", "--out-file", "-",
             "--attribute", f"docname={Path(name).stem}", "--failure-level", "FATAL",
             "--quiet", "-"],
            input=text.encode("utf-8", "surrogateescape"), capture_output=True,
            timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        raise SkipFile(f"AsciiDoc took over {TIMEOUT:.0f} s to read") from exc
    except OSError as exc:
        raise SkipFile(f"Asciidoctor could not run: {exc.strerror or exc}") from exc
    if done.returncode != 0 or not done.stdout.strip():
        why = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no output"])[0]
        raise SkipFile(f"unreadable AsciiDoc: {why[:120]}")
    return done.stdout


def _docbook(data: bytes) -> Any:
    from lxml import etree  # python-docx's XML library: already installed

    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True,
                             huge_tree=False)
    root = etree.fromstring(data, parser)
    if root is None:
        raise SkipFile("unreadable AsciiDoc: Asciidoctor's output did not parse")
    return root


def _name(el: Any) -> str:
    tag = el.tag if isinstance(el.tag, str) else ""
    return tag.rsplit("}", 1)[-1]


def _children(el: Any, name: str) -> list[Any]:
    return [c for c in el if _name(c) == name]


def _text(el: Any) -> str:
    """Inline text of an element: literals in backticks, index terms and footnotes dropped."""
    parts = [el.text or ""]
    for child in el:
        name = _name(child)
        if name in _SKIP:
            pass
        elif name in ("literal", "code", "command", "filename", "option", "varname",
                      "userinput", "systemitem", "envar"):
            parts.append(f"`{''.join(child.itertext())}`")
        elif name == "link" and "".join(child.itertext()).strip() == "role=include":
            pass
        else:
            parts.append(_text(child))
        parts.append(child.tail or "")
    return re.sub(r"\s+", " ", strip_urls("".join(parts))).strip()


class _Walker:
    """DocBook elements into blocks: sections to headings by depth, and so on."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.depth = 1  # the document title is level 1
        self.items = 0

    def add(self, text: str, joined: bool = False) -> None:
        if text.strip():
            self.blocks.append(Block(text, -1, joined and bool(self.blocks)))

    def walk(self, el: Any) -> None:
        for child in el:
            self.visit(child)

    def visit(self, el: Any) -> None:
        name = _name(el)
        if name in _SKIP or not name:
            return
        if name in ("section", "simplesect", "chapter", "appendix"):
            self.depth += 1
            self.walk(el)
            self.depth -= 1
        elif name in ("title", "bridgehead"):
            self._title(el)
        elif name in ("simpara", "para", "attribution", "literallayout", "address"):
            self.add(_text(el))
        elif name in ("programlisting", "screen", "synopsis"):
            self._code(el)
        elif name in ("itemizedlist", "orderedlist", "procedure", "substeps", "simplelist"):
            self._list(el, ordered=name in ("orderedlist", "procedure", "substeps"))
        elif name in ("variablelist", "glosslist"):
            self._terms(el)
        elif name in ("table", "informaltable"):
            self._table(el)
        else:  # admonitions, examples, sidebars, quotes ...: their content
            self.walk(el)

    def _title(self, el: Any) -> None:
        text = _text(el)
        parent = _name(el.getparent())
        if parent in ("section", "simplesect", "chapter", "appendix") or _name(el) == "bridgehead":
            self.add(f"{'#' * min(6, self.depth)} {text}")
        elif parent not in ("article", "book") and text:
            self.add(text if text.endswith((":", "?", ".")) else f"{text}:")

    def _code(self, el: Any) -> None:
        body = "".join(el.itertext()).rstrip("\n")
        if body.strip():
            lang = el.get("language") or ""
            ticks = "```"
            while ticks in body:
                ticks += "`"
            self.add(f"{ticks}{lang}\n{body}\n{ticks}", joined=self.items > 0)

    def _list(self, el: Any, ordered: bool) -> None:
        n = int(el.get("startingnumber") or 1)
        for title in _children(el, "title"):
            self._title(title)
        for k, item in enumerate(c for c in el if _name(c) in ("listitem", "step", "member")):
            self._item(item, f"{n + k}." if ordered else "-", joined=k > 0 or self.items > 0)

    def _item(self, item: Any, marker: str, joined: bool, lead: str = "") -> None:
        kids = [c for c in item if _name(c) not in _SKIP]
        texts = [lead] if lead else []
        if _name(item) == "member":
            texts.append(_text(item))
            kids = []
        while kids and _name(kids[0]) in ("simpara", "para"):
            texts.append(_text(kids.pop(0)))
        if len(texts) > 1 and looks_like_heading(texts[0]) and not lead:
            texts[0] += ":"
        text = " ".join(t for t in texts if t)
        if text:
            self.add(f"{'  ' * self.items}{marker} {text}" if marker else text, joined)
        self.items += 1 if marker else 0
        for kid in kids:
            self.visit(kid)
        self.items -= 1 if marker else 0

    def _terms(self, el: Any) -> None:
        for entry in el:
            if _name(entry) not in ("varlistentry", "glossentry"):
                continue
            terms = " ".join(_text(t) for t in entry if _name(t) in ("term", "glossterm"))
            body = next((c for c in entry if _name(c) in ("listitem", "glossdef")), None)
            lead = terms if terms.endswith((":", "?")) else f"{terms}:"
            if body is not None:
                self._item(body, "", False, lead)

    def _table(self, el: Any) -> None:
        for title in _children(el, "title"):
            self._title(title)
        first = True
        # The header rows first: they name the columns the other rows fill.
        for body in (b for b in el.iter() if _name(b) in ("thead", "tbody")):
            for row in body:
                cells = [" ".join(_text(p) for p in e) if len(e) else _text(e)
                         for e in row if _name(e) == "entry"]
                text = " | ".join(c.replace("|", "/") for c in cells)
                if text.strip(" |"):
                    self.add(f"- {text}", joined=not first)
                    first = False
