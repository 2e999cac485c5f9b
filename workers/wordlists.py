"""simplemma's dictionaries and wordfreq's lists as memory-mapped tries: a few MB, not 430 MB per process.

The two libraries load a language's data as Python dicts (simplemma's Russian: 141 MB; wordfreq's:
124 MB; en + ru + uk: 430 MB in each worker, and 3 s of CPU to build). Here the same data goes once
into MARISA tries (``marisa-trie``, the structure simplemma offers for this: its
``TrieDictionaryFactory``), written to a cache folder and memory-mapped: a process reads only the
pages it touches, every process on the machine shares them, and loading takes milliseconds.
Lookups give exactly what the libraries give (tests/unit/test_wordlists.py compares them); a
language is loaded on its first use, so `check` on an English page reads no Russian.

The cache folder (``default_cache_dir``: the user's cache, or ``$XDG_CACHE_HOME``) holds one file per
language and library version; it is built on first use (Russian: about 3 s) and written atomically,
so two workers starting at once at worst both build it. An unwritable folder costs only the build
in memory.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import marisa_trie
import platformdirs
import simplemma
from simplemma.strategies import DefaultStrategy, DictionaryLookupStrategy
from simplemma.strategies.dictionaries.dictionary_factory import (
    SUPPORTED_LANGUAGES,
    CachingDictionaryFactory,
    _load_dictionary_from_disk,
)
from simplemma.strategies.dictionaries.trie_dictionary_factory import TrieWrapDict
from simplemma.utils import normalize_token
from wordfreq import cB_to_freq, freq_to_zipf, get_frequency_list
from wordfreq.numbers import digit_freq, smash_numbers
from wordfreq.tokens import lossy_tokenize

log = logging.getLogger(__name__)
_ZIPF_FORMAT = "<H"  # a word's wordfreq bucket (centibels below the most frequent word)


def default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("claimwatch"))


def _mapped(path: Path, build: Callable[[], Any], empty: Callable[[], Any]) -> Any:
    """The trie saved at ``path`` (built and saved first if absent or damaged), memory-mapped."""
    if path.is_file():
        try:
            return empty().mmap(str(path))
        except RuntimeError as e:  # a damaged file (a full disk, a copy cut short): built again
            log.warning("word lists: %s is damaged (%s); building it again", path, e)
    trie = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        os.close(fd)
        trie.save(tmp)
        os.chmod(tmp, 0o644)  # other users of a shared cache (a container's prebuilt one) read it
        os.replace(tmp, path)  # readers see the whole file or none
    except OSError as e:
        log.warning("word lists: cannot cache %s (%s); kept in memory", path, e)
        return trie
    return empty().mmap(str(path))


class _Dictionaries(CachingDictionaryFactory):
    """simplemma's dictionaries, one memory-mapped trie per language (``DictionaryFactory``)."""

    def __init__(self, folder: Path) -> None:
        super().__init__(cache_max_size=len(SUPPORTED_LANGUAGES))
        self._folder = folder

    def _get_dictionary_uncached(self, lang: str) -> Mapping[str, str]:
        if lang not in SUPPORTED_LANGUAGES:
            raise ValueError(f"Unsupported language: {lang}")

        def build() -> marisa_trie.BytesTrie:
            return marisa_trie.BytesTrie((k.decode(), v) for k, v in _load_dictionary_from_disk(lang).items())

        return TrieWrapDict(_mapped(self._folder / f"{lang}.marisa", build, marisa_trie.BytesTrie))


class Wordlists:
    """Lemmas and dictionary membership (simplemma), language guesses among a few languages, and how
    common a word is in a language at large (wordfreq's Zipf scale): read-only, one per process."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        folder = cache_dir or default_cache_dir()
        self._simplemma = folder / f"simplemma-{simplemma.__version__}"
        self._wordfreq = folder / f"wordfreq-{metadata.version('wordfreq')}"
        factory = _Dictionaries(self._simplemma)
        self._strategy = DefaultStrategy(dictionary_factory=factory)
        self._lookup = DictionaryLookupStrategy(factory)
        self._lemmatizer = simplemma.Lemmatizer(lemmatization_strategy=self._strategy)
        self._frequencies: dict[str, marisa_trie.RecordTrie] = {}

    def load(self, lang: str) -> None:
        """Map the language's data now rather than on its first word."""
        self._lemmatizer.lemmatize("warmup", lang)
        self.zipf("news", lang)

    def lemmatize(self, word: str, lang: str) -> str:
        return self._lemmatizer.lemmatize(word, lang)

    def is_known(self, word: str, lang: str) -> bool:
        return self._lookup.get_lemma(normalize_token(word), lang) is not None

    def langdetect(self, text: str, langs: Iterable[str]) -> list[tuple[str, float]]:
        """``simplemma.langdetect`` over these dictionaries: (language, share of words it knows), best first."""
        langs = tuple(langs)
        results: list[tuple[str, float]] = []
        for sampler in (simplemma.MostCommonTokenSampler(), simplemma.RelaxedMostCommonTokenSampler()):
            shares = simplemma.LanguageDetector(langs, sampler, self._strategy).proportion_in_each_language(text)
            results = sorted(shares.items(), key=lambda item: (item[0] == "unk", -item[1]))
            if len(results) == 1 or results[0][1] != results[1][1]:
                break
        return results

    def zipf(self, word: str, lang: str) -> float:
        """``wordfreq.zipf_frequency(word, lang)``, read from the mapped list."""
        return _zipf(word, lang, self._frequency_list(lang))

    def _frequency_list(self, lang: str) -> marisa_trie.RecordTrie:
        trie = self._frequencies.get(lang)
        if trie is None:

            def build() -> marisa_trie.RecordTrie:
                buckets = get_frequency_list(lang)
                return marisa_trie.RecordTrie(_ZIPF_FORMAT, ((w, (i,)) for i, words in enumerate(buckets)
                                                             for w in words))

            trie = _mapped(self._wordfreq / f"{lang}.marisa", build, lambda: marisa_trie.RecordTrie(_ZIPF_FORMAT))
            self._frequencies[lang] = trie
        return trie


@functools.lru_cache(maxsize=1 << 16)
def _tokens(word: str, lang: str) -> tuple[str, ...]:
    return tuple(lossy_tokenize(word, lang))


def _zipf(word: str, lang: str, buckets: marisa_trie.RecordTrie) -> float:
    """wordfreq's ``_word_frequency`` (tokens' frequencies combined as 1/f = 1/f1 + 1/f2 ..., digit
    sequences smashed and priced, 3 significant digits) then ``zipf_frequency``'s rounding."""
    minimum = 1e-9  # zipf_frequency's minimum=0.0: Zipf 0
    one_over = 0.0
    tokens = _tokens(word, lang)
    for token in tokens:
        smashed = smash_numbers(token)
        found = buckets.get(smashed)
        if not found:
            one_over = 0.0
            break
        freq = cB_to_freq(-found[0][0])
        if smashed != token:
            freq *= digit_freq(token)
        one_over += 1.0 / freq
    if not one_over:
        return round(freq_to_zipf(minimum), 2)
    freq = max(1.0 / one_over, minimum)
    return round(freq_to_zipf(round(freq, math.floor(-math.log(freq, 10)) + 3)), 2)
