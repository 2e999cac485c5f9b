"""Memory and growth: Redis bytes per seen article and per known claim; near-duplicate and novelty
lookup time at 10k and 100k articles, extrapolated to 1M.

    .venv/bin/python benchmarks/memory.py [--sizes 10000,100000] [--sentences 5]

A real Redis (REDIS_URL, flushed, or an embedded redis-server in a temp dir). Articles are written
through ``monitor.store.Store`` and ``workers.dedup`` exactly as ``workers.pipeline`` writes the
durable keys of a seen article: the seen markers (GUID + URL), the article record (three merges, as
the pipeline does), the content-hash owner, the MinHash signature and its 16 LSH bands; plus
``--sentences`` known sentences per article (``store.known.register``, as the pipeline adds every sentence
of an accepted article). Per article = used_memory delta minus the known-sentence list's MEMORY
USAGE; per known sentence = that list's MEMORY USAGE / sentences, also measured with a MiniLM-sized
vector and against the JSON record of the layout before. Signatures are random, so every article's
LSH bands are distinct, as those of unrelated articles are; every near-duplicate lookup must find
its copy (or nothing, for a random signature). The transient keys (``cw:page`` 1 day, RQ job 1 hour)
are measured apart.

Lookups: near-duplicate = ``workers.dedup.nearest_copy`` (LSH in Redis); novelty =
``Knowledge.normalise`` + ``Knowledge.nearest`` for a claim, on an in-memory index of
``sentences x articles`` known sentences whose terms follow a Zipf law (a watch's story words recur
in a large share of its sentences). Baseline rows, measured the same way: a Redis HGET on a hash of
the same size (near-duplicate) and the novelty lookup before candidate pruning (every posting of
every term of the claim, bincount), which ``nearest`` must match, to the sentence and the float
(counted apart at or above 0.25, the lowest coverage ``workers.claims`` acts on). The semantic path
(``Knowledge.nearest_vector``, exact cosine over every row) is timed on random unit vectors, one
384-dimension float32 row per known sentence.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import functools
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


def article_url(i: int) -> str:
    return f"https://news.example.org/world/2025/11/{i:07d}-some-headline-words-here"


def article_sig(i: int):  # type: ignore[no-untyped-def]
    """Article i's MinHash signature (random values, as unrelated texts have; the same on every call)."""
    from workers import dedup

    return dedup.Signature(np.random.default_rng(i).integers(0, 2**32, dedup.NUM_PERM, dtype=np.uint64))


@functools.cache
def _analyzer():  # type: ignore[no-untyped-def]
    from workers.text import Analyzer

    return Analyzer()


def known_record(i: int, k: int, vector: bool = False):  # type: ignore[no-untyped-def]
    """A known sentence of article i as ``Knowledge.record`` makes it (with a MiniLM-sized vector if asked)."""
    from monitor.store import KnownRecord
    from workers.vectors import encode_vector

    text = (f"Officials said on Tuesday that {k + i} people were moved from the village of Example{i} after "
            "the attack, according to a statement.")
    analyzer = _analyzer()
    # packed terms, as Knowledge.record writes them: other workers index the sentence without analysing it
    rec = KnownRecord(text, article_url(i), "article", "en", "2025-11-25T08:00:00+00:00",
                      terms=analyzer.pack(analyzer.terms(text, "en")) or "")
    if vector:
        v = np.random.default_rng(i * 31 + k).standard_normal(384)
        rec = dataclasses.replace(rec, model="all-MiniLM-L6-v2", vector=encode_vector(v / np.linalg.norm(v)))
    return rec


def as_json(rec) -> str:  # type: ignore[no-untyped-def]
    """A known sentence as the JSON record it was before the binary form (the vector in base64)."""
    d = {k: v for k, v in dataclasses.asdict(rec).items() if v != "" and k != "vector"}
    if rec.vector:
        d["vec"] = base64.b64encode(rec.vector).decode("ascii")
    return json.dumps(d, ensure_ascii=False)


