"""The evaluation corpora: each a question set and the documents it was written from.

The default corpus is one case among several real documentation sets. One set is held out:
nothing in opsqa is tuned on it (no question read for a fix, no threshold fitted on it), so its
figure is the honest estimate of how opsqa does on a user's own documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.settings import PROJECT_ROOT

EVAL_DIR = Path(__file__).resolve().parent
SHARED = Path(PROJECT_ROOT).parent / "shared"
OUTSIDE = SHARED / "corpora"


@dataclass(frozen=True)
class Corpus:
    """A named question set over the documents in ``docs`` (files or folders)."""

    name: str
    questions: Path
    docs: tuple[Path, ...]
    about: str
    held_out: bool = False

    @property
    def available(self) -> bool:
        """True when every document folder exists (the outside sets live beside the project)."""
        return all(p.exists() for p in self.docs)


CORPORA: dict[str, Corpus] = {c.name: c for c in (
    Corpus("golden", EVAL_DIR / "golden.yaml", (Path(PROJECT_ROOT) / "corpus",),
           "the default corpus (corpus/)"),
    Corpus("seeds", EVAL_DIR / "seeds.yaml", (SHARED / "seeds",),
           "four raw seed documents (../shared/seeds)"),
    Corpus("argocd", EVAL_DIR / "argocd.yaml",
           (OUTSIDE / "argo-cd-docs", OUTSIDE / "opengitops"), "Argo CD docs + OpenGitOps"),
    Corpus("prometheus", EVAL_DIR / "prometheus.yaml", (OUTSIDE / "prometheus-docs",),
           "Prometheus docs"),
    Corpus("dvc", EVAL_DIR / "dvc.yaml", (OUTSIDE / "dvc-docs",), "DVC docs (held out)",
           held_out=True),
    Corpus("greatexpectations", EVAL_DIR / "greatexpectations.yaml",
           (OUTSIDE / "great-expectations-docs",), "Great Expectations docs (Docusaurus)"),
    Corpus("kolla", EVAL_DIR / "kolla.yaml", (OUTSIDE / "kolla-ansible-docs",),
           "Kolla Ansible docs (Sphinx; held out)", held_out=True),
)}


def available() -> list[Corpus]:
    """The registered corpora whose documents are present here, in registry order."""
    return [c for c in CORPORA.values() if c.available]
