"""Question kinds through the public API: each answers first, within budget; a new kind is one class.

Internal: a new kind is a ``Kind`` subclass put in the ``kinds`` registry, the extension point
this file shows; everything else goes through ``Assistant``."""

from __future__ import annotations

import re

import pytest

from app import Assistant
from app.answer import kinds
from app.answer.choose import Budget
from app.answer.grammar import Grammar
from app.answer.kinds.base import Kind

WORD = re.compile(r"\S*[^\W_]\S*")

DOCS = {
    "widgets.md": """---
title: Widgets
---
# Widgets

A widget is a small reusable part that renders one value on a dashboard. Widgets read their
value from a query and redraw when it changes.

Widgets were first released in 2019 by Dana Okafor, who still maintains them.
By default, a widget refreshes every 30 seconds.

## Kinds of widget

The dashboard offers these widgets:

- gauge: a dial that shows one number
- sparkline: a small line of recent values
- table: rows of labelled values

## Setting up a widget

To add a widget, run:

```bash
dash widget add --query "up" --kind gauge
```

The command prints the widget's id.
""",
    "panels.md": """---
title: Panels
---
# Panels

A panel is a titled area of a dashboard that holds widgets side by side. Panels can be
collapsed and reordered.

If a panel is collapsed:

- its widgets stop refreshing
- its title stays visible

Panels differ from widgets: a panel holds widgets, whereas a widget shows one value.
""",
}


@pytest.fixture(scope="module")
def small_bot(tmp_path_factory):
    root = tmp_path_factory.mktemp("kinds")
    docs = root / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text, encoding="utf-8")
    bot = Assistant.open(index_dir=root / "index", auto_ingest=False)
    bot.ingest([docs])
    return bot


def first_line(text: str) -> str:
    return text.strip().split("\n")[0]


