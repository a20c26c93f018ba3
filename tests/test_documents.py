"""Tests for ingest.document_loader: discovery, decoding, cleaning and skip reasons on real files."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfWriter

from ingest.document_loader import SkipFile, clean_text, decode_bytes, discover, load_document
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


@needs_seeds
@pytest.mark.parametrize(
    ("prefix", "present", "absent"),
    [
        ("000", ["The answer:"], ["&#x20;"]),
        ("001", ["## DevOps", "### Limitations"], ["datePublished", "cuid", "slug:", "cover:"]),
        ("001", [], ["substackcdn", "https://", "![", "**", "align="]),
        ("002", ["→", "🚀", "–", "1️⃣"], ["‚Üí", "üöÄ", "‚Äì", "\uf8ff", "learning_level"]),
        ("002", ["# DevOps → GitOps"], ["\n---\n", "**"]),
        ("003", ["Raphaël Hoogvliets"], []),
    ],
)
def test_seed_text(prefix: str, present: list[str], absent: list[str]) -> None:
    doc = load_document(seed(prefix))
    for needle in present:
        assert needle in doc.text
    for needle in absent:
        assert needle not in doc.text
    assert doc.text == doc.text.strip()
    assert Path(doc.path).is_absolute()


@needs_seeds
def test_seed_front_matter_metadata() -> None:
    meta = load_document(seed("001")).metadata
    assert meta["title"].startswith("Comparing DevOps, DataOps")
    assert "mlops" in meta["tags"] and all(isinstance(t, str) for t in meta["tags"])
    assert meta["datePublished"].startswith("Thu Apr 11 2024")
    assert meta["format"] == "markdown"
    meta2 = load_document(seed("002")).metadata
    assert meta2["title"] == "DevOps → GitOps → MLOps → LLMOps"  # first "# " heading
    assert "related_topics" not in meta2  # nested mapping dropped
    for value in [*meta.values(), *meta2.values()]:
        assert isinstance(value, str | int | float | bool | list)
    # no title or heading: the first short title-like line
    assert load_document(seed("003")).metadata == {"title": "MLOps and DataOps", "format": "text"}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("Ünïcode “quotes” ✓\n".encode("utf-16"), "Ünïcode “quotes” ✓"),
        ("\ufeffUTF-8 with BOM é".encode(), "UTF-8 with BOM é"),
        ("UTF-32 ok 🚀".encode("utf-32"), "UTF-32 ok 🚀"),
        ("Le café “bien” — naïve résumé.\n".encode("cp1252"), "Le café “bien” — naïve résumé."),
        ("Grüße aus München".encode("latin-1"), "Grüße aus München"),
        # UTF-8 read as Mac Roman and saved again, as in seed 002
        ("Go → there – now 🚀 and é".encode().decode("mac_roman").encode(), "Go → there – now 🚀 and é"),
        ("l’été à Paris".encode(), "l’été à Paris"),  # real text that must stay as it is
    ],
)
def test_decode_bytes(data: bytes, expected: str) -> None:
    assert decode_bytes(data).strip() == expected


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


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
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
    ],
)
def test_skip_reasons(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(SkipFile, match=reason):
        load_document(path)


def test_size_limit_checked_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.md"
    path.write_text("word " * 1000)
    with pytest.raises(SkipFile, match=r"file is 0\.0 MB, over the 0\.0 MB limit \(max_file_mb\)"):
        load_document(path, max_bytes=100)
    assert load_document(path, max_bytes=5000).text.startswith("word")


def test_unreadable_path(tmp_path: Path) -> None:
    (tmp_path / "folder.md").mkdir()  # fails for root too, unlike chmod 000
    with pytest.raises(SkipFile, match="cannot read file"):
        load_document(tmp_path / "folder.md")
    with pytest.raises(SkipFile, match="cannot read file"):
        load_document(tmp_path / "missing.md")


def test_malformed_front_matter_is_dropped_with_warning(tmp_path: Path) -> None:
    path = tmp_path / "note.md"
    path.write_text("---\ntitle: [unclosed\ntags: a, b\n---\n# Heading\n\nBody text.\n")
    doc = load_document(path)
    assert doc.text == "# Heading\n\nBody text."
    assert doc.metadata == {"title": "Heading", "format": "markdown"}
    assert len(doc.warnings) == 1 and doc.warnings[0].startswith("malformed front matter: ")
    assert doc.warnings[0].endswith("; ingested without metadata")


def test_rules_are_not_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "rules.md"
    path.write_text("---\nJust a paragraph between rules.\n---\nMore.\n")
    doc = load_document(path)
    # CommonMark: a rule, then a setext heading (the line above "---"), then a paragraph
    assert doc.text == "## Just a paragraph between rules.\n\nMore." and not doc.warnings


def test_markdown_cleanup() -> None:
    source = (
        "# Title &amp; more\n\n"
        '[![Venn](https://x.io/a.png align="left")](https://x.io/a.png)\n'
        '![Stack](https://cdn.example.com/img.png align="left")\n'
        "See [the guide](https://example.com/guide) and https://example.com/docs.\n"
        "Track https://t.example.com/x?utm_source=news&fbclid=123 here.\n\n"
        "***\n\n"
        "A **bold claim** and __another__, but `__init__.py` stays.\n\n"
        "```html\n<b>&amp;</b>\n---\n```\n"
    )
    out = clean_text(source, "markdown")
    assert out.startswith("# Title & more\n")
    # one paragraph on one line; the tracking URL is gone
    assert "See the guide and https://example.com/docs. Track here." in out
    assert "A bold claim and another, but `__init__.py` stays." in out
    assert "```html\n<b>&amp;</b>\n---\n```" in out  # code blocks are verbatim
    for junk in ("png", "utm_", "***", "**", "]("):
        assert junk not in out


def test_txt_with_headings_is_markdown(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("# Notes\n\nSee **this**.\n")
    (tmp_path / "b.txt").write_text("Plain notes\nwith #hashtags and **stars**.\n")
    a, b = load_document(tmp_path / "a.txt"), load_document(tmp_path / "b.txt")
    assert (a.metadata["format"], a.text) == ("markdown", "# Notes\n\nSee this.")
    assert (b.metadata["format"], b.metadata["title"]) == ("text", "Plain notes")  # 1st line
    assert b.text == "Plain notes with #hashtags and **stars**."  # a wrapped line is joined


def test_html_visible_text_only(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>Ops Page</title><style>p {color: red}</style>"
        "<script>var secret = 1;</script></head><body>"
        "<h2>GitOps</h2><p>Git is the <b>source</b> of&nbsp;truth &amp; more.</p>"
        "<img src=x onerror=alert(1)><script>alert(1)</script>"
        "<ul><li>Argo CD</li><li>Flux</li></ul><h3>Limits</h3><div>Needs Kubernetes.</div>"
        "</body></html>"
    )
    doc = load_document(path)
    assert doc.metadata == {"title": "Ops Page", "format": "html"}
    assert doc.text == (
        "## GitOps\n\nGit is the source of truth & more.\n\n- Argo CD\n- Flux\n\n"
        "### Limits\n\nNeeds Kubernetes."
    )
    for junk in ("<", "alert", "onerror", "secret", "color"):
        assert junk not in doc.text


def test_text_pdf(tmp_path: Path) -> None:
    path = tmp_path / "ops.pdf"
    path.write_bytes(text_pdf("DevOps shortens the delivery lifecycle."))
    doc = load_document(path)
    assert doc.text == "DevOps shortens the delivery lifecycle."
    assert doc.metadata == {"title": "ops", "format": "pdf"}


def test_discover(tmp_path: Path) -> None:
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".opsqa").mkdir()
    for rel in ("b.md", "a.txt", "sub/c.html", "sub/deeper/d.pdf", "sub/e.MD", ".git/x.md"):
        (tmp_path / rel).write_text("x")
    (tmp_path / ".opsqa" / "y.md").write_text("x")
    (tmp_path / "notes.pptx").write_text("x")
    (tmp_path / "sub" / "loop").symlink_to(tmp_path, target_is_directory=True)
    files, errors = discover([tmp_path, tmp_path / "b.md", tmp_path / "nope", "notes.pptx"])
    rel = [f.relative_to(tmp_path).as_posix() for f in files]
    assert rel == ["a.txt", "b.md", "sub/c.html", "sub/deeper/d.pdf", "sub/e.MD"]
    assert errors[0] == (tmp_path / "nope", "no such file or folder")
    explicit, unsupported = discover([tmp_path / "notes.pptx"])
    assert explicit == []
    assert unsupported == [(tmp_path / "notes.pptx", "not a document format opsqa reads (.pptx)")]
