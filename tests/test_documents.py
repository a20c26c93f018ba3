"""Reading documents, through ``Assistant.ingest`` and the indexed text (``Assistant.document``):
discovery, decoding, cleaning and skip reasons on real files.

Internal imports: ``decode_bytes`` and ``clean_text`` keep two property tests over arbitrary
input (no file could stand for all of it); front matter fields other than the title, each
reader's format label, emoji in headings, and a file that is gone by the time it is read show
on no public surface."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfWriter

from app import Assistant
from ingest.document_loader import SkipFile, clean_text, decode_bytes, load_document
from tests.conftest import indexed, read_folder
from tests.format_docs import pdf_file

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason="needs ../shared/seeds")


def seed(prefix: str) -> Path:
    return next(SEEDS.glob(f"{prefix}_*"))


def text_pdf(text: str) -> bytes:
    """A minimal valid one-page PDF whose content stream shows ``text`` in Helvetica."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]"
        b" /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    return pdf_file(objects)


def blank_pdf(password: str | None = None) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    if password:
        writer.encrypt(password)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


SEED_TEXT = [
    ("000", ["The answer:"], ["&#x20;"]),
    ("001", ["## DevOps", "### Limitations"], ["datePublished", "cuid", "slug:", "cover:"]),
    ("001", [], ["substackcdn", "https://", "![", "**", "align="]),
    ("002", ["→", "–"], ["‚Üí", "üöÄ", "‚Äì", "\uf8ff", "learning_level"]),
    ("002", ["# DevOps → GitOps"], ["\n---\n", "**"]),
    ("003", ["Raphaël Hoogvliets"], []),
]


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    """The shared seed documents, ingested once: an assistant."""
    if not SEEDS.is_dir():
        pytest.skip("needs ../shared/seeds")
    bot, report = read_folder(SEEDS, tmp_path_factory.mktemp("seeds"))
    assert len(report.added) == len(list(SEEDS.iterdir())) and not report.skipped
    return bot


@needs_seeds
@pytest.mark.parametrize(("prefix", "present", "absent"), SEED_TEXT)
def test_seed_text(seeds, prefix: str, present: list[str], absent: list[str]) -> None:
    text, sections = indexed(seeds, seed(prefix))
    headings = {h for s in sections for h in s.split(" > ")}
    for needle in present:
        if needle.startswith("#"):  # a heading: the section of the passages under it
            assert any(h.startswith(needle.lstrip("# ")) for h in headings), (needle, sections)
        else:
            assert needle in text or any(needle in h for h in headings), needle
    for needle in absent:
        assert needle not in text and not any(needle in h for h in headings), needle
    passages = seeds.document(str(seed(prefix).resolve()))
    assert passages and all(p.text == p.text.strip() and Path(p.path).is_absolute()
                            for p in passages)


@needs_seeds
def test_seed_titles(seeds) -> None:
    def title(prefix: str) -> str:
        return seeds.document(str(seed(prefix).resolve()))[0].title

    assert title("001").startswith("Comparing DevOps, DataOps")  # front matter's title
    assert title("002") == "DevOps → GitOps → MLOps → LLMOps"  # first "# " heading
    assert title("003") == "MLOps and DataOps"  # no title or heading: the first short line


@needs_seeds
def test_seed_emoji_in_headings_are_decoded() -> None:
    """Seed 002's emoji stand only in its headings, and a section name drops emoji, so the
    reader's text is checked here."""
    text = load_document(seed("002")).text
    assert "## 🚀 DevOps vs GitOps" in text and "1️⃣" in text and "üöÄ" not in text


