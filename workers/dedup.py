"""Exact and near-duplicate detection of article texts.

Exact: a hash of the folded word sequence. Near: MinHash (datasketch) over word 5-shingles,
indexed in Redis by LSH bands (16 bands of 4 rows), so a lookup costs one round trip whatever the
corpus size; the Jaccard estimate from the two signatures decides. Redis keeps each text's
signature as the low 16 bits of its 64 values (128 bytes): two different MinHash values agree there
by chance once in 65,536, so the estimate moves by less than 0.0001 on average.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from monitor.filters import fold
from monitor.store import Store, digest

NUM_PERM = 64
BANDS = 16  # 16 bands of 4 rows: pairs above ~0.6 Jaccard almost always share a band
ROWS = NUM_PERM // BANDS
SHINGLE = 5
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def content_hash(text: str) -> str:
    return digest(" ".join(words(text)))


@dataclass(frozen=True)
class Signature:
    values: np.ndarray

    def bands(self) -> list[str]:
        return [f"{b}:{digest(self.values[b * ROWS:(b + 1) * ROWS].tobytes().hex(), 8)}" for b in range(BANDS)]

    def jaccard(self, other: Signature) -> float:
        return float(np.mean(self.values == other.values))

    def to_bytes(self) -> bytes:
        return self.values.astype(np.uint32).tobytes()  # MinHash values are < 2**32

    @classmethod
    def from_bytes(cls, raw: bytes) -> Signature:
        return cls(np.frombuffer(raw, dtype=np.uint32).astype(np.uint64))

    def compact(self) -> bytes:
        """What Redis keeps: the low 16 bits of each value (128 bytes for 64 permutations)."""
        return (self.values & 0xFFFF).astype("<u2").tobytes()

    def jaccard_compact(self, raw: bytes) -> float:
        """The Jaccard estimate against a stored ``compact()`` signature."""
        if len(raw) != 2 * NUM_PERM:
            return 0.0
        other = np.frombuffer(raw, dtype="<u2")
        return float(np.mean((self.values & 0xFFFF).astype(np.uint16) == other))


def signature(text: str) -> Signature:
    return _signature(words(text))


def fingerprints(text: str) -> tuple[str, Signature]:
    """``content_hash`` and ``signature`` of one text, its words folded once."""
    ws = words(text)
    return digest(" ".join(ws)), _signature(ws)


@functools.cache
def _scheme() -> tuple[Any, str]:
    """The permutations of our MinHash and its scheme: drawn once (0.35 ms a draw), not per text."""
    # imported here: datasketch's package imports its LSH and scipy with it (0.5 s, 60 MB), which
    # `check` never needs
    from datasketch import MinHash

    m = MinHash(num_perm=NUM_PERM, seed=1)
    return m.permutations, m.scheme


def _signature(ws: list[str]) -> Signature:
    from datasketch import MinHash

    shingles = {" ".join(ws[i:i + SHINGLE]).encode() for i in range(max(1, len(ws) - SHINGLE + 1))}
    permutations, scheme = _scheme()
    m = MinHash(num_perm=NUM_PERM, seed=1, permutations=permutations, scheme=scheme)
    m.update_batch(list(shingles))
    return Signature(m.hashvalues.astype(np.uint64))


def nearest_copy(store: Store, watch: str, sig: Signature, threshold: float,
                 exclude: str | None = None) -> tuple[str | None, float]:
    """The indexed text most like ``sig`` (other than ``exclude``, the text itself on a re-run), if
    its estimated Jaccard reaches ``threshold``."""
    best, best_j = None, 0.0
    for doc_id, raw in sorted(store.dedup.candidates(watch, sig.bands()).items()):
        if doc_id == exclude:
            continue
        j = sig.jaccard_compact(raw)
        if j > best_j:
            best, best_j = doc_id, j
    return (best, best_j) if best_j >= threshold else (None, best_j)


def index(store: Store, watch: str, doc_id: str, sig: Signature) -> None:
    """Index a text (idempotent): its compact signature and its 16 LSH band entries, in one call."""
    store.dedup.index(watch, sig.bands(), doc_id, sig.compact())
