"""`opsqa bench KIND`: benchmarks (ingest, query, scale, ui, hostile) and the soak, each a module here."""

from __future__ import annotations

import importlib
import sys

KINDS = {
    "ingest": "ingest throughput vs the raw encoder ceiling, re-ingest, llama-index reference",
    "query": "warm and cold latency of ask per mode vs a plain llama-index retriever",
    "scale": "1k/10k/100k chunks: ingest tokens/s, peak RSS, query p50/p95, size; embedded+server",
    "ui": "16 concurrent clients against the web UI on loopback for 30 s",
    "soak": "10k fuzzed docs, 5k fuzzed questions, 50 kill -9 ingests, 16 UI clients for 5 min",
    "hostile": "one ingest per hostile file (lying zip, wide table, brackets ...): seconds, peak RSS",
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in KINDS:
        print("usage: opsqa bench {" + ",".join(KINDS) + "} [options]\n")
        for k, v in KINDS.items():
            print(f"  {k:8} {v}")
        print("\n`opsqa bench KIND --help` shows a benchmark's options.")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    module = importlib.import_module(f"eval.bench.{argv[0]}")
    return int(module.main(argv[1:]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
