"""Letters that look alike across Latin and Cyrillic, folded to one letter for keyword matching.

A Ukrainian ``Бiлгород`` typed with a Latin ``i``, a Russian ``Бeлгoрoд`` with Latin ``e``/``o``, or
``Вelgorod`` with a Cyrillic ``В`` read the same to a person; keywords and text meet only if such
letters are folded alike. The table is Unicode's confusables data (UTS #39, ``confusables.txt``)
restricted to a Cyrillic letter whose look-alike is a basic Latin letter (a-z, A-Z), taken in
casefolded form so that folding commutes with case (``В`` looks like ``B``, so ``в`` -> ``b``;
``г`` looks like ``r``, so ``г`` and ``Г`` -> ``r``). Where a capital and a small letter disagree,
the small one's look-alike wins (``І`` looks like ``l``, ``і`` like ``i``: ``і`` -> ``i``). 28 letters;
tests/unit/test_lookalikes.py derives the same table from the confusable-homoglyphs package's copy
of ``confusables.txt`` (a test dependency only: the table is small and changes with Unicode rarely).

Only the keyword matcher uses it (``monitor.filters.words``): ``fold`` itself, which the language
analysis and deduplication share, keeps each script's letters. A Cyrillic word thus becomes a mix
of scripts (``белгород`` -> ``бeлropoд``) on both sides of a match alike; a cross-script false match
needs a real word spelt entirely in look-alikes of another (``рак``/``pak``), which keywords rarely are.
"""

from __future__ import annotations

CYRILLIC_TO_LATIN: dict[str, str] = {
    "а": "a", "в": "b", "г": "r", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "ь": "b",
    "ѕ": "s", "і": "i", "ј": "j", "ѡ": "w", "ѵ": "v", "ү": "y", "һ": "h", "ҽ": "e", "ӏ": "i",
    "ԁ": "d", "ԍ": "g", "ԛ": "q", "ԝ": "w", "ꙇ": "i",
}
_TABLE = str.maketrans(CYRILLIC_TO_LATIN)


def fold_lookalikes(folded: str) -> str:
    """``folded`` (already casefolded) with each Cyrillic look-alike of a Latin letter replaced by it."""
    return folded.translate(_TABLE)
