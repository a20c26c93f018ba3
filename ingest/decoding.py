"""Bytes of unknown encoding to text: BOMs, strict UTF-8, charset-normalizer's guess, and mojibake repair."""

from __future__ import annotations

import codecs
import re

import charset_normalizer
import ftfy


def looks_binary(data: bytes) -> bool:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE)):
        return False  # UTF-16/32 text is full of NULs; the UTF-16 LE BOM prefixes UTF-32 LE
    sample = data[:8192]
    # Like git: NUL means binary; many other C0 controls mean it is not prose either.
    controls = sum(1 for b in sample if b < 32 and b not in b"\t\n\r\f\x1b")
    return b"\x00" in sample or controls > len(sample) * 0.05


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE, whose BOM is its prefix
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode_bytes(data: bytes) -> str:
    """Decode bytes of unknown encoding and repair mojibake; never fails.

    Args:
        data: Raw file content.

    Returns:
        The text: BOM encoding, else strict UTF-8, else charset-normalizer's guess
        (cp1252 when it ties with the best guess), else latin-1; then mojibake-repaired.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return repair(data[len(bom) :].decode(encoding, errors="replace"))
    try:
        return repair(data.decode("utf-8"))  # decode() is the only thing that can raise here
    except UnicodeDecodeError:
        pass
    text = data.decode("latin-1")
    try:
        matches = charset_normalizer.from_bytes(data)
        best = matches.best()
        if best is not None:
            text = str(best)
            # Short Western text is often a tie between cp1250 and cp1252; cp1252 is the
            # common one, and picking cp1250 turns "naïve" into "naďve".
            ties = [m for m in matches if m.chaos == best.chaos]
            if any("cp1252" in m.could_be_from_charset for m in ties):
                text = data.decode("cp1252")
    except (UnicodeDecodeError, LookupError, RuntimeError):
        pass
    return repair(text)


def _macroman_class(byte_range: range) -> str:
    return "".join(re.escape(bytes([b]).decode("mac_roman")) for b in byte_range)


# UTF-8 that was decoded as Mac Roman and saved again (seed 002: "‚Üí" for "→"). ftfy
# leaves most of it and even makes "‚Üí" worse by uncurling "‚", so undo exactly that: a
# Mac Roman rendering of a 3- or 4-byte UTF-8 sequence, or of a 2-byte one led by C2/C3
# (Latin-1 range), decoded back when it is valid UTF-8. Other 2-byte leads are skipped
# because real text like "’é" would match them.
_CONT = _macroman_class(range(0x80, 0xC0))
_MACROMAN_MOJIBAKE = re.compile(
    f"(?:[{_macroman_class(range(0xF0, 0xF5))}][{_CONT}]{{3}}"
    f"|[{_macroman_class(range(0xE0, 0xF0))}][{_CONT}]{{2}}"
    f"|[{_macroman_class(range(0xC2, 0xC4))}][{_CONT}])+"
)


def _fix_macroman(match: re.Match[str]) -> str:
    try:
        return match.group().encode("mac_roman").decode("utf-8")
    except UnicodeError:
        return match.group()


def repair(text: str) -> str:
    text = _MACROMAN_MOJIBAKE.sub(_fix_macroman, text)
    # Curly quotes are kept (they are what the author wrote); entities are handled later,
    # outside code blocks.
    return ftfy.fix_text(text, uncurl_quotes=False, unescape_html=False)
