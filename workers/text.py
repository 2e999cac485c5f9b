"""Language-aware text analysis, pure: sentences, content lemmas, names and figures.

Libraries do the linguistic work: sentencex splits sentences (~300 languages), simplemma
lemmatises (54 languages, dictionaries shipped in the wheel), stop-words gives stop lists.
Everything is folded (case, diacritics, ё) with ``monitor.filters.fold`` so that spellings meet;
names are also transliterated to Latin (anyascii), so Гладков in a Russian article meets Gladkov.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import sentencex
import simplemma
from anyascii import anyascii
from stop_words import get_stop_words

from monitor.filters import fold

LANGUAGES = ("en", "ru", "uk")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_DIGITS = re.compile(r"\d+(?:[.,]\d+)?")
_POSSESSIVE = re.compile(r"['’][sS]$")
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
_HTML_LANG = re.compile(r"<html[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3})", re.IGNORECASE)


@dataclass(frozen=True)
class Terms:
    """What a sentence talks about: content lemmas, names (capitalised words), figures."""

    content: frozenset[str]
    names: frozenset[str]
    numbers: frozenset[str]
    words: int  # word count, for the minimum claim length

    @property
    def all(self) -> frozenset[str]:
        return self.content | self.names | self.numbers


@lru_cache(maxsize=16)
def _stopwords(lang: str) -> frozenset[str]:
    try:
        return frozenset(fold(w) for w in get_stop_words(lang))
    except Exception:  # stop-words raises its own error for unknown languages
        return frozenset()


class Analyzer:
    """Holds the per-language resources; build one per process and pass it in (it is read-only)."""

    def __init__(self, languages: tuple[str, ...] = LANGUAGES):
        self.languages = languages
        for lang in languages:  # load the dictionaries now, not on the first article
            simplemma.lemmatize("warmup", lang=lang)
            _stopwords(lang)

    def language(self, text: str, hint: str | None = None) -> str:
        if hint:
            code = hint.split("-")[0].lower()
            if code in self.languages:
                return code
        scores = simplemma.langdetect(text[:2000], lang=self.languages)
        best = scores[0][0] if scores else "unk"
        return best if best in self.languages else self.languages[0]

    @staticmethod
    def html_language(html: str) -> str | None:
        m = _HTML_LANG.search(html[:4096])
        return m.group(1).lower() if m else None

    @staticmethod
    def sentences(paragraph: str, lang: str) -> list[str]:
        out = []
        for s in sentencex.segment(lang if lang != "unk" else "en", paragraph):
            s = " ".join(s.split())
            if s:
                out.append(s)
        return out

    def lemma(self, word: str, lang: str) -> str:
        return fold(simplemma.lemmatize(word, lang=lang) if lang in self.languages else word)

    def terms(self, sentence: str, lang: str) -> Terms:
        stop = _stopwords(lang)
        content: set[str] = set()
        names: set[str] = set()
        words = _WORD.findall(sentence)
        for i, w in enumerate(words):
            if any(ch.isdigit() for ch in w):
                continue
            w = _POSSESSIVE.sub("", w)
            folded = fold(w)
            if folded in stop or len(folded) < 2:
                continue
            lemma = self.lemma(w, lang)
            if w[0].isupper() and (i > 0 or not simplemma.is_known(w.lower(), lang=lang)):
                names.add(fold(anyascii(w)))  # one spelling across scripts: Гладков = gladkov
            content.add(lemma)
        numbers = {n.replace(",", ".") for n in _DIGITS.findall(sentence)}
        return Terms(frozenset(content), frozenset(names), frozenset(numbers), len(words))


def years(text: str) -> set[int]:
    return {int(y) for y in _YEAR.findall(text)}