def bot_over(tmp_path, name: str, text: str) -> Assistant:
    """An assistant over one Markdown document of the test's own."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / name).write_text(text, encoding="utf-8")
    bot = Assistant.open(index_dir=tmp_path / "index", auto_ingest=False)
    bot.ingest([docs])
    return bot


def test_a_definition_opens_with_what_its_subject_is(small_bot):
    a = small_bot.ask("What is a panel?")
    assert first_line(a.text).startswith("A panel is a titled area")


@pytest.mark.parametrize("question, fact", [
    ("Who released widgets first?", "Dana Okafor"),
    ("When were widgets first released?", "2019"),
    ("How often does a widget refresh by default?", "30 seconds"),
    ("How long does a widget wait between refreshes?", "30 seconds"),
])
def test_a_fact_question_opens_with_the_sentence_holding_the_fact(small_bot, question, fact):
    a = small_bot.ask(question)
    assert not a.refused and fact in first_line(a.text)


@pytest.mark.parametrize("question", [
    "When were panels first released?",  # widgets have a date; panels none
    "What is the default panel width?",
    "How long are collapsed panels kept?",  # no duration is said of panels
])
def test_a_fact_no_passage_holds_is_refused(small_bot, question):
    a = small_bot.ask(question)
    assert a.refused and a.note.startswith("not stated in the documents")
    assert "do not state" in a.text


@pytest.mark.parametrize("question, fact", [
    ("How often do exports run?", "every night"),  # a frequency without a number
    ("How long is an export file kept?", "three minor releases"),  # a span without a unit
])
def test_a_frequency_or_span_in_words_is_a_fact(tmp_path, question, fact):
    bot = bot_over(tmp_path, "exports.md",
                   "# Exports\n\nAn export writes a dashboard's widgets to a file. Exports run "
                   "every night. An export file is kept for three minor releases, then deleted.\n")
    a = bot.ask(question)
    assert not a.refused and fact in first_line(a.text), a.text


def test_a_yes_no_question_is_not_refused_for_lack_of_a_fact(small_bot):
    a = small_bot.ask("Is a panel collapsed by default?")
    assert not a.refused and "collapsed" in first_line(a.text)


def test_a_list_question_gets_one_list(small_bot):
    a = small_bot.ask("Which widgets does the dashboard offer?")
    items = [ln for ln in a.text.splitlines() if ln.startswith("- ")]
    assert [i.split(":")[0] for i in items] == ["- gauge", "- sparkline", "- table"]


def test_a_howto_opens_with_the_command(small_bot):
    a = small_bot.ask("How do I add a widget?")
    assert a.text.startswith("To add a widget, run:")
    assert "dash widget add" in a.text


def test_two_subjects_are_each_answered(small_bot):
    a = small_bot.ask("What is a widget and what is a panel?")
    assert "A widget is a small reusable part" in a.text
    assert "A panel is a titled area" in a.text


def test_every_answer_stays_within_what_a_reader_accepts(small_bot):
    for q in ["What is a widget?", "How do I add a widget?", "Which widgets are there?",
              "How do panels differ from widgets?", "When were widgets released?",
              "Tell me about dashboards"]:
        a = small_bot.ask(q)
        n = len(WORD.findall(re.sub(r"\[\d+\]", " ", a.text)))
        assert n <= 120, (q, n)


class Shout(Kind):
    """A made-up kind for the test: questions in capitals get the best sentence alone."""

    name = "shout"
    budget = Budget(20, lead=20, followers=0)

    def detect(self, g: Grammar) -> bool:
        return g.text.isupper()


def test_a_new_kind_is_one_class_and_one_registry_entry(small_bot, monkeypatch):
    monkeypatch.setattr(kinds, "KINDS", (Shout(), *kinds.KINDS))
    assert small_bot.question_kind("WHAT IS A WIDGET?") == "shout"
    a = small_bot.ask("WHAT IS A WIDGET?")
    assert not a.refused and len(WORD.findall(re.sub(r"\[\d+\]", " ", a.text))) <= 20
    assert small_bot.question_kind("What is a widget?") == "definition"


def test_a_sentence_without_a_subject_is_about_its_paragraphs_subject(tmp_path):
    """ "It aims to ..." in a paragraph that opens with another term answers about that
    term, not about the one asked."""
    bot = bot_over(tmp_path, "tools.md",
        "# Report tools\n\n"
        "Quillet is a scheduler for nightly reports. It aims to improve how fast reports "
        "reach their readers.\n\n"
        "Brassica is a checker for report files. It aims to keep reports correct by "
        "rejecting any file with a missing column.\n")
    a = bot.ask("How do I improve my reports with Brassica?")
    assert not a.refused and "missing column" in first_line(a.text), a.text


def test_a_follow_up_opening_with_and_is_read_without_it(small_bot):
    """ "And what are ...?" asks what "what are ...?" asks: not what the earlier topic is."""
    assert small_bot.question_kind("And what are the main kinds of widget?") == "list"
    for follow_up in ("And what are the main kinds of it?", "what are the main kinds of it?"):
        chat = small_bot.conversation()
        assert not chat.ask("What is a widget?").refused
        a = chat.ask(follow_up)
        # a list answer: the list leads, not the earlier topic's definition
        assert first_line(a.text).startswith("The dashboard offers these widgets"), a.text
        items = [ln.split(":")[0] for ln in a.text.split("\n\n")[1].splitlines()]
        assert items == ["- gauge", "- sparkline", "- table"], (follow_up, a.text)


def test_a_verb_and_its_particle_read_as_the_documents_one_word(tmp_path):
    """ "back up" asks about what the documents call a "backup"."""
    bot = bot_over(tmp_path, "ops.md",
        "# Operations\n\n## After a crash\n\nTo bring the store back up after a crash, run "
        "`store start --repair`.\n\n## Keeping copies\n\nRun `store dump --all > "
        "backup.tar` to make a backup of every table.\n")
    a = bot.ask("How do I back up the store?")
    assert not a.refused and "store dump --all" in a.text.split("\n\n")[0], a.text


def test_an_item_that_follows_the_lead_is_quoted_with_its_list(tmp_path):
    """One item out of its list lacks what it belongs to: a further item is read with the
    rest of its (short) list, as one list, not as items scattered apart."""
    bot = bot_over(tmp_path, "harbour.md",
        "# Harbour\n\nThe tide way runs the harbour from one tide file.\n\n"
        "## In short\n\n- Every berth is listed in the tide file\n- Pull requests = berth changes\n"
        "- The harbour master applies the tide file each hour\n\n"
        "## When to use it\n\n- You run many berths\n- You want safe rollbacks\n")
    a = bot.ask("What is the tide way?")
    assert first_line(a.text).startswith("The tide way runs the harbour"), a.text
    items = [line for line in a.text.split("\n\n")[1].split("\n") if line.startswith("- ")]
    assert len(items) == 3 and "Pull requests = berth changes" in items[1], a.text


def test_a_second_question_in_the_same_one_is_answered_too(tmp_path):
    """ "How do I X, and where is Y?": the command answers the first part, and the sentence
    that answers the second comes before the first part's further sentences, though its words
    weigh little in the whole question."""
    bot = bot_over(tmp_path, "lanterns.md",
        "# Lanterns\n\n## Lighting a lantern\n\nTo light a brass harbour lantern with the lamp "
        "tool, run:\n\n```bash\nlamp light --wick 2\n```\n\nA lantern lit this way glows for "
        "six hours and a lantern can be dimmed with the side knob of the lantern.\n\nLanterns "
        "are lit at dusk by the harbour crew, who light each lantern in turn along the quay "
        "wall.\n\nTo light a lantern by hand, strike a match and hold it to the wick until the "
        "lantern flame is steady.\n\n## Oil\n\nThe oil tank is refilled from the quay pump "
        "every Sunday.\n")
    a = bot.ask("How do I light a brass harbour lantern with the lamp tool and its wick, and "
                "where is the oil refilled?")
    assert not a.refused and "lamp light --wick 2" in a.text, a.text
    assert "quay pump" in a.text.split("\n\n")[2], a.text


@pytest.mark.parametrize("other,question,defining", [
    # "X is not Y" says what X is not
    ("The night ferry is not a cargo boat and never carries cars.", "What is the night ferry?",
     "The night ferry is a small passenger boat that crosses the bay after dark."),
    # "X are moored at ..." says what is done to X (a passive), "X is called" would name it
    ("Night ferries are moored at the north quay over the winter months.",
     "What are night ferries?",
     "Night ferries are small passenger boats that cross the bay after dark."),
])
def test_what_does_not_say_what_a_subject_is_does_not_define_it(tmp_path, other, question,
                                                                 defining):
    """The sentence that says what the subject is leads, not one of the same opening."""
    bot = bot_over(tmp_path, "ferry.md", f"# Ferries\n\n{other}\n\n{defining}\n")
    a = bot.ask(question)
    assert first_line(a.text).startswith(defining), a.text


@pytest.mark.parametrize("question,many", [
    ("In which release was the widget API deprecated?", False),
    ("Which setting takes precedence over the refresh interval?", False),
    ("Which endpoint exposes the widget metrics?", False),  # any verb in the singular
    ("Which widgets refresh every 30 seconds?", True),
    ("Which widgets does the dashboard offer?", True),
    ("Which kinds of widget are there?", True),
])
def test_which_of_one_thing_is_not_a_list(small_bot, question, many):
    """ "which" asks for a list only of several things: a singular noun and verb ask for one."""
    assert (small_bot.question_kind(question) == "list") == many


def test_a_clause_after_the_subject_is_not_part_of_it(small_bot):
    """'the sparkline thing I can put on a panel' asks about sparklines: the clause that
    follows the subject ('I can put ...') is not part of what must be defined."""
    a = small_bot.ask("What's the sparkline thing I can put on a panel?")
    assert not a.refused, a.text
    assert "a small line of recent values" in a.text


def test_a_run_together_term_name_is_read_as_the_documents_name_it(tmp_path):
    """'releasetrain' is a word of the documents (a config key), but what they define is the
    'Release Train': the question is asked about that."""
    bot = bot_over(tmp_path, "trains.md", """---