@needs_seeds
def test_seed_front_matter_metadata() -> None:
    """Front matter fields besides the title are kept with each chunk; no public surface
    shows them, so the reader's record is checked here."""
    meta = load_document(seed("001")).metadata
    assert "mlops" in meta["tags"] and all(isinstance(t, str) for t in meta["tags"])
    assert meta["datePublished"].startswith("Thu Apr 11 2024")
    assert meta["format"] == "markdown"
    meta2 = load_document(seed("002")).metadata
    assert "related_topics" not in meta2  # nested mapping dropped
    for value in [*meta.values(), *meta2.values()]:
        assert isinstance(value, str | int | float | bool | list)
    assert load_document(seed("003")).metadata == {"title": "MLOps and DataOps", "format": "text"}


ENCODED = [
    ("Ünïcode “quotes” ✓\n".encode("utf-16"), "Ünïcode “quotes” ✓"),
    ("\ufeffUTF-8 with BOM é".encode(), "UTF-8 with BOM é"),
    ("UTF-32 ok 🚀".encode("utf-32"), "UTF-32 ok 🚀"),
    ("Le café “bien” — naïve résumé.\n".encode("cp1252"), "Le café “bien” — naïve résumé."),
    ("Grüße aus München".encode("latin-1"), "Grüße aus München"),
    # UTF-8 read as Mac Roman and saved again, as in seed 002
    ("Go → there – now 🚀 and é".encode().decode("mac_roman").encode(), "Go → there – now 🚀 and é"),
    ("l’été à Paris".encode(), "l’été à Paris"),  # real text that must stay as it is
]
SKIPS = [
    ("blob.md", bytes(range(256)) * 4, "binary file, not text"),
    ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file, not text"),
    ("empty.md", b"", "empty file"),
    ("blank.txt", "  \n\t\n \r\n\u200b\ufeff".encode(), "empty file"),
    ("only-meta.md", b"---\ntitle: x\n---\n\n", "empty file"),
    ("only-image.md", b"![logo](https://example.com/logo.png)\n", "empty file"),
    ("broken.pdf", b"%PDF-1.4\nthis is not really a pdf\n", "unreadable PDF"),
    ("garbage.pdf", os.urandom(3000), "unreadable PDF"),
    ("blank.pdf", blank_pdf(), "no extractable text"),
    ("locked.pdf", blank_pdf("pw"), "encrypted PDF"),
]
MARKDOWN = (
    "# Title &amp; more\n\n"
    '[![Venn](https://x.io/a.png align="left")](https://x.io/a.png)\n'
    '![Stack](https://cdn.example.com/img.png align="left")\n'
    "See [the guide](https://example.com/guide) and https://example.com/docs.\n"
    "Track https://t.example.com/x?utm_source=news&fbclid=123 here.\n\n"
    "***\n\n"
    "A **bold claim** and __another__, but `__init__.py` stays.\n\n"
    "```html\n<b>&amp;</b>\n---\n```\n"
)
HTML = (
    "<html><head><title>Ops Page</title><style>p {color: red}</style>"
    "<script>var secret = 1;</script></head><body>"
    "<h2>GitOps</h2><p>Git is the <b>source</b> of&nbsp;truth &amp; more.</p>"
    "<img src=x onerror=alert(1)><script>alert(1)</script>"
    "<ul><li>Argo CD</li><li>Flux</li></ul><h3>Limits</h3><div>Needs Kubernetes.</div>"
    "</body></html>"
)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """One folder of small files, each showing one reading rule, ingested once:
    (assistant, report, folder)."""
    tmp = tmp_path_factory.mktemp("documents")
    docs = tmp / "docs"
    docs.mkdir()
    for n, (data, _) in enumerate(ENCODED):
        (docs / f"enc{n}.txt").write_bytes(data)
    for name, data, _ in SKIPS:
        (docs / name).write_bytes(data)
    (docs / "note.md").write_text("---\ntitle: [unclosed\ntags: a, b\n---\n# Heading\n\nBody text.\n")
    (docs / "rules.md").write_text("---\nJust a paragraph between rules.\n---\nMore.\n")
    (docs / "cleanup.md").write_text(MARKDOWN)
    (docs / "a.txt").write_text("# Notes\n\nSee **this**.\n")
    (docs / "b.txt").write_text("Plain notes\nwith #hashtags and **stars**.\n")
    (docs / "page.html").write_text(HTML)
    (docs / "ops.pdf").write_bytes(text_pdf("DevOps shortens the delivery lifecycle."))
    bot, report = read_folder(docs, tmp / "idx")
    return bot, report, docs


