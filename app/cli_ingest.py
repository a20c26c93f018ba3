"""`opsqa ingest`: bring the index in step with files and folders, and say what was not read."""

from __future__ import annotations

import argparse
import json
from typing import Any

from app.cli_common import common, progress_bar, settings_args


def ingest_parser(sub: Any) -> None:
    from ingest.registry import describe

    s = sub.add_parser("ingest", help="add, update or remove documents in the index",
                       description=f"Ingest files and folders (recursively): {describe()}. "
                       "Unchanged files are skipped; files deleted from an ingested folder "
                       "leave the index. Every file not read is named with the reason; "
                       "files that describe a folder rather than its subject (setting "
                       "skip_files: a top-level README, LICENSE, CONTRIBUTING ...) are not "
                       "read. Exits 1 when a path does not exist or nothing could be read.")
    s.add_argument("paths", nargs="*", metavar="PATH")
    s.add_argument("--json", action="store_true", help="print the report as one JSON object")
    s.add_argument("--rebuild", action="store_true",
                   help="make the index anew, re-embedding every file it knew and the PATHs "
                   "(after a model change or damage; PATH is optional then)")
    s.add_argument("--embed-backend", choices=["auto", "onnx", "torch"])
    common(s)


def cmd_ingest(args: argparse.Namespace) -> int:
    from rich.console import Console

    from app.assistant import Assistant
    from app.errors import ConfigError
    from app.settings import Settings
    from app.terminal import for_terminal, json_for_terminal
    from ingest.registry import suffixes

    console = Console(stderr=True)
    if not args.paths and not args.rebuild:
        raise ConfigError("name the files or folders to ingest (`opsqa ingest PATH...`), or "
                          "rebuild the index from the files it knew (`opsqa ingest --rebuild`)")
    waiting = lambda: console.print("another ingest is running; waiting")  # noqa: E731
    progress, done = progress_bar()
    try:
        if args.rebuild:
            report = Assistant.rebuild(args.paths, progress=progress, on_wait=waiting,
                                       **settings_args(args))
        else:
            bot = Assistant(Settings.load(**settings_args(args)))
            report = bot.ingest(args.paths, progress=progress, on_wait=waiting)
    finally:
        done()
    if args.json:
        print(json_for_terminal(json.dumps(report.to_dict(), ensure_ascii=False, indent=2)))
    else:
        _print_ingest(console, report)
    if report.nothing_read and not report.missing:
        where = for_terminal(" ".join(args.paths) or "the files the index knew", one_line=True,
                             markup=True)
        console.print(f"[red]error[/]: nothing to read in {where}: "
                      f"{for_terminal(_found(report), one_line=True, markup=True)}; "
                      f"opsqa reads {', '.join(suffixes())}", soft_wrap=True)
    return 0 if report.ok else 1


NAMED = 5  # files named per group of unread files; --json lists them all


def _print_ingest(console: Any, report: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    from app.terminal import for_terminal

    for label, rows in (("[red]error[/]", report.missing), ("[yellow]skipped[/]", report.skipped),
                        ("[yellow]warning[/]", report.warnings)):
        for path, why in rows:
            console.print(f"{label}: {for_terminal(path, one_line=True, markup=True)}: "
                          f"{for_terminal(why, one_line=True, markup=True)}", soft_wrap=True)
    for g in report.not_read():
        names = ", ".join(g["files"][:NAMED])
        more = f" and {g['count'] - NAMED} more (--json lists them all)" if g["count"] > NAMED else ""
        console.print(f"[yellow]not read[/]: {g['count']} × {g['type']}: "
                      f"{for_terminal(g['reason'], one_line=True, markup=True)}: "
                      f"{for_terminal(names + more, one_line=True, markup=True)}",
                      soft_wrap=True)  # a path is never cut in two: the terminal wraps
    table = Table(title="ingest summary", show_header=False)
    for label, value in report.rows():
        table.add_row(label, value)
    Console().print(table)


def _found(report: Any) -> str:
    """What a folder held when nothing in it could be read: "3 × .yaml, 1 × .json"."""
    groups = [f"{g['count']} × {g['type']}" for g in report.not_read()]
    failed = len(report.skipped)
    parts = groups + ([f"{failed} unreadable (above)"] if failed else [])
    return "found " + (", ".join(parts) if parts else "no files")
