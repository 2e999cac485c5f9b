"""A watch's learned profile: the word stems of its story, for the poller's first pass.

Keywords are what a user writes down; the story soon speaks in other words too: the raiders'
weapons, a US official, a village no keyword names. An entry whose title and summary hold none of
the keywords is still worth reading when they hold ``PROFILE_MATCHES`` distinct stems of terms the
workers found *topical* for the watch (at least a hundred times more frequent in its knowledge than
in the language at large: ``workers.knowledge.Knowledge.topical``). The article's relevance is then
judged on its full text like any other. A stem is the first ``STEM`` letters of a folded word (the
whole word when shorter), so inflected forms meet their lemma (Белгородской / белгородский,
fighters / fighter) without a lemmatiser in the poller.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from monitor.filters import fold

STEM = 5
MIN_WORD = 4  # shorter words (of, RDK's "рдк" aside) carry too little to count
PROFILE_MATCHES = 3  # distinct topical stems in a title and summary that make an entry worth a fetch
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def stem(word: str) -> str:
    return word[:STEM]


def stems(text: str) -> set[str]:
    """The stems of a text's words (folded first)."""
    return {stem(w) for w in _WORD.findall(fold(text)) if len(w) >= MIN_WORD}


def term_stems(terms: Iterable[str]) -> set[str]:
    """The stems of already folded terms (lemmas, names), as the workers record them."""
    return {stem(t) for t in terms if len(t) >= MIN_WORD and _WORD.fullmatch(t)}


def admits(text: str, profile: set[str] | frozenset[str], need: int = PROFILE_MATCHES) -> bool:
    """Do the title and summary hold ``need`` distinct stems of the watch's story?"""
    return bool(profile) and len(stems(text) & profile) >= need