title: Release Train
---
# Release Train

A Release Train is a fixed schedule on which every team ships what is ready.

Turn it on in the config:

```yaml
releasetrain: weekly
```

## Hotfix

A Hotfix is a change shipped outside the schedule. However, a Hotfix and a Release Train
share one pipeline.
""")
    a = bot.ask("What is a releasetrain?")
    assert not a.refused, a.text
    assert first_line(a.text).startswith("A Release Train is a fixed schedule"), a.text


def test_a_comparison_does_not_open_with_what_goes_on_from_another_sentence(tmp_path):
    bot = bot_over(tmp_path, "trains.md", """---
title: Shipping
---
# Shipping

A Release Train is a fixed schedule on which every team ships what is ready.

A Hotfix is a change shipped outside the schedule.

However, a Hotfix and a Release Train share one pipeline and one set of checks.
""")
    a = bot.ask("What is the difference between a hotfix and a release train?")
    assert not a.refused, a.text
    assert not first_line(a.text).startswith("However"), a.text


def test_a_list_announced_as_what_the_question_lists_leads(tmp_path):
    """ "Which beacons does X record ...?": of the lists in one section, the one whose lead-in
    announces beacons answers, not a neighbour whose lead-in repeats more of the question."""
    bot = bot_over(tmp_path, "tower.md", """---