def write_articles(store, start: int, end: int, rng: random.Random, sentences: int) -> None:  # type: ignore[no-untyped-def]
    """The durable writes of a seen, accepted article, in the order and through the calls the pipeline makes."""
    from workers import dedup

    for i in range(start, end):
        url = article_url(i)
        store.seen.mark([f"guid:https://news.example.org/rss.xml|{i}", f"url:{url}"])
        store.articles.save(url, {"status": "processing", "from_summary": 0})  # as workers.pipeline does
        store.dedup.content_owner(WATCH, f"{rng.getrandbits(128):032x}", url)
        dedup.index(store, WATCH, url, article_sig(i))
        store.known.register(WATCH, [known_record(i, k) for k in range(sentences)], None, None)
        store.articles.save(url, {f"watch:{WATCH}": "no_new_claims"})
        store.articles.save(url, {"status": "done"})


def used(conn) -> int:  # type: ignore[no-untyped-def]
    return int(conn.info("memory")["used_memory"])


def usage(conn, key: str) -> int:  # type: ignore[no-untyped-def]
    """MEMORY USAGE of a key, every element counted (samples=0)."""
    return int(conn.memory_usage(key, samples=0) or 0)


# the per-article key families: each is one shared key whatever the number of articles
FAMILIES = [("seen markers (2 keys: GUID, URL; packed)", "cw:seen:packed"),
            ("article record (status, outcome)", "cw:articles"),
            ("content-hash owner", f"cw:w:{WATCH}:owner"),
            ("doc: url + MinHash signature (64 x uint16)", f"cw:w:{WATCH}:docs"),
            ("LSH: 16 band records (packed)", f"cw:w:{WATCH}:lsh")]


def breakdown(conn, n: int) -> list[list[object]]:  # type: ignore[no-untyped-def]
    """Bytes per article by key family (MEMORY USAGE of each family's key / n)."""
    return [[name, usage(conn, key) / n] for name, key in FAMILIES]