def _passages(bot, path: Path) -> list[tuple[str, str]]:
    return [(p.section, p.text) for p in bot.document(str(path.resolve()))]


@pytest.mark.parametrize(("n", "data", "expected"), [(n, *e) for n, e in enumerate(ENCODED)])
def test_text_in_any_encoding_is_read(files, n: int, data: bytes, expected: str) -> None:
    bot, _, docs = files
    assert indexed(bot, docs / f"enc{n}.txt")[0] == expected


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_decode_bytes_never_fails(data: bytes) -> None:
    assert isinstance(decode_bytes(data), str)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=2000), st.sampled_from(["markdown", "text", "html", "pdf"]))
def test_clean_text_is_clean(text: str, fmt: str) -> None:
    out = clean_text(text, fmt)
    assert out == out.strip()
    assert "\n\n\n" not in out and "\r" not in out and "\u200b" not in out
    assert not any(ord(ch) < 32 and ch not in "\n\t" for ch in out)


@pytest.mark.parametrize(("name", "data", "reason"), SKIPS, ids=[s[0] for s in SKIPS])
def test_skip_reasons(files, name: str, data: bytes, reason: str) -> None:
    _, report, docs = files
    skipped = {Path(p).name: why for p, why in report.skipped}
    assert name in skipped and reason in skipped[name], skipped.get(name)
    assert not bot_has(files, docs / name)


def bot_has(files, path: Path) -> bool:
    return bool(files[0].document(str(path.resolve())))


def test_nothing_else_is_skipped(files) -> None:
    _, report, _ = files
    assert sorted(Path(p).name for p, _ in report.skipped) == sorted(s[0] for s in SKIPS)


def test_format_labels(files, tmp_path: Path) -> None:
    """The format each reader names in a chunk's metadata; no public surface shows it."""
    from tests.test_readers import make_docx, make_notebook

    _, _, docs = files
    labels = {"page.html": "html", "ops.pdf": "pdf", "a.txt": "markdown", "b.txt": "text",
              "cleanup.md": "markdown"}
    for name, label in labels.items():
        assert load_document(docs / name).metadata["format"] == label, name
    assert load_document(make_docx(tmp_path / "c.docx")).metadata == {
        "title": "Chaos engineering", "format": "docx"}
    assert load_document(make_notebook(tmp_path / "f.ipynb")).metadata == {
        "title": "Feature stores", "format": "notebook"}


def test_size_limit_checked_before_reading(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "big.md").write_text("word " * 1000)
    _, report = read_folder(docs, tmp_path / "small", max_file_mb=0.0001)
    assert not report.added and len(report.skipped) == 1
    assert re.search(r"file is 0\.0 MB, over the 0\.0 MB limit \(max_file_mb\)",
                     report.skipped[0][1]), report.skipped
    bot, report = read_folder(docs, tmp_path / "big", max_file_mb=0.005)
    assert len(report.added) == 1 and indexed(bot, docs / "big.md")[0].startswith("word")


def test_unreadable_path(tmp_path: Path) -> None:
    """A file that is a folder, or gone, by the time it is read: discovery never hands
    either to the reader, so only the reader itself can show its answer."""
    (tmp_path / "folder.md").mkdir()  # fails for root too, unlike chmod 000
    with pytest.raises(SkipFile, match="cannot read file"):
        load_document(tmp_path / "folder.md")
    with pytest.raises(SkipFile, match="cannot read file"):
        load_document(tmp_path / "missing.md")


