"""The meaning side of a watch's knowledge: one unit vector per known sentence, and its language.

``workers.knowledge.Knowledge`` owns one of these when the worker has an encoder (``workers.embed``).
Rows live in one float32 matrix whose capacity doubles, so a lookup is one matrix-vector product.
A sentence the watch already knows word for word (a wire
copy, a syndicated article) reuses its row instead of another pass through the model. In Redis a
vector travels as float16 bytes (``encode_vector``), half the size, cosines within 1e-3.
"""

from __future__ import annotations

from array import array

import numpy as np

from monitor.store import KnownRecord
from workers.embed import Encoder


class Vectors:
    def __init__(self, encoder: Encoder):
        self.encoder = encoder
        self.matrix = np.zeros((0, 0), dtype=np.float32)  # one row per sentence; capacity doubles
        self.rows = 0
        self._row_of: dict[str, int] = {}  # a known sentence's text -> its vector's row
        self._lang_codes: dict[str, int] = {}
        self._row_langs = array("b")  # each row's language, as a code of _lang_codes
        self._last_cosines: tuple[np.ndarray, int, np.ndarray] | None = None  # (vector, rows, cosines)

    def add(self, text: str, lang: str, vector: np.ndarray | None = None) -> None:
        """The next row: ``vector``, else the encoder's vector of ``text``."""
        self._append(vector if vector is not None else self.encoder.encode([text])[0])
        self._row_of.setdefault(text, self.rows - 1)
        self._row_langs.append(self._lang_codes.setdefault(lang, len(self._lang_codes)))

    def _append(self, vector: np.ndarray) -> None:
        if self.rows == len(self.matrix):
            grown = np.zeros((max(64, 2 * self.rows), len(vector)), dtype=np.float32)
            if self.rows:
                grown[:self.rows] = self.matrix[:self.rows]
            self.matrix = grown
        self.matrix[self.rows] = vector
        self.rows += 1

    def encode(self, sentences: list[str], wanted: list[bool] | None = None) -> np.ndarray:
        """The sentences' vectors; a sentence the watch already knows word for word (wire copy,
        syndicated articles) takes its known vector instead of another pass through the model.
        ``wanted``: only these are encoded; the others get a zero vector (no meaning to compare:
        background, short sentences, the headline are never claims, and are found by words)."""
        if wanted is not None and not all(wanted):
            out = np.zeros((len(sentences), self.encoder.dim), dtype=np.float32)
            picked = [i for i, w in enumerate(wanted) if w]
            if picked:
                out[picked] = self.encode([sentences[i] for i in picked])
            return out
        rows = [self._row_of.get(s) for s in sentences]
        todo = [s for s, r in zip(sentences, rows, strict=True) if r is None]
        if not sentences or len(todo) == len(sentences):
            return self.encoder.encode(sentences)
        fresh = iter(self.encoder.encode(todo)) if todo else iter(())
        return np.stack([self.matrix[r] if r is not None else next(fresh) for r in rows]).astype(np.float32)

    def of_records(self, records: list[KnownRecord]) -> list[np.ndarray] | None:
        """Each record's vector: its stored one when the same model made it, else encoded now."""
        if not records:
            return None
        dim = self.encoder.dim
        out: list[np.ndarray | None] = [
            (decode_vector(r.vector) if r.vector else np.zeros(dim, dtype=np.float32))  # none: never a claim
            if r.model == self.encoder.name else None for r in records]
        missing = [i for i, v in enumerate(out) if v is None]
        if missing:
            for i, v in zip(missing, self.encoder.encode([records[i].text for i in missing]), strict=True):
                out[i] = v
        return out  # type: ignore[return-value]

    def stored(self, row: int) -> tuple[str, bytes]:
        """What a record keeps of ``row``: the model's name and the vector's bytes (none for a
        zero vector, a sentence that is no claim); nothing when this process has no such row."""
        if row >= self.rows:
            return "", b""
        vector = self.matrix[row]
        return self.encoder.name, encode_vector(vector) if vector.any() else b""

    def _cosines(self, vector: np.ndarray) -> np.ndarray:
        """The vector's cosine with every row; the last answer is kept while the rows are unchanged,
        as a claim's verdict asks twice (closest overall, closest per language)."""
        last = self._last_cosines
        if last is not None and last[0] is vector and last[1] == self.rows:
            return last[2]
        sims = self.matrix[:self.rows] @ vector
        self._last_cosines = (vector, self.rows, sims)  # holds the vector: its identity stays its own
        return sims

    def nearest(self, vector: np.ndarray | None) -> tuple[int | None, float]:
        """The row closest in meaning (cosine of unit vectors), and that similarity."""
        if vector is None or not self.rows:
            return None, 0.0
        sims = self._cosines(vector)
        idx = int(np.argmax(sims))
        return idx, float(sims[idx])

    def nearest_by_lang(self, vector: np.ndarray | None, lang: str, allowed: np.ndarray | None = None
                        ) -> tuple[tuple[int | None, float], tuple[int | None, float]]:
        """The rows closest in meaning in ``lang`` and in the other languages, each with its cosine
        (among the ``allowed`` rows only, a boolean mask, when given)."""
        if vector is None or not self.rows:
            return (None, 0.0), (None, 0.0)
        sims = self._cosines(vector)
        same = np.frombuffer(self._row_langs, dtype=np.int8) == self._lang_codes.get(lang, -1)
        out: list[tuple[int | None, float]] = []
        for mask in (same, ~same):
            if allowed is not None:
                mask = mask & allowed[:self.rows]
            if not mask.any():
                out.append((None, 0.0))
                continue
            masked = np.where(mask, sims, -2.0)
            idx = int(np.argmax(masked))
            out.append((idx, float(sims[idx])))
        return out[0], out[1]


def encode_vector(vector: np.ndarray) -> bytes:
    """A unit vector as float16 bytes (768 bytes for 384 dimensions; cosines stay within 1e-3)."""
    return np.asarray(vector, dtype=np.float16).tobytes()


def decode_vector(value: bytes | None) -> np.ndarray | None:
    if not value:
        return None
    try:
        return np.frombuffer(value, dtype=np.float16).astype(np.float32)
    except ValueError:
        return None
