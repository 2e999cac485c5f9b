"""The desk's claims timeline at scale: 100,000 claims and 1,000,000 repeating articles in one watch.

Loads a Redis (embedded, or ``REDIS_URL``: its database is FLUSHED) through the store's own scripts,
pipelined, then times ``store.claims.page`` (what ``GET /api/v1/watches/{watch}/claims`` runs) for
the first page, a deep page, text filters from common to absent (the worst case: every chunk read),
outlet, language and date filters; p50/p95 over ``--runs`` calls each. Target (issue 14): the first
page and a text filter under 300 ms at p95. Also prints Redis's memory per claim and per repeat.

    .venv/bin/python benchmarks/desk_timeline.py [--claims 100000] [--repeats 1000000] [--runs 50]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from _common import _NAMES, Table, _sentence, pct, redis_server, verdict

from monitor.broker import connect
from monitor.store import Store
from monitor.store.claim_record import encode_repeat
from monitor.store.claims import Filters, Source, claim_id, sentence_key
from monitor.store.hashing import digest, digest_bytes

WATCH = "bench"
LANGS = ["en", "en", "en", "ru", "uk"]


def outlet_names() -> list[str]:
    return [f"Outlet {_NAMES[n % len(_NAMES)]} {n}" for n in range(300)]


def _source(rng: random.Random, i: int, outlets: list[str], t0: float) -> Source:
    seen = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(t0 + i * 60))
    return Source(f"https://outlet{rng.randrange(len(outlets))}.example/news/{i}-{rng.randrange(10**9)}",
                  rng.choice(outlets), f"Headline {i}", seen, rng.choice(LANGS), seen)


def load(store: Store, claims: int, repeats: int, rng: random.Random) -> list[str]:
    outlets = outlet_names()
    t0 = time.time() - claims * 60
    ids = []
    c = store.claims
    batch = 2000
    for start in range(0, claims, batch):
        pipe = store.client.pipeline(transaction=False)
        for i in range(start, min(claims, start + batch)):
            text = f"{_sentence(rng)} ({i})"
            src = _source(rng, i, outlets, t0)
            cid = claim_id(WATCH, text)
            ids.append(cid)
            line = "\x1f".join([cid, str(int(t0 + i * 60)), src.lang, src.outlet.lower(), text.lower()])
            rec = {"id": cid, "text": text, "attribution": None, "alert": digest(text),
                   "nearest_known": {"text": _sentence(rng), "similarity": 0.31}, "first": src.to_dict()}
            c._record(keys=[f"cw:w:{WATCH}:claims", f"cw:w:{WATCH}:claims:seq", f"cw:w:{WATCH}:claimof",
                            f"cw:w:{WATCH}:byurl"],
                      args=[cid, json.dumps(rec), f"cw:w:{WATCH}:claims:lines:", line, sentence_key(text),
                            digest_bytes(src.url), 1000], client=pipe)
        pipe.execute()
    for start in range(0, repeats, batch):
        pipe = store.client.pipeline(transaction=False)
        for i in range(start, min(repeats, start + batch)):
            cid = ids[min(int(rng.expovariate(1 / (claims / 10))), claims - 1)]  # a few claims repeated a lot
            src = _source(rng, claims + i, outlets, t0)
            c._corroborate(keys=[f"cw:w:{WATCH}:repeats:{cid}"], args=[digest(src.url, 8), encode_repeat(src)],
                           client=pipe)
            pipe.hsetnx(f"cw:w:{WATCH}:claimof", sentence_key(f"{src.url} sentence"), cid)
            pipe.hset(f"cw:w:{WATCH}:byurl", digest_bytes(src.url), cid)
        pipe.execute()
    return ids


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--claims", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=50)
    args = ap.parse_args()
    rng = random.Random(14)
    with tempfile.TemporaryDirectory() as tmp, redis_server(Path(tmp)) as url:
        client = connect(url)
        store = Store(client)
        before = int(client.info("memory")["used_memory"])
        t = time.perf_counter()
        load(store, args.claims, args.repeats, rng)
        loaded = time.perf_counter() - t
        used = int(client.info("memory")["used_memory"]) - before
        first, _ = store.claims.page(WATCH, limit=20)
        deep_cursor = first[0]["seq"] - args.claims // 2
        cases = [
            ("first page (20)", Filters(), 0),
            ("a page half way down (cursor)", Filters(), deep_cursor),
            ("text: a common word (\"shelling\")", Filters(text="shelling"), 0),
            ("text: a name (\"Gladkov\")", Filters(text="Gladkov"), 0),
            ("text: two words (\"Gladkov Kamenka\")", Filters(text="Gladkov Kamenka"), 0),
            ("text: one claim (\"(77777)\")", Filters(text="(77777)"), 0),
            ("text: no claim has it (every chunk read)", Filters(text="zzzzqx"), 0),
            ("outlet (one of 300)", Filters(outlet=outlet_names()[7]), 0),
            ("language ru + text", Filters(lang="ru", text="Kamenka"), 0),
            ("a day 30 days back", Filters(since=time.strftime("%Y-%m-%d", time.gmtime(time.time() - 30 * 86400)),
                                           until=time.strftime("%Y-%m-%d", time.gmtime(time.time() - 30 * 86400))), 0),
        ]
        rows = []
        ok = True
        for name, f, before_seq in cases:
            times, found = [], 0
            for _ in range(args.runs):
                t = time.perf_counter()
                page, _more = store.claims.page(WATCH, f, limit=20, before=before_seq)
                times.append((time.perf_counter() - t) * 1000)
                found = len(page)
            p95 = pct(times, 95)
            ok = ok and p95 < 300
            rows.append([name, found, pct(times, 50), p95, verdict(p95 < 300)])
        Table(f"timeline of one watch: {args.claims:,} claims, {args.repeats:,} repeats "
              f"(loaded in {loaded:.0f} s); ms per page of 20 with its repeats",
              ["query", "claims on the page", "p50 ms", "p95 ms", "p95 < 300 ms"], rows).print()
        Table("Redis memory", ["what", "bytes"],
              [["in all", f"{used:,}"], ["per claim, its repeats included", f"{used // args.claims:,}"],
               ["per claim + repeat", f"{used // (args.claims + args.repeats):,}"]]).print()
        print(f"\nall p95 under 300 ms: {verdict(ok)}")


if __name__ == "__main__":
    main()
