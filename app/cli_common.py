"""What the `opsqa` subcommands share: the settings options and the ingest progress bar."""

from __future__ import annotations

import argparse
from typing import Any


def common(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("settings (override opsqa.toml and OPSQA_*)")
    g.add_argument("--index-dir", help="index folder (default .opsqa/)")
    g.add_argument("--corpus-dir", help="documents ingested on first open (default corpus/)")
    g.add_argument("--chroma-host", help="use a Chroma server at this host instead of embedded")
    g.add_argument("--chroma-port", type=int, help="Chroma server port (default 8000)")


def settings_args(args: argparse.Namespace) -> dict[str, Any]:
    keys = ("index_dir", "corpus_dir", "chroma_host", "chroma_port", "mode", "embed_backend")
    return {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}


def progress_bar() -> tuple[Any, Any]:
    """A rich progress bar on stderr for ingest work: (callback, close)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from app.terminal import for_terminal

    console = Console(stderr=True)
    bar = Progress(TextColumn("[bold]ingest[/]"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("files"), TimeElapsedColumn(), TextColumn("{task.description}"),
                   console=console, transient=True)
    state: dict[str, Any] = {}

    def update(done: int, total: int, what: str) -> None:
        what = for_terminal(what[:40], one_line=True, markup=True)
        if "task" not in state:
            bar.start()
            state["task"] = bar.add_task(what, total=total)
        bar.update(state["task"], completed=done, total=total, description=what)

    def close() -> None:
        if "task" in state:
            bar.stop()

    return update, close
