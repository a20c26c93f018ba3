"""`opsqa feedback export` and `opsqa gaps`: what the web UI's users rated and were refused.

Both read the stored chats (``<index_dir>/chats.sqlite3`` or ``chats_path``) through the
public API; the index is opened, never changed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def add_parsers(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    """``opsqa feedback export`` and ``opsqa gaps``; ``common`` adds the settings options."""
    s = sub.add_parser("feedback", help="what users rated in the web UI: export the disliked "
                       "answers as eval question stubs",
                       description="The likes and dislikes given in the web UI's chats "
                       "(stored in <index_dir>/chats.sqlite3, or chats_path).")
    act = s.add_subparsers(dest="action", metavar="ACTION", required=True)
    e = act.add_parser("export", help="write the disliked answers as eval question stubs",
                       description="Write every disliked answer as a question stub in the "
                       "schema of eval/*.yaml (key facts left empty for a maintainer to "
                       "fill), so a bad answer becomes a regression case.")
    e.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    common(e)
    g = sub.add_parser("gaps", help="what the documents do not cover: refused and disliked "
                       "questions, grouped",
                       description="The questions of the web UI's chats that were refused or "
                       "whose answers were disliked, grouped when they ask the same thing, "
                       "with counts and the nearest topics the documents do cover.")
    g.add_argument("--json", action="store_true", help="print one JSON list")
    common(g)


def cmd_feedback(args: argparse.Namespace, open_bot: Callable[..., Any]) -> int:
    from app.feedback import export_feedback
    from app.terminal import for_terminal

    text, n = export_feedback(open_bot(args, auto_ingest=False))
    if args.out:
        out = Path(args.out)
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            from app.errors import OpsqaError

            raise OpsqaError(f"cannot write {out}: {exc.strerror}") from None
        print(f"{n} disliked answers written to {for_terminal(out, one_line=True)}",
              file=sys.stderr)
    else:
        print(for_terminal(text), end="")
    return 0


def cmd_gaps(args: argparse.Namespace, open_bot: Callable[..., Any]) -> int:
    from app.gaps import find_gaps
    from app.terminal import for_terminal, json_for_terminal

    gaps = find_gaps(open_bot(args, auto_ingest=False))
    if args.json:
        print(json_for_terminal(json.dumps([g.to_dict() for g in gaps], ensure_ascii=False,
                                           indent=2)))
        return 0
    if not gaps:
        print("No gaps: no question in the stored chats was refused or disliked.")
    for g in gaps:
        print(f"{g.count:4}x  {for_terminal(g.question, one_line=True)}  "
              f"(refused {g.refused}, disliked {g.disliked})")
        for w in g.wordings[1:]:
            print(f"       also: {for_terminal(w, one_line=True)}")
        for c in g.comments:
            print(f"       comment: {for_terminal(c, one_line=True)}")
        if g.topics:
            print(f"       nearest topics: {for_terminal(', '.join(g.topics), one_line=True)}")
    return 0
