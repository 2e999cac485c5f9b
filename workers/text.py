"""Language-aware text analysis, pure: sentences, content lemmas, names and figures.

Libraries do the linguistic work: sentencex splits sentences (~300 languages), simplemma
lemmatises (54 languages, dictionaries shipped in the wheel), stop-words gives stop lists.
Everything is folded (case, diacritics, ё) with ``monitor.filters.fold`` so that spellings meet;
names are also transliterated to Latin (anyascii), so Гладков in a Russian article meets Gladkov.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata

import sentencex
from anyascii import anyascii
from stop_words import get_stop_words

from monitor.filters import fold
from workers.lexicon import calendar_spans, is_calendar_word
from workers.wordlists import Wordlists

LANGUAGES = ("en", "ru", "uk")
TERMS_FORMAT = 3  # bump when ``Analyzer.terms`` changes what it yields
_LIBRARIES = ("simplemma", "stop-words", "anyascii")
# a word this frequent (wordfreq's Zipf scale: once in 30,000 words) is everyday language, not a
# name, when it opens a sentence ("Ранее", "Meanwhile"), even where the dictionary lacks it
COMMON_ZIPF = 4.5
_SEP = "\x1e"
_UNPACKABLE = re.compile(r"[\s\x1e\x1f]|^#")
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
    # the names that are words of the language too ("Свобода", "Минобороны", "Wagner"): another
    # language translates them rather than spelling them alike
    worded: frozenset[str] = frozenset()
    # the first word, taken for a name as neither the dictionary nor everyday use knows it: it may be
    # a word all the same ("Антипутінські"), so it never makes a claim new on its own
    lead: frozenset[str] = frozenset()

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
    """Holds the per-language resources; build one per process and pass it in (it is read-only).

    A language's dictionary and word frequencies (``workers.wordlists``, memory-mapped) are read on
    its first use; ``load`` reads them all now (a worker, before its first article).

    Words recur (a story's names, function words), so what a word yields in a language (its folded
    form, its folded lemma, whether the dictionary knows it, its Latin spelling as a name) is worked
    out once per process and kept in a bounded cache: the analysis is a pure function of the word.
    """

    def __init__(self, languages: tuple[str, ...] = LANGUAGES, cache_words: int = 1 << 18,
                 wordlists: Wordlists | None = None):
        self.languages = languages
        self.wordlists = wordlists or Wordlists()
        self._word = lru_cache(maxsize=cache_words)(self._analyse_word)
        self.general_frequency = lru_cache(maxsize=1 << 16)(self._general_frequency)
        # each language's writing system, read off its stop words (None: unknown, always a candidate)
        self._scripts = {lang: _script_of("".join(_stopwords(lang))) for lang in languages}
        # what packed terms were made with: another analysis (libraries, languages) reads them as absent
        self.terms_version = hashlib.blake2b(repr((TERMS_FORMAT, languages, *map(_version, _LIBRARIES))).encode(),
                                             digest_size=4).hexdigest()

    def load(self) -> None:
        """Read every language's dictionary and word frequencies now, not on the first article."""
        for lang in self.languages:
            self.wordlists.load(lang)

    def _general_frequency(self, term: str, lang: str) -> float:
        """How often the word occurs in the language at large (wordfreq; words it does not list: 1e-8)."""
        return 10 ** (max(self.wordlists.zipf(term, lang), 1.0) - 9)

    def language(self, text: str, hint: str | None = None) -> str:
        """The page's declared language if we analyse it, else the likeliest of ours. Only languages
        written in the text's script are weighed (simplemma's detection lemmatises every word in
        every candidate language: a Latin-script page is not tried as Russian)."""
        if hint:
            code = hint.split("-")[0].lower()
            if code in self.languages:
                return code
        sample = text[:2000]
        script = _script_of(sample)
        candidates = tuple(lang for lang in self.languages if self._scripts[lang] in (script, None))
        if len(candidates) == 1:
            return candidates[0]
        scores = self.wordlists.langdetect(sample, candidates or self.languages)
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
        return fold(self.wordlists.lemmatize(word, lang) if lang in self.languages else word)

    def _analyse_word(self, word: str, lang: str) -> tuple[str, str, bool, bool, bool] | None:
        """(folded lemma, Latin spelling as a name, a dictionary word?, a month or weekday?, a common
        word of the language?), or None for a stop word."""
        w = _POSSESSIVE.sub("", word)
        folded = fold(w)
        if folded in _stopwords(lang) or len(folded) < 2:
            return None
        # one spelling across scripts: Гладков = gladkov
        return (self.lemma(w, lang), fold(anyascii(w)), self.wordlists.is_known(w.lower(), lang),
                is_calendar_word(folded, w[:1].isupper()), self.wordlists.zipf(w.lower(), lang) >= COMMON_ZIPF)

    def terms(self, sentence: str, lang: str) -> Terms:
        content: set[str] = set()
        names: set[str] = set()
        worded: set[str] = set()
        lead: set[str] = set()
        words = _WORD.findall(sentence)
        for i, w in enumerate(words):
            if not w.isalpha() and any(ch.isdigit() for ch in w):
                continue
            seen = self._word(w, lang)
            if seen is None:
                continue
            lemma, spelling, known, calendar, common = seen
            if calendar:  # "June", "Tuesday", "мая": when, not who or what
                continue
            # the first word is a name only if neither the dictionary nor everyday use knows it ("Ранее")
            if w[0].isupper() and (i > 0 or not (known or common)):
                names.add(spelling)
                if known:
                    worded.add(spelling)
                elif i == 0:  # capitalised as the first word: a name, or a word the dictionary lacks
                    lead.add(spelling)
            content.add(lemma)
        return Terms(frozenset(content), frozenset(names), figures(sentence), len(words), frozenset(worded),
                     frozenset(lead))

    def pack(self, terms: Terms) -> str | None:
        """``terms`` as one string for a known sentence's record, so other workers index it without
        analysing the text again (None if a term could not be told apart in that form)."""
        content = sorted(terms.content)
        if any(not t or _UNPACKABLE.search(t) for g in (content, terms.names, terms.numbers) for t in g):
            return None
        at = {t: i for i, t in enumerate(content)}  # a name spelled as a content term: its position
        names = sorted(terms.names)
        named = {t: i for i, t in enumerate(names)}  # the worded and lead names: their positions there
        return _SEP.join([self.terms_version, " ".join(content),
                          " ".join(f"#{at[n]}" if n in at else n for n in names), " ".join(sorted(terms.numbers)),
                          str(terms.words), " ".join(str(named[n]) for n in sorted(terms.worded)),
                          " ".join(str(named[n]) for n in sorted(terms.lead))])

    def unpack(self, packed: str | None) -> Terms | None:
        """The terms ``pack`` made with this same analysis, else None (the text is analysed again)."""
        parts = packed.split(_SEP) if packed else []
        if len(parts) != 7 or parts[0] != self.terms_version or not parts[4].isdigit():
            return None
        content = parts[1].split(" ") if parts[1] else []
        try:
            names = [content[int(n[1:])] if n[:1] == "#" else n for n in parts[2].split(" ") if n]
            worded = [names[int(i)] for i in parts[5].split(" ") if i]
            lead = [names[int(i)] for i in parts[6].split(" ") if i]
        except (ValueError, IndexError):
            return None
        numbers = [n for n in parts[3].split(" ") if n]
        return Terms(frozenset(content), frozenset(names), frozenset(numbers), int(parts[4]), frozenset(worded),
                     frozenset(lead))


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def _script_of(text: str, letters: int = 400) -> str | None:
    """The writing system of most of the first ``letters`` letters (LATIN, CYRILLIC, GREEK, ...)."""
    counts: dict[str, int] = {}
    seen = 0
    for ch in text:
        if ch.isalpha():
            script = "LATIN" if ch.isascii() else unicodedata.name(ch, "?").split(" ", 1)[0]
            counts[script] = counts.get(script, 0) + 1
            seen += 1
            if seen >= letters:
                break
    return max(counts, key=counts.__getitem__) if counts else None


def figures(sentence: str) -> frozenset[str]:
    """The sentence's figures, without the digits of its dates ("on 6 June", "May 22", "2023"):
    a date says when, and a restatement that dates what the known text gave as a weekday is not a
    new figure ("39 killed" after "70 killed" is)."""
    spans = calendar_spans(sentence)
    out = set()
    for m in _DIGITS.finditer(sentence):
        if any(a <= m.start() < b for a, b in spans):
            continue
        out.add(m.group().replace(",", "."))
    return frozenset(out)


def years(text: str) -> set[int]:
    return {int(y) for y in _YEAR.findall(text)}
