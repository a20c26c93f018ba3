"""Every format a documentation site is written in: reStructuredText (Sphinx), MDX
(Docusaurus), AsciiDoc, PDF and plain text, read from small documents written for these
tests. A fact in each construct is answered from its file through ``Assistant.ask``, no markup
reaches an answer or the indexed text (``Assistant.document``), and the citation's line range
holds what it quotes."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from app import Assistant
from tests.conftest import indexed, read_folder
from tests.format_docs import write_all

needs_asciidoctor = pytest.mark.skipif(shutil.which("asciidoctor") is None,
                                       reason="needs Debian's asciidoctor (scripts/setup.sh)")
MARKUP = {
    "rst": [":ref:", ":doc:", ":term:", ":option:", ".. ", "code-block", "toctree", "maxdepth",
            "list-table", "literalinclude", "ERROR/", "WARNING/", "System Message", "<string>",
            "web build", "OUTSIDE-THE-TREE", "storm-signal", ":colour:", "===", "+---"],
    "mdx": ["import Tabs", "import TabItem", "TabItem", "<Tabs", "export const", "groupId",
            "<Mark>", "</Mark>", ":::", "{/*", "label="],
    "adoc": ["[source,bash]", "----", "NOTE:", "[WARNING]", "====", "{clay}", ":clay:", "::"],
    "pdf": ["**", "Kestrel:", "Osprey:"],
    "txt": [],
}
# (format, question, what the answer says, the section it is cited from)
FACTS = [
    ("rst", "How often does a lighthouse keeper trim the wick?", "every four hours",
     "Lighthouse keeping"),
    ("rst", "How do I start the beacon lamp?", "beacon-ctl ignite", "Fuel and lamps"),
    ("rst", "Can the keeper leave the lantern room with the shutter open in a gale?", "Never leave",
     "Fuel and lamps"),
    ("rst", "When is the first watch?", "eight in the evening", "Shifts"),
    ("rst", "How long are the lighthouse logs kept?", "seven winters", "Log book"),
    ("rst", "How often does the foghorn sound?", "twice every ninety seconds", "Log book"),
    ("rst", "What does a red cone hoisted point down warn of?", "southerly gale", "Log book"),
    ("rst", "What does a blue flag mean at the lighthouse?", "relief boat", "Log book"),
    ("rst", "How far does the Fresnel beam reach?", "twenty two nautical miles", "Log book"),
    ("mdx", "What happens to the hive entrance in a winter inspection?", "one bee space",
     "Winter inspection"),
    ("mdx", "When does the beekeeper add a honey super?", "eight frames", "Summer inspection"),
    ("mdx", "What calms the bees before the hive lid is lifted?", "Cool white smoke",
     "Hive care"),
    ("mdx", "How is the queen bee marked?", "dot of paint", "Hive care"),
    ("adoc", "Can pots touch each other during a glaze firing?", "must never touch", "Loading"),
    ("adoc", "How do I program the kiln for cone 6?", "kiln-ctl program", "Loading"),
    ("adoc", "Where are the witness cones placed?", "spy hole", "Loading"),
    ("adoc", "When does opening the kiln crack the glaze?", "two hundred degrees", "Cooling"),
    ("adoc", "What is crazing in a glaze?", "fine cracks", "Cooling"),
    ("adoc", "What temperature does a bisque firing reach?", "nine hundred degrees",
     "Kiln firing"),
    ("pdf", "When does the first ferry leave the north quay?", "quarter past six",
     "Ferry timetable"),
    ("pdf", "Which boats sail the ferry crossing?", "Kestrel or the Osprey", "Boats"),
    ("txt", "When does the pilot board inbound ships?", "an hour before the flood", ""),
]
SUBSTITUTED = {"stoneware"}  # an AsciiDoc attribute's value: its source line says {clay}


@pytest.fixture(scope="module")
def formats(tmp_path_factory):
    """One index over the fixture documents: (assistant, files by format, ingest report)."""
    tmp = tmp_path_factory.mktemp("formats")
    files = write_all(tmp / "docs")
    if shutil.which("asciidoctor") is None:
        files.pop("adoc").unlink()
    bot = Assistant.open(index_dir=tmp / "idx", auto_ingest=False)
    report = bot.ingest([tmp / "docs"])
    return bot, files, report


def _words(text: str) -> set[str]:
    text = re.sub(r"^\s*(?:```.*|[-*]\s|\d+\.\s)", "", text, flags=re.M)  # marks a reader wrote
    return set(re.findall(r"\w+", text.lower()))


def test_every_fixture_is_read(formats):
    bot, files, report = formats
    assert sorted(Path(p).name for p in report.added) == sorted(f.name for f in files.values())
    assert not report.skipped, report.skipped
    assert [(g["type"], g["count"]) for g in report.not_read()] == [(".sh", 1)]


@pytest.mark.parametrize(("fmt", "question", "fact", "section"), FACTS,
                         ids=[f"{f[0]}:{f[2]}" for f in FACTS])
def test_fact_is_answered_from_its_construct(formats, fmt, question, fact, section):
    bot, files, _ = formats
    if fmt not in files:
        pytest.skip("needs Debian's asciidoctor")
    ans = bot.ask(question)
    assert not ans.refused, question
    assert fact.lower() in ans.text.lower(), ans.text
    idx, quoted = next((i, q) for i, q in ans.used if fact.lower() in q.lower())
    cited = ans.sources[idx]
    assert Path(cited.path).name == files[fmt].name and section in cited.section, cited
    for junk in MARKUP[fmt]:
        assert junk not in ans.text, (junk, ans.text)
    if fmt == "pdf":  # a PDF has no source lines: none is claimed
        assert (cited.line, cited.end_line) == (0, 0)
        return
    held = files[fmt].read_text().split("\n")[cited.line - 1:cited.end_line]
    assert cited.line >= 1 and cited.end_line >= cited.line
    missing = _words(quoted) - _words("\n".join(held)) - SUBSTITUTED
    assert not missing, (missing, quoted, cited.line, cited.end_line, held)
    # The document read whole (to show a passage in place) says where each passage stands.
    spans = [(p.line, p.end_line) for p in bot.document(cited.path)]
    assert all(1 <= a <= b for a, b in spans), spans


@pytest.mark.parametrize("fmt", list(MARKUP))
def test_no_markup_reaches_the_text(formats, fmt):
    bot, files, _ = formats
    if fmt not in files:
        pytest.skip("needs Debian's asciidoctor")
    text, sections = indexed(bot, files[fmt])
    for junk in MARKUP[fmt]:
        assert junk not in text and not any(junk in s for s in sections), (junk, text, sections)


def test_what_a_reader_keeps(formats):
    bot, files, _ = formats
    rst, rst_sections = indexed(bot, files["rst"])
    assert "See the storm drill and lamps for the rest." in rst  # roles: their titles
    assert "clockwork governor set with `--revolutions`" in rst
    assert "```bash\n#!/bin/sh\nlens-motor --turns 3" in rst  # literalinclude, in the tree
    assert rst_sections[0] == "Lighthouse keeping"
    # A table's rows are items, its header row first: "yes" or "blue flag" needs its column.
    assert "- Watch | Hours\n- First watch | from eight" in rst
    assert "- Signal | Meaning\n- blue flag | the relief boat is due" in rst
    assert "- Lamp | Range\n- Fresnel | the beam" in rst
    assert bot.document(str(files["rst"].resolve()))[0].title == "Lighthouse keeping"
    mdx, mdx_sections = indexed(bot, files["mdx"])
    assert "```bash\nimport hive-tools\nhive-cli weigh --hive 4\n```" in mdx  # code as is
    winter = [p for p in bot.document(str(files["mdx"].resolve()))  # a tab: a labelled section
              if p.section == "Hive care > Winter inspection"]
    assert winter and winter[0].text.startswith("In winter"), mdx_sections
    if "adoc" in files:
        assert "- Cone | Degrees\n- 06 | a thousand" in indexed(bot, files["adoc"])[0]
    pdf = bot.document(str(files["pdf"].resolve()))
    assert pdf[0].section == "Ferry timetable"  # the heading apart from its text
    assert pdf[0].text.startswith("The first ferry")
    assert "sailed by the Kestrel or the Osprey and takes" in indexed(bot, files["pdf"])[0]
    assert bot.document(str(files["txt"].resolve()))[0].title == (
        "Harbour tides: notes kept by the pilot")


BOLD = [  # (Markdown, the text it is read as)
    ("**Kestrel** or **Osprey** boats cross the bay.", "Kestrel or Osprey boats cross the bay."),
    ("**Kestrel** is the older boat.", "Kestrel is the older boat."),
    ("**Drift** The gap between two states.", "Drift: The gap between two states."),
    ("- **Drift** the gap between two states", "- Drift: the gap between two states"),
    ("- **Start time:** the hour the first boat leaves", "- Start time: the hour the first boat leaves"),
    ("**Board early.** The gangway lifts at six.", "Board early. The gangway lifts at six."),
]


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """Small Markdown and AsciiDoc pages ingested once: (assistant, folder)."""
    tmp = tmp_path_factory.mktemp("pages")
    docs = tmp / "docs"
    (docs / "partials").mkdir(parents=True)
    (docs / "partials" / "shared.adoc").write_text("The ferry bell rings three times.\n")
    (tmp / "secret.adoc").write_text("OUTSIDE-THE-TREE-TOKEN\n")
    if shutil.which("asciidoctor") is not None:
        (docs / "page.adoc").write_text(
            "= Page\n\ninclude::partials/shared.adoc[]\n\ninclude::../secret.adoc[]\n\n"
            "include::/etc/hostname[]\n\nLast line.\n")
    (docs / "a.md").write_text("import Tabs from '@theme/Tabs';\n\n# A\n\n<Tabs>\n"
                               "<TabItem value=\"x\" label=\"First way\">\n\nDo it.\n\n"
                               "</TabItem>\n</Tabs>\n")
    (docs / "b.md").write_text("# B\n\nimport the data from 'files' first.\n\n"
                               "```python\nimport os\n```\n")
    (docs / "step.md").write_text(
        "import Tabs from '@theme/Tabs';\n\n# A\n\n1. Open the hatch.\n\n"
        "   <Tabs>\n\n   <TabItem value=\"x\" label=\"Monthly\">\n\n"
        "    ```python\n    hatch.open()\n   ```\n\n   </TabItem>\n\n   </Tabs>\n\n"
        "2. Close the hatch after the bell.\n")
    for n, (markdown, _) in enumerate(BOLD):
        (docs / f"bold{n}.md").write_text(f"# Boats\n\n{markdown}\n")
    bot, report = read_folder(docs, tmp / "idx")
    assert not report.skipped, report.skipped
    return bot, docs


def _passages(bot, path: Path) -> list[tuple[str, str]]:
    return [(p.section, p.text) for p in bot.document(str(path.resolve()))]


@needs_asciidoctor
def test_asciidoc_include_reads_only_inside_the_folder(pages):
    bot, docs = pages
    text, sections = indexed(bot, docs / "page.adoc")
    assert "The ferry bell rings three times." in text and "Last line." in text
    assert "OUTSIDE-THE-TREE-TOKEN" not in text and "include" not in text
    assert Path("/etc/hostname").read_text().strip() not in text.split()


def test_mdx_in_a_markdown_file_and_plain_markdown(pages):
    """Docusaurus reads .md as MDX: a .md with module lines is read so; one without is not."""
    bot, docs = pages
    assert _passages(bot, docs / "a.md") == [("A > First way", "Do it.")]
    assert _passages(bot, docs / "b.md") == [
        ("B", "import the data from 'files' first.\n\n```python\nimport os\n```")]


def test_mdx_tab_in_a_list_step_keeps_its_code_in_the_step(pages):
    """A tab inside a numbered step whose fence opens one space deeper than it closes: the
    children are dedented to their tag, never past it, so the block closes in the step and
    the text after it is not read as code."""
    bot, docs = pages
    text, _ = indexed(bot, docs / "step.md")
    before, code, after = text.split("```")[-3:]
    assert code.split() == ["python", "hatch.open()"]
    assert "2. Close the hatch after the bell." in after and "Open the hatch" in before


@pytest.mark.parametrize(("n", "markdown", "text"), [(n, *b) for n, b in enumerate(BOLD)],
                         ids=[b[0] for b in BOLD])
def test_bold_runs_stay_words_unless_they_lead_a_definition(pages, n, markdown, text):
    bot, docs = pages
    assert _passages(bot, docs / f"bold{n}.md") == [("Boats", text)]