title: Lighthouse
---
# Lighthouse

## What the keeper records for each lamp

When the keeper records a lamp automatically, several extra readings are available for every lamp:

- `wick_length`: the trimmed length of the wick
- `oil_level`: the oil left in the reservoir
- `glass_heat`: the heat of the lens glass

For each watch, a line is written in the following beacons:

- `lamp_lit`: one when the lamp burned all night
- `lamp_watch_seconds`: how long the watch lasted
- `lamp_flashes`: how many flashes were counted
""")
    for question in ("Which beacons does the keeper record automatically for every lamp?",
                     "Which beacons aren't extra readings for every lamp?"):
        a = bot.ask(question)
        assert first_line(a.text).startswith("For each watch"), (question, a.text)


def test_one_things_sections_are_its_parts_not_a_list(tmp_path):
    """A page on one lantern ("Storm lantern > Summary, Motivation ...") lists its parts, not
    lanterns: the list that names the lanterns answers "which lanterns ...?"."""
    bot = bot_over(tmp_path, "lanterns.md", """# Tower lanterns

## Storm lantern

A storm lantern burns whale oil behind thick glass for nights of gale.

### Summary

The storm lantern keeps the tower lit when the main lamp fails in a gale.

### Motivation

Keepers asked for a lantern that stays lit in wind and spray.

### Drawbacks

The thick glass dims the lantern's beam.

## Kinds of lantern

The tower keeps three lanterns in its store room:

- storm lantern for nights of gale
- harbour lantern for the quay steps
- signal lantern for the pilot boat
""")
    for question in ("Which lanterns does the tower keep?", "Which lanterns burn whale oil?"):
        a = bot.ask(question)
        assert not re.search(r"Summary|Motivation|Drawbacks", a.text), (question, a.text)


def test_a_list_cut_between_chunks_reads_as_one_list(tmp_path):
    """Chunks cut a list inside a nested item: the answer quotes one list, the nested items
    still under their item."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "lanterns.md").write_text("""# Tower lanterns

The tower keeps these lanterns in its store room:

- Storm lantern: burns whale oil behind thick glass for nights of gale and spray on the rocks.
- Harbour lantern: hangs over the quay steps so that boats can find the landing after dark.
  - Its red glass marks the left side of the landing.
  - Its green glass marks the right side of the landing.
- Signal lantern: flashes to the pilot boat when a ship waits outside the harbour bar.
""")
    bot = Assistant.open(index_dir=tmp_path / "index", auto_ingest=False,
                         chunk_max_tokens=64, chunk_target_tokens=40)
    bot.ingest([docs])
    passages = bot.document(str((docs / "lanterns.md").resolve()))
    assert any(p.text.startswith("- Its green glass") for p in passages)  # cut in the list
    a = bot.ask("Which lanterns does the tower keep?")
    assert "\n  - Its red glass" in a.text and "\n  - Its green glass" in a.text, a.text
    assert "\n\n" not in a.text.split("Storm lantern")[1], a.text


FERRY_QUERIES = """# Ferry timetables

## Timetable queries

A timetable query names the route and the day of the crossing, and returns every sailing.
A timetable query can hold the placeholder {day}, which is replaced with the day the query runs.
Timetable queries are cached for an hour, so a changed route shows after the next refresh.
A query that names no route returns the sailings of every route on that day.
"""


@pytest.mark.parametrize("question", [
    "What does {day} mean in a timetable query?",
    "What's the {day} thing I can put in a timetable query?",  # "thing" names nothing
])
def test_a_name_as_written_in_code_finds_the_sentence_holding_it(tmp_path, question):
    """ "{day}" asks of that very placeholder: the sentence holding it verbatim leads, not
    one that shares the question's plain words ("day", "query")."""
    bot = bot_over(tmp_path, "ferry.md", FERRY_QUERIES)
    a = bot.ask(question)
    assert first_line(a.text).startswith("A timetable query can hold the placeholder"), a.text


