"""Fuzzing the read side of ingest: bytes, encodings, Markdown and front matter never crash it.

Properties (hypothesis, bounded: about 450 generated inputs plus one folder of 36 files):
``load_document`` returns a Document or raises SkipFile with a reason, nothing else;
``chunk_document`` keeps ``count_tokens(embed_text) <= max_tokens`` and
``doc.text[c.start:c.end] == c.text``; an ingest of a folder of fuzzed files adds or skips
(with a reason) every file and the index still answers. Runtime bound: about 60 s on 2 cores.

Internal: the properties hold for the reader and chunker on hundreds of generated inputs, one
call each; an ingest per input would take an embedding model's time for each.
"""

from __future__ import annotations

import codecs
import random
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.chunking import chunk_document
from ingest.document_loader import Document, SkipFile, load_document

FUZZED = {"inputs": 0}  # counted across this module, printed at the end (pytest -s)
SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".rst", ".mdx")
ENCODINGS = ("utf-8", "utf-16", "utf-16-le", "utf-16-be", "cp1252", "latin-1", "mac_roman")
BOMS = {"utf-8": codecs.BOM_UTF8, "utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}
WORDS = ("pipeline", "deploy", "drift", "observability", "incident", "rollback", "canary",
         "model", "feature", "store", "cluster", "Kubernetes", "naïve", "café", "Straße", "日本語",
         "🚀", "→", "“quoted”", "<b>bold</b>", "&amp;", "&#x20;", "__init__", "`code`", "**strong**")
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\x00\x01\x07\x08\x0b\x0c\x1b\x7f\x85\x9f\u2028\u2029\r"
BAD_YAML = (
    "title: [unclosed", "title: 'quote", ": : :", "- a\n- b", "42", "title: &a [*a]",
    "!!python/object/apply:os.system ['echo pwned']", "title: {a: 1", "\t- tab: indent",
    "title: ok\ntitle: twice", "tags: [a, [b, [c]], {d: e}]", "date: 2024-13-45",
    "a0: &a ['x','x','x']\na1: &b [*a,*a,*a]\ntags: [*b, *b]",
)
MAX_TOKENS = (32, 64, 256)
FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module", autouse=True)
def report_count():
    yield
    print(f"\nfuzz: {FUZZED['inputs']} inputs fuzzed through load_document")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


# -- generators (a seeded Random drives them, so hypothesis can shrink and CI is repeatable) --
def words(rng: random.Random, n: int) -> str:
    out = []
    for _ in range(n):
        w = rng.choice(WORDS)
        if rng.random() < 0.08:
            w += rng.choice(INVISIBLE)
        out.append(w)
    return " ".join(out) + rng.choice((".", "!", "?", "", "..."))


def front_matter(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return ""
    if kind == 1:  # valid YAML with the types front matter carries
        meta = {"title": words(rng, rng.randint(0, 6)), "tags": rng.choice(
            (["devops", "#mlops"], "a, b, #c", [1, 2.5, None], [])), "date": "2024-05-01",
            "nested": {"a": [1, {"b": 2}]}, "empty": None, "flag": rng.random() < 0.5}
        return "---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---\n"
    if kind == 2:
        return "---\n" + rng.choice(BAD_YAML) + "\n---\n"
    if kind == 3:  # never closed
        return "---\ntitle: open\n" + words(rng, 5) + "\n"
    if kind == 4:  # huge
        return "---\ntitle: " + "x" * rng.randint(1000, 30_000) + "\n---\n"
    return "---\n---\n---\n"  # rules, not front matter


def block(rng: random.Random, huge: bool = True) -> str:
    kind = rng.randrange(10)
    if kind == 0:  # deep or absurd heading levels, emoji/number prefixes, closing hashes
        level = rng.choice((1, 2, 6, 7, 50, rng.randint(1, 60)))
        return "#" * level + rng.choice((" ", "")) + words(rng, rng.randint(0, 4)) + rng.choice(
            ("", " ##", " #####")) + "\n"
    if kind == 1:  # one huge line: words, or a single "word" with no break at all
        scale = 1 if huge else 10  # the folder test embeds what it makes: keep it smaller
        if rng.random() < 0.5:
            return words(rng, rng.randint(300, 3000) // scale) + "\n"
        return rng.choice("xA9/+=") * (rng.randint(2000, 40_000) // scale) + "\n"
    if kind == 2:
        fence = rng.choice(("```", "~~~", "````"))
        body = "\n".join(words(rng, 4) for _ in range(rng.randint(0, 30)))
        return f"{fence}python\n{body}\n" + (fence + "\n" if rng.random() < 0.7 else "")
    if kind == 3:
        return "".join(f"{rng.choice(('-', '*', '1.', '+'))} {words(rng, 5)}\n"
                       for _ in range(rng.randint(1, 20)))
    if kind == 4:
        return rng.choice(("<script>alert('x')</script>", "<!-- c -->", "![img](http://x/y.png)",
                           "[link](https://e.com/?utm=1)", "| a | b |\n|---|---|\n| 1 | 2 |",
                           "<div><h2>H</h2><p>p", "***", "> quote\n> more")) + "\n"
    if kind == 5:
        return "".join(rng.choice(INVISIBLE) for _ in range(rng.randint(1, 50))) + "\n"
    if kind == 6:  # deep nesting down then up
        return "".join("#" * lvl + f" L{lvl}\n\n{words(rng, 3)}\n\n"
                       for lvl in [*range(1, 7), *range(6, 0, -1)])
    return words(rng, rng.randint(1, 80)) + rng.choice(("\n", "\n\n", "\r\n", "\r", "  \n"))


def markdown(rng: random.Random, huge: bool = True) -> str:
    body = "".join(block(rng, huge) for _ in range(rng.randint(0, 12 if huge else 6)))
    return front_matter(rng) + body


def mojibake(text: str, rng: random.Random) -> str:
    return text.encode("utf-8").decode(rng.choice(("mac_roman", "cp1252")), errors="ignore")


def encoded(text: str, encoding: str, bom: bool) -> bytes:
    data = text.encode(encoding, errors="ignore")
    if bom and encoding in BOMS:
        data = BOMS[encoding] + data
    elif not bom and encoding == "utf-16":  # Python's utf-16 always writes a BOM: strip it
        data = data[2:]
    return data


# -- properties -------------------------------------------------------------------------------
def check_file(path: Path, encoder, max_tokens: int = 256) -> Document | None:
    """The properties every input must satisfy; returns the Document or None when skipped."""
    FUZZED["inputs"] += 1
    try:
        doc = load_document(path)
    except SkipFile as exc:
        assert str(exc).strip(), f"SkipFile without a reason for {path}"
        return None
    assert isinstance(doc, Document) and doc.text and doc.metadata.get("title")
    chunks = chunk_document(doc, encoder.count_tokens, max_tokens=max_tokens,
                            target_tokens=min(160, max_tokens))
    for c in chunks:
        assert doc.text[c.start:c.end] == c.text, (c.start, c.end)
        assert encoder.count_tokens(c.embed_text) <= max_tokens, c.embed_text[:200]
    assert [c.index for c in chunks] == list(range(len(chunks)))
    return doc


@FUZZ
@given(data=st.binary(max_size=6000), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes(data, suffix, workdir, encoder):
    p = workdir / f"bytes{suffix}"
    p.write_bytes(data)
    check_file(p, encoder)


@FUZZ
@given(text=st.text(max_size=2000), encoding=st.sampled_from(ENCODINGS), bom=st.booleans(),
       moji=st.booleans(), suffix=st.sampled_from((".md", ".txt", ".html")), rng=st.randoms())
def test_random_encodings(text, encoding, bom, moji, suffix, rng, workdir, encoder):
    if moji:
        text = mojibake(text, rng)
    p = workdir / f"enc{suffix}"
    p.write_bytes(encoded(text, encoding, bom))
    check_file(p, encoder)


@FUZZ
@given(rng=st.randoms(use_true_random=False), max_tokens=st.sampled_from(MAX_TOKENS),
       suffix=st.sampled_from((".md", ".txt", ".markdown", ".rst", ".mdx")),
       encoding=st.sampled_from(ENCODINGS))
def test_random_markdown(rng, max_tokens, suffix, encoding, workdir, encoder):
    text = markdown(rng)
    p = workdir / f"md{suffix}"
    p.write_bytes(encoded(text, encoding, bom=encoding.startswith("utf-16")))
    check_file(p, encoder, max_tokens)


def fuzz_folder(root: Path, n: int, seed: int = 20240501) -> list[Path]:
    """``n`` fuzzed files of every kind above, deterministic for a seed."""
    rng = random.Random(seed)
    root.mkdir(parents=True)
    files = []
    for i in range(n):
        kind = i % 4
        if kind == 0:
            data = rng.randbytes(rng.randint(0, 4000))
        elif kind == 1:
            text = words(rng, rng.randint(0, 100))
            data = encoded(mojibake(text, rng) if rng.random() < 0.5 else text,
                           rng.choice(ENCODINGS), rng.random() < 0.5)
        else:
            data = encoded(markdown(rng, huge=False), rng.choice(ENCODINGS), bom=True)
        p = root / f"f{i:03d}{rng.choice(SUFFIXES)}"
        p.write_bytes(data)
        files.append(p.resolve())
    return files


def test_ingest_fuzzed_folder(bot, tmp_path):
    before = bot.ask("What is GitOps?")
    files = fuzz_folder(tmp_path / "fuzzed", 36)
    FUZZED["inputs"] += len(files)
    report = bot.ingest([tmp_path / "fuzzed"])
    added = set(report.added)
    skipped = dict(report.skipped)
    assert all(why.strip() for why in skipped.values())
    assert added.isdisjoint(skipped)
    assert added | set(skipped) == {str(f) for f in files}, "a file was neither added nor skipped"
    assert not report.updated and not report.missing
    assert added, "the generator should produce some ingestible files"
    print(f"\nfuzz folder: {len(added)} added, {len(skipped)} skipped, {report.embedded} chunks")
    records = {r.path: r for r in bot.documents()}
    assert added <= set(records)
    assert bot.status()["chunks"] == sum(r.chunks for r in records.values())
    after = bot.ask("What is GitOps?")
    assert not after.refused and after.sources
    assert any(Path(s.path).name == "gitops.md" for s in after.sources)
    assert after.text == before.text
