"""Small documents in every format opsqa reads, written for the format tests: each construct
of its markup holds one fact, so a test can ask for it and find it answered from there."""

from __future__ import annotations

from pathlib import Path

RST = """\
.. _keeper-guide:

==================
Lighthouse keeping
==================

.. toctree::
   :maxdepth: 1

   lamps
   logs

.. index:: lamp oil

.. only:: html

   This sentence exists only in the web build.

A lighthouse keeper trims the wick of the lamp every four hours during the night.

Fuel and lamps
--------------

The lamp burns refined colza oil, stored in the cellar in copper tanks.
See :ref:`the storm drill <storm-drill>` and :doc:`lamps` for the rest.

.. code-block:: bash
   :caption: Start the lamp

   beacon-ctl ignite --wick=long

.. note::

   Never leave the lantern room with the shutter open in a gale.

Shifts
~~~~~~

.. list-table:: Watch rota
   :header-rows: 1

   * - Watch
     - Hours
   * - First watch
     - from eight in the evening until midnight

Log book
^^^^^^^^

:Retention: logs are kept for seven winters.
:Owner: the principal keeper.

Foghorn
   The foghorn sounds twice every ninety seconds in fog.

.. storm-signal:: Gale signals
   :colour: red

   A red cone hoisted point down warns of a southerly gale.

+------------+---------------------------+
| Signal     | Meaning                   |
+============+===========================+
| blue flag  | the relief boat is due    |
+------------+---------------------------+

=========  =========================================
Lamp       Range
=========  =========================================
Fresnel    the beam reaches twenty two nautical miles
=========  =========================================

.. literalinclude:: snippets/rotate.sh
   :language: bash

.. literalinclude:: ../outside/secret.txt

The lens turns by a :term:`clockwork governor` set with :option:`--revolutions`.
"""

MDX = """\
---
title: Hive care
---
import Tabs from '@theme/Tabs';
import TabItem from '@theme/TabItem';
export const Mark = ({children}) => <mark>{children}</mark>;

# Hive care

An apiary colony is inspected every nine days from April to September.

<Tabs groupId="season">
  <TabItem value="summer" label="Summer inspection">

  In summer the beekeeper adds a honey super once eight frames are drawn.

  </TabItem>
  <TabItem value="winter" label="Winter inspection">

  In winter the hive entrance is narrowed to one bee space of eight millimetres.

  ```bash
  import hive-tools
  hive-cli weigh --hive 4
  ```

  </TabItem>
</Tabs>

{/* the smoker section is new */}

:::note Smoke
Cool white smoke calms the bees before the hive lid is lifted.
:::

<Mark>The queen is marked with a dot of paint in the colour of the year.</Mark>
"""

ADOC = """\
= Kiln firing
:clay: stoneware

A bisque firing of {clay} reaches nine hundred degrees over eight hours.

== Loading

NOTE: Pots must never touch each other during a glaze firing.

[source,bash]
----
kiln-ctl program --cone 6
----

. Stack the kiln shelves on three posts.
. Place the witness cones where they can be seen through the spy hole.

== Cooling

[WARNING]
====
Opening the kiln above two hundred degrees cracks the glaze.
====

Crazing:: a web of fine cracks in a glaze caused by uneven shrinkage.

[%header]
|===
|Cone |Degrees
|06 |a thousand
|===
"""

TXT = """\
Harbour tides: notes kept by the pilot.

High water at the harbour mouth comes about fifty minutes later each day,
so the pilot boards inbound ships an hour before the flood.
"""


def make_pdf(lines: list[tuple[str, float, float, list[tuple[str, str]]]]) -> bytes:
    """A one-page PDF: per line (unused, font size, y, runs of (R|B, text)) in Helvetica and
    Helvetica-Bold, so headings and bold words can be told apart as in a real PDF."""
    parts = []
    for _, size, y, runs in lines:
        cmd = f"BT 72 {y} Td "
        for face, text in runs:
            text = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            cmd += f"/F{1 if face == 'R' else 2} {size} Tf ({text}) Tj "
        parts.append(cmd + "ET")
    stream = "\n".join(parts).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]"
        b" /Resources << /Font << /F1 4 0 R /F2 6 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold >>",
    ]
    return pdf_file(objects)


def pdf_file(objects: list[bytes]) -> bytes:
    """A PDF file of ``objects`` (numbered from 1, the first the catalog) with its xref table."""
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return out


PDF_LINES = [
    ("", 18, 720, [("B", "Ferry timetable")]),
    ("", 11, 690, [("R", "The first ferry leaves the north quay at a quarter past six on")]),
    ("", 11, 676, [("R", "weekdays and at eight on Sundays.")]),
    ("", 14, 640, [("B", "Boats")]),
    ("", 11, 615, [("R", "The crossing is sailed by the "), ("B", "Kestrel"), ("R", " or the "),
                   ("B", "Osprey"), ("R", " and takes forty minutes.")]),
]


def write_all(docs: Path) -> dict[str, Path]:
    """Write every fixture under ``docs`` (with the files a document includes, and one it
    must not: outside ``docs``); returns them by format."""
    (docs / "snippets").mkdir(parents=True, exist_ok=True)
    (docs / "snippets" / "rotate.sh").write_text("#!/bin/sh\nlens-motor --turns 3 --period 30s\n")
    outside = docs.parent / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "secret.txt").write_text("OUTSIDE-THE-TREE-TOKEN\n")
    files = {"rst": docs / "lighthouse.rst", "mdx": docs / "hives.mdx",
             "adoc": docs / "kiln.adoc", "txt": docs / "tides.txt", "pdf": docs / "ferry.pdf"}
    files["rst"].write_text(RST)
    files["mdx"].write_text(MDX)
    files["adoc"].write_text(ADOC)
    files["txt"].write_text(TXT)
    files["pdf"].write_bytes(make_pdf(PDF_LINES))
    return files
