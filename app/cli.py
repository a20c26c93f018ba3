"""The `opsqa` command: one entry point, one subcommand per job, each a thin call to the API.

Imports are deferred into the handlers so `opsqa ask` loads only what answering needs
(no gradio, torch or llama-index).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from app.cli_common import common, progress_bar, settings_args
from app.cli_ingest import cmd_ingest, ingest_parser

EPILOG = """settings: defaults < opsqa.toml (or $OPSQA_CONFIG) < OPSQA_* environment < options.
Every setting is also an environment variable, e.g. OPSQA_INDEX_DIR, OPSQA_CORPUS_DIR,
OPSQA_CHROMA_HOST, OPSQA_CHROMA_PORT, OPSQA_MODE, OPSQA_REFUSAL_THRESHOLD."""


def build_parser() -> argparse.ArgumentParser:
    from app.answer.modes import NAMES

    p = argparse.ArgumentParser(
        prog="opsqa", description="Grounded, cited answers from your documents: every answer "
        "quotes the passages it stands on, or says the documents do not cover the question.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    ingest_parser(sub)
    s = sub.add_parser("ask", help="answer one question and exit")
    s.add_argument("question")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.add_argument("--mode", choices=NAMES)
    common(s)
    s = sub.add_parser("chat", help="chat in the terminal, with history")
    s.add_argument("--mode", choices=NAMES)
    common(s)
    _serve_parser(sub, NAMES)
    common(sub.add_parser("status", help="show the index: model, chunks, documents, store"))
    from app.cli_reports import add_parsers

    add_parsers(sub, common)
    s = sub.add_parser("eval", help="run the evaluation suite (see `opsqa eval --help`)",
                       add_help=False)
    s.add_argument("rest", nargs=argparse.REMAINDER)
    s = sub.add_parser("bench", help="run a benchmark: ingest | query | scale | ui | soak | hostile",
                       add_help=False)
    s.add_argument("rest", nargs=argparse.REMAINDER)
    return p


def _serve_parser(sub: Any, modes: tuple[str, ...]) -> None:
    s = sub.add_parser("serve", help="start the web chat UI (Gradio)",
                       description="Serve the web chat UI. Beyond loopback it needs a login "
                       "(OPSQA_AUTH=user:password) unless --insecure-no-auth is given.")
    s.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    s.add_argument("--insecure-no-auth", action="store_true",
                   help="serve beyond loopback without a login: anyone who can reach the port "
                   "can ask and read passages (uploads and deletes stay off without a login)")
    s.add_argument("--port", type=int, help="port (default 7860)")
    s.add_argument("--share", choices=["no"], default="no",
                   help="public share links are off: opsqa stays on your network")
    s.add_argument("--mode", choices=modes)
    common(s)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if argv and argv[0] in ("eval", "bench"):
        # argparse.REMAINDER does not take leading --options ("opsqa eval --check")
        args = argparse.Namespace(command=argv[0], rest=list(argv[1:]))
    else:
        args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    from app.errors import OpsqaError
    from app.terminal import OutputError, for_terminal, guard_std_streams, stdout_closed, stdout_failed

    closed = guard_std_streams()
    try:
        if closed is not None and args.command != "serve":  # serve runs on, logging nowhere
            raise closed
        rc = int(HANDLERS[args.command](args) or 0)
        sys.stdout.flush()  # here, where a closed pipe can still be handled
        return rc
    except BrokenPipeError:
        return stdout_closed()
    except OpsqaError as exc:
        if isinstance(exc, OutputError):
            stdout_failed()
        print(f"opsqa: error: {for_terminal(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("opsqa: interrupted", file=sys.stderr)
        return 130


def _open(args: argparse.Namespace, **extra: Any) -> Any:
    from app.assistant import Assistant

    progress, done = progress_bar()
    try:
        return Assistant.open(progress=progress, **settings_args(args), **extra)
    finally:
        done()


def cmd_ask(args: argparse.Namespace) -> int:
    from app.terminal import for_terminal, json_for_terminal, source_line

    bot = _open(args)
    answer = bot.ask(args.question, mode=args.mode)
    if args.json:
        print(json_for_terminal(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2)))
        return 0
    print(for_terminal(answer.text))
    if answer.sources:
        print()
        for i, s in enumerate(answer.sources, 1):
            lines = f":{s.line}-{s.end_line}" if s.line else ""
            print(f"[{i}] {source_line(s)} ({for_terminal(Path(s.path).name, one_line=True)}"
                  f"{lines}, score {s.score:.2f})")
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from app.errors import QuestionError
    from app.terminal import for_terminal, source_line

    bot = _open(args)
    chat = bot.conversation()
    with contextlib.suppress(AttributeError, ValueError):  # stdin may not be a text stream
        # Bytes the terminal cannot decode arrive as lone surrogates, which questions drop,
        # instead of a UnicodeDecodeError from input() under a strict UTF-8 locale.
        sys.stdin.reconfigure(errors="surrogateescape")  # type: ignore[union-attr]
    print("opsqa chat: ask about the documents; /clear forgets the history, /quit leaves.")
    while True:
        try:
            q = input("you> ").strip()
        except EOFError:
            print()
            return 0
        if q in ("/quit", "/exit"):
            return 0
        if q == "/clear":
            chat.clear()
            print("(history cleared)")
            continue
        if not q:
            continue
        try:
            answer = chat.ask(q, mode=args.mode)
        except QuestionError as exc:
            print(f"opsqa: {for_terminal(exc)}")
            continue
        print(f"opsqa> {for_terminal(answer.text)}")
        for i, s in enumerate(answer.sources[:5], 1):
            print(f"   [{i}] {source_line(s)}")


def cmd_serve(args: argparse.Namespace) -> int:
    from app.settings import Settings
    from app.ui.exposure import check_exposure

    extra = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    # Before anything is opened or imported: an exposed server without a login never starts.
    check_exposure(Settings.load(**settings_args(args), **extra), args.insecure_no_auth)
    from app.ui.serving import serve

    bot = _open(args, **extra)
    serve(bot, insecure_no_auth=args.insecure_no_auth)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from app.terminal import for_terminal

    bot = _open(args, auto_ingest=False)
    for k, v in bot.status().items():
        print(f"{k:12} {for_terminal(v, one_line=True)}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from eval.runner import main as eval_main

    return int(eval_main(args.rest))


def cmd_bench(args: argparse.Namespace) -> int:
    from eval.bench import main as bench_main

    return int(bench_main(args.rest))


HANDLERS = {"ingest": cmd_ingest, "ask": cmd_ask, "chat": cmd_chat, "serve": cmd_serve,
            "status": cmd_status, "feedback": lambda a: _reports().cmd_feedback(a, _open),
            "gaps": lambda a: _reports().cmd_gaps(a, _open), "eval": cmd_eval,
            "bench": cmd_bench}


def _reports() -> Any:
    import app.cli_reports

    return app.cli_reports

if __name__ == "__main__":
    sys.exit(main())