def test_a_howto_leads_with_what_does_the_action_asked(tmp_path):
    """ "How do I enable X?": the sentence that says how X is enabled leads, over one that
    shares more of the question's other words."""
    bot = bot_over(tmp_path, "ferry.md", """# Night sailings

Night sailings of the harbour ferry are shown on the ferry page under 'Night sailings'.

Night sailings are enabled by the harbour master in the harbour file.
""")
    a = bot.ask("How do I enable night sailings of the harbour ferry?")
    assert first_line(a.text).startswith("Night sailings are enabled"), a.text


def test_how_long_something_may_be_is_answered_by_a_length(tmp_path):
    """ "How long can X be?" asks a length as well as a duration: "80 characters" states it."""
    bot = bot_over(tmp_path, "notes.md", "# Notes\n\nA note shows its title on its card. A note's "
                   "title is cut off after 80 characters.\n")
    a = bot.ask("How long can a note title be?")
    assert not a.refused and "80 characters" in first_line(a.text), a.text


def test_a_howto_leads_with_what_a_sentence_explains_over_bare_code(tmp_path):
    """A code block no sentence leads into says nothing of what it does: it does not lead a
    how-to over the sentence that says how it is done."""
    bot = bot_over(tmp_path, "ferry.md", """# Ferry tickets

## Gates

1. Give the gate staff their role:

```yaml
ticket scanning role: gate staff
```

Ticket scanning is turned on by setting the scanner flag in the harbour file.
""")
    a = bot.ask("How do I turn on ticket scanning at the gate?")
    assert a.text.startswith("Ticket scanning is turned on"), a.text


@pytest.mark.parametrize("question,kind", [
    ("What are widgets in the dashboard?", "definition"),  # one of the documents' terms
    ("What are the widgets in the dashboard?", "list"),  # "the ...": which ones
    ("What are the kinds of widget?", "list"),
])
def test_what_a_term_is_in_a_context_is_asked_what_it_is(small_bot, question, kind):
    """ "What are X in Y?" asks what X are when X is one of the documents' terms; a context
    does not make it a list question."""
    assert small_bot.question_kind(question) == kind


def test_a_label_at_the_top_of_a_section_does_not_define_its_subject(tmp_path):
    """A status label under a heading ("Current Status: Stable") says nothing of what the
    section's subject is: the first claim of the section does."""
    bot = bot_over(tmp_path, "gates.md", """# Ticket gates

## Scanner

*Current Status: Stable (Since v2.0)*

This part reads the code on each ticket at the gate and opens the barrier when it is valid.

## Barriers

Barriers close after each passenger has gone through.
""")
    a = bot.ask("What is the Scanner?")
    assert first_line(a.text).startswith("This part reads the code"), a.text


def test_its_things_are_a_list_of_the_chats_topic(small_bot):
    """ "What are its use cases?" asks for the use cases of what the chat is about, as "What are
    the use cases of X?" does: a list, not what X is."""
    chat = small_bot.conversation()
    chat.ask("What is a widget?")
    assert small_bot.question_kind("What are its kinds?") == "list"
    a = chat.ask("And what are its kinds?")
    assert "- gauge" in a.text and not first_line(a.text).startswith("A widget is"), a.text


def test_only_the_opening_of_a_subjects_document_defines_it(tmp_path):
    """The first sentence of a document named by the subject says what it is; the first
    sentence of each later section ("An administrator can turn it off ...") does not."""
    bot = bot_over(tmp_path, "scanner.md", """---
title: Scanner
---
# Scanner

This part reads the code on each ticket at the gate and opens the barrier when it is valid.

## Turning it off

An administrator can turn the scanner off at any time from the gate file.
""")
    a = bot.ask("What is the scanner?")
    assert first_line(a.text).startswith("This part reads the code"), a.text


def test_the_singular_of_a_plural_acronym_is_a_word_of_the_documents(tmp_path):
    """Documents that write "SDKs" know "SDK" (the stemmer keeps the "s" of a word with no
    vowel): a question naming one is answered, not refused as naming something unknown."""
    bot = bot_over(tmp_path, "gateway.md", "# Gateway\n\nClient SDKs send their metrics to the "
                   "gateway over HTTP; set GATEWAY_URL in their environment to point them at it.\n")
    a = bot.ask("How do I point an SDK at the gateway?")
    assert not a.refused and "GATEWAY_URL" in a.text, a.note


