"""Knowledge.nearest prunes its candidates (prefix filtering, max-score); it must find what scoring
every known sentence finds, to the float and the tie, whenever the caller's bar is reached."""

from __future__ import annotations

import random
from datetime import date

import numpy as np
import pytest

import workers.lookup as lookup_module
from monitor.store import KnownRecord
from workers.knowledge import Knowledge, KnownSentence
from workers.text import Analyzer, Terms


def exhaustive(k: Knowledge, terms: Terms, specifics_only: bool = False) -> tuple[KnownSentence | None, float]:
    """The lookup before pruning: every posting of every term, summed per sentence (bincount)."""
    wanted = (terms.names | terms.numbers) if specifics_only else terms.all
    if not wanted:
        return None, 0.0
    weights = {t: k.weight(t) for t in wanted}
    total = sum(weights.values())
    hits = [(np.frombuffer(k.postings[t], dtype=np.int32), w) for t, w in weights.items() if t in k.postings]
    if not hits:
        return None, 0.0
    scores = np.bincount(np.concatenate([h for h, _ in hits]),
                         weights=np.concatenate([np.full(len(h), w) for h, w in hits]))
    idx = int(np.argmax(scores))
    return k.items[idx], float(scores[idx]) / total


def random_terms(rng: random.Random, vocab: list[str], names: list[str], skew: float) -> Terms:
    def draw(pool: list[str], n: int) -> frozenset[str]:  # Zipf-like: a few words in most sentences
        return frozenset(pool[min(int(rng.paretovariate(skew)) - 1, len(pool) - 1)] for _ in range(n))

    nm = draw(names, rng.randint(0, 3))
    numbers = frozenset({str(rng.randint(1, 40))} if rng.random() < 0.4 else set())
    return Terms(content=draw(vocab, rng.randint(2, 10)) | nm, names=nm, numbers=numbers, words=12)


def variant(rng: random.Random, base: Terms, vocab: list[str]) -> Terms:
    """A known sentence with some words dropped and some added: coverages near every bar."""
    keep = frozenset(t for t in base.content if rng.random() < 0.7)
    extra = frozenset(rng.choice(vocab) for _ in range(rng.randint(0, 4)))
    return Terms(content=keep | extra | base.names, names=base.names, numbers=base.numbers, words=12)


BARS = (0.1, 0.25, 0.4, 0.5, 0.75, 0.99)  # claims acts on 0.25 (restatement), 0.5, 0.99 (across languages)
TUNING = [{"_SMALL": 0}, {"_SMALL": 0, "_FIRST": 0}, {"_SMALL": 0, "_FIRST": 10**9}, {"_SMALL": 0, "_DENSE": 1},
          {"_DENSE": 10**6}]  # every branch of lookup.Search (the test's knowledge is small: prune it anyway)


@pytest.mark.parametrize("seed", range(15))
def test_pruned_nearest_is_the_exhaustive_one(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    for name, value in TUNING[seed % len(TUNING)].items():
        monkeypatch.setattr(lookup_module, name, value)
    vocab = [f"w{i}" for i in range(rng.choice((30, 300, 3000)))]
    names = [f"n{i}" for i in range(rng.choice((5, 50, 500)))]
    k = Knowledge("w", Analyzer(("en",)), None)
    known = [random_terms(rng, vocab, names, rng.choice((0.5, 1.0, 2.0))) for _ in range(rng.randint(50, 2500))]
    for i, terms in enumerate(known):
        k.add(f"s{i}", "en", f"src{i // 5}", "article", terms=terms)
        if rng.random() < 0.05:  # the same sentence twice: ties go to the earliest
            k.add(f"s{i} again", "en", f"src{i // 5}", "article", terms=terms)
    queries = [random_terms(rng, vocab + ["unseen"], names, rng.choice((0.5, 1.0, 2.0))) for _ in range(80)]
    queries += [variant(rng, rng.choice(known), vocab) for _ in range(80)]  # coverages near every bar
    nothing = frozenset[str]()
    queries += [Terms(nothing, nothing, nothing, 0), Terms(frozenset({"unseen"}), nothing, nothing, 1),
                Terms(frozenset({vocab[0]}), nothing, nothing, 1), Terms(frozenset(vocab[:3]), nothing, nothing, 3)]
    seen = dict.fromkeys(BARS, 0)
    for q in queries:
        for specifics in (False, True):
            want_item, want = exhaustive(k, q, specifics)
            item, got = k.nearest(q, specifics_only=specifics)
            assert item is want_item and got == want, (q, specifics)  # the same sentence, the same float
            seen.update({bar: seen[bar] + 1 for bar in BARS if want >= bar})
    assert not k._scratch().any()  # every lookup leaves its scratch zeroed
    assert seen[0.25] and seen[0.5]  # the data reach the bars callers act on


def test_add_records_dates_each_new_source_once_and_forgets_fuzzy_misses() -> None:
    k = Knowledge("w", Analyzer(("en",)), None)
    k.add_records([KnownRecord("Drones hit Shebekino on Friday.", "a", "article", "en", "2023-06-01T10:00:00Z"),
                   KnownRecord("Officials said so on Friday.", "a", "article", "en", "2023-06-01T10:00:00Z")])
    assert k.dates == [date(2023, 6, 1)]
    k.add_records([KnownRecord("Another sentence of a.", "a", "article", "en", "2023-06-02T10:00:00Z"),
                   KnownRecord("Undated first.", "b", "article", "en"),
                   KnownRecord("Then dated.", "b", "article", "en", "2023-06-03T10:00:00Z")])
    assert k.dates == [date(2023, 6, 1), date(2023, 6, 3)]
    assert k.canonical("tavolzhansk") == "tavolzhansk"  # a miss, remembered
    k.add("Drones hit Novaya Tavolzhanka, officials said.", "en", "c", "article")  # e.g. judge() adds it
    assert k.canonical("tavolzhansk") == "tavolzhansk"  # still the remembered miss, as before
    k.add_records([])  # a sync, even an empty one, forgets the misses
    assert k.canonical("tavolzhansk") == "tavolzhanka"
