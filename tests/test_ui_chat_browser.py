"""The chat in a real headless Chromium against real `opsqa serve` processes (issue 20).

Two servers start together for the module, on private copies of the corpus index: one open
on loopback (restarted once, on the same port, to show chats outlive it) and one with two
logins. Each test drives pages as a person would and writes screenshots under
``artifacts/ui/`` (git-ignored). Chromium profiles are separate folders, so each "browser"
has its own local storage, as two people's browsers do.

Internal: which answer modes can run here (``available_modes`` of the servers' settings) is
what the Settings panel must offer; no endpoint lists them.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT, free_port

CHROMIUM = Path("/usr/bin/chromium")
DRIVER = Path("/usr/bin/chromedriver")
SHOTS = ROOT / "artifacts" / "ui"
LOGINS = "ann:pw-ann,bob:pw-bob"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not (CHROMIUM.exists() and DRIVER.exists()),
                       reason="needs /usr/bin/chromium and /usr/bin/chromedriver "
                       "(apt-get install -y chromium chromium-driver)"),
]


# -- servers -------------------------------------------------------------------------------
@dataclass
class Site:
    """One `opsqa serve` process over its own index copy, restartable on the same port."""

    index: Path
    port: int
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> None:
        cmd = [sys.executable, "-m", "app.cli", "serve", "--index-dir", str(self.index),
               "--port", str(self.port)]
        log = open(self.index.parent / f"serve-{self.port}.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log, stderr=log)

    def wait(self, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, self.log()
            try:
                if httpx.get(self.url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"opsqa serve did not come up: {self.log()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def restart(self) -> None:
        self.stop()
        self.start()
        self.wait()

    def log(self) -> str:
        return (self.index.parent / f"serve-{self.port}.log").read_text(errors="replace")[-3000:]

    def opsqa(self, *commands: tuple[str, ...]) -> list[str]:
        """Run `opsqa` commands over this server's index (as its operator would), at once."""
        procs = [subprocess.Popen([sys.executable, "-m", "app.cli", *c, "--index-dir",
                                   str(self.index)], cwd=ROOT, env=self.env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for c in commands]
        outs = [p.communicate(timeout=180) for p in procs]
        for p, (_, err) in zip(procs, outs, strict=True):
            assert p.returncode == 0, err
        return [out for out, _ in outs]


def _site(corpus_index: Path, tmp: Path, **env: str) -> Site:
    index = tmp / "idx"
    shutil.copytree(corpus_index, index)
    base = {k: v for k, v in os.environ.items() if k != "OPSQA_AUTH"}
    return Site(index, free_port(), {**base, **env})


@pytest.fixture(scope="module")
def sites(corpus_index, tmp_path_factory) -> Iterator[dict[str, Site]]:
    both = {"open": _site(corpus_index, tmp_path_factory.mktemp("open")),
            "logins": _site(corpus_index, tmp_path_factory.mktemp("logins"), OPSQA_AUTH=LOGINS)}
    for s in both.values():  # started together: their start-ups overlap
        s.start()
    try:
        for s in both.values():
            s.wait()
        yield both
    finally:
        for s in both.values():
            s.stop()


@pytest.fixture(scope="module")
def site(sites) -> Site:
    return sites["open"]


# -- browsers ------------------------------------------------------------------------------
def _chrome(profile: Path, phone: bool = False) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-dev-shm-usage", "--disable-component-update", "--disable-sync",
              "--no-first-run", "--window-size=1400,1000", f"--user-data-dir={profile}"):
        opts.add_argument(a)
    if phone:
        opts.add_experimental_option("mobileEmulation", {
            "deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 2.0}})
    drv = webdriver.Chrome(service=Service(str(DRIVER)), options=opts)
    drv.set_page_load_timeout(60)
    return drv


@pytest.fixture(scope="module")
def browsers(tmp_path_factory) -> Iterator[Callable[..., Any]]:
    """``browser(name, phone=False)``: one Chromium per name for the module, own profile."""
    made: dict[str, Any] = {}

    def get(name: str, phone: bool = False) -> Any:
        if name not in made:
            made[name] = _chrome(tmp_path_factory.mktemp(f"chrome-{name}"), phone)
        return made[name]

    yield get
    for d in made.values():
        d.quit()


@pytest.fixture()
def alice(browsers) -> Any:
    return browsers("alice")


def shot(driver: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    assert path.stat().st_size > 10_000
    return path


# -- page helpers --------------------------------------------------------------------------
def css(driver: Any, sel: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, sel)


def wait_for(driver: Any, what: Callable[[], Any], timeout: float = 60, why: str = "") -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            got = what()
        except Exception:  # noqa: BLE001 - the page is still changing under us
            got = None
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {why or what}")


def open_page(driver: Any, url: str) -> None:
    driver.get(url)
    wait_for(driver, lambda: css(driver, "#oq-question textarea"), why="the question box")
    time.sleep(0.5)
    settled(driver)  # the load event fills the chat list and restores the open chat


def settled(driver: Any, timeout: float = 60) -> None:
    """Wait until no event is pending (Gradio shows a timer on the outputs of each)."""
    wait_for(driver, lambda: driver.execute_script(
        "return document.querySelectorAll('[data-testid=status-tracker] .progress-text')"
        ".length === 0"), timeout, "the page to settle")


def answers(driver: Any) -> list[Any]:
    return css(driver, "#oq-chat .message-row.bot-row")


def idle(driver: Any) -> bool:
    send = css(driver, "#oq-send")
    return bool(send) and send[0].is_displayed() and not any(
        s.is_displayed() for s in css(driver, "#oq-stop"))


def ask(driver: Any, question: str, timeout: float = 90) -> str:
    """Type and send ``question``; the new answer's text once it is complete."""
    before = len(answers(driver))
    box = css(driver, "#oq-question textarea")[0]
    box.clear()
    box.send_keys(question)
    css(driver, "#oq-send")[0].click()
    wait_for(driver, lambda: len(answers(driver)) > before and idle(driver), timeout,
             f"the answer to {question!r}")
    time.sleep(0.3)
    return answers(driver)[-1].text


def click(driver: Any, sel: str) -> None:
    el = wait_for(driver, lambda: [e for e in css(driver, sel) if e.is_displayed()], why=sel)[0]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", el)
    el.click()


def chat_titles(driver: Any) -> list[str]:
    return [e.text.strip() for e in css(driver, "#oq-chats label") if e.text.strip()]


def new_chat(driver: Any) -> None:
    click(driver, "#oq-clear")
    wait_for(driver, lambda: not answers(driver), why="an empty chat")


def page_text(driver: Any) -> str:
    return driver.execute_script("return document.body.innerText")


def turns_in_store(site: Site) -> list[tuple[str, dict[str, Any]]]:
    db = sqlite3.connect(site.index / "chats.sqlite3")
    try:
        rows = db.execute("SELECT question, answer FROM turns ORDER BY id").fetchall()
    finally:
        db.close()
    return [(q, json.loads(a)) for q, a in rows]


# -- the first screen ----------------------------------------------------------------------
def test_first_screen_says_what_is_loaded_and_its_examples_are_answered(site, alice):
    open_page(alice, site.url)
    first = css(alice, "#oq-chat")[0].text
    # corpus/ holds 9 documents to read (its README is about the folder)
    assert "9 documents" in first and "GitOps" in first and "DevOps" in first, first
    examples = [e.text.strip() for e in css(alice, "#oq-chat button.example")]
    assert len(examples) >= 3 and all(q.endswith("?") for q in examples), first
    shot(alice, "first-screen")
    for i, question in enumerate(examples):
        button = css(alice, "#oq-chat button.example")[i]
        assert button.text.strip() == question
        button.click()
        wait_for(alice, lambda: answers(alice) and idle(alice), why=f"example {question!r}")
        time.sleep(0.3)
        reply = answers(alice)[-1].text
        assert "Not covered" not in reply and "[1]" in reply, (question, reply)
        new_chat(alice)


# -- claims you can check ------------------------------------------------------------------
def test_a_citation_opens_its_passage_in_the_whole_document(site, alice):
    open_page(alice, site.url)
    new_chat(alice)
    ask(alice, "What is GitOps?")
    ask(alice, "What is DevSecOps?")
    bubbles = answers(alice)
    for b in bubbles:  # every answer keeps its sources, listed under it
        assert b.find_elements("css selector", ".oq-inline a.oq-link"), b.text
    first_cite = bubbles[0].find_elements("css selector", "a.oq-link")[0]
    assert first_cite.text == "[1]"
    first_cite.click()
    hit = wait_for(alice, lambda: [e for e in css(alice, "#oq-docview .oq-hit")
                                   if e.is_displayed()], why="the document view")[0]
    view = css(alice, "#oq-docview")[0]
    assert "What is GitOps?" in view.text and "GitOps" in hit.text
    assert hit.find_elements("css selector", "mark")
    assert len(view.find_elements("css selector", ".oq-chunk")) > 3  # the whole document
    time.sleep(0.5)
    inside = alice.execute_script(
        "const h = arguments[0].getBoundingClientRect(), v = arguments[1].getBoundingClientRect();"
        "return h.top >= v.top - 1 && h.top < v.bottom;", hit, view)
    assert inside, "the cited passage is scrolled into view"
    sources = css(alice, "#oq-sources")[0].get_attribute("innerHTML")
    assert "Sources of: What is GitOps?" in sources and "oq-active" in sources
    html = alice.page_source
    for server_path in (str(site.index), str(ROOT / "corpus"), str(ROOT)):
        assert server_path not in html, f"a server path shows: {server_path}"
    shot(alice, "document-view")


def test_a_refusal_is_a_plain_sentence_naming_this_questions_topics(site, alice):
    from gradio_client import Client

    open_page(alice, site.url)
    new_chat(alice)
    ask(alice, "What is GitOps?")
    reply = ask(alice, "What is the capital of France?")
    alone = Client(site.url, verbose=False).predict("What is the capital of France?", "",
                                                    api_name="/ask")
    assert alone["refused"] and "Not covered by the documents" in reply
    topics = alone["text"].split("Nearest topics", 1)[1]
    assert topics in reply, (reply, alone["text"])  # the chat's topic does not leak in
    text = page_text(alice)
    for note in ("evidence 0.", "refusal threshold", "not in the documents:"):
        assert note not in text, note
    shot(alice, "refusal")


def test_the_trash_icon_and_clear_start_a_clean_conversation(site, alice):
    open_page(alice, site.url)
    for start_over in ("#oq-chat button[aria-label='Clear']", "#oq-clear"):
        new_chat(alice)
        ask(alice, "What is GitOps?")
        click(alice, start_over)
        wait_for(alice, lambda: not answers(alice), why="an empty chat")
        # The sources panel empties in the same event; under load it may show "processing"
        # with the old sources for a moment: wait for it, or fail naming what it still shows.
        wait_for(alice, lambda: "GitOps" not in css(alice, "#oq-sources")[0].text,
                 why=f"the sources panel to empty after {start_over}")
        reply = ask(alice, "Which tools does it use?")
        assert "Argo CD" not in reply, (start_over, reply)  # no topic carried over


# -- feedback that becomes evaluation, and the gaps ---------------------------------------
def test_a_disliked_answer_reaches_the_export_and_the_gaps(site, alice):
    open_page(alice, site.url)
    new_chat(alice)
    ask(alice, "How do I bake sourdough bread?")
    ask(alice, "What is DataOps?")
    driver_hover(alice, answers(alice)[-1])
    css(alice, "#oq-chat button[aria-label='Dislike']")[-1].click()  # the last answer's
    box = wait_for(alice, lambda: [e for e in css(alice, "#oq-comment-text textarea")
                                   if e.is_displayed()], why="the comment box")[0]
    box.send_keys("Too vague about pipelines")
    click(alice, "#oq-comment-send")
    wait_for(alice, lambda: not css(alice, "#oq-comment-text textarea")[0].is_displayed()
             if css(alice, "#oq-comment-text textarea") else True, why="the comment sent")
    exported, gaps = site.opsqa(("feedback", "export"), ("gaps",))
    assert "question: What is DataOps?" in exported
    assert "# comment: Too vague about pipelines" in exported and "key_facts: []" in exported
    assert "What is DataOps?" in gaps and "How do I bake sourdough bread?" in gaps
    click(alice, "#oq-tab-gaps-button")
    table = wait_for(alice, lambda: [e for e in css(alice, "#oq-gaps-table")
                                     if "What is DataOps?" in e.text], why="the gaps table")[0]
    assert "How do I bake sourdough bread?" in table.text
    shot(alice, "gaps-view")


def driver_hover(driver: Any, element: Any) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).move_to_element(element).perform()


# -- the rest people expect ----------------------------------------------------------------
def open_settings(driver: Any) -> None:
    if not [e for e in css(driver, "#oq-topk input[type='number']") if e.is_displayed()]:
        click(driver, "#oq-settings button.label-wrap")
        wait_for(driver, lambda: [e for e in css(driver, "#oq-topk input[type='number']")
                                  if e.is_displayed()], why="the settings panel")


def set_top_k(driver: Any, k: int) -> None:
    box = css(driver, "#oq-topk input[type='number']")[0]
    box.clear()
    box.send_keys(str(k))
    box.send_keys("\t")
    time.sleep(0.5)


def source_cards(driver: Any) -> int:
    return len(css(driver, "#oq-sources .oq-src"))


def test_settings_offer_the_modes_that_run_here_and_top_k(site, alice):
    from app.answer.modes import available_modes
    from app.settings import Settings

    modes = available_modes(Settings.load(index_dir=site.index))
    open_page(alice, site.url)
    new_chat(alice)
    open_settings(alice)
    if len(modes) > 1:
        labels = [e.text.strip() for e in css(alice, "#oq-mode label") if e.text.strip()]
        assert labels == modes
    else:  # one mode: said, not offered as a choice that cannot change
        assert not css(alice, "#oq-mode") and modes[0] in css(alice, "#oq-mode-note")[0].text
    set_top_k(alice, 1)
    ask(alice, "What is MLOps?")
    few = source_cards(alice)
    cited = len(answers(alice)[-1].find_elements("css selector", ".oq-inline a.oq-link"))
    set_top_k(alice, 8)
    ask(alice, "What is DataOps?")
    assert few == max(cited, 1) and source_cards(alice) == 8, (few, cited, source_cards(alice))
    set_top_k(alice, 5)
    shot(alice, "settings")


def test_regenerate_answers_the_last_question_again(site, alice):
    open_page(alice, site.url)
    new_chat(alice)
    ask(alice, "What is LLMOps?")
    stored = turns_in_store(site)
    driver_hover(alice, answers(alice)[-1])
    click(alice, "#oq-chat button[aria-label='Retry']")
    wait_for(alice, lambda: turns_in_store(site) != stored, why="the answer stored again")
    settled(alice)
    wait_for(alice, lambda: len(answers(alice)) == 1 and idle(alice)
             and "[1]" in answers(alice)[-1].text, why="the regenerated answer")
    assert len(css(alice, "#oq-chat .message-row.user-row")) == 1
    turns = turns_in_store(site)
    assert len(turns) == len(stored) and turns[-1][0] == "What is LLMOps?"  # replaced


def test_stop_ends_an_llm_answer_and_keeps_what_it_said(site, alice):
    from app.answer.modes import available_modes
    from app.settings import Settings

    if "local" not in available_modes(Settings.load(index_dir=site.index)):
        pytest.skip("needs the [local] extra: llama-cpp-python and the packaged GGUF")
    open_page(alice, site.url)
    new_chat(alice)
    open_settings(alice)
    click(alice, "#oq-mode input[value='local']")
    box = css(alice, "#oq-question textarea")[0]
    box.send_keys("What is GitOps?")
    css(alice, "#oq-send")[0].click()
    wait_for(alice, lambda: css(alice, "#oq-stop")[0].is_displayed(), 60, "the answer to start")
    time.sleep(1.0)  # the model is loading or writing: the answer is not done
    assert not idle(alice)
    click(alice, "#oq-stop")
    wait_for(alice, lambda: idle(alice), 15, "the stop")
    said = answers(alice)[-1].text
    time.sleep(3.0)
    assert answers(alice)[-1].text == said and "(stopped" in said
    question, answer = turns_in_store(site)[-1]
    assert question == "What is GitOps?" and answer["stopped"] and answer["mode"] == "local"
    click(alice, "#oq-mode input[value='extractive']")
    alice.execute_script("document.querySelector('#oq-chat').scrollIntoView()")
    shot(alice, "stopped")


def test_chats_are_kept_per_browser_and_outlive_a_restart(site, browsers):
    alice, bob = browsers("alice"), browsers("bob")
    open_page(alice, site.url)
    new_chat(alice)
    ask(alice, "What is GitOps?")
    title = wait_for(alice, lambda: css(alice, "#oq-title input, #oq-title textarea"))[0]
    title.clear()
    title.send_keys("GitOps notes")
    click(alice, "#oq-rename")
    wait_for(alice, lambda: "GitOps notes" in chat_titles(alice), why="the new title")
    open_page(bob, site.url)
    assert chat_titles(bob) == []  # another browser: none of alice's chats
    ask(bob, "What is AIOps?")
    wait_for(bob, lambda: chat_titles(bob) == ["What is AIOps?"], why="bob's one chat")
    alice.refresh()
    open_page(alice, site.url)
    assert "GitOps" in answers(alice)[0].text  # a reload keeps the open chat
    site.restart()
    open_page(alice, site.url)
    wait_for(alice, lambda: answers(alice) and "GitOps notes" in chat_titles(alice),
             why="the chat after a restart")
    new_chat(alice)
    click(alice, "#oq-chats label:has(input[type='radio'])")  # the latest: GitOps notes
    wait_for(alice, lambda: answers(alice) and "GitOps" in answers(alice)[0].text,
             why="the reopened chat")
    shot(alice, "chats-after-restart")
    assert "Argo CD" in ask(alice, "Which tools does it use?")  # its topic came back too
    before = len(chat_titles(alice))
    click(alice, "#oq-delete-chat")
    wait_for(alice, lambda: len(chat_titles(alice)) == before - 1 and not answers(alice),
             why="the chat deleted")
    assert "GitOps notes" not in chat_titles(alice)


def login(driver: Any, url: str, user: str, password: str) -> None:
    driver.get(url)
    wait_for(driver, lambda: css(driver, "input[type='password']"), why="the login form")
    css(driver, "input[type='text'], input:not([type])")[0].send_keys(user)
    css(driver, "input[type='password']")[0].send_keys(password)
    click(driver, "button.lg, button[type='submit']")
    wait_for(driver, lambda: css(driver, "#oq-question textarea"), why="the page after login")
    time.sleep(0.5)
    settled(driver)


def test_with_logins_each_user_has_their_own_chats_on_any_browser(sites, browsers):
    s = sites["logins"]
    ann = browsers("ann")
    login(ann, s.url, "ann", "pw-ann")
    ask(ann, "What is DataOps?")
    bob = browsers("bob-login")
    login(bob, s.url, "bob", "pw-bob")
    assert chat_titles(bob) == []
    ask(bob, "What is LLMOps?")
    wait_for(bob, lambda: chat_titles(bob) == ["What is LLMOps?"], why="bob's chat")
    ann_elsewhere = browsers("ann-2")
    login(ann_elsewhere, s.url, "ann", "pw-ann")
    wait_for(ann_elsewhere, lambda: chat_titles(ann_elsewhere) == ["What is DataOps?"],
             why="ann's chat in her other browser")
    shot(ann_elsewhere, "logins")


def test_documents_show_no_server_path_and_only_uploads_can_go(site, alice, tmp_path):
    open_page(alice, site.url)
    click(alice, "#oq-tab-documents-button")
    table = wait_for(alice, lambda: [e for e in css(alice, "#oq-docs table") if e.is_displayed()],
                     why="the documents table")[0]
    assert "built-in: gitops.md" in table.text and str(ROOT) not in table.get_attribute("outerHTML")
    note = tmp_path / "quarkops.md"
    note.write_text("# QuarkOps\n\nQuarkOps is the practice of sorting flavour tickets by charm.\n")
    css(alice, "#oq-files input[type='file']")[0].send_keys(str(note))
    time.sleep(1.5)
    click(alice, "#oq-add")
    wait_for(alice, lambda: "uploaded: quarkops.md" in css(alice, "#oq-docs")[0].text, 60,
             "the upload in the table")
    click(alice, "#oq-victim input")
    options = wait_for(alice, lambda: [e.text for e in css(alice, "#oq-victim li, ul.options li")
                                       if e.text.strip()], why="the delete choices")
    assert options == ["uploaded: quarkops.md"], options  # the built-in ones are not offered
    css(alice, "#oq-victim li, ul.options li")[0].click()
    click(alice, "#oq-delete")
    wait_for(alice, lambda: "Removed" in css(alice, "#oq-result")[0].text, 60, "the delete")
    assert "quarkops" not in css(alice, "#oq-docs")[0].text
    assert str(ROOT) not in alice.page_source
    shot(alice, "documents")


def test_phone_layout_scrolls_tables_and_keeps_sources_by_the_answer(site, browsers):
    phone = browsers("phone", phone=True)
    open_page(phone, site.url)
    ask(phone, "How do I knit a wool scarf?")  # a refusal: the gaps table has a row
    ask(phone, "What is DevOps?")
    bubble = answers(phone)[-1]
    inline = bubble.find_elements("css selector", ".oq-inline a.oq-link")
    assert inline and inline[0].is_displayed()  # the sources right under the answer
    shot(phone, "phone-chat")
    wide = "return document.documentElement.scrollWidth <= window.innerWidth + 1"
    assert phone.execute_script(wide), "the page itself must not scroll sideways"
    for tab, box in (("documents", "#oq-docs .oq-scroll"), ("gaps", "#oq-gaps .oq-scroll")):
        click(phone, f"#oq-tab-{tab}-button")
        el = wait_for(phone, lambda b=box: [e for e in css(phone, b) if e.is_displayed()],
                      why=f"the {tab} table")[0]
        scrolls = phone.execute_script(
            "const e = arguments[0]; const before = e.scrollLeft; e.scrollLeft = 120;"
            "return [getComputedStyle(e).overflowX, e.scrollWidth > e.clientWidth,"
            " e.scrollLeft > before];", el)
        assert scrolls == ["auto", True, True], (tab, scrolls)
        shot(phone, f"phone-{tab}")
        assert phone.execute_script(wide), tab
