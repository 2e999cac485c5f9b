"""A long known sentence's parts, and how close a claim comes to the nearest of them.

A report often packs several facts into one sentence ("The group claimed to have crossed the border
and overrun Kozinka on May 22, while also sending units into Grayvoron"); a later article restates
one of them alone ("It also claims to have dispatched units into Grayvoron"). A sentence vector
averages its parts, so the restatement is far from the whole however close it is to the part. The
parts are the runs of the sentence's clauses (split where a comma, semicolon, colon or dash meets
the next word, and between the sentences of a quotation kept whole); a claim's meaning is compared
with each run, and the closest counts as the known sentence's.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from workers.embed import Encoder

# where a clause ends: a comma, semicolon, colon or dash before the next word, or the end of a sentence
# that the splitter kept whole because it sits in a quotation ("“... their future. It’s time ...”")
_BREAK = re.compile(r"[,;:]\s+|\s+[–—-]+\s+|(?<=[a-zа-яёіїєґ]{3}[.!?])[”\"»]?\s+(?=[“\"«]?[A-ZА-ЯЁІЇЄҐ])")
MIN_WORDS = 4  # a clause shorter than this joins the one before it ("armoured vehicles among them")
MOST_CLAUSES = 5  # beyond this, the shortest neighbours join: at most 14 runs a sentence


def parts(sentence: str) -> list[str]:
    """Every run of one or more consecutive clauses of ``sentence`` but the whole (none for a
    sentence of one clause)."""
    cuts = [0]
    for m in _BREAK.finditer(sentence):
        cuts.append(m.start())
        cuts.append(m.end())
    cuts.append(len(sentence))
    clauses = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts), 2)]
    merged: list[tuple[int, int]] = []
    for start, end in clauses:
        if merged and len(sentence[start:end].split()) < MIN_WORDS:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    if len(merged) > 1 and len(sentence[merged[0][0]:merged[0][1]].split()) < MIN_WORDS:
        merged[:2] = [(merged[0][0], merged[1][1])]
    while len(merged) > MOST_CLAUSES:
        sizes = [len(sentence[a:b].split()) + len(sentence[c:d].split())
                 for (a, b), (c, d) in zip(merged, merged[1:], strict=False)]
        i = sizes.index(min(sizes))
        merged[i:i + 2] = [(merged[i][0], merged[i + 1][1])]
    n = len(merged)
    return [sentence[merged[i][0]:merged[j][1]].strip(" ,;:–—-") for i in range(n) for j in range(i, n)
            if (i, j) != (0, n - 1)]


class PartVectors:
    """The vectors of known sentences' parts, encoded on first need and kept (a bounded cache: a
    claim is compared with the parts of the few known sentences its verdict hangs on). Kept as
    float16, as known vectors travel: 1,024 sentences of 2 to 14 parts take 2 to 15 MB with USE."""

    def __init__(self, encoder: Encoder, size: int = 1024) -> None:
        self.encoder = encoder
        self.size = size
        self._cache: OrderedDict[str, tuple[np.ndarray, np.ndarray]] = OrderedDict()

    def closest(self, sentence: str, vector: np.ndarray, words: int) -> float:
        """The cosine between ``vector``, a claim of ``words`` words, and the nearest part of
        ``sentence`` long enough to say as much (half the claim's words: "Vyacheslav Gladkov, the
        governor of Belgorod region" names whom a longer claim is about, not what it says); 0.0 if
        none is."""
        hit = self._cache.get(sentence)
        if hit is None:
            found = parts(sentence)
            rows = (self.encoder.encode(found) if found else np.zeros((0, 1))).astype(np.float16)
            hit = rows, np.array([len(p.split()) for p in found], dtype=np.int32)
            self._cache[sentence] = hit
            if len(self._cache) > self.size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(sentence)
        rows, sizes = hit
        fit = sizes * 2 >= words
        return float((rows[fit] @ vector).max()) if fit.any() else 0.0
