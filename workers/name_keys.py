"""A name's key across transliterations: Бєлгородщину, Белгородской and Belgorod, Грайвороне and
Grayvoron, Олексія and Alexei spell their consonants alike once their Latin spellings are folded.

The key is the name's first consonants after folding the letters the transliteration of English,
Russian and Ukrainian names swaps (Ukrainian г is h, Russian g; kh, ch, sh, ts, w, c, x), dropping
vowels and doubled letters; the same idea as Soundex, for Cyrillic-born names. It matches a name
of an article in a language the watch does not read yet to one it knows (``workers.relevance``).
"""

from __future__ import annotations

import re

_DIGRAPHS = (("shch", "s"), ("kh", "g"), ("zh", "z"), ("sh", "s"), ("ch", "c"), ("ts", "c"), ("h", "g"),
             ("w", "v"), ("c", "k"), ("q", "k"), ("x", "ks"), ("j", "y"))
_NOT_LATIN = re.compile(r"[^a-z]")
_VOWELS = re.compile(r"[aeiouy]")
_DOUBLED = re.compile(r"(.)\1+")
STEM = 5  # letters a name and its inflected forms share at least (Козинка, Козинкой, Козинку)
ENDING = 3  # letters an inflection may change at a name's end
LONG = 4  # consonants of a key; a name with only three is matched on three (Moscow, Moskva)
SHORT = 3  # fewer say too little (Rosii, Russia): no key


def name_key(name: str) -> str | None:
    """The consonant key of a folded Latin spelling, or None when it has fewer than SHORT."""
    s = _NOT_LATIN.sub("", name.lower())
    for pair, one in _DIGRAPHS:
        s = s.replace(pair, one)
    s = _DOUBLED.sub(r"\1", _VOWELS.sub("", s))
    return s[:LONG] if len(s) >= SHORT else None


class NameKeys:
    """The keys of the names a watch knows, and their stems."""

    def __init__(self) -> None:
        self._long: set[str] = set()
        self._short: set[str] = set()
        self._stems: set[str] = set()  # every prefix of STEM letters or more of a known name

    def add(self, name: str) -> None:
        key = name_key(name)
        if key:
            (self._long if len(key) == LONG else self._short).add(key)
        self._stems.update(name[:n] for n in range(STEM, len(name) + 1))

    def inflects(self, name: str) -> bool:
        """Is ``name`` a known name with another case ending, in one spelling (Kozinkoy for Kozinka,
        Gladkova for Gladkov): all but its last ENDING letters, STEM at least, begin a known name?"""
        return len(name) >= STEM and name[:max(STEM, len(name) - ENDING)] in self._stems

    def match(self, name: str) -> str | None:
        """The key by which ``name`` meets a known name, or None."""
        key = name_key(name)
        if key is None:
            return None
        if key in self._long or key[:SHORT] in self._short:
            return key
        return None
