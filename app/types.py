"""The project's own boundary types: what every answerer returns and every caller reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Source:
    """One retrieved passage that an answer may cite as ``[n]`` (n = position + 1)."""

    path: str
    title: str
    section: str
    text: str
    score: float
    start: int = 0
    end: int = 0
    chunk_id: str = ""
    line: int = 0  # 1-based line of the source file the passage starts on (0: not known)
    end_line: int = 0  # 1-based last line of the source that holds the passage (0: not known)


@dataclass(frozen=True)
class Answer:
    """An answer grounded in ``sources``; ``refused`` when the documents do not cover it."""

    text: str
    sources: tuple[Source, ...] = ()
    refused: bool = False
    mode: str = "extractive"
    question: str = ""
    note: str = ""  # how the answer was checked, e.g. "2 unsupported sentences dropped"
    used: tuple[tuple[int, str], ...] = ()  # (source index, sentence) pairs the answer quotes
    evidence: float = 0.0  # retrieval evidence score the refusal decision used
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form used by `opsqa ask --json` and the eval results."""
        return {
            "text": self.text,
            "refused": self.refused,
            "mode": self.mode,
            "note": self.note,
            "evidence": round(self.evidence, 4),
            "sources": [
                {
                    "path": s.path,
                    "title": s.title,
                    "section": s.section,
                    "score": round(s.score, 4),
                    "text": s.text,
                    "start": s.start,
                    "end": s.end,
                    "line": s.line,
                    "end_line": s.end_line,
                }
                for s in self.sources
            ],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Answer:
        """An ``Answer`` back from ``to_dict`` (plus ``question`` and ``used`` when present)."""
        sources = tuple(
            Source(path=str(s.get("path", s.get("file", ""))), title=str(s.get("title", "")),
                   section=str(s.get("section", "")), text=str(s.get("text", "")),
                   score=float(s.get("score", 0.0)), start=int(s.get("start", 0)),
                   end=int(s.get("end", 0)), chunk_id=str(s.get("chunk_id", "")),
                   line=int(s.get("line", 0)))
            for s in d.get("sources", ()))
        return cls(text=str(d.get("text", "")), sources=sources, refused=bool(d.get("refused")),
                   mode=str(d.get("mode", "extractive")), question=str(d.get("question", "")),
                   note=str(d.get("note", "")),
                   used=tuple((int(i), str(s)) for i, s in d.get("used", ())),
                   evidence=float(d.get("evidence", 0.0)),
                   timings_ms={k: float(v) for k, v in d.get("timings_ms", {}).items()})
