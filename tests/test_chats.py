"""Stored chats and feedback (app/chats.py): round trips, owners, several processes at once,
a damaged file; the feedback export and the gaps report (``opsqa feedback export``,
``opsqa gaps --json``) over a real index and model.

Internal: ``ChatStore`` (what ``Assistant.chats`` opens) is built on its own file so the store
tests need no model, and several processes can write it at once; ``eval.runner.load_dataset``
checks the exported stubs load as an eval dataset."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
from pathlib import Path

import pytest
import yaml

from app import Answer, Source
from app.chats import ChatStore, ChatStoreError
from app.cli import main

SRC = Source(path="/srv/docs/a.md", title="Alpha", section="Alpha > Use", text="Alpha is a test.",
             score=0.5, start=10, end=26, chunk_id="c-1", line=3)


def _answer(q: str, refused: bool = False) -> Answer:
    return Answer(text=f"Answer to {q} [1]", sources=(SRC,), refused=refused, question=q,
                  used=((0, "Alpha is a test."),), note="n", evidence=0.4)


def test_turns_round_trip_with_their_sources(tmp_path):
    store = ChatStore(tmp_path / "chats.sqlite3")
    chat = store.create("browser:a", "  What   is Alpha?  ")
    t1 = store.add_turn("browser:a", chat, "What is Alpha?", _answer("What is Alpha?"))
    store.add_turn("browser:a", chat, "And beta?", _answer("And beta?"), stopped=True)
    turns = ChatStore(tmp_path / "chats.sqlite3").turns("browser:a", chat)  # a fresh process
    assert [t.id for t in turns][0] == t1 and [t.question for t in turns] == [
        "What is Alpha?", "And beta?"]
    a = turns[0].answer
    assert a.text == "Answer to What is Alpha? [1]" and a.used == ((0, "Alpha is a test."),)
    assert a.sources[0] == SRC and not turns[0].stopped and turns[1].stopped
    assert [c.title for c in store.chats("browser:a")] == ["What is Alpha?"]
    assert store.chats("browser:a")[0].turns == 2


def test_a_chat_is_reached_only_by_its_owner(tmp_path):
    store = ChatStore(tmp_path / "chats.sqlite3")
    chat = store.create("user:ann", "Ann's")
    store.add_turn("user:ann", chat, "q", _answer("q"))
    assert store.turns("user:bob", chat) == [] and store.chats("user:bob") == []
    for act in (lambda: store.rename("user:bob", chat, "mine"),
                lambda: store.delete("user:bob", chat),
                lambda: store.add_turn("user:bob", chat, "q", _answer("q"))):
        with pytest.raises(ChatStoreError):
            act()
    assert store.chats("user:ann")[0].title == "Ann's"
    store.rename("user:ann", chat, "Renamed")
    assert store.chats("user:ann")[0].title == "Renamed"


def test_deleting_a_chat_keeps_its_feedback(tmp_path):
    store = ChatStore(tmp_path / "chats.sqlite3")
    chat = store.create("browser:a", "q")
    store.add_turn("browser:a", chat, "first", _answer("first"))
    store.add_turn("browser:a", chat, "second", _answer("second", refused=True))
    first, second = store.turns("browser:a", chat)
    store.rate("browser:a", second, ["first"], False)
    assert store.comment("browser:a", second.id, "should have answered")
    assert not store.comment("browser:b", second.id, "not mine")
    store.rate("browser:a", first, [], True)
    store.rate("browser:a", first, [], None)  # taken back
    assert store.ratings([first.id, second.id]) == {first.id: None, second.id: False}
    store.delete("browser:a", chat)
    assert store.chats("browser:a") == [] and store.refused() == []
    (f,) = store.feedback(disliked_only=True)
    assert (f.question, f.history, f.comment, f.answer.refused) == (
        "second", ["first"], "should have answered", True)


def _writer(path: str, n: int, turns: int) -> None:
    store = ChatStore(path)
    chat = store.create(f"browser:{n}", f"chat {n}")
    for i in range(turns):
        tid = store.add_turn(f"browser:{n}", chat, f"q{i}", _answer(f"q{i}"))
        store.rate(f"browser:{n}", store.turns(f"browser:{n}", chat)[-1], [], i % 2 == 0)
        assert tid > 0


def test_several_processes_write_at_once(tmp_path):
    path = str(tmp_path / "chats.sqlite3")
    ChatStore(path)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, n, 40)) for n in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    store = ChatStore(path)
    for n in range(4):
        (info,) = store.chats(f"browser:{n}")
        assert info.turns == 40
    assert len(store.feedback()) == 160 and len(store.feedback(disliked_only=True)) == 80
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_a_damaged_store_is_a_clear_error(tmp_path):
    path = tmp_path / "chats.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ChatStoreError, match="cannot open.*index is not affected"):
        ChatStore(path)


# -- over a real index ---------------------------------------------------------------------
def _chat(bot, owner: str, *questions: str) -> list:
    conv, chat = bot.conversation(), bot.chats.create(owner, questions[0])
    for q in questions:
        bot.chats.add_turn(owner, chat, q, conv.ask(q))
    return bot.chats.turns(owner, chat)


def test_a_refusal_in_a_chat_names_the_topics_of_its_own_question(shared_bot):
    conv = shared_bot.conversation()
    assert not conv.ask("What is GitOps?").refused
    inside = conv.ask("What is the capital of France?")
    alone = shared_bot.ask("What is the capital of France?")
    assert inside.refused and alone.refused
    assert inside.text == alone.text  # before: the chat's refusal led with GitOps
    assert [s.chunk_id for s in inside.sources] == [s.chunk_id for s in alone.sources]


def test_top_k_sets_the_passages_kept(shared_bot):
    few = shared_bot.ask("What is DataOps?", top_k=1)
    many = shared_bot.ask("What is DataOps?", top_k=8)
    cited = {i for i, _ in few.used}
    assert len(few.sources) == max(len(cited), 1) and len(many.sources) == 8


def test_disliked_answers_export_as_eval_stubs(bot, tmp_path, capsys):
    from eval.runner import load_dataset

    turns = _chat(bot, "browser:x", "What is GitOps?", "Which tools does it use?")
    bot.chats.rate("browser:x", turns[1], [turns[0].question], False)
    bot.chats.comment("browser:x", turns[1].id, "it missed one\n# not: a key")
    bot.chats.rate("browser:x", turns[0], [], True)
    out = tmp_path / "stubs.yaml"
    index = ["--index-dir", str(bot.settings.index_dir)]
    assert main(["feedback", "export", "--out", str(out), *index]) == 0
    assert "1 disliked answers written to" in capsys.readouterr().err
    assert main(["feedback", "export", *index]) == 0
    text = capsys.readouterr().out
    assert text == out.read_text(encoding="utf-8")
    _, (stub,) = load_dataset(out)
    assert stub["question"] == "Which tools does it use?" and stub["kind"] == "follow-up"
    assert stub["history"] == ["What is GitOps?"] and stub["key_facts"] == []
    assert stub["id"] == f"feedback-{turns[1].id}" and not stub["expect_refusal"]
    assert "# comment: it missed one # not: a key" in text
    assert set(yaml.safe_load(text)) == {"questions"}


def test_gaps_group_alike_questions_with_counts_and_topics(bot, capsys):
    _chat(bot, "browser:a", "What is the capital of France?")
    _chat(bot, "browser:b", "What is the capital city of France?")
    _chat(bot, "browser:c", "How do I bake sourdough bread at home?")
    liked = _chat(bot, "browser:d", "What is MLOps?")
    bot.chats.rate("browser:d", liked[0], [], False)
    assert main(["gaps", "--json", "--index-dir", str(bot.settings.index_dir)]) == 0
    gaps = {g["question"]: g for g in json.loads(capsys.readouterr().out)}
    assert set(gaps) == {"What is the capital of France?",
                         "How do I bake sourdough bread at home?", "What is MLOps?"}
    france = gaps["What is the capital of France?"]
    assert (france["count"], france["refused"], france["disliked"]) == (2, 2, 0)
    assert france["wordings"][1] == "What is the capital city of France?"
    assert gaps["What is MLOps?"]["disliked"] == 1 and gaps["What is MLOps?"]["refused"] == 0
    assert all(g["nearest_topics"] for g in gaps.values())
    assert list(gaps)[0] == "What is the capital of France?"  # the largest first


def test_chats_path_setting(tmp_path, shared_bot):
    from app import Assistant

    path = tmp_path / "elsewhere" / "c.sqlite3"
    bot = Assistant(shared_bot.settings.model_copy(update={"chats_path": str(path)}),
                    store=shared_bot.store, encoder=shared_bot.encoder)
    bot.chats.create("browser:a", "x")
    assert Path(path).is_file()