def known_formats(conn, store, n: int) -> list[list[object]]:  # type: ignore[no-untyped-def]
    """Bytes per known sentence, with and without a sentence vector, as stored now and as plain JSON
    (the record format before), each measured on a list of ``n`` sentences (MEMORY USAGE)."""
    rows = []
    for vector in (False, True):
        recs = [known_record(1_000_000 + i // 5, i % 5, vector) for i in range(n)]
        key = f"cw:w:fmt{int(vector)}:known"
        for j in range(0, n, 500):
            store.known.register(f"fmt{int(vector)}", recs[j:j + 500], None, None)
        now = usage(conn, key) / n
        conn.delete(key, f"cw:w:fmt{int(vector)}:docs")
        pipe = conn.pipeline(transaction=False)
        for j in range(0, n, 500):
            pipe.rpush("bench:json", *[as_json(r) for r in recs[j:j + 500]])
        pipe.execute()
        before = usage(conn, "bench:json") / n
        conn.delete("bench:json")
        rows.append(["with a 384-d float16 vector" if vector else "text only (embeddings off)", now, before])
    return rows


def transient(conn, store, n: int, rng: random.Random, words: list[str]) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Bytes per article of the page cache (1 day) and of an RQ job record (1 hour)."""
    from rq import Queue

    m0 = used(conn)
    for i in range(n):
        text = fake_text(rng, words, 700)
        store.articles.save_page(f"https://t.example/{i}", {
            "url": f"https://t.example/{i}", "title": "A headline", "text": text, "paragraphs": text.split(". "),
            "source": "X", "published": None, "author": None, "from_summary": False})
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
        # random letters first, as real words vary in their first letter (the fuzzy matcher shelves
        # words by it); the prefix keeps content words and names apart
        self.words = [f"{''.join(rng.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(5))}{prefix}{i}"
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


def exhaustive_nearest(knowledge, terms):  # type: ignore[no-untyped-def]
    """Baseline, the lookup before candidate pruning: every posting of every term of the claim,
    summed per sentence (numpy bincount), O(postings), i.e. linear in the knowledge."""
    wanted = terms.all
    if not wanted:
        return None, 0.0
    weights = {t: knowledge.weight(t) for t in wanted}
    total = sum(weights.values())
    hits = [(np.frombuffer(knowledge.postings[t], dtype=np.int32), w) for t, w in weights.items()
            if t in knowledge.postings]
    if not hits:
        return None, 0.0
    scores = np.bincount(np.concatenate([h for h, _ in hits]),
                         weights=np.concatenate([np.full(len(h), w) for h, w in hits]))
    idx = int(np.argmax(scores))
    return knowledge.items[idx], float(scores[idx]) / total


BAR = 0.25  # the lowest coverage workers.claims acts on at the default known_similarity (0.5): half of it
VECTOR_LOOKUPS = 100


def vector_lookups(n_rows: int, dim: int = 384) -> list[float]:
    """``workers.vectors.Vectors.nearest`` (what ``Knowledge.nearest_vector`` runs: exact cosine over every
    row) on ``n_rows`` random unit float32 vectors (384 dimensions), as a worker with an encoder holds them;
    seconds per lookup."""
    from workers.vectors import Vectors

    gen = np.random.default_rng(7)
    matrix = np.empty((n_rows, dim), dtype=np.float32)
    for j in range(0, n_rows, 65536):
        block = gen.standard_normal((min(65536, n_rows - j), dim), dtype=np.float32)
        matrix[j:j + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    vectors = Vectors(encoder=None)  # type: ignore[arg-type]  # its rows are set here: nothing to encode
    vectors.matrix, vectors.rows = matrix, n_rows
    out = []
    for _ in range(VECTOR_LOOKUPS):
        v = matrix[int(gen.integers(n_rows))] + 0.5 * gen.standard_normal(dim, dtype=np.float32) / dim ** 0.5
        v /= np.linalg.norm(v)
        s = time.perf_counter()
        vectors.nearest(v)
        out.append(time.perf_counter() - s)
    return out


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
    t_near, t_norm, t_base, same, above, same_below = [], [], [], 0, 0, 0
    for q in queries:
        s = time.perf_counter()
        nq = k.normalise(q)
        t_norm.append(time.perf_counter() - s)
        s = time.perf_counter()
        item, sim = k.nearest(nq)
        t_near.append(time.perf_counter() - s)
        s = time.perf_counter()
        base_item, base_sim = exhaustive_nearest(k, nq)
        t_base.append(time.perf_counter() - s)
        if base_sim >= BAR:
            above += 1
            same += item is base_item and sim == base_sim
        else:
            same_below += item is base_item and sim == base_sim
    # a claim with one new long word: canonical() runs a fuzzy match over the whole vocabulary
    t_fuzzy = []
    for i in range(50):
        s = time.perf_counter()
        k.canonical(f"zzunseen{i}word")
        t_fuzzy.append(time.perf_counter() - s)
    return {"build": build, "near": t_near, "norm": t_norm, "pruned": t_base, "above": above,
            "same": same, "same_below": same_below, "queries": len(queries), "vector": vector_lookups(n_sentences),
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
                brk = breakdown(conn, n)
                known_bytes = usage(conn, f"cw:w:{WATCH}:known")
                known_per = known_bytes / (n * args.sentences)
                keys = int(conn.dbsize())
                hits, misses, hget, found = [], [], [], 0
                sample = rng.sample(range(n), 50)
                for i in range(LOOKUPS):
                    sig = (article_sig(sample[i % len(sample)]) if i % 2 else
                           dedup.Signature(np.array([rng.getrandbits(32) for _ in range(dedup.NUM_PERM)],
                                                    dtype=np.uint64)))
                    s = time.perf_counter()
                    near, _ = dedup.nearest_copy(store, WATCH, sig, 0.8)
                    (hits if i % 2 else misses).append(time.perf_counter() - s)
                    found += (near == article_url(sample[i % len(sample)])) if i % 2 else (near is None)
                    s = time.perf_counter()
                    conn.hget(f"cw:w:{WATCH}:owner", "x")
                    hget.append(time.perf_counter() - s)
                assert found == LOOKUPS, f"near-duplicate lookups right {found} of {LOOKUPS}"
                lookups[n] = {"dup": hits + misses, "hget": hget,
                              "nov": novelty_lookups(n * args.sentences, rng)}
                per_article = total - known_bytes / n
                rows.append([n, total, per_article, per_article <= 2048, total <= 2048, known_per, keys])
            page, job = transient(conn, store, 2000, rng, words)
            formats = known_formats(conn, store, 20_000)
        c.Table(f"Redis memory per seen article ({args.sentences} known sentences each; used_memory delta / n, "
                "minus MEMORY USAGE of the known-sentence list for the per-article column)",
                ["articles", "total/article", "per article (no sentences)", "<= 2 KB", f"total with {args.sentences} "
                 "sentences <= 2 KB", "bytes/known sentence", "keys in Redis"],
                [[r[0], r[1], r[2], c.verdict(r[3]), c.verdict(r[4]), r[5], r[6]] for r in rows]).print()
        if brk:
            c.Table(f"Where the bytes go at {sizes[-1]:,} articles (MEMORY USAGE / n; durable, kept forever)",
                    ["key family", "bytes/article"],
                    brk + [["= per article (sum of the above)", sum(b for _, b in brk)],
                           [f"known sentences ({args.sentences})", rows[-1][5] * args.sentences],
                           ["transient: cw:page cache (1 day TTL)", page],
                           ["transient: RQ job record (1 h)", job]]).print()
            c.Table("Bytes per known sentence (MEMORY USAGE of a list of 20,000)",
                    ["record", "now (compact)", "before (JSON, base64 vector)"], formats).print()
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
            lrows.append([n, f"semantic nearest_vector ({n * args.sentences:,} x 384 float32)",
                          c.median(nv["vector"]) * 1e3, c.pct(nv["vector"], 99) * 1e3, "",
                          c.verdict(c.pct(nv["vector"], 99) < 0.005)])
        if len(sizes) >= 2:
            a, b = sizes[-2], sizes[-1]
            for label, key in (("near-duplicate", "dup"), ("novelty nearest", "near"), ("semantic nearest", "vector")):
                ya = c.pct(lookups[a][key] if key == "dup" else lookups[a]["nov"][key], 99)
                yb = c.pct(lookups[b][key] if key == "dup" else lookups[b]["nov"][key], 99)
                lrows.append([1_000_000, f"{label} (extrapolated)", "", extrapolate(a, ya, b, yb, 1e6) * 1e3, "", ""])
        c.Table("Lookup time, ms (target p99 < 5 ms at 100k); 'baseline p99' = HGET on the same Redis / "
                "novelty scoring every posting (the lookup before pruning)",
                ["articles", "lookup", "p50 ms", "p99 ms", "baseline p99 ms", "p99 < 5 ms"],
                lrows).print()
        for n in sizes:
            nv = lookups[n]["nov"]
            print(f"  {n:,} articles: {n * args.sentences:,} known sentences, index built in {nv['build']:.1f} s, "
                  f"{nv['postings']:,} postings, most common term in {nv['top_df']:,} sentences; nearest() = "
                  f"scoring every posting (same sentence, same float) on {nv['same']}/{nv['above']} claims at or "
                  f"above {BAR} and {nv['same_below']}/{nv['queries'] - nv['above']} below")
        print(json.dumps({"note": "bytes are Redis used_memory deltas; lookups measured in this process"}))
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
