r"""Site-generator markup that is not Markdown (Hugo shortcodes, MkDocs admonitions and tabs,
Docusaurus ``:::``, GitHub alerts, Jinja), removed before parsing with every line kept in place.

Every pattern runs in time linear in the line: a search restarts at each position of a line,
so a pattern that can scan far from a position that fails (a run of spaces before ``\s*\{``,
``{{<`` never closed before ``.*?``, ``![`` before ``[^\]]*``) would make a long line cost
its length squared (a 9 MB nested list took 106 s here). Runs start only where a run starts
(a look-behind), bracket scans stop at the next opener, and a span pattern is only searched
up to its last closing mark (after it, nothing can close).
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SHORTCODE = re.compile(r"\{\{[<%].*?[%>]\}\}")
_HIGHLIGHT = re.compile(r"^\s*\{\{[<%]\s*(?:(/)\s*)?highlight\b\s*([\w+-]*)[^}]*[%>]\}\}\s*$")
_JINJA_TAG = re.compile(r"\{%.*?%\}")
_JINJA_NOTE = re.compile(r"\{#.*?#\}")
_VARIABLE = re.compile(r"\{\{\s*[\w.]+\s*\}\}")  # a template variable: {{version}}, {{ .Title }}
_ADMONITION = re.compile(r"^(\s*)(?:!!!|\?\?\?\+?)\s*[\w-]+(?:\s+\"([^\"]*)\")?\s*$")
_TAB = re.compile(r"^(\s*)===[+!]?\s+\"([^\"]*)\"\s*$")
_COLONS = re.compile(r"^\s*:::+\s*([\w-]*)\s*(.*)$")
# The kinds of note documents set apart ("> [!WARNING]", "Note: ..."), lower-case.
ALERT_KINDS = ("note", "tip", "important", "warning", "caution", "info", "danger")
_ALERT = re.compile(rf"^(\s*>\s*)\[!(?:{'|'.join(ALERT_KINDS)})\][ \t]*", re.I)
_INCLUDE = re.compile(r"\{!.*?!\}")
_SNIPPET = re.compile(r"^\s*-{2}8<-{2}.*$")
# Images go anyway; removing them first also drops the ones the parser would not accept as
# images (a kramdown-style ``![alt](url align="left")``), which would otherwise show as text.
_IMAGES = re.compile(r"\[!\[[^\[\]]*\]\([^()]*\)\]\([^()]*\)|!\[[^\[\]]*\](?:\([^()]*\)|\[[^\[\]]*\])")
_ATTRS = re.compile(r"(?<!\s)\s*\{:[^{}\n]*\}|(?<!\s)\s*\{\s*(?:[.#][\w-]+\s*)+\}\s*$")


def strip_site_syntax(text: str) -> str:
    """Remove site-generator markup that is not Markdown, keeping every line in place."""
    lines = text.split("\n")
    fence = ""
    body_indent = -1  # inside an admonition or tab: its marker's indent; -1 outside
    for i, line in enumerate(lines):
        if body_indent >= 0:
            if not line.strip() or len(line) - len(line.lstrip()) >= body_indent + 4:
                line = lines[i] = line[body_indent + 4:] if line.strip() else ""
            else:
                body_indent = -1
        hl = _HIGHLIGHT.match(line)
        if fence and not (hl and hl.group(1)):
            if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                fence = ""
            continue
        if hl:  # Hugo's highlight shortcode pair is a code fence by another name
            lines[i] = "```" if hl.group(1) else f"```{hl.group(2)}"
            fence = "" if hl.group(1) else "```"
            continue
        opened = _FENCE.match(line)
        if opened:
            fence = opened.group(1)
            continue
        marker = _ADMONITION.match(line) or _TAB.match(line)
        if marker:
            body_indent = len(marker.group(1))
            # The title leads into the body ("Feature parity: ..."); no title, no line.
            lines[i] = marker.group(1) + (f"{marker.group(2)}:" if marker.group(2) else "")
            continue
        colons = _COLONS.match(line)
        if colons:  # ":::note Title" or ":::note[Title]" opens, ":::" closes: the title only
            title = re.sub(r"^\[(.*)\]$", r"\1", colons.group(2)).strip()
            lines[i] = f"{title}:" if title else ""
            continue
        line = _ALERT.sub(r"\1", line)
        line = _SNIPPET.sub("", _closed_sub(_INCLUDE, ("!}",), _IMAGES.sub("", line)))
        line = _closed_sub(_SHORTCODE, ("%}}", ">}}"), line)
        line = _closed_sub(_JINJA_NOTE, ("#}",), _closed_sub(_JINJA_TAG, ("%}",), line))
        line = _outside_code(line, _VARIABLE)
        lines[i] = _ATTRS.sub("", line)
    return "\n".join(lines)


def _closed_sub(pattern: re.Pattern[str], closers: tuple[str, ...], line: str) -> str:
    """``pattern.sub("", line)`` for a pattern ``opener.*?closer``, searched only up to the
    last closer: before it every opener closes, after it none can."""
    end = max(line.rfind(c) + len(c) if c in line else 0 for c in closers)
    return pattern.sub("", line[:end]) + line[end:] if end else line


def _outside_code(line: str, pattern: re.Pattern[str]) -> str:
    """``line`` with ``pattern`` removed, except inside inline code spans."""
    parts = re.split(r"(`+[^`]*`+)", line)
    return "".join(p if i % 2 else pattern.sub("", p) for i, p in enumerate(parts))
