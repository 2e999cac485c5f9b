"""The exact best weighted coverage of a claim's terms over the known sentences' postings: the
lexical novelty lookup behind ``Knowledge.nearest`` (p99 2.0 ms at 500k known sentences, where
scoring every posting took 7.7-57 ms; benchmarks/memory.py), in a module of its own.
"""

from __future__ import annotations

import numpy as np

_SLACK = 1e-9  # of the total weight: sums in another order differ by far less; prune only what is clearly below
_FIRST = 2_000  # postings of the rarest terms read first, to find a good sentence to beat
_SMALL = 20_000  # postings of all the claim's terms up to which pruning does not pay
_DENSE = 8  # candidates' postings past 1/_DENSE of all sentences: sum every posting at once (bincount)


class Search:
    """The best weighted coverage of one claim's terms (``workers.knowledge.Knowledge.nearest``), exactly.

    Prefix filtering and max-score, as in set-similarity joins: with the terms sorted rarest
    (heaviest) first, a sentence that holds none of the first ``j`` scores at most ``rest[j]``, the
    sum of the others' weights. So once some sentence is known to score ``bar``, only the sentences
    holding one of the rare terms whose weights sum past ``total - bar`` can do better: their
    (short) postings give the candidates, and the common terms' long postings are binary-searched
    for those candidates that can still reach the best, heaviest first, never read whole. A first
    pass over the rarest terms' few postings finds that ``bar``.

    ``hits``: (sorted indexes of the sentences holding the term, its weight), in the claim's term
    order. The final scores are summed in that order, as summing all postings at once (bincount)
    does, so both give the same floats and the same winner (ties to the earliest sentence)."""

    def __init__(self, hits: list[tuple[np.ndarray, float]], total: float, n: int, scratch: np.ndarray):
        self.hits, self.n, self.scratch, self.slack = hits, n, scratch, total * _SLACK
        self.order = sorted(range(len(hits)), key=lambda i: -hits[i][1])  # rarest (heaviest) first
        self.rest = [0.0] * (len(hits) + 1)  # rest[j]: the most a sentence holding none of order[:j] scores
        for j in range(len(hits) - 1, -1, -1):
            self.rest[j] = self.rest[j + 1] + hits[self.order[j]][1]

    def _prefix(self, bar: float) -> int:
        """How many of the rarest terms a sentence scoring ``bar`` or more holds one of, at least."""
        for j in range(1, len(self.hits)):
            if self.rest[j] + self.slack < bar:
                return j
        return len(self.hits)

    def _size(self, k: int) -> int:
        return sum(len(self.hits[i][0]) for i in self.order[:k])

    def best(self) -> tuple[int, float]:
        """(sentence index, score) of the best sentence, ties to the earliest."""
        if len(self.hits) == 1:
            return int(self.hits[0][0][0]), self.hits[0][1]
        if self._size(len(self.hits)) <= _SMALL:  # few postings in all: summing them all is quicker
            return self._dense()
        few = 1
        while few < len(self.hits) - 1 and self._size(few + 1) <= _FIRST:
            few += 1
        first = self._candidates(few, 0.0)  # the best of those holding the rarest terms: a score to beat
        k = self._prefix(first[1])
        if k <= few:  # no other sentence can do better
            return first
        if self._size(k) * _DENSE > self.n:  # most sentences are candidates: no pruning
            return self._dense()
        return self._candidates(k, first[1])

    def _dense(self) -> tuple[int, float]:
        scores = np.bincount(np.concatenate([h for h, _ in self.hits]),
                             weights=np.concatenate([np.full(len(h), w) for h, w in self.hits]))
        idx = int(np.argmax(scores))
        return idx, float(scores[idx])

    def _candidates(self, k: int, bar: float) -> tuple[int, float]:
        """The best of the sentences holding one of the ``k`` rarest terms; it is the best of all when
        some sentence is known to score ``bar`` and ``k`` is ``_prefix(bar)`` or more."""
        rare, rest, slack = self.order[:k], self.rest, self.slack
        postings = [self.hits[i][0] for i in rare]
        held = np.concatenate(postings) if k > 1 else postings[0]
        sums = self.scratch  # zeros: each sentence's rare terms' weight is summed in place, then reset
        try:
            for i in rare:
                sums[self.hits[i][0]] += self.hits[i][1]
            vals = sums[held]
            lower = max(float(vals.max()) - slack, bar)  # the best scores at least this
            cand = np.unique(held[vals + (rest[k] + slack) >= lower])
            part = sums[cand]
        finally:
            sums[held] = 0.0
        for j in range(k, len(self.order)):  # the other terms, heaviest first, for the candidates left
            keep = part + (rest[j] + slack) >= lower
            if not keep.all():
                cand, part = cand[keep], part[keep]
            postings_j, w = self.hits[self.order[j]]
            part += _holds(postings_j, cand) * w
            lower = max(lower, float(part.max()) - slack)
        keep = part + slack >= lower
        cand = cand[keep] if not keep.all() else cand
        scores = np.zeros(len(cand))  # exact, summed in the claim's term order
        for postings_i, w in self.hits:
            scores += _holds(postings_i, cand) * w
        best = int(np.argmax(scores))
        return int(cand[best]), float(scores[best])


def _holds(postings: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """Which of the (sorted) candidate sentences are in the (sorted) postings."""
    pos = np.searchsorted(postings, cand)
    return postings[np.minimum(pos, len(postings) - 1)] == cand
