"""`opsqa bench scale`: ingest tokens/s, peak RSS, query p50/p95, how long the lexical index
takes to build, reopen and catch up, and disk size, at 1k-100k chunks.

Documents are real argo-cd-docs chunks written back out as Markdown sections, each copy salted
(a distinct ``x0000123`` token in its heading and body, a ``y00012`` token in its file title)
so every chunk is distinct. Ingest and queries run in child processes so peak RSS is theirs.
``--fast-embed`` embeds each distinct unsalted text once (for real) and reuses its vector with
small salted noise: the store, query and memory sides are measured honestly, ingest tokens/s is
then not an encoder figure and is labelled so.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from eval.bench import common as C

SALT = re.compile(r" ?[xy]\d{5,7}")
QUESTIONS = ["What is Argo CD?", "How do I install Argo CD?", "What is an ApplicationSet?",
             "How does automated sync with self-heal work?", "How do I configure RBAC?",
             "What are resource hooks?", "How do I use Helm charts?", "What is a sync wave?",
             "How do I add a private repository?", "How do notifications work?",
             "How do I manage multiple clusters?", "What is the App of Apps pattern?",
             "How do I rotate the admin password?", "How do I enable SSO with Dex?",
             "What does Prune=false do?", "How do I monitor Argo CD with Prometheus?",
             "What is an AppProject?", "How do I use Kustomize?", "kubernetis clustr secrets",
             "How is drift detected?"]


def base_sections(limit: int | None = None) -> list[tuple[str, str, str]]:
    """(file title, section, chunk text) of every argo-cd-docs chunk, in file order."""
    from ingest.chunking import chunk_document
    from ingest.document_loader import discover, load_document
    from ingest.embedding import Encoder

    enc = Encoder(backend="onnx")
    out = []
    for f in sorted(discover([C.ARGO])[0]):
        doc = load_document(f)
        title = str(doc.metadata.get("title") or f.stem)
        out += [(title, c.section.split(" > ")[-1] or title, c.text)
                for c in chunk_document(doc, enc.count_tokens)]
        if limit and len(out) >= limit:
            break
    return out


def write_corpus(target: int, dest: Path, base: list[tuple[str, str, str]],
                 per_file: int = 30) -> int:
    """Write about ``target`` salted sections as Markdown files; returns files written."""
    dest.mkdir(parents=True, exist_ok=True)
    files = 0
    for start in range(0, target, per_file):
        n = min(per_file, target - start)
        title = base[start % len(base)][0]
        lines = [f"---\ntitle: {title} y{files:05d}\n---\n"]
        for i in range(start, start + n):
            _, section, text = base[i % len(base)]
            lines.append(f"## {section} x{i:07d}\n\nx{i:07d} {text}\n")
        (dest / f"d{files // 500:03d}" / f"f{files:05d}.md").parent.mkdir(exist_ok=True)
        (dest / f"d{files // 500:03d}" / f"f{files:05d}.md").write_text("\n".join(lines))
        files += 1
    return files


def reuse_encoder(cache_path: Path) -> Any:
    """An Encoder whose vectors come from the unsalted text, embedded once, plus noise."""
    from ingest.embedding import Encoder

    class ReuseEncoder(Encoder):
        def __init__(self) -> None:
            super().__init__(backend="onnx")
            self.cache: dict[str, np.ndarray] = {}
            if cache_path.is_file():
                got = np.load(cache_path, allow_pickle=True).item()
                self.cache.update(got)
            self.rng = np.random.default_rng(0)
            self.real = 0

        def encode(self, texts: Any, batch_size: int = 64) -> np.ndarray:
            keys = [SALT.sub("", t) for t in texts]
            miss = list(dict.fromkeys(k for k in keys if k not in self.cache))
            if miss:
                self.cache.update(zip(miss, super().encode(miss, batch_size), strict=True))
                self.real += len(miss)
            vecs = np.stack([self.cache[k] for k in keys]) if keys else np.zeros((0, self.dim))
            vecs = vecs + self.rng.normal(0, 0.01, vecs.shape).astype(np.float32)
            return (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)

        def save(self) -> None:
            np.save(cache_path, np.array(self.cache, dtype=object), allow_pickle=True)

    return ReuseEncoder()


def child_ingest(a: argparse.Namespace) -> dict[str, Any]:
    from app.assistant import Assistant
    from app.settings import Settings

    enc = reuse_encoder(Path(a.vec_cache)) if a.reuse_vectors else None
    if enc is None:
        from ingest.embedding import Encoder

        enc = Encoder(backend="onnx")
    enc.encode(["warm up"])
    bot = Assistant(Settings.load(index_dir=a.index_dir, **_server(a)), encoder=enc)
    rep = bot.ingest([a.docs])
    if a.reuse_vectors:
        enc.save()
    return {"chunks": rep.embedded, "files": len(rep.added), "tokens": rep.tokens,
            "ingest_s": round(rep.seconds, 2), "tokens_per_s": round(rep.tokens_per_second, 1),
            "chunks_per_s": round(rep.chunks_per_second, 1),
            "real_embedded": getattr(enc, "real", rep.embedded),
            "peak_rss_mb": round(C.self_peak_rss_mb(), 1)}


def child_query(a: argparse.Namespace) -> dict[str, Any]:
    from app.assistant import Assistant

    t0 = time.perf_counter()
    bot = Assistant.open(index_dir=a.index_dir, auto_ingest=False, **_server(a))
    bot.search("warm up")  # first sync: the lexical index, loaded if saved, else built
    open_s = time.perf_counter() - t0
    r = bot.retriever

    def known(*ws: str) -> list[bool]:
        return [r.vocab.correct(w) is not None for w in ws]

    def reopen() -> None:  # what the next process (or replica) on this host pays to open
        Assistant.open(index_dir=a.index_dir, auto_ingest=False, **_server(a)).search("warm")

    def catch_up() -> None:  # after another process ingested one more file
        extra = Path(a.index_dir) / "extra" / f"extra-{time.time_ns()}.md"
        extra.parent.mkdir(exist_ok=True)
        extra.write_text("# Extra page\n\nA page added after the bulk ingest, to time how "
                         "the lexical index catches up with one new file.\n")
        Assistant.open(index_dir=a.index_dir, auto_ingest=False, **_server(a)).ingest([extra])
        t = time.perf_counter()
        r.invalidate()
        r.sync()
        probe["catch_up_ms"] = round((time.perf_counter() - t) * 1000, 1)

    known("warm")  # builds the vocabulary buckets once per snapshot
    probe: dict[str, float] = {}
    for name, fn in (("file_records_ms", bot.store.file_records),
                     ("all_ids_ms", bot.store.all_ids),
                     ("reopen_ms", reopen),
                     ("warm", lambda: known("warm")),
                     ("known_word_ms", lambda: known("kubernetis", "clustr")),
                     ("chunk_ids_ms", lambda: bot.store.chunk_ids(bot.documents()[0].path)),
                     ("catch_up_total_ms", catch_up)):
        t = time.perf_counter()
        fn()
        probe[name] = round((time.perf_counter() - t) * 1000, 1)
    for q in QUESTIONS[:3]:
        bot.ask(q)
    search, ask = [], []
    for q in QUESTIONS:
        t = time.perf_counter()
        bot.search(q, k=5)
        search.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        bot.ask(q)
        ask.append((time.perf_counter() - t) * 1000)
    return {"open_s": round(open_s, 2), "search_p50_ms": round(C.median(search), 1),
            "search_p95_ms": round(C.pct(search, 95), 1), "ask_p50_ms": round(C.median(ask), 1),
            "ask_p95_ms": round(C.pct(ask, 95), 1), "query_rss_mb": round(C.self_peak_rss_mb(), 1),
            **probe}


def _server(a: argparse.Namespace) -> dict[str, Any]:
    return {"chroma_host": "127.0.0.1", "chroma_port": a.port} if a.port else {}


def one(size: int, mode: str, docs: Path, work: Path, fast: bool, cache: Path) -> dict[str, Any]:
    """Ingest then query one corpus size in one store mode (children for honest RSS)."""
    idx = work / f"idx-{mode}-{size}"
    base = ["-m", "eval.bench.scale", "--docs", str(docs), "--index-dir", str(idx),
            "--vec-cache", str(cache)] + (["--reuse-vectors"] if fast else [])
    row: dict[str, Any] = {"mode": mode, "target": size, "embed": "reused+noise" if fast else
                           "real onnx"}
    if mode == "server":
        with C.chroma_server(work / f"srv-{size}") as (port, proc):
            row.update(C.run_child([*base, "--port", str(port), "--child", "ingest"]))
            row.update(C.run_child([*base, "--port", str(port), "--child", "query"]))
            row["server_rss_mb"] = round(C.proc_rss_mb(proc.pid), 1)
        row["disk_mb"] = round(C.dir_mb(work / f"srv-{size}"), 1)
    else:
        row.update(C.run_child([*base, "--child", "ingest"]))
        row.update(C.run_child([*base, "--child", "query"]))
        row["disk_mb"] = round(C.dir_mb(idx / "chroma"), 1)
    return row


def plot_scale(rows: list[dict[str, Any]], out: Path) -> None:
    """Three panels against chunks: search/ask p50, peak ingest RSS, tokens/s."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(14, 4))
    for mode in sorted({r["mode"] for r in rows}):
        rs = sorted((r for r in rows if r["mode"] == mode), key=lambda r: r["chunks"])
        x = [r["chunks"] for r in rs]
        ax[0].plot(x, [r["search_p50_ms"] for r in rs], "o-", label=f"search p50 {mode}")
        ax[0].plot(x, [r["ask_p50_ms"] for r in rs], "s--", label=f"ask p50 {mode}")
        ax[1].plot(x, [r["peak_rss_mb"] for r in rs], "o-", label=f"ingest peak RSS {mode}")
        for r in rs:
            mark = "o" if r["embed"] == "real onnx" else "x"
            ax[2].plot(r["chunks"], r["tokens_per_s"], mark, color="C0" if mode ==
                       "embedded" else "C1")
    ax[2].plot([], [], "o", color="gray", label="real onnx embed")
    ax[2].plot([], [], "x", color="gray", label="reused vectors (not encoder speed)")
    for a_, title in zip(ax, ("warm query latency (ms)", "ingest peak RSS (MB)",
                              "ingest tokens/s (C0 embedded, C1 server)"), strict=True):
        a_.set_xscale("log")
        a_.set_xlabel("chunks")
        a_.set_title(title)
        a_.legend(fontsize=7)
        a_.grid(alpha=0.3)
        a_.set_ylim(bottom=0)  # from zero: differences at their true size
    ax[0].axhline(150, color="red", lw=0.8, ls=":", label="goal: p50 <= 150 ms at 100k")
    ax[0].set_ylim(0, max(160, ax[0].get_ylim()[1]))
    ax[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="opsqa bench scale", description=__doc__)
    p.add_argument("--sizes", default="1000,10000,100000", help="chunk counts, comma list")
    p.add_argument("--modes", default="embedded,server", help="embedded,server")
    p.add_argument("--fast-embed", default="", metavar="SIZES",
                   help="sizes (comma list, or 'all') that reuse vectors instead of embedding")
    p.add_argument("--base-chunks", type=int, default=2010,
                   help="distinct argo-cd-docs chunks to repeat (salted) up to each size")
    p.add_argument("--work", help="keep documents and indexes here (default: a temp dir)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument("--plot", metavar="PNG", help="also plot the results")
    p.add_argument("--child", choices=["ingest", "query"], help=argparse.SUPPRESS)
    p.add_argument("--docs", help=argparse.SUPPRESS)
    p.add_argument("--index-dir", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--vec-cache", help=argparse.SUPPRESS)
    p.add_argument("--reuse-vectors", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        print(json.dumps(child_ingest(a) if a.child == "ingest" else child_query(a)))
        return 0
    if not C.ARGO.is_dir():
        print(f"bench scale: {C.ARGO} is absent; nothing to measure (skipped)")
        return 0
    sizes = [int(s) for s in a.sizes.split(",") if s]
    fast = set(sizes) if a.fast_embed == "all" else {int(s) for s in a.fast_embed.split(",") if s}
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="opsqa-bench-scale-") as t:
        work = Path(a.work) if a.work else Path(t)
        base = base_sections(a.base_chunks)
        base = base[: len(base) - len(base) % 30]  # copies of a chunk get the same file title
        for size in sizes:
            docs = work / f"docs-{size}"
            if not docs.is_dir():
                write_corpus(size, docs, base)
            for mode in a.modes.split(","):
                row = one(size, mode, docs, work, size in fast, work / "vectors.npy")
                rows.append(row)
                print(json.dumps(row), file=sys.stderr)
    res = {"rows": rows, "base_chunks": len(base)}
    cols = ["mode", "target", "chunks", "embed", "tokens_per_s", "peak_rss_mb", "query_rss_mb",
            "server_rss_mb", "open_s", "search_p50_ms", "search_p95_ms", "ask_p50_ms",
            "ask_p95_ms", "disk_mb"]
    C.show("opsqa bench scale", [{k: r.get(k) for k in cols} for r in rows],
         ["tokens_per_s of 'reused+noise' rows is not an encoder figure (vectors reused)"])
    C.write_json(a.json, res)
    if a.plot:
        plot_scale(rows, Path(a.plot))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
