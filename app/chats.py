"""Stored chats: every turn and every like or dislike, in one SQLite file beside the index.

Several server processes may share the file: it runs in WAL mode (readers never wait for a
writer), each write is one short ``BEGIN IMMEDIATE`` transaction, and a busy file is waited
for (``busy_timeout``) rather than failing. Every read and write of a chat names its owner
(a browser's id, or the login under ``auth``), so no one reaches another's chats by their id.
Feedback keeps its own copy of the question, the answer and the earlier questions, so a
disliked answer stays evidence for the gaps report and the eval after its chat is deleted.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.errors import OpsqaError
from app.types import Answer

TITLE_CHARS = 60
_SCHEMA = """
CREATE TABLE IF NOT EXISTS chats (
  id TEXT PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT NULL,
  created REAL NOT NULL, updated REAL NOT NULL);
CREATE INDEX IF NOT EXISTS chats_by_owner ON chats (owner, updated);
CREATE TABLE IF NOT EXISTS turns (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  chat_id TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
  question TEXT NOT NULL, refused INTEGER NOT NULL, mode TEXT NOT NULL,
  answer TEXT NOT NULL, created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS turns_by_chat ON turns (chat_id, id);
CREATE TABLE IF NOT EXISTS feedback (
  turn_id INTEGER PRIMARY KEY, owner TEXT NOT NULL, liked INTEGER, comment TEXT NOT NULL,
  question TEXT NOT NULL, history TEXT NOT NULL, answer TEXT NOT NULL,
  created REAL NOT NULL, updated REAL NOT NULL);
"""


class ChatStoreError(OpsqaError):
    """The chat store cannot be read or written (damaged file, full disk, no such chat)."""


@dataclass(frozen=True)
class ChatInfo:
    """One stored chat as the list of past chats shows it."""

    id: str
    title: str
    updated: float
    turns: int


@dataclass(frozen=True)
class Turn:
    """One stored question and its answer (``stopped`` when the user stopped it mid-way)."""

    id: int
    question: str
    answer: Answer
    stopped: bool = False


@dataclass(frozen=True)
class Feedback:
    """A like or dislike (``liked`` None: taken back) with what was asked and answered."""

    turn_id: int
    liked: bool | None
    comment: str
    question: str
    history: list[str]
    answer: Answer
    updated: float


def answer_record(answer: Answer, stopped: bool = False) -> str:
    """An answer as stored: ``Answer.to_dict`` with the question, the quoted sentences and
    whether the user stopped it."""
    d = answer.to_dict()
    for src, s in zip(d["sources"], answer.sources, strict=True):  # type: ignore[call-overload]
        src["chunk_id"] = s.chunk_id  # the document view finds the passage by it
    d.update(question=answer.question, used=[[i, s] for i, s in answer.used], stopped=stopped)
    return json.dumps(d, ensure_ascii=False)


def answer_from_record(text: str) -> tuple[Answer, bool]:
    """The ``Answer`` and its stopped flag back from ``answer_record``."""
    d = json.loads(text)
    return Answer.from_dict(d), bool(d.get("stopped"))


class ChatStore:
    """The chats, turns and feedback in ``path`` (created on first use).

    Raises:
        ChatStoreError: the file cannot be opened or is not a chat store.
    """

    def __init__(self, path: str | Path, busy_timeout: float = 15.0):
        self.path = Path(path).expanduser()
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db().executescript(_SCHEMA)  # idempotent; not in _write: it would commit
        except sqlite3.Error as exc:
            raise self._error("open", exc) from None

    def _error(self, what: str, exc: Exception) -> ChatStoreError:
        return ChatStoreError(f"the chat store {self.path} cannot {what}: {exc}; the index is "
                              "not affected (move the file away to start a new one)")

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:  # one connection per thread: sqlite3 connections are not shared
            db = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
            db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("PRAGMA foreign_keys = ON")
            self._local.db = db
        return db

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction, taken at once so writers queue instead of deadlocking."""
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _read(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._db().execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise self._error("be read", exc) from None

    # -- chats -------------------------------------------------------------------------------
    def create(self, owner: str, title: str) -> str:
        """A new chat of ``owner``; returns its id."""
        chat_id, now = uuid.uuid4().hex, time.time()
        title = " ".join(title.split())[:TITLE_CHARS] or "New chat"
        self._exec("INSERT INTO chats VALUES (?, ?, ?, ?, ?)", (chat_id, owner, title, now, now))
        return chat_id

    def chats(self, owner: str, limit: int = 200) -> list[ChatInfo]:
        """``owner``'s chats, the latest first."""
        rows = self._read(
            "SELECT c.id, c.title, c.updated, COUNT(t.id) FROM chats c LEFT JOIN turns t "
            "ON t.chat_id = c.id WHERE c.owner = ? GROUP BY c.id ORDER BY c.updated DESC LIMIT ?",
            (owner, limit))
        return [ChatInfo(r[0], r[1], r[2], r[3]) for r in rows]

    def owns(self, owner: str, chat_id: str) -> bool:
        return bool(self._read("SELECT 1 FROM chats WHERE id = ? AND owner = ?", (chat_id, owner)))

    def rename(self, owner: str, chat_id: str, title: str) -> None:
        title = " ".join(title.split())[:TITLE_CHARS]
        if not title:
            raise ChatStoreError("a chat needs a title: type one first")
        self._owned_exec(owner, chat_id, "UPDATE chats SET title = ? WHERE id = ?", (title, chat_id))

    def delete(self, owner: str, chat_id: str) -> None:
        """Delete a chat and its turns (feedback given on them stays, for the gaps and eval)."""
        self._owned_exec(owner, chat_id, "DELETE FROM chats WHERE id = ?", (chat_id,))

    # -- turns -------------------------------------------------------------------------------
    def turns(self, owner: str, chat_id: str) -> list[Turn]:
        """The turns of ``owner``'s chat, in order (none when it is not theirs)."""
        rows = self._read(
            "SELECT t.id, t.question, t.answer FROM turns t JOIN chats c ON c.id = t.chat_id "
            "WHERE c.id = ? AND c.owner = ? ORDER BY t.id", (chat_id, owner))
        return [Turn(r[0], r[1], *answer_from_record(r[2])) for r in rows]

    def add_turn(self, owner: str, chat_id: str, question: str, answer: Answer,
                 stopped: bool = False) -> int:
        """Store one question as it was typed and its answer at the end of the chat; returns
        the turn's id."""
        now = time.time()
        try:
            with self._write() as db:
                if not db.execute("SELECT 1 FROM chats WHERE id = ? AND owner = ?",
                                  (chat_id, owner)).fetchone():
                    raise ChatStoreError("that chat is gone (deleted elsewhere); start a new one")
                cur = db.execute("INSERT INTO turns (chat_id, question, refused, mode, answer, "
                                 "created) VALUES (?, ?, ?, ?, ?, ?)",
                                 (chat_id, question, int(answer.refused), answer.mode,
                                  answer_record(answer, stopped), now))
                db.execute("UPDATE chats SET updated = ? WHERE id = ?", (now, chat_id))
                return int(cur.lastrowid or 0)
        except sqlite3.Error as exc:
            raise self._error("be written", exc) from None

    def drop_turn(self, owner: str, turn_id: int) -> None:
        """Remove one turn of ``owner``'s (the answer being regenerated)."""
        self._exec("DELETE FROM turns WHERE id = ? AND chat_id IN (SELECT id FROM chats WHERE "
                   "owner = ?)", (turn_id, owner))

    # -- feedback ----------------------------------------------------------------------------
    def rate(self, owner: str, turn: Turn, history: list[str], liked: bool | None) -> None:
        """Record (or change, or with None take back) the like or dislike of one turn, with
        what was asked before it in its chat; a comment given before is kept."""
        now, record = time.time(), answer_record(turn.answer, turn.stopped)
        self._exec(
            "INSERT INTO feedback VALUES (?, ?, ?, '', ?, ?, ?, ?, ?) ON CONFLICT (turn_id) DO "
            "UPDATE SET liked = excluded.liked, updated = excluded.updated",
            (turn.id, owner, None if liked is None else int(liked), turn.question,
             json.dumps(history, ensure_ascii=False), record, now, now))

    def comment(self, owner: str, turn_id: int, text: str) -> bool:
        """Add a comment to a rated turn of ``owner``'s; False when it was not rated."""
        return self._exec("UPDATE feedback SET comment = ?, updated = ? WHERE turn_id = ? AND "
                          "owner = ?", (text.strip()[:2000], time.time(), turn_id, owner)) > 0

    def ratings(self, turn_ids: list[int]) -> dict[int, bool | None]:
        """The like (True) or dislike (False) of each of these turns that was rated."""
        if not turn_ids:
            return {}
        marks = ", ".join("?" * len(turn_ids))
        rows = self._read(f"SELECT turn_id, liked FROM feedback WHERE turn_id IN ({marks})",
                          tuple(turn_ids))
        return {r[0]: None if r[1] is None else bool(r[1]) for r in rows}

    def feedback(self, disliked_only: bool = False) -> list[Feedback]:
        """Every rated answer (or only the disliked ones), oldest first."""
        where = "WHERE liked = 0" if disliked_only else ""
        rows = self._read("SELECT turn_id, liked, comment, question, history, answer, updated "
                          f"FROM feedback {where} ORDER BY created")
        return [Feedback(r[0], None if r[1] is None else bool(r[1]), r[2], r[3],
                         json.loads(r[4]), answer_from_record(r[5])[0], r[6]) for r in rows]

    def refused(self) -> list[tuple[int, str]]:
        """(turn id, question) of every stored refusal, oldest first."""
        return [(r[0], r[1]) for r in self._read(
            "SELECT id, question FROM turns WHERE refused = 1 ORDER BY id")]

    # -- helpers -----------------------------------------------------------------------------
    def _exec(self, sql: str, args: tuple[Any, ...]) -> int:
        try:
            with self._write() as db:
                return db.execute(sql, args).rowcount
        except sqlite3.Error as exc:
            raise self._error("be written", exc) from None

    def _owned_exec(self, owner: str, chat_id: str, sql: str, args: tuple[Any, ...]) -> None:
        if not self.owns(owner, chat_id):
            raise ChatStoreError("that chat is not in your list (deleted, or never yours)")
        self._exec(sql, args)

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end)."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None


__all__ = ["ChatInfo", "ChatStore", "ChatStoreError", "Feedback", "Turn", "answer_from_record",
           "answer_record"]
