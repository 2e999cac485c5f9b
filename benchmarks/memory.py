"""Memory and growth: Redis bytes per seen article and per known claim; near-duplicate and novelty
lookup time at 10k and 100k articles, extrapolated to 1M.

    .venv/bin/python benchmarks/memory.py [--sizes 10000,100000] [--sentences 5]

A real Redis (REDIS_URL, flushed, or an embedded redis-server in a temp dir). Articles are written
through ``monitor.store.Store`` and ``workers.dedup`` exactly as ``workers.pipeline`` writes the
durable keys of a seen article: the seen set (GUID + URL), the article record (three HSETs, as the
pipeline does), the content-hash owner, the MinHash signature and its 16 LSH bands; plus
``--sentences`` known sentences per article (the pipeline adds every sentence of an accepted
article). Texts are synthetic (random words), so every article's LSH bands are distinct, as those of
unrelated articles are. The transient keys (``cw:page`` 1 day, RQ job 1 hour) are measured apart.

Lookups: near-duplicate = ``workers.dedup.nearest_copy`` (LSH in Redis); novelty =
``Knowledge.normalise`` + ``Knowledge.nearest`` for a claim, on an in-memory index of
``sentences x articles`` known sentences whose terms follow a Zipf law (a watch's story words recur
in a large share of its sentences). Baseline rows, measured the same way: a Redis HGET on a hash of
the same size (near-duplicate) and a candidate-pruned lookup (novelty: only the postings of the
claim's rarest terms, see benchmarks/README.md) that reaches the same verdict at ``known_similarity``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import _common as c
import numpy as np

WATCH = "bench"
LOOKUPS = 400


def fake_text(rng: random.Random, words: list[str], n: int = 400) -> str:
    return " ".join(rng.choice(words) for _ in range(n))


def write_articles(store, start: int, end: int, rng: random.Random, sentences: int) -> None:  # type: ignore[no-untyped-def]
    from workers import dedup

    for i in range(start, end):
        url = f"https://news.example.org/world/2025/11/{i:07d}-some-headline-words-here"
        store.mark_seen([f"guid:https://news.example.org/rss.xml|{i}", f"url:{url}"])
        store.save_article(url, {"title": f"Headline number {i} about something", "source": "Example News",
                                 "published": "2025-11-25T08:00:00+00:00", "status": "processing", "from_summary": 0})
        store.save_article(url, {f"watch:{WATCH}": "no_new_claims", f"reason:{WATCH}": "every claim is known"})
        store.save_article(url, {"status": "done"})
        store.content_owner(WATCH, f"{rng.getrandbits(128):032x}", url)
        sig = dedup.Signature(np.array([rng.getrandbits(63) for _ in range(dedup.NUM_PERM)], dtype=np.uint64))
        dedup.index(store, WATCH, url, sig)
        store.add_known(WATCH, ({"text": f"Officials said on Tuesday that {k + i} people were moved from the "
                                         f"village of Example{i} after the attack, according to a statement.",
                                 "source": url, "kind": "article", "lang": "en",
                                 "published": "2025-11-25T08:00:00+00:00"} for k in range(sentences)))


def used(conn) -> int:  # type: ignore[no-untyped-def]
    return int(conn.info("memory")["used_memory"])


def breakdown(conn, n: int, sentences: int) -> list[list[object]]:  # type: ignore[no-untyped-def]
    """Bytes per article by key family (MEMORY USAGE; small keys sampled)."""
    def usage(key: str) -> int:
        return int(conn.memory_usage(key, samples=0) or 0)

    def sampled(pattern: str, per_article: float) -> float:
        keys = []
        for k in conn.scan_iter(pattern, count=1000):
            keys.append(k)
            if len(keys) >= 300:
                break
        return (sum(int(conn.memory_usage(k) or 0) for k in keys) / max(1, len(keys))) * per_article

    fam = [("seen set (2 members)", usage("cw:seen") / n),
           ("article record hash", sampled("cw:article:*", 1)),
           ("content-hash owner (hash field)", usage(f"cw:w:{WATCH}:content") / n),
           ("MinHash signature (hash field)", usage(f"cw:w:{WATCH}:sig") / n),
           ("LSH: 16 sets of one member", sampled(f"cw:w:{WATCH}:lsh:*", 16)),
           (f"known sentences ({sentences})", usage(f"cw:w:{WATCH}:known") / n)]
    return [[name, b] for name, b in fam]


def lsh_alternative(conn, n: int, rng: random.Random) -> float:  # type: ignore[no-untyped-def]
    """Bytes per article of the proposed LSH layout: one hash per band, field = band hash, value = ids."""
    key0 = used(conn)
    pipe = conn.pipeline(transaction=False)
    for i in range(n):
        for b in range(16):
            pipe.hset(f"alt:lsh:{b}", f"{rng.getrandbits(32):08x}", f"{i:07d}")
        if i % 500 == 0:
            pipe.execute()
    pipe.execute()
    per = (used(conn) - key0) / n
    conn.delete(*[f"alt:lsh:{b}" for b in range(16)])
    return per


def transient(conn, store, n: int, rng: random.Random, words: list[str]) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Bytes per article of the page cache (1 day) and of an RQ job record (1 hour)."""
    from rq import Queue

    m0 = used(conn)
    for i in range(n):
        text = fake_text(rng, words, 700)
        store.cache_page(f"https://t.example/{i}", {"url": f"https://t.example/{i}", "title": "A headline",
                                                  "text": text, "paragraphs": text.split(". "), "source": "X",
                                                  "published": None, "author": None, "from_summary": False})
    page = (used(conn) - m0) / n
    q = Queue("bench-transient", connection=conn)
    m0 = used(conn)
    entry = {"watches": [WATCH], "feed_url": "https://news.example.org/rss.xml", "feed_name": "Example",
             "url": "https://news.example.org/a", "link": "https://news.example.org/a?utm=1", "guid": "g",
             "title": "A headline of usual length for a news article", "summary": "x" * 300,
             "published": "2025-11-25T08:00:00+00:00", "author": "Someone"}
    for i in range(n):
        q.enqueue("workers.jobs.process_entry", dict(entry, guid=str(i)), job_id=f"entry-{i:032x}",
                  result_ttl=3600, failure_ttl=7 * 86400)
    job = (used(conn) - m0) / n
    return page, job


