"""The web UI in a real headless Chromium: a cited answer with its highlighted source, and XSS.

Internal: the server is built in-process (``build_ui``, ``launch_options``, as ``opsqa serve``
does) over an index the test writes hostile documents into."""

from __future__ import annotations

import os
import shutil
import socket
import time
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

CHROMIUM = Path("/usr/bin/chromium")
DRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and DRIVER.exists()),
        reason="needs /usr/bin/chromium and /usr/bin/chromedriver "
        "(apt-get install -y chromium chromium-driver)",
    ),
]

# Raw tags are stripped at ingest; the entity-encoded ones decode to literal markup in the
# indexed text, so they reach the page as document text that must stay text.
XSS_DOC = """---
title: XssOps
---
# XssOps

XssOps is the practice of hardening deployment dashboards against script injection.
XssOps teams paste &lt;script&gt;window.__xss=1&lt;/script&gt; into pipeline logs to test escaping.
XssOps reviewers also try &lt;img src=x onerror="window.__xss=1"&gt; in release notes.
Raw payloads <script>window.__xss=1</script> and <img src=x onerror="window.__xss=1"> too.
"""


# Plain text keeps Markdown's link forms literally, so they reach the answer as they are.
LINK_DOC = """LinkOps

LinkOps is the practice of reviewing every outbound link in release notes: \
[Click here](http://evil.example/click) is the classic lure.
LinkOps reviewers flag bare addresses such as http://evil.example/bare and www.evil.example/www in changelogs.
LinkOps mail goes to reviewers@evil.example for triage.
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def url(corpus_index, tmp_path_factory):
    from app import Assistant
    from app.ui.layout import build_ui
    from app.ui.serving import launch_options

    d = tmp_path_factory.mktemp("ui-browser") / "idx"
    shutil.copytree(corpus_index, d)
    bot = Assistant.open(index_dir=d, port=_free_port())
    doc = d.parent / "xssops.md"
    doc.write_text(XSS_DOC, encoding="utf-8")
    links = d.parent / "linkops.txt"
    links.write_text(LINK_DOC, encoding="utf-8")
    bot.ingest([doc, links])
    demo = build_ui(bot)
    demo.launch(**launch_options(bot), prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{bot.settings.port}/"
    finally:
        demo.close()


@pytest.fixture()
def driver(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for a in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path / 'chrome'}",
    ):
        opts.add_argument(a)
    drv = webdriver.Chrome(service=Service(str(DRIVER)), options=opts)
    drv.set_page_load_timeout(60)
    try:
        yield drv
    finally:
        drv.quit()


def _ask(driver, url: str, question: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    box = WebDriverWait(driver, 60).until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, "#oq-question textarea"))
    )
    box.send_keys(question)
    driver.find_element(By.CSS_SELECTOR, "#oq-send").click()


def _wait_sources(driver, needle: str, timeout: float = 60) -> str:
    from selenium.webdriver.common.by import By

    end = time.time() + timeout
    html = ""
    while time.time() < end:
        html = driver.find_element(By.CSS_SELECTOR, "#oq-sources").get_attribute("innerHTML")
        if needle in html:
            return html
        time.sleep(0.3)
    raise AssertionError(f"{needle!r} never appeared in the sources panel: {html[:500]}")


def _no_alert(driver) -> bool:
    from selenium.common.exceptions import NoAlertPresentException

    try:
        driver.switch_to.alert.dismiss()
    except NoAlertPresentException:
        return True
    return False


def test_answer_with_citation_and_highlighted_source(url, driver):
    from selenium.webdriver.common.by import By

    _ask(driver, url, "What is GitOps?")
    html = _wait_sources(driver, "<mark>")
    assert "[1]" in html and "GitOps" in html
    time.sleep(1.0)  # let the last streamed piece render
    chat = driver.find_element(By.CSS_SELECTOR, "#oq-chat").text
    assert "[1]" in chat and "GitOps" in chat
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "ui-answer.png"
    driver.save_screenshot(str(shot))
    print(f"screenshot: {shot}")
    assert shot.stat().st_size > 10_000


def test_document_and_question_html_never_runs(url, driver):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _ask(driver, url, 'What is XssOps? <img src=x onerror="window.__xss=1;alert(1)">')
    html = _wait_sources(driver, "XssOps")
    chat = driver.find_element(By.CSS_SELECTOR, "#oq-chat")
    WebDriverWait(driver, 30).until(lambda d: "<img src=x" in chat.text)
    # the passage's markup is shown as text, not turned into elements
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=" in html
    time.sleep(1.0)
    assert _no_alert(driver)
    assert driver.execute_script("return window.__xss") is None
    for panel in ("#oq-sources", "#oq-chat"):
        el = driver.find_element(By.CSS_SELECTOR, panel)
        assert not el.find_elements(By.CSS_SELECTOR, "script, img[src='x']"), panel
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "ui-xss.png"))


def test_document_urls_show_as_text_not_links(url, driver):
    """Only opsqa's own links are links: a document's Markdown link, bare URL, www. form and
    e-mail address show as text in the answer bubble."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _ask(driver, url, "What is LinkOps?")
    chat = driver.find_element(By.CSS_SELECTOR, "#oq-chat")
    WebDriverWait(driver, 60).until(lambda d: "reviewers@evil.example" in chat.text)
    time.sleep(1.0)  # let the last streamed piece render
    text = chat.text
    for shown in ("[Click here](http://evil.example/click)", "http://evil.example/bare",
                  "www.evil.example/www", "reviewers@evil.example"):
        assert shown in text, (shown, text)
    links = [a.get_attribute("href") for a in chat.find_elements(By.CSS_SELECTOR, "a")]
    assert not [h for h in links if h and "evil.example" in h], links
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "ui-links.png"))
