"""`opsqa bench hostile`: time and peak memory of one ingest per hostile input, side by side.

Each input is a small file written here (no third-party text): a Word file whose zip
directory understates its XML, a Markdown table of thousands of columns, a file of brackets,
a file of headings, a deeply nested list, a notebook of nested JSON and a PDF whose content
stream inflates far past its size. Each is ingested alone, by a fresh `opsqa` child process
into an index of its own, with a wall limit; the table shows the seconds, the peak RSS of
the child and all it waited for (``wait4``), the chunks stored and what happened to the file.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eval.bench.common import ROOT, show, write_json

CHILD = """
import json, sys
from app import Assistant
bot = Assistant.open(index_dir=sys.argv[1], auto_ingest=False)
r = bot.ingest([sys.argv[2]])
print(json.dumps({"added": len(r.added), "skipped": r.skipped, "chunks": bot.store.count()}))
"""
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/></Types>')
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>')
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def lying_docx(path: Path, xml_mb: int = 1600, declared: int = 1_000_000) -> None:
    """A .docx whose ``word/document.xml`` unpacks to ``xml_mb`` MB while both its local
    header and the zip directory say ``declared`` bytes."""
    par = f'<w:p><w:r><w:t>{"row of plain words " * 20}</w:t></w:r></w:p>'.encode()
    head = f'<?xml version="1.0"?><w:document xmlns:w="{_W}"><w:body>'.encode()
    tail = b"</w:body></w:document>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS)
        with zf.open("word/document.xml", "w", force_zip64=False) as fh:
            fh.write(head)
            block = par * (1_000_000 // len(par))
            for _ in range(xml_mb):
                fh.write(block)
            fh.write(tail)
    _patch_sizes(path, "word/document.xml", declared)


def _patch_sizes(path: Path, member: str, declared: int) -> None:
    """Rewrite ``member``'s uncompressed size in its local header and the central directory."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    for sig, off_name, off_size in ((b"PK\x03\x04", 30, 22), (b"PK\x01\x02", 46, 24)):
        at = 0
        while (at := data.find(sig, at)) >= 0:
            if data[at + off_name : at + off_name + len(name)] == name:
                data[at + off_size : at + off_size + 4] = declared.to_bytes(4, "little")
            at += 4
    # The data descriptor after the member (written when streaming) carries the size too.
    at = data.find(b"PK\x07\x08")
    while at >= 0:
        data[at + 12 : at + 16] = declared.to_bytes(4, "little")
        at = data.find(b"PK\x07\x08", at + 4)
    path.write_bytes(bytes(data))


def wide_table(path: Path, columns: int = 5000, size: int = 2_000_000) -> None:
    head = "| " + " | ".join(f"c{i}" for i in range(columns)) + " |\n"
    sep = "|" + " --- |" * columns + "\n"
    row = "| " + " | ".join(f"v{i % 97}" for i in range(columns)) + " |\n"
    rows = max(1, (size - len(head) - len(sep)) // len(row))
    path.write_text("# Wide table\n\n" + head + sep + row * rows)


def brackets(path: Path, size: int = 550_000) -> None:
    path.write_text("# Brackets\n\n" + "[" * (size // 2) + "]" * (size // 2) + "\n")


def headings(path: Path, size: int = 800_000) -> None:
    out, i = [], 0
    while sum(map(len, out)) < size:
        out.append(f"## Heading {i}\n\nword {i}\n\n")
        i += 1
    path.write_text("".join(out))


def nested_list(path: Path, size: int = 9_000_000) -> None:
    out, depth, total = [], 0, 0
    while total < size:
        line = "  " * depth + f"- item {depth}\n"
        out.append(line)
        total += len(line)
        depth += 1
    path.write_text("# Nested\n\n" + "".join(out))


def nested_notebook(path: Path, depth: int = 100_000) -> None:
    cell = {"cell_type": "markdown", "metadata": {}, "source": "# Notebook\n\nSome words."}
    body = json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    path.write_text(body[:-1] + ', "x": ' + "[" * depth + "]" * depth + "}")


def pdf_bomb(path: Path, inflated_mb: int = 1000) -> None:
    """A one-page PDF whose content stream inflates to ``inflated_mb`` MB of text operators."""
    z = zlib.compressobj(9)
    op = b"BT /F1 12 Tf 72 720 Td (words on a page) Tj ET\n"
    block = op * (1_000_000 // len(op))
    stream = b"".join(z.compress(block) for _ in range(inflated_mb)) + z.flush()
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream
            + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = io.BytesIO(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % n + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % o for o in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objs) + 1, xref))
    path.write_bytes(out.getvalue())


INPUTS: dict[str, tuple[str, Callable[[Path], None]]] = {
    "docx-lying-zip": ("lying.docx", lying_docx),
    "table-5000-columns": ("table.md", wide_table),
    "brackets-550k": ("brackets.md", brackets),
    "headings-800k": ("headings.md", headings),
    "nested-list-9m": ("nested.md", nested_list),
    "notebook-nested-json": ("nested.ipynb", nested_notebook),
    "pdf-inflating-stream": ("bomb.pdf", pdf_bomb),
}


def run_one(path: Path, index: Path, limit: float) -> dict[str, Any]:
    """Ingest ``path`` in a child; its seconds, peak RSS (with what it waited for), outcome."""
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(index), str(path)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    killed = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - t0 > limit:
            os.killpg(proc.pid, signal.SIGKILL)
            killed = True
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.05)
    seconds = time.monotonic() - t0
    out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    row: dict[str, Any] = {"file_kb": round(path.stat().st_size / 1000),
                           "seconds": round(seconds, 1),
                           "peak_rss_mb": round(usage.ru_maxrss / 1024)}
    if killed:
        row.update(chunks=None, outcome=f"still running after {limit:.0f} s: killed")
        return row
    try:
        got = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        row.update(chunks=None, outcome=f"exit {os.waitstatus_to_exitcode(status)}: "
                   + (err.strip().splitlines() or ["no output"])[-1][:120])
        return row
    skipped = "; ".join(why for _, why in got["skipped"])
    row.update(chunks=got["chunks"], outcome=f"skipped: {skipped}"[:160] if skipped else "added")
    return row


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="opsqa bench hostile", description=__doc__.splitlines()[0])
    p.add_argument("--only", action="append", choices=list(INPUTS),
                   help="run this input only (repeatable)")
    p.add_argument("--limit", type=float, default=600, help="seconds before a run is killed")
    p.add_argument("--workdir", help="where inputs and indexes go (default: a temp folder)")
    p.add_argument("--json", help="write the table here")
    args = p.parse_args(argv)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="opsqa-hostile-"))
    rows = []
    for name in args.only or list(INPUTS):
        file_name, make = INPUTS[name]
        folder = work / name
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / file_name
        if not path.exists():
            make(path)
        row = {"what": name, **run_one(path, work / f"index-{name}", args.limit)}
        print(json.dumps(row), flush=True)
        rows.append(row)
    show("opsqa bench hostile: one ingest per input", rows)
    write_json(args.json, {"rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