# ---------------------------------------------------------------------------- novelty index


class Zipf:
    def __init__(self, n: int, s: float, rng: random.Random, prefix: str):
        self.words = [f"{prefix}{i}{''.join(rng.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(5))}"
                      for i in range(n)]
        weights = [1 / (k + 1) ** s for k in range(n)]
        total = sum(weights)
        self.cum = np.cumsum(np.array(weights) / total)
        self.np_rng = np.random.default_rng(rng.getrandbits(32))

    def draw(self, k: int) -> list[str]:
        idx = np.searchsorted(self.cum, self.np_rng.random(k))
        return [self.words[min(i, len(self.words) - 1)] for i in idx]


def sentence_terms(content: Zipf, names: Zipf, rng: random.Random):  # type: ignore[no-untyped-def]
    from workers.text import Terms

    nm = frozenset(names.draw(rng.randint(1, 3)))
    return Terms(content=frozenset(content.draw(rng.randint(6, 12))) | nm, names=nm,
                 numbers=frozenset({str(rng.randint(1, 500))} if rng.random() < 0.5 else set()), words=20)


def pruned_nearest(knowledge, terms, threshold: float):  # type: ignore[no-untyped-def]
    """Proposed: score only the candidates that can reach ``threshold`` coverage. A sentence covering
    >= threshold of the weight must hold one of the rarest terms whose weights sum past (1 - threshold)
    of the total; so gather the postings of those terms only, then score the candidates exactly."""
    wanted = terms.all
    if not wanted:
        return None, 0.0
    weights = {t: knowledge.weight(t) for t in wanted}
    total = sum(weights.values())
    prefix, acc = [], 0.0
    for t, w in sorted(weights.items(), key=lambda tw: -tw[1]):
        prefix.append(t)
        acc += w
        if acc > (1 - threshold) * total:
            break
    candidates = set()
    for t in prefix:
        candidates.update(knowledge.postings.get(t, ()))
    best, best_s = None, 0.0
    for idx in candidates:
        item = knowledge.items[idx]
        s = sum(w for t, w in weights.items() if t in item.terms.all)
        if s > best_s:
            best, best_s = item, s
    return best, best_s / total


