"""Markdown and plain text into clean blocks: a real parser, site syntax removed, lines kept.

Internal: the block builders take tables of site-generator and Markdown edge cases, each a
string in and a string out, that no answer could isolate; so does the line of each position
inside a passage. Titles are checked through ``Assistant.document``."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.blocks import join_blocks, markdown_blocks, strip_site_syntax, text_blocks
from ingest.document_loader import load_document
from tests.conftest import read_folder


def clean(md: str) -> str:
    return join_blocks(markdown_blocks(md))[0]


def test_lead_in_keeps_its_list_and_code_stays_a_block() -> None:
    out = clean("Flux is built on the toolkit, which is a set of\n\n- composable APIs\n"
                "- Go packages\n\nfor building CD.\n\n```sh\nflux install \\\n  --x\n```\n")
    assert out == ("Flux is built on the toolkit, which is a set of\n\n- composable APIs\n"
                   "- Go packages\n\nfor building CD.\n\n```sh\nflux install \\\n  --x\n```")


def test_wrapped_paragraph_is_one_line_and_inline_markup_goes() -> None:
    out = clean("A **bold** and _soft_\nwrapped [link text](https://x.io/a) with `code`,\n"
                "![img](a.png) <span>tag</span> &amp; entity.\n")
    assert out == "A bold and soft wrapped link text with `code`, tag & entity."


@pytest.mark.parametrize(("source", "expected"), [
    # MkDocs admonition: marker gone, title leads in, indented body is text, not code
    ('!!! note "Feature parity"\n    Body *here*.\n\nAfter.', "Feature parity: Body here.\n\nAfter."),
    ("??? warning\n    Hidden body.\n", "Hidden body."),
    # MkDocs content tabs
    ('=== "YAML"\n    ```yaml\n    a: 1\n    ```\n', "YAML:\n\n```yaml\na: 1\n```"),
    # Docusaurus admonitions
    (":::tip Good to know\nSome tip.\n:::\n", "Good to know: Some tip."),
    # GitHub alerts
    ("> [!NOTE]\n> Alert text.\n", "Alert text."),
    # Hugo shortcodes: dropped; a highlight pair becomes a fence
    ('{{< alert color="info" >}}Inside{{< /alert >}}\n', "Inside"),
    ("{{< highlight go >}}\nx := 1\n{{< /highlight >}}\n", "```go\nx := 1\n```"),
    ("See [the ref]({{< ref \"docs/x.md\" >}}) now {{% note %}}.\n", "See the ref now ."),
    # Jinja, MkDocs includes and attribute lists
    ("{% include 'x.html' %}Text {# note #}here.\n", "Text here."),
    ("## Title {: #anchor }\n\nBody.\n", "## Title\n\nBody."),
])
def test_site_generator_syntax(source: str, expected: str) -> None:
    assert clean(source) == expected


def test_tables_headings_in_items_and_html_blocks() -> None:
    out = clean("| Key | Default |\n|---|---|\n| `timeout` | 180s |\n\n"
                "- ## Heading in item\n  text\n\n<details>\n<summary>More</summary>\n\n"
                "Inner *md*\n</details>\n<script>alert(1)</script>\n")
    # the rows are items, the header row first: the sentence before a table introduces them
    assert out == ("- Key | Default\n- `timeout` | 180s\n\n- Heading in item: text\n\nMore\n\nInner md")


def test_site_syntax_pass_keeps_every_line() -> None:
    src = '!!! note "T"\n    a\n\n=== "Tab"\n    b\n{{< x >}}\n:::\n'
    assert strip_site_syntax(src).count("\n") == src.count("\n")


def test_source_lines_are_kept(tmp_path: Path) -> None:
    """Each position of the text maps to its source line; a passage shows only its first and
    last line, so the mapping inside it is checked on the reader's ``Document``."""
    path = tmp_path / "doc.md"
    path.write_text("---\ntitle: T\n---\n# Head\n\nFirst para\ncontinues.\n\n- item one\n"
                    "- item two\n\n```\ncode\n```\n")
    doc = load_document(path)
    for needle, line in [("# Head", 4), ("First para", 6), ("- item two", 10), ("code", 12)]:
        assert doc.line_at(doc.text.index(needle)) == line, needle


def test_plain_text_headings_and_wrapped_lines() -> None:
    text = ("Release Notes\nThis release adds a\nfeature and fixes bugs.\n\nKnown Issues\n"
            "Upgrades can fail.\n")
    out = join_blocks(text_blocks(text))[0]
    assert out == ("## Release Notes\n\nThis release adds a feature and fixes bugs.\n\n"
                   "## Known Issues\n\nUpgrades can fail.")


UNTITLED = [
    ("a.md", "Intro line.\n\n## First heading\n\nBody.\n", "First heading"),
    ("b.txt", "Wiki\nRelease Notes Overview\nThis page lists the changes.\n", "Release Notes Overview"),
    # plain text with no title-like line: its first line, up to 12 words; Markdown: the name
    ("c.txt", "just some text without any title at all, in lower case.\n",
     "just some text without any title at all, in lower case"),
    ("d.md", "just some text without any title at all, in lower case.\n", "d"),
]


@pytest.fixture(scope="module")
def untitled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("untitled")
    (tmp / "docs").mkdir()
    for name, text, _ in UNTITLED:
        (tmp / "docs" / name).write_text(text)
    bot, _ = read_folder(tmp / "docs", tmp / "idx")
    return bot, tmp / "docs"


@pytest.mark.parametrize(("name", "text", "title"), UNTITLED, ids=[u[0] for u in UNTITLED])
def test_untitled_documents_get_a_title(untitled, name: str, text: str, title: str) -> None:
    bot, docs = untitled
    passages = bot.document(str((docs / name).resolve()))
    assert passages and {p.title for p in passages} == {title}
    assert title in {r.title for r in bot.documents()}
