"""Text out of HTML (stdlib parser, headings kept as Markdown); lines are found later by
``ingest.anchors``."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIP_TAGS = frozenset({"script", "style", "noscript", "head", "template", "svg", "iframe"})
_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "tr", "table", "section", "article", "header", "footer", "main", "nav"}
    | {"aside", "blockquote", "pre", "ul", "ol", "dl", "dt", "dd", "figure", "figcaption", "hr"}
    | {"form", "fieldset", "details", "summary", "address"}
)


class _TextExtractor(HTMLParser):
    """Visible text with h1-h6 as Markdown headings and li as "- " bullets."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.title: list[str] = []
        self.skip = 0  # depth inside script/style/head...
        self.in_title = False
        self.pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self.in_title = True
        elif tag == "body":
            self.skip = 0  # an unclosed <head> must not hide the whole page
        elif tag in _SKIP_TAGS:
            self.skip += 1
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.out.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag in _BLOCK_TAGS:
            self.out.append("\n\n" if tag in ("p", "pre", "blockquote") else "\n")
        self.pre += tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        elif tag in _SKIP_TAGS:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK_TAGS or tag[:1] == "h" and tag[1:].isdigit():
            self.out.append("\n\n" if tag[0] in "hp" else "\n")
        if tag == "pre":
            self.pre = max(0, self.pre - 1)

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
        elif not self.skip:
            # Source whitespace is layout, not content, except inside <pre>.
            self.out.append(data if self.pre else re.sub(r"\s+", " ", data))


def html_to_text(markup: str) -> tuple[str, str]:
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    text = re.sub(r"^[ \t]+", "", "".join(parser.out), flags=re.M)
    return text, " ".join("".join(parser.title).split())