def novelty_lookups(n_sentences: int, rng: random.Random) -> dict[str, object]:
    from workers.knowledge import Knowledge
    from workers.text import Analyzer

    content, names = Zipf(60_000, 1.05, rng, "w"), Zipf(8_000, 1.0, rng, "n")
    k = Knowledge(WATCH, Analyzer(languages=("en",)), None)
    t0 = time.monotonic()
    for i in range(n_sentences):
        k.add(f"sentence {i}", "en", f"https://a.example/{i // 5}", "article",
              terms=sentence_terms(content, names, rng))
    build = time.monotonic() - t0
    queries = [sentence_terms(content, names, rng) for _ in range(LOOKUPS)]
    t_near, t_norm, t_pruned, agree = [], [], [], 0
    for q in queries:
        s = time.perf_counter()
        nq = k.normalise(q)
        t_norm.append(time.perf_counter() - s)
        s = time.perf_counter()
        _, sim = k.nearest(nq)
        t_near.append(time.perf_counter() - s)
        s = time.perf_counter()
        _, psim = pruned_nearest(k, nq, 0.25)
        t_pruned.append(time.perf_counter() - s)
        agree += (sim >= 0.25) == (psim >= 0.25) and (sim >= 0.5) == (psim >= 0.5)
    # a claim with one new long word: canonical() runs a fuzzy match over the whole vocabulary
    t_fuzzy = []
    for i in range(50):
        s = time.perf_counter()
        k.canonical(f"zzunseen{i}word")
        t_fuzzy.append(time.perf_counter() - s)
    return {"build": build, "near": t_near, "norm": t_norm, "pruned": t_pruned, "agree": agree / len(queries),
            "fuzzy": t_fuzzy, "vocab": len(k.df),
            "postings": sum(len(v) for v in k.postings.values()), "top_df": max(k.df.values())}


