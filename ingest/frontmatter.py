"""YAML front matter: metadata out of a Markdown file's head, and its prose as paragraphs."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import yaml

from ingest.blocks import Block

_FRONT_MATTER = re.compile(r"\A\s*---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_LIST_KEYS = ("tags", "aliases")


def split_front_matter(text: str) -> tuple[dict[str, Any], str, str, int]:
    """(metadata, body, warning, lines before the body) of a text with optional front matter."""
    match = _FRONT_MATTER.match(text)
    # A block whose first line is not "key:" is two horizontal rules, not front matter.
    if not match or not re.match(r"\s*[\w-]+\s*:", match.group(1)):
        return {}, text, "", 0
    body = text[match.end() :]
    skipped = text[: match.end()].count("\n")
    try:
        loaded = yaml.safe_load(match.group(1))
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: a date like 2024-13-45
        reason = str(exc).strip().splitlines()[0]
        return {}, body, f"malformed front matter: {reason}; ingested without metadata", skipped
    if not isinstance(loaded, dict):
        return ({}, body, "malformed front matter: not a mapping; ingested without metadata",
                skipped)
    meta: dict[str, Any] = {}
    for key, value in loaded.items():
        key = str(key)
        if key in _LIST_KEYS:
            items = value.split(",") if isinstance(value, str) else value
            if isinstance(items, list):
                # Scalars only: str() of a nested list built from YAML aliases ("billion
                # laughs") is exponentially long and would hang the ingest.
                meta[key] = [
                    str(v).strip().lstrip("#")
                    for v in items
                    if isinstance(v, str | int | float) and str(v).strip()
                ]
        elif isinstance(value, bool | int | float | str):
            meta[key] = value.strip() if isinstance(value, str) else value
        elif isinstance(value, dt.date | dt.datetime):
            meta[key] = value.isoformat()
        elif isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
            meta[key] = ", ".join(str(v) for v in value)  # flat lists read fine as text
        # Nested mappings and None carry nothing a citation or filter can use: dropped.
    if "title" in meta:
        meta["title"] = str(meta["title"])
    return meta, body, "", skipped


_PROSE_SKIP = re.compile(r"^(?:https?://|/|\d{4}-\d\d|\w{3} \w{3} \d)|\.(?:png|jpe?g|svg|gif)$", re.I)


def front_matter_blocks(meta: dict[str, Any]) -> list[Block]:
    """Front matter that is prose (a description, prerequisites, objectives) as a paragraph
    each, so questions about it can be answered; titles, tags, ids, dates and URLs stay
    metadata only."""
    out = []
    for key, value in meta.items():
        if key in ("title", "aliases", "tags"):
            continue
        items = [str(v).strip() for v in (value if isinstance(value, list) else [value])]
        prose = [v for v in items if len(v.split()) >= 3 and not _PROSE_SKIP.search(v)]
        if prose and len(prose) == len(items):
            name = re.sub(r"(?<=[a-z])(?=[A-Z])|[_-]+", " ", str(key)).strip().capitalize()
            text = "; ".join(prose)
            out.append(Block(f"{name}: {text}{'' if text.endswith(('.', '!', '?')) else '.'}", 0))
    return out