@pytest.mark.parametrize("question,topic", [
    ("How do I enable the web terminal?", ["web", "terminal"]),  # "I" then the verb
    ("how to configure sync waves", ["sync", "waves"]),
    ("How do the SNMP and blackbox exporters know which targets to probe?",
     ["SNMP", "blackbox", "exporters", "know", "targets", "probe"]),  # the subject first
    ("Show me an example of a recording rule", ["recording", "rule"]),
])
def test_a_howtos_topic_drops_the_verb_only_where_the_verb_comes_first(question, topic):
    """What a later "that" refers to: "how do I <verb> X" is about X, but "how do the X and
    Y <verb>" names X and Y before its verb, and "an example of X" has no verb to drop."""
    assert kinds.BY_NAME["howto"].topic_words(question) == topic


def test_a_follow_up_reads_the_earlier_answers_document_first(tmp_path):
    """ "What supplies does it use?" after "What is the night watch?" asks about the night
    watch the chat is about: the earlier answer's document answers it, not a document that
    only shares the follow-up's own words ("supplies", "use")."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "lighthouse.md").write_text(
        "# Lighthouse keeping\n\nThe night watch is the lighthouse keeper's shift from dusk to "
        "dawn, spent tending the lamp.\n\n## Oil\n\nEach night watch burns about two litres "
        "of lamp oil.\n", encoding="utf-8")
    (docs / "harbour.md").write_text(
        "# Harbour crews\n\nA harbour crew works in shifts.\n\n## Supplies\n\nThe supplies a "
        "crew uses are rope, flares and a radio. Every crew uses the supplies it signs for at "
        "the harbour office.\n\n## Spare supplies\n\nSpare supplies a crew may use are kept "
        "in the boat shed.\n\n## Supplies at sea\n\nAt sea a crew uses the supplies in its "
        "locker.\n", encoding="utf-8")
    bot = Assistant.open(index_dir=tmp_path / "index", auto_ingest=False)
    bot.ingest([docs])
    chat = bot.conversation()
    first = chat.ask("What is the night watch?")
    assert first.sources[0].title == "Lighthouse keeping", first.text
    a = chat.ask("What supplies does it use?")
    assert a.sources[0].title == "Lighthouse keeping" and "lamp oil" in a.text, a.text
    # a new topic named without referring back is not read from the earlier answer's document
    b = chat.ask("What about harbour crews?")
    assert {b.sources[i].title for i, _ in b.used} == {"Harbour crews"}, b.text
    # a chat taken up again from its stored turns reads the same document first
    again = bot.conversation()
    again.resume(["What is the night watch?"], [first])
    c = again.ask("What supplies does it use?")
    assert c.sources[0].title == "Lighthouse keeping" and "lamp oil" in c.text, c.text


def test_a_list_written_as_prose_is_quoted_whole_and_in_its_order(tmp_path):
    """ "There are two ways ... The first is ... The second is ...": the sentence that counts
    them and the ones that take them in turn are one answer, not "The former ..." alone."""
    bot = bot_over(tmp_path, "kiln.md",
        "# Kiln\n\n## A failed firing\n\nThere are two ways for the kiln to report a failed "
        "firing to the glaze log.\n\nThe first is to sound the alarm bell.\n\nThe second is to "
        "set a `kiln_fired` flag to 0 or 1 depending on whether the firing worked.\n\n"
        "The former is easier for the potter to notice, although the bell says nothing about "
        "which firing failed in the log.\n\nThe latter is better where the glaze log is read "
        "later by the kiln crew.\n")
    a = bot.ask("How should the kiln report that a firing failed?")
    paragraphs = [p for p in a.text.split("\n\n") if p.strip()]
    assert paragraphs[0].startswith("There are two ways"), a.text
    assert "alarm bell" in paragraphs[1] and "kiln_fired" in paragraphs[2], a.text


def test_what_holds_if_i_do_not_set_it_asks_for_the_default(small_bot):
    """ "What ... if I don't set one?" asks what holds by default: the sentence that says so
    answers it."""
    q = "What refresh interval does a widget get if I don't set one?"
    assert small_bot.question_kind(q) == "fact"
    a = small_bot.ask(q)
    assert first_line(a.text).startswith("By default, a widget refreshes every 30 seconds"), a.text