def extrapolate(x1: float, y1: float, x2: float, y2: float, x: float) -> float:
    """Through the two measured points on log-log axes (a power law): y = y2 * (x/x2)^slope."""
    if y1 <= 0 or y2 <= 0:
        return float("nan")
    slope = math.log(y2 / y1) / math.log(x2 / x1)
    return y2 * (x / x2) ** slope


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--sentences", type=int, default=5, help="known sentences per seen article")
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    rng = random.Random(1)
    words = [f"word{i}" for i in range(5000)]
    tmp = Path(tempfile.mkdtemp(prefix="cw-bench-memory-"))
    try:
        with c.redis_server(tmp) as redis_url:
            from monitor.broker import connect
            from monitor.store import Store
            from workers import dedup

            conn = connect(redis_url)
            store = Store(conn)
            base = used(conn)
            rows, lookups, brk, done = [], {}, None, 0
            for n in sizes:
                write_articles(store, done, n, rng, args.sentences)
                done = n
                total = (used(conn) - base) / n
                brk = breakdown(conn, n, args.sentences)
                known_per = conn.memory_usage(f"cw:w:{WATCH}:known", samples=0) / (n * args.sentences)
                hits, misses, hget = [], [], []
                ids = [f"https://news.example.org/world/2025/11/{i:07d}-some-headline-words-here"
                       for i in rng.sample(range(n), 50)]
                sigs = store.signatures(WATCH, ids)
                for i in range(LOOKUPS):
                    sig = (dedup.Signature.from_bytes(sigs[ids[i % len(ids)]]) if i % 2 else
                           dedup.Signature(np.array([rng.getrandbits(63) for _ in range(dedup.NUM_PERM)],
                                                    dtype=np.uint64)))
                    s = time.perf_counter()
                    dedup.nearest_copy(store, WATCH, sig, 0.8)
                    (hits if i % 2 else misses).append(time.perf_counter() - s)
                    s = time.perf_counter()
                    conn.hget(f"cw:w:{WATCH}:content", "x")
                    hget.append(time.perf_counter() - s)
                lookups[n] = {"dup": hits + misses, "hget": hget,
                              "nov": novelty_lookups(n * args.sentences, rng)}
                rows.append([n, total, total <= 2048, known_per])
            page, job = transient(conn, store, 2000, rng, words)
            lsh_alt = lsh_alternative(conn, 20_000, rng)
        c.Table(f"Redis memory per seen article ({args.sentences} known sentences each; used_memory delta / n)",
                ["articles", "bytes/article", "<= 2 KB", "bytes/known sentence"],
                [[r[0], r[1], c.verdict(r[2]), r[3]] for r in rows]).print()
        if brk:
            c.Table(f"Where the bytes go at {sizes[-1]:,} articles (MEMORY USAGE)", ["key family", "bytes/article"],
                    brk + [["transient: cw:page cache (1 day TTL)", page], ["transient: RQ job record (1 h)", job],
                           ["proposed LSH layout: 16 hash fields (one hash per band)", lsh_alt]]).print()
        lrows = []
        for n in sizes:
            d, nv = lookups[n], lookups[n]["nov"]
            lrows.append([n, "near-duplicate (LSH, Redis)", c.median(d["dup"]) * 1e3, c.pct(d["dup"], 99) * 1e3,
                          c.pct(d["hget"], 99) * 1e3, c.verdict(c.pct(d["dup"], 99) < 0.005)])
            total_nov = [a + b for a, b in zip(nv["norm"], nv["near"], strict=True)]
            lrows.append([n, f"novelty normalise+nearest ({n * args.sentences:,} sentences)", c.median(total_nov) * 1e3,
                          c.pct(total_nov, 99) * 1e3, c.pct(nv["pruned"], 99) * 1e3,
                          c.verdict(c.pct(total_nov, 99) < 0.005)])
            lrows.append([n, f"  canonical() of an unseen word (fuzzy over {nv['vocab']:,} terms)",
                          c.median(nv["fuzzy"]) * 1e3, c.pct(nv["fuzzy"], 99) * 1e3, "", ""])
        if len(sizes) >= 2:
            a, b = sizes[-2], sizes[-1]
            for label, key in (("near-duplicate", "dup"), ("novelty nearest", "near")):
                ya = c.pct(lookups[a][key] if key == "dup" else lookups[a]["nov"]["near"], 99)
                yb = c.pct(lookups[b][key] if key == "dup" else lookups[b]["nov"]["near"], 99)
                lrows.append([1_000_000, f"{label} (extrapolated)", "", extrapolate(a, ya, b, yb, 1e6) * 1e3, "", ""])
        c.Table("Lookup time, ms (target p99 < 5 ms at 100k); 'baseline p99' = HGET on the same Redis / pruned "
                "novelty lookup", ["articles", "lookup", "p50 ms", "p99 ms", "baseline p99 ms", "p99 < 5 ms"],
                lrows).print()
        for n in sizes:
            nv = lookups[n]["nov"]
            print(f"  {n:,} articles: {n * args.sentences:,} known sentences, index built in {nv['build']:.1f} s, "
                  f"{nv['postings']:,} postings, most common term in {nv['top_df']:,} sentences; pruned lookup "
                  f"agrees with nearest() at 0.25/0.5 on {nv['agree']:.0%} of claims")
        print(json.dumps({"note": "bytes are Redis used_memory deltas; lookups measured in this process"}))
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
