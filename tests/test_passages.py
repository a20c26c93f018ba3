"""Passage units and their rendering: lead-ins keep their lists and code, quotes stay quotes.

Internal: each rule of splitting, ranking and quoting passages is pinned on hand-made hits; an
answer mixes them all, so it could not say which rule failed."""

from __future__ import annotations

from app.answer.extractive import Composer
from app.answer.grounding import weigh_evidence
from app.answer.passages import runs_on, split_units
from app.answer.questions import plan_question
from app.answer.sections import distinct
from app.retrieval.definitions import definienda
from app.retrieval.hybrid import Hit
from app.retrieval.lexical import LexicalIndex
from ingest.chunk_meta import ChunkMeta


def hit(text: str, hid: str = "h1") -> Hit:
    return Hit(hid, text, ChunkMeta(file="f", section="S", title="T"), 1.0, 0.8)


def test_units_lead_ins_lists_and_code():
    units = split_units(hit("Flux is built on a set of\n\n- composable APIs\n- Go packages\n\n"
                            "for building CD. Run it, e.g. in CI. Then:\n\n```sh\nflux install\n```"))
    kinds = [(u.kind, u.text) for u in units]
    assert kinds[:3] == [("sentence", "Flux is built on a set of"), ("item", "composable APIs"),
                         ("item", "Go packages")]
    assert ("sentence", "Run it, e.g. in CI.") in kinds  # "e.g." ends no sentence
    lead = units[0]
    assert lead.lead and runs_on(lead)
    assert units[-1].kind == "code" and units[-2].lead


def test_a_code_block_cut_by_the_passage_end_is_closed():
    (u,) = [u for u in split_units(hit("Run:\n\n```sh\nflux install\nflux check")) if u.kind == "code"]
    assert u.text == "```sh\nflux install\nflux check\n```"


def test_an_empty_code_block_is_not_quoted():
    """A fence with nothing inside (a docs site's reference to a snippet file) says nothing."""
    units = split_units(hit('Verify it:\n\n```python title="Python" name="snippets/verify"\n'
                            '\n```\n\nThe batch is returned.'))
    assert [u.kind for u in units] == ["sentence", "sentence"]


def test_rendering_quotes_code_and_escapes_bracketed_numbers():
    units = split_units(hit("Run:\n\n```sh\nlog INFO[0000] started\n```\n\nRead arr[0] first."))
    comp = Composer(100)
    for u in units:
        comp.add(u)
    assert comp.text() == ("Run: [1]\n\n```sh\nlog INFO[0000] started\n```\n\n"
                           "Read arr\\[0] first. [1]")


def test_definienda():
    text = ("- Drift: when the actual state moves away.\n\nAn exporter is a binary.\n\n"
            "This is not a term. Argo Widgets are a set of tools.")
    assert definienda(text) == ["Drift", "exporter"]


def test_a_passage_that_starts_inside_a_code_block_reads_it_as_code():
    h = Hit("h2", "--flag10 string   a flag\n--flag11 string   another\n```\n\nAfter.",
            ChunkMeta(file="f", section="S", title="T", fence="```bash"), 1.0, 0.8)
    units = split_units(h)
    assert [u.kind for u in units] == ["code", "sentence"]
    assert units[0].text.startswith("```bash\n--flag10")


def test_a_ranking_of_passages_gives_a_continuing_chunk_no_place_of_its_own():
    def at(hid: str, section: str, index: int) -> Hit:
        return Hit(hid, hid, ChunkMeta(file="f", section=section, index=index), 1.0, 0.5)

    hits = [at("a4", "A", 4), at("a5", "A", 5), at("b5", "B", 5), at("a6", "A", 6),
            at("a9", "A", 9), at("c1", "C", 1)]
    # a5 and a6 continue a4's passage; b5 is another section; a9 starts a passage again
    assert [h.id for h in distinct(hits, 5)] == ["a4", "b5", "a9", "c1"]
    assert [h.id for h in distinct(hits, 2)] == ["a4", "b5"]


def test_a_common_word_near_a_document_word_is_not_read_as_a_typo_of_it():
    rows = [("c1", "Seeing the sync status of every application.", ChunkMeta(file="f")),
            ("c2", "The sync status shows drift.", ChunkMeta(file="g"))]
    lexical = LexicalIndex.empty().update("c-g1-n0", ["c1", "c2"], {"f": "1", "g": "1"},
                                          lambda ids: [r for r in rows if r[0] in ids])
    pieces = {"steering": 1, "aplication": 3, "seeing": 1, "status": 1}.get
    hits = [Hit("c1", rows[0][1], rows[0][2], 1.0, 0.5)]

    def evidence(q: str):
        return weigh_evidence(plan_question(q, lexical.terms), hits, lexical,
                              lambda w: pieces(w, 2))

    assert evidence("seeing every aplication").coverage == 1.0  # a typo of a known word
    steering = evidence("steering status")  # "steering" is a word of its own, not "seeing"
    assert steering.unknown == ["steering"] and steering.score < 0.5


def test_what_cannot_open_an_answer_or_is_no_claim():
    from app.answer.choose import opens
    from app.answer.groups import ABOUT_TEXT, Group, echoes

    units = split_units(Hit("h9", "Sync Options.\n\nIf changes are found:\n\n- they sync\n- they "
                                  "warn\n\nThis guide explains syncing. Syncing applies changes.",
                            ChunkMeta(file="f", section="Sync Options", title="T"), 1.0, 0.8))
    by_text = {u.text: u for u in units}
    assert echoes(by_text["Sync Options."]) and not echoes(by_text["Syncing applies changes."])
    assert not opens(Group([by_text["If changes are found:"]], 1.0))
    assert opens(Group([by_text["Syncing applies changes."]], 1.0))
    assert ABOUT_TEXT.match("This guide explains syncing.")
    assert not ABOUT_TEXT.match("Syncing applies changes.")


def test_a_list_is_cut_to_fit_only_where_allowed():
    from app.answer.choose import fit
    from app.answer.groups import Group

    units = split_units(hit("Pick one:\n\n" + "\n".join(f"- option number {i}" for i in range(9))))
    g = Group(units, 1.0, shape="list")
    assert sum(u.words for u in g.units) == 2 + 9 * 3
    cut = fit(g, 12)
    assert cut is not None and [u.text for u in cut.units][:2] == ["Pick one:", "option number 0"]
    assert sum(u.words for u in cut.units) <= 12
    assert fit(g, 12, cut=False) is None and fit(g, 100) is g


def test_a_pointer_to_another_page_is_not_a_claim():
    """ "See X for details." and "Refer to X." point elsewhere: quoted neither alone nor
    after the sentence they follow."""
    from app.answer.groups import ABOUT_TEXT

    for s in ("See Deploy the agent for setup details.", "Refer to the install guide.",
              "For details, see the reference.", "To learn more about tabs, see Tabs."):
        assert ABOUT_TEXT.match(s), s
    assert not ABOUT_TEXT.match("Seeding the cache takes a minute.")


def test_a_glossary_written_as_paragraphs_defines_its_terms():
    """ "Checkpoint: An object that ..." as a paragraph of its own is a glossary entry; a note
    or a numbered case set as a label is not."""
    text = ("Checkpoint: An object that groups validations.\n\nBatch Definition: A configuration "
            "for how data is divided.\n\nNote: The order matters.\n\nCase 1: A run without "
            "data.\n\nWARNING: The store is shared.")
    assert definienda(text) == ["Checkpoint", "Batch Definition"]