def test_malformed_front_matter_is_dropped_with_warning(files) -> None:
    bot, report, docs = files
    assert _passages(bot, docs / "note.md") == [("Heading", "Body text.")]
    assert bot.document(str((docs / "note.md").resolve()))[0].title == "Heading"
    (warning,) = [w for p, w in report.warnings if Path(p).name == "note.md"]
    assert warning.startswith("malformed front matter: ")
    assert warning.endswith("; ingested without metadata")


def test_rules_are_not_front_matter(files) -> None:
    bot, report, docs = files
    # CommonMark: a rule, then a setext heading (the line above "---"), then a paragraph
    assert _passages(bot, docs / "rules.md") == [("Just a paragraph between rules.", "More.")]
    assert not [w for p, w in report.warnings if Path(p).name == "rules.md"]


def test_markdown_cleanup(files) -> None:
    bot, _, docs = files
    out, sections = indexed(bot, docs / "cleanup.md")
    assert sections[0] == "Title & more"
    # one paragraph on one line; the tracking URL is gone
    assert out.startswith("See the guide and https://example.com/docs. Track here.")
    assert "A bold claim and another, but `__init__.py` stays." in out
    assert "```html\n<b>&amp;</b>\n---\n```" in out  # code blocks are verbatim
    for junk in ("png", "utm_", "***", "**", "]("):
        assert junk not in out


def test_txt_with_headings_is_markdown(files) -> None:
    bot, _, docs = files
    assert _passages(bot, docs / "a.txt") == [("Notes", "See this.")]  # read as Markdown
    b = bot.document(str((docs / "b.txt").resolve()))
    assert b[0].title == "Plain notes"  # the first line
    # read as text: a wrapped line is joined, and no mark is Markdown
    assert [(p.section, p.text) for p in b] == [("", "Plain notes with #hashtags and **stars**.")]


def test_html_visible_text_only(files) -> None:
    bot, _, docs = files
    page = bot.document(str((docs / "page.html").resolve()))
    assert page[0].title == "Ops Page"
    assert [(p.section, p.text) for p in page] == [
        ("GitOps", "Git is the source of truth & more.\n\n- Argo CD\n- Flux"),
        ("GitOps > Limits", "Needs Kubernetes.")]
    for junk in ("<", "alert", "onerror", "secret", "color"):
        assert not any(junk in p.text or junk in p.section for p in page)


def test_text_pdf(files) -> None:
    bot, _, docs = files
    pdf = bot.document(str((docs / "ops.pdf").resolve()))
    assert [(p.section, p.text) for p in pdf] == [("", "DevOps shortens the delivery lifecycle.")]
    assert pdf[0].title == "ops"


def test_discover(tmp_path: Path) -> None:
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".opsqa").mkdir()
    for rel in ("b.md", "a.txt", "sub/c.html", "sub/e.MD", ".git/x.md"):
        (tmp_path / rel).write_text("x")
    (tmp_path / "sub" / "deeper" / "d.pdf").write_bytes(text_pdf("Deep down."))
    (tmp_path / ".opsqa" / "y.md").write_text("x")
    (tmp_path / "notes.pptx").write_text("x")
    (tmp_path / "sub" / "loop").symlink_to(tmp_path, target_is_directory=True)
    bot = Assistant.open(index_dir=tmp_path.parent / f"{tmp_path.name}-idx", auto_ingest=False)
    report = bot.ingest([tmp_path, tmp_path / "b.md", tmp_path / "nope", tmp_path / "notes.pptx"])
    rel = [Path(p).relative_to(tmp_path).as_posix() for p in report.added]
    assert rel == ["a.txt", "b.md", "sub/c.html", "sub/deeper/d.pdf", "sub/e.MD"]
    assert not report.skipped
    assert report.missing == [(str(tmp_path / "nope"), "no such file or folder"),
                              (str(tmp_path / "notes.pptx"),
                               "not a document format opsqa reads (.pptx)")]
    assert sorted(Path(p).name for p, _ in report.ignored) == [".git", ".opsqa", "notes.pptx"]
