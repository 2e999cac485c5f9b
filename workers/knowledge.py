"""What a watch knows: its seed corpus and every accepted article, as an in-memory sentence index.

The list of known sentences lives in Redis (``Store.known``); each worker process keeps this index
of it and reads only what was appended since its last sync. Terms are weighted by how rare they are
in the watch's knowledge (IDF), so "Belgorod" counts for little in a Belgorod watch and a new name
or figure counts for much. With an encoder (``workers.embed``), each sentence also has a unit
vector (``workers.vectors``), so a paraphrase in other words is found too. The published dates of accepted articles tell
when the watched events are in the news.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np
from rapidfuzz import fuzz, process

from monitor.profile import term_stems
from monitor.store import KnownRecord, Store
from workers.clauses import PartVectors
from workers.day_index import DayIndex
from workers.days import Day
from workers.embed import Encoder
from workers.lookup import Search
from workers.name_keys import NameKeys
from workers.text import Analyzer, Terms
from workers.vectors import Vectors

_FUZZY_MIN_LEN = 5  # names shorter than this match only exactly
_FUZZY_SCORE = 85  # rapidfuzz ratio at which two spellings are one name (Kozina / Kozinka)
NAME_STEM = 4  # letters that tie a transliterated, inflected name to its spelling in another language
TOPICAL_LIFT = 100.0  # how much more often than in everyday language a term of the story occurs in it


@dataclass(frozen=True)
class KnownSentence:
    text: str
    terms: Terms
    source: str  # "seed:<file>" or the article URL
    kind: str  # seed | article | alert
    idx: int = 0  # position in the knowledge
    lang: str = "en"


class Knowledge:
    def __init__(self, watch: str, analyzer: Analyzer, encoder: Encoder | None = None):
        self.watch = watch
        self.analyzer = analyzer
        self.encoder = encoder
        self.items: list[KnownSentence] = []
        self.postings: defaultdict[str, array[int]] = defaultdict(lambda: array("i"))  # term -> sentence indexes
        self.df: Counter[str] = Counter()
        self.name_counts: Counter[str] = Counter()
        self.dates: list[date] = []  # published dates of the accepted articles
        self.langs: Counter[str] = Counter()  # known sentences per language
        self.term_total = 0  # content terms over all known sentences
        self.synced = 0  # how many of the Redis list's entries are in this index
        self.offtopic: Counter[str] = Counter()  # terms of articles a user said were not about the watch
        self.skipped = 0  # the list's "offtopic" entries: counted there, not known sentences
        self._alias: dict[tuple[str, bool], str] = {}  # fuzzy matches: (term, is a name) -> known spelling
        self._misses: set[tuple[str, bool]] = set()  # and the terms that matched nothing
        self._shelved = False  # a word was shelved since the misses were last forgotten
        # the vocabulary by (is a name, first letter) and length, for fuzzy matching
        self._shelves: defaultdict[tuple[bool, str], dict[int, list[str]]] = defaultdict(dict)
        self.vectors = Vectors(encoder) if encoder is not None else None  # row i: items[i]'s meaning
        self.parts = PartVectors(encoder) if encoder is not None else None  # their clauses' (``workers.clauses``)
        self._source_terms: dict[str, set[str]] = {}
        self._source_stems: dict[str, set[str]] = {}  # their first NAME_STEM letters (names across languages)
        self.name_keys = NameKeys()  # the names it knows, by their keys across transliterations
        self.day_index = DayIndex()  # the days each text names (``workers.days``)
        self._sums = np.zeros(0)  # nearest()'s scratch, one float per sentence (not for two threads at once)

    # ------------------------------------------------------------------ building

    def add(self, text: str, lang: str, source: str, kind: str, terms: Terms | None = None,
            vector: np.ndarray | None = None) -> KnownSentence:
        terms = terms or self.analyzer.terms(text, lang)
        idx = len(self.items)
        item = KnownSentence(text, terms, source, kind, idx, lang)
        self.items.append(item)
        self.langs[lang] += 1
        self._source_terms.setdefault(source, set()).update(terms.all)
        self._source_stems.setdefault(source, set()).update(t[:NAME_STEM] for t in terms.all)
        self.day_index.add(text, source)
        self.term_total += len(terms.content)
        for t in terms.all:
            self.postings[t].append(idx)
            if not self.df[t]:
                self._shelve(t, name=False)
            self.df[t] += 1
        for t in terms.names:
            if not self.name_counts[t]:
                self._shelve(t, name=True)
                self.name_keys.add(t)
            self.name_counts[t] += 1
        if self.vectors is not None:
            self.vectors.add(text, lang, vector)
        return item

    def encode(self, sentences: list[str], wanted: list[bool] | None = None) -> np.ndarray:
        """The sentences' vectors (``workers.vectors.Vectors.encode``: known ones are reused)."""
        assert self.vectors is not None
        return self.vectors.encode(sentences, wanted)

    def add_records(self, records: list[KnownRecord]) -> None:
        """Known-sentence records as Redis holds them (text, lang, source, kind, published; the
        sentence's terms when packed by the same analysis, and its vector when the worker that judged
        it had the same encoder: neither is computed again)."""
        vectors = self.vectors.of_records(records) if self.vectors is not None else None
        # the sources this index has no sentence of yet: each adds its published date once
        undated = {s for s in (rec.source for rec in records) if s not in self._source_terms}
        for i, rec in enumerate(records):
            source = rec.source
            if rec.kind == "offtopic":  # a user's "not about this watch": its words count against the story
                self.offtopic.update(self.analyzer.unpack(rec.terms).all if rec.terms else
                                     self.analyzer.terms(rec.text, rec.lang).all)
                self.skipped += 1
                continue
            if rec.published and source in undated:  # (before add(): its days resolve by this date)
                undated.discard(source)
                day = day_of(rec.published)
                if day:
                    self.dates.append(day)
                    self.day_index.published(source, day)
            self.add(rec.text, rec.lang, source, rec.kind,
                     terms=self.analyzer.unpack(rec.terms), vector=None if vectors is None else vectors[i])
        if self._shelved:  # a fuzzy miss may match a word shelved since (also by add())
            self._misses.clear()
            self._shelved = False

    def record(self, item: KnownSentence, lang: str, published: str | None) -> KnownRecord:
        """The Redis record of a sentence this process added (with its vector, if any)."""
        model, vector = self.vectors.stored(item.idx) if self.vectors is not None else ("", b"")
        # packed terms: other workers index it without analysing the text again
        return KnownRecord(item.text, item.source, item.kind, lang, published, model, vector,
                           self.analyzer.pack(item.terms) or "")

    @property
    def held(self) -> int:
        """How many of the Redis list's entries this index has read (known sentences and the others)."""
        return len(self.items) + self.skipped

    def sync(self, store: Store) -> int:
        """Read what other workers added since the last sync; returns how many sentences."""
        new = store.known.read(self.watch, start=self.synced)
        self.add_records(new)
        self.synced += len(new)
        return len(new)

    # ------------------------------------------------------------------ lookups

    def weight(self, term: str) -> float:
        n = len(self.items)
        return math.log((n + 1) / (self.df.get(term, 0) + 0.5)) + 1.0

    def canonical(self, term: str, name: bool = False) -> str:
        """A known spelling of ``term`` (exact, else a close fuzzy match for long words)."""
        vocab = self.name_counts if name else self.df
        if term in vocab or len(term) < _FUZZY_MIN_LEN:
            return term
        key = (term, name)
        known = self._alias.get(key)
        if known is not None:
            return known
        if key in self._misses:
            return term
        # fuzz.ratio >= 85 needs the lengths within a factor 0.739..1.353 of each other, and we
        # want the same first letter: search only those words, not the whole vocabulary
        n = len(term)
        shelf = self._shelves.get((name, term[0]), {})
        candidates = [w for size in range(math.ceil(n * 0.739), math.floor(n * 1.353) + 1)
                      for w in shelf.get(size, ())]
        match = process.extractOne(term, candidates, scorer=fuzz.ratio, score_cutoff=_FUZZY_SCORE)
        if match is None:
            self._misses.add(key)  # until add_records() brings new words
            return term
        self._alias[key] = match[0]
        return match[0]

    def _shelve(self, term: str, name: bool) -> None:
        self._shelves[(name, term[0])].setdefault(len(term), []).append(term)
        self._shelved = True

    def normalise(self, terms: Terms) -> Terms:
        return Terms(
            content=frozenset(self.canonical(t) for t in terms.content),
            names=frozenset(self.canonical(t, name=True) for t in terms.names),
            numbers=terms.numbers,
            words=terms.words,
            worded=frozenset(self.canonical(t, name=True) for t in terms.worded),
            lead=frozenset(self.canonical(t, name=True) for t in terms.lead),
        )

    def nearest(self, terms: Terms, specifics_only: bool = False) -> tuple[KnownSentence | None, float]:
        """The known sentence that covers most of ``terms`` (IDF-weighted), and that coverage.

        ``specifics_only``: weigh only names and figures, which read the same across languages.
        Exact: the same sentence (ties to the earliest) and the same float as summing every posting
        of every term per sentence, without reading the common terms' long postings (``workers.lookup.Search``).
        """
        wanted = (terms.names | terms.numbers) if specifics_only else terms.all
        if not wanted:
            return None, 0.0
        weights = {t: self.weight(t) for t in wanted}
        total = sum(weights.values())
        hits = [(np.frombuffer(self.postings[t], dtype=np.int32), w) for t, w in weights.items()
                if self.postings.get(t)]
        if not hits:
            return None, 0.0
        idx, score = Search(hits, total, len(self.items), self._scratch()).best()
        return self.items[idx], score / total

    def _scratch(self) -> np.ndarray:
        """A zeroed float per known sentence, for one lookup (which leaves it zeroed)."""
        if len(self._sums) < len(self.items):
            self._sums = np.zeros(max(1024, len(self.items) * 5 // 4))
        return self._sums

    def source_stems(self, source: str) -> set[str]:
        """The first ``NAME_STEM`` letters of every term of the known text ``source``: a name spelt in
        another language's letters and inflected (Козинкой -> kozinkoy) still meets it (kozinka)."""
        return self._source_stems.get(source, set())

    def source_terms(self, source: str) -> set[str]:
        """Every term of the known text ``source`` (an article, a seed file)."""
        return self._source_terms.get(source, set())

    def speaks(self, lang: str, enough: int = 20) -> bool:
        """Does the watch know enough sentences in ``lang`` to compare words, not only names?
        (``enough`` of them, or half of all it knows, for a small knowledge.)"""
        return self.langs[lang] >= min(enough, len(self.items) / 2)

    def nearest_vector(self, vector: np.ndarray | None) -> tuple[KnownSentence | None, float]:
        """The known sentence closest in meaning (cosine of unit vectors), and that similarity."""
        return self._item(self.vectors.nearest(vector)) if self.vectors is not None else (None, 0.0)

    def nearest_vectors(self, vector: np.ndarray | None, lang: str, claim_days: list[Day] | None = None
                        ) -> tuple[tuple[KnownSentence | None, float], tuple[KnownSentence | None, float]]:
        """The known sentences closest in meaning in ``lang`` and in the other languages, each with
        its cosine (a translation scores lower than a paraphrase: the two are weighed apart); with
        ``claim_days``, only among the texts that name those days."""
        if self.vectors is None:
            return (None, 0.0), (None, 0.0)
        allowed = self.day_index.rows_naming(claim_days) if claim_days else None
        same, other = self.vectors.nearest_by_lang(vector, lang, allowed)
        return self._item(same), self._item(other)

    def _item(self, hit: tuple[int | None, float]) -> tuple[KnownSentence | None, float]:
        return (None, 0.0) if hit[0] is None else (self.items[hit[0]], hit[1])

    def unknown_numbers(self, terms: Terms) -> set[str]:
        return {n for n in terms.numbers if n not in self.df}

    def topical(self, term: str, lang: str) -> bool:
        """Is ``term`` characteristic of this watch's story: known, and at least TOPICAL_LIFT times more
        frequent in its knowledge than in the language at large (wordfreq)?"""
        known = self.canonical(term)
        if known not in self.df or not self.term_total:
            return False
        df = self.df[known] - self.offtopic[known]  # texts a user said were about something else do not count
        return df > 0 and df / self.term_total >= TOPICAL_LIFT * self.analyzer.general_frequency(known, lang)

    def topical_share(self, terms: Iterable[str], lang: str) -> float:
        """Of these distinct terms, the share that is characteristic of the watch's story."""
        distinct = set(terms)
        return sum(1 for t in distinct if self.topical(t, lang)) / len(distinct) if distinct else 0.0

    def topical_stems(self, terms: Iterable[Terms], lang: str) -> set[str]:
        """The stems (``monitor.profile``) of these terms that are topical for the watch: what the
        poller looks for in a title and summary that names no keyword."""
        return term_stems(t for ts in terms for t in ts.content | ts.names if self.topical(t, lang))

    def known_share(self, terms: Iterable[str], names: bool = False) -> float:
        """Of these distinct terms, the share the watch's knowledge holds (0.0 when there are none)."""
        distinct = set(terms)
        if not distinct:
            return 0.0
        vocab = self.name_counts if names else self.df
        return sum(1 for t in distinct if self.canonical(t, name=names) in vocab) / len(distinct)


def day_of(value: str) -> date | None:
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


