"""The chat tab's actions: ask (streamed), stop, regenerate, rate, and the stored chats.

Every action that changes the chat returns the same outputs, in the order of ``out`` in
``app.ui.layout._wire``: the messages, the sources panel, the session, the question box, the
list of chats, what the browser keeps, the chat's title, the Ask and Stop buttons.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator
from typing import Any

import gradio as gr

from app import Answer, Assistant, OpsqaError
from app.terminal import without_surrogates
from app.ui.handlers import problem_text
from app.ui.render import chat_markdown, sources_html
from app.ui.session import ChatSession, Partial, stopped_answer
from app.ui.views import document_html, no_document
from app.ui.welcome import Welcome

SHOW_EVERY = 0.08  # seconds between streamed updates of the answer bubble
Out = tuple[Any, ...]


class ChatHandlers:
    """The chat's actions over one ``Assistant``; ``welcome`` gives the first screen."""

    def __init__(self, bot: Assistant, welcome: Welcome):
        self.bot, self.welcome = bot, welcome
        # Each tab's session by Gradio's session hash, so a question sent before the page's
        # load event is done and that event find the same session (gr.State holds it).
        self._tabs: weakref.WeakValueDictionary[str, ChatSession] = weakref.WeakValueDictionary()
        self._tabs_lock = threading.Lock()

    # -- outputs -----------------------------------------------------------------------------
    def _listing(self, s: ChatSession) -> tuple[Any, Any]:
        """The list of this owner's chats (the open one chosen) and the open chat's title."""
        try:
            chats = self.bot.chats.chats(s.owner)
        except OpsqaError as exc:
            gr.Warning(problem_text(exc))
            return gr.update(), gr.update()
        title = next((c.title for c in chats if c.id == s.chat_id), "")
        return gr.update(choices=[(c.title, c.id) for c in chats], value=s.chat_id or None), title

    def _out(self, s: ChatSession, browser: Any, messages: Any = None, sources: Any = None,
             question: Any = "", busy: bool = False, chats: bool = True) -> Out:
        shown = messages if messages is not None else s.history()
        if sources is None:
            last = len(s.turns) - 1
            sources = sources_html(s.turns[-1].answer, last) if s.turns else sources_html(None)
        listing = self._listing(s) if chats else (gr.update(), gr.update())
        return (shown, sources, s, question, listing[0], s.kept(), listing[1],
                gr.update(visible=not busy), gr.update(visible=busy))

    def _session(self, session: ChatSession | None, request: Any, browser: Any,
                 restore: bool = False) -> ChatSession:
        """This tab's session, made on first use from the login or the browser's id (with
        ``restore``, the chat the browser had open is reopened)."""
        if session is not None:
            return session
        tab = getattr(request, "session_hash", None) or ""
        with self._tabs_lock:
            found = self._tabs.get(tab) if tab else None
            if found is not None:
                return found
            s = ChatSession.start(self.bot, request, browser)
            if tab:
                self._tabs[tab] = s
        if restore:
            kept = browser.get("chat") if isinstance(browser, dict) else ""
            try:
                s.open(str(kept or ""))
            except OpsqaError as exc:
                gr.Warning(problem_text(exc))
        return s

    # -- opening and starting chats ----------------------------------------------------------
    def load(self, browser: Any, session: ChatSession | None, request: gr.Request) -> Out:
        """A page (re)load: this browser's id, its chats, the chat it had open, the first
        screen. A question sent before the page finished loading keeps its session."""
        text, examples = self.welcome.get()
        s = self._session(session, request, browser, restore=True)
        shown = gr.update(value=s.history(), feedback_value=s.ratings(), placeholder=text,
                          examples=[{"text": q} for q in examples] or None)
        return self._out(s, browser, messages=shown) + (no_document(),)

    def new_chat(self, session: ChatSession | None, browser: Any = None,
                 request: gr.Request | None = None) -> Out:
        """A clean conversation: no history, no sources, no topic carried over."""
        s = self._session(session, request, browser).fresh()
        return self._out(s, browser, messages=gr.update(value=[], feedback_value=[])) + (
            no_document(),)

    def open_chat(self, chat_id: str | None, session: ChatSession | None, browser: Any,
                  request: gr.Request) -> Out:
        s = self._session(session, request, browser).fresh()
        try:
            if chat_id and not s.open(chat_id):
                gr.Warning("That chat is gone (deleted, perhaps in another tab).")
        except OpsqaError as exc:
            gr.Warning(problem_text(exc))
        shown = gr.update(value=s.history(), feedback_value=s.ratings())
        return self._out(s, browser, messages=shown) + (no_document(),)

    def rename(self, title: str, session: ChatSession | None, browser: Any,
               request: gr.Request) -> Any:
        s = self._session(session, request, browser)
        if not s.chat_id:
            gr.Warning("Ask a question first: a chat is saved with its first answer.")
            return gr.update()
        try:
            self.bot.chats.rename(s.owner, s.chat_id, title or "")
        except OpsqaError as exc:
            gr.Warning(problem_text(exc))
        return self._listing(s)[0]

    def delete_chat(self, session: ChatSession | None, browser: Any,
                    request: gr.Request | None = None) -> Out:
        s = self._session(session, request, browser)
        if s.chat_id:
            try:
                self.bot.chats.delete(s.owner, s.chat_id)
            except OpsqaError as exc:
                gr.Warning(problem_text(exc))
        return self.new_chat(s, browser, request)

    # -- asking ------------------------------------------------------------------------------
    def ask(self, message: str, history: Any, session: ChatSession | None, mode: str | None,
            top_k: float | None, browser: Any = None, request: gr.Request | None = None
            ) -> Iterator[Out]:
        """Stream one answer into the chat and store it; follow-ups stay on the chat's topic."""
        s = self._session(session, request, browser)
        message = without_surrogates(message or "")  # the echo must survive JSON too
        if not message.strip():
            gr.Warning("Type a question about the documents first.")
            yield self._out(s, browser, messages=gr.update(), sources=gr.update(), chats=False)
            return
        yield from self._answer(s, message, mode, top_k, browser)

    def example(self, session: ChatSession | None, mode: str | None, top_k: float | None,
                browser: Any, request: gr.Request, data: gr.SelectData) -> Iterator[Out]:
        """An example question clicked on the first screen."""
        value = data.value if isinstance(data.value, dict) else {"text": str(data.value)}
        yield from self._answer(self._session(session, request, browser),
                                str(value.get("text", "")), mode, top_k, browser)

    def retry(self, session: ChatSession | None, mode: str | None, top_k: float | None,
              browser: Any, request: gr.Request) -> Iterator[Out]:
        """Regenerate: the last answer is taken back and the question answered again."""
        s = self._session(session, request, browser)
        last = s.drop_last()
        if last is None:
            yield self._out(s, browser)
            return
        yield from self._answer(s, last.question, mode, top_k, browser)

    def _answer(self, s: ChatSession, question: str, mode: str | None, top_k: float | None,
                browser: Any) -> Iterator[Out]:
        index, shown = len(s.turns), s.history()
        shown.append({"role": "user", "content": chat_markdown(question)})
        try:
            stream = s.conversation().stream(question, mode=mode or None,
                                             top_k=int(top_k) if top_k else None)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a readable message
            text = problem_text(exc)
            gr.Warning(text)
            s.unsaved(question, text)
            yield self._out(s, browser)
            return
        done: list[Answer] = []
        stream.done.append(done.append)
        partial = s.partial = Partial(question, stream.base, stream.mode)
        yield self._out(s, browser, shown + [{"role": "assistant", "content": ""}],
                        sources_html(stream.base, index), busy=True, chats=False)
        yield from self._pieces(s, stream, partial, shown, browser)
        with s.lock:
            if s.partial is not partial:  # stopped meanwhile: the stop stored it
                return
            s.partial = None
            warning = s.store(question, done[0] if done else stream.answer())
        if warning:
            gr.Warning(warning)
        yield self._out(s, browser)

    def _pieces(self, s: ChatSession, stream: Any, partial: Partial,
                shown: list[dict[str, str]], browser: Any) -> Iterator[Out]:
        last = time.monotonic()
        for piece in stream:
            partial.text += piece
            if time.monotonic() - last >= SHOW_EVERY:
                last = time.monotonic()
                bubble = {"role": "assistant", "content": chat_markdown(partial.text)}
                yield self._out(s, browser, shown + [bubble], gr.update(), busy=True, chats=False)

    def stop(self, session: ChatSession | None, browser: Any) -> Out | tuple[Any, ...]:
        """Stop the answer being streamed: what it said so far is kept, marked stopped."""
        if session is None:
            return (gr.update(),) * 7 + (gr.update(visible=True), gr.update(visible=False))
        with session.lock:
            partial, session.partial = session.partial, None
        if partial is not None:
            warning = session.store(partial.question, stopped_answer(partial), stopped=True)
            if warning:
                gr.Warning(warning)
        return self._out(session, browser)

    # -- rating, sources, documents ----------------------------------------------------------
    def like(self, session: ChatSession | None, data: gr.LikeData) -> tuple[Any, Any]:
        """A like or dislike on an answer (clicked again: taken back); a comment may follow."""
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        turn_no = int(index) // 2
        if session is None or not 0 <= turn_no < len(session.turns):
            return gr.update(), gr.update()
        turn = session.turns[turn_no]
        if not turn.id:
            gr.Warning("This answer was not saved, so it cannot be rated.")
            return gr.update(), gr.update()
        liked = data.liked if isinstance(data.liked, bool) else None
        history = [t.question for t in session.turns[:turn_no]]
        try:
            self.bot.chats.rate(session.owner, turn, history, liked)
        except OpsqaError as exc:
            gr.Warning(problem_text(exc))
            return gr.update(), gr.update()
        session.rated = turn_no
        return gr.update(visible=liked is not None), ""

    def comment(self, text: str, session: ChatSession | None) -> tuple[Any, Any]:
        if session is None or not 0 <= session.rated < len(session.turns) or not text.strip():
            gr.Warning("Rate an answer first, then say what was wrong or right with it.")
            return gr.update(), gr.update()
        try:
            self.bot.chats.comment(session.owner, session.turns[session.rated].id, text)
        except OpsqaError as exc:
            gr.Warning(problem_text(exc))
            return gr.update(), gr.update()
        gr.Info("Thank you: the comment is saved with your rating.")
        return gr.update(visible=False), ""

    def select(self, session: ChatSession | None, data: gr.SelectData) -> Any:
        """An answer clicked: the sources panel shows that answer's sources."""
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        turn_no = int(index) // 2
        if session is None or not 0 <= turn_no < len(session.turns):
            return gr.update()
        return sources_html(session.turns[turn_no].answer, turn_no)

    def open_source(self, request: str, session: ChatSession | None) -> tuple[Any, Any, Any]:
        """``turn:n`` (a citation clicked): that source in its document, and its answer's
        sources with it marked."""
        try:
            turn_no, n = (int(x) for x in str(request or "").split(":", 1))
            answer = session.turns[turn_no].answer if session else None
            if answer is None or not 0 < n <= len(answer.sources) or turn_no < 0:
                raise ValueError
        except (ValueError, IndexError):
            return gr.update(), gr.update(), gr.update()
        try:
            passages = self.bot.document(answer.sources[n - 1].path)
        except OpsqaError as exc:
            gr.Warning(problem_text(exc))
            passages = []
        return (document_html(answer, n, passages), sources_html(answer, turn_no, n),
                gr.Tabs(selected="doc"))
