"""One browser tab's chat: who owns it, which stored chat it is, and its turns as shown.

The owner is the login under ``auth`` (each user sees their chats from any browser), else a
random id the browser keeps in its local storage (each browser its own chats), else the
Gradio session (a script through the API). A chat is stored on its first answer; its turns
line up with the chat's message pairs (a turn that failed is shown but not stored, id 0).
What each browser keeps is encrypted with a key made once per index folder
(``browser_secret``), so a browser still finds its chats after a restart.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from app import Answer, Assistant, Conversation
from app.chats import ChatStoreError, Turn
from app.terminal import without_surrogates
from app.ui.render import answer_markdown, chat_markdown

_BROWSER_ID = re.compile(r"^[0-9a-f]{32}$")
PROBLEM = "problem"  # the note of a turn that failed (shown, never stored)
SECRET_FILE = "ui-secret"  # encrypts what each browser keeps (its id, its open chat)


def browser_secret(index_dir: str | Path) -> str:
    """The key that encrypts what browsers keep, made once per index folder and kept there,
    so a browser still finds its chats after a restart."""
    path = Path(index_dir).expanduser() / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_hex(16))
    return path.read_text(encoding="ascii").strip()


def owner_of(request: Any, browser: dict[str, Any] | None) -> str:
    """Whose chats these are: ``user:NAME`` (logged in), ``browser:ID`` or ``session:HASH``."""
    name = getattr(request, "username", None) if request is not None else None
    if name:
        return f"user:{name}"
    bid = (browser or {}).get("browser")
    if isinstance(bid, str) and _BROWSER_ID.match(bid):
        return f"browser:{bid}"
    return f"session:{getattr(request, 'session_hash', None) or uuid.uuid4().hex}"


def browser_id(browser: dict[str, Any] | None) -> str:
    """The browser's own random id (a new one when it has none yet)."""
    bid = (browser or {}).get("browser") if isinstance(browser, dict) else None
    return bid if isinstance(bid, str) and _BROWSER_ID.match(bid) else uuid.uuid4().hex


@dataclass
class Partial:
    """An answer being streamed: stored as far as it got when the user stops it."""

    question: str
    base: Answer
    mode: str
    text: str = ""


@dataclass
class ChatSession:
    """The chat open in one browser tab."""

    bot: Assistant
    owner: str
    browser: str = ""  # the browser's id, kept in its local storage with the open chat
    chat_id: str = ""
    turns: list[Turn] = field(default_factory=list)
    conv: Conversation | None = None
    partial: Partial | None = None
    rated: int = -1  # the turn whose like or dislike a comment goes with
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def start(cls, bot: Assistant, request: Any, browser: dict[str, Any] | None
              ) -> ChatSession:
        """A new tab's session: whose it is from the login or the browser's id (made here
        when the browser has none yet)."""
        bid = browser_id(browser)
        return cls(bot, owner_of(request, {"browser": bid}), bid)

    def fresh(self) -> ChatSession:
        """A clean conversation for the same owner and browser."""
        return ChatSession(self.bot, self.owner, self.browser)

    def kept(self) -> dict[str, str]:
        """What the browser keeps: its id and the chat open now."""
        return {"browser": self.browser, "chat": self.chat_id}

    def conversation(self) -> Conversation:
        if self.conv is None:
            self.conv = self.bot.conversation()
        return self.conv

    def open(self, chat_id: str) -> bool:
        """Load a stored chat of this owner (False when it is not theirs or is gone)."""
        turns = self.bot.chats.turns(self.owner, chat_id) if chat_id else []
        if not turns and not (chat_id and self.bot.chats.owns(self.owner, chat_id)):
            return False
        self.chat_id, self.turns, self.partial, self.rated = chat_id, turns, None, -1
        self.rewind(len(turns))
        return True

    def rewind(self, upto: int) -> None:
        """Follow-ups resolve against the first ``upto`` turns (their topics planned again)."""
        kept = [t for t in self.turns[:upto] if not t.answer.refused]
        self.conversation().resume([t.question for t in kept], [t.answer for t in kept])

    def store(self, question: str, answer: Answer, stopped: bool = False) -> str:
        """Store one turn (``question`` as typed; the chat is created on its first); returns
        a warning for the user, or ""."""
        question = without_surrogates(question)
        chats = self.bot.chats
        try:
            if self.chat_id and not chats.owns(self.owner, self.chat_id):
                self.chat_id = ""  # deleted in another tab: this turn starts a chat of its own
            if not self.chat_id:
                self.chat_id = chats.create(self.owner, question)
            tid = chats.add_turn(self.owner, self.chat_id, question, answer, stopped)
        except ChatStoreError as exc:
            tid, warning = 0, f"This answer was not saved: {exc}"
        else:
            warning = ""
        self.turns.append(Turn(tid, question, answer, stopped))
        return warning

    def unsaved(self, question: str, problem: str) -> None:
        """A turn that failed: shown in the chat, never stored."""
        self.turns.append(Turn(0, question, Answer(text=problem, question=question, note=PROBLEM)))

    def drop_last(self) -> Turn | None:
        """Take back the last turn (to answer it again)."""
        if not self.turns:
            return None
        last = self.turns.pop()
        if last.id:
            self.bot.chats.drop_turn(self.owner, last.id)
        self.rewind(len(self.turns))
        return last

    def ratings(self) -> list[str | None]:
        """Each turn's like or dislike as the Chatbot shows it."""
        got = self.bot.chats.ratings([t.id for t in self.turns if t.id])
        names = {True: "Like", False: "Dislike"}
        return [names.get(got.get(t.id)) if t.id else None for t in self.turns]  # type: ignore[arg-type]

    def history(self) -> list[dict[str, str]]:
        """The chat's messages: a question, then its answer, turn after turn."""
        out = []
        for i, t in enumerate(self.turns):
            out.append({"role": "user", "content": chat_markdown(t.question)})
            out.append({"role": "assistant", "content": bubble(t, i)})
        return out


def bubble(turn: Turn, index: int) -> str:
    """One answer's chat bubble (a failed turn shows its problem; a stopped one says so)."""
    if not turn.id and turn.answer.note == PROBLEM:
        return f"**Problem:** {chat_markdown(turn.answer.text)}"
    if turn.stopped and not turn.answer.text:
        return "*(stopped before the answer began)*"
    text = answer_markdown(turn.answer, index)
    return text + "\n\n*(stopped)*" if turn.stopped else text


def stopped_answer(partial: Partial) -> Answer:
    """What a stopped answer keeps: the text streamed so far (with the passages, which it may
    cite), in the mode that was answering."""
    text = partial.text.rstrip()
    return replace(partial.base, text=text, mode=partial.mode, note="stopped by the user",
                   used=partial.base.used if text == partial.base.text else ())
