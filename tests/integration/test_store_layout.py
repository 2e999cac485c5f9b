"""The compact Redis layout of what is kept per seen article (monitor.store): seen markers, article
records, content owners, the near-duplicate index (signatures and LSH bands) and known sentences.

Each test would fail if the layout broke its behaviour: a packed bucket that loses or invents a
member, an LSH record that is no longer found, a known-sentence record that does not read back as it
was written, a key per article creeping back in, or a key of the layout before that crashes a reader.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import random
import zlib

import numpy as np
import redis
from probes import seen

from monitor.store import KnownRecord, Store, digest
from workers import dedup
from workers.vectors import encode_vector

WATCH = "w"

# --------------------------------------------------------------------------- seen markers


def test_seen_markers_pack_many_keys_in_few_buckets_and_lose_none(store: Store, redis_client: redis.Redis) -> None:
    keys = [[f"guid:https://feed.example/rss|{i}", f"url:https://news.example/{i}"] for i in range(3000)]
    assert all(store.seen.mark(k) for k in keys)
    assert not any(store.seen.mark(k) for k in keys)  # every key of every entry is still there
    assert not store.seen.mark(["guid:https://feed.example/rss|new", "url:https://news.example/7"])  # one shared key
    assert not seen(store, "guid:https://feed.example/rss|new")  # ... marks none of the others
    assert all(seen(store, k) for pair in keys for k in pair)
    assert not seen(store, "url:https://news.example/3000")
    assert redis_client.keys("cw:*") == [b"cw:seen:packed"]  # one key, whatever the number of entries
    assert redis_client.hlen("cw:seen:packed") <= 1024
    packed = redis_client.hgetall("cw:seen:packed")
    assert sum(len(v) for v in packed.values()) == 8 * 6000  # 8 bytes per key, nothing else


def test_unmark_seen_removes_only_that_entry(store: Store) -> None:
    keys = [[f"guid:f|{i}", f"url:u{i}"] for i in range(2000)]
    for k in keys:
        store.seen.mark(k)
    for k in keys[::2]:
        store.seen.unmark(k)
    for i, (g, u) in enumerate(keys):
        assert seen(store, g) == seen(store, u) == bool(i % 2)
    assert store.seen.mark(keys[0]) and not store.seen.mark(keys[1])


# --------------------------------------------------------------------------- article records


def test_article_record_merges_fields_and_keeps_what_is_read_back(store: Store) -> None:
    url = "https://news.example/a?x=1&y=2"
    assert store.articles.get(url) == {}
    store.articles.save(url, {"status": "processing", "from_summary": 0})
    store.articles.save(url, {"watch:w": "duplicate", "duplicate_of": "https://b.example/?q=1"})
    store.articles.save(url, {"status": "done"})
    assert store.articles.get(url) == {"url": url, "status": "done", "from_summary": "0", "watch:w": "duplicate",
                                  "duplicate_of": "https://b.example/?q=1"}
    store.articles.save(url, {"status": "odd\x1evalue\x1fhere", "watch:w2": None})  # separators cannot break it
    rec = store.articles.get(url)
    assert rec["status"] == "odd value here" and rec["watch:w2"] == "" and rec["from_summary"] == "0"
    assert store.articles.get("https://news.example/other") == {}


# --------------------------------------------------------------------------- content owner


def test_content_owner_is_the_first_text_with_that_content(store: Store) -> None:
    h = dedup.content_hash("some text of an article")
    assert store.dedup.content_owner(WATCH, h, "https://a.example/1") is None
    assert store.dedup.content_owner(WATCH, h, "https://a.example/1") is None  # the owner itself, again
    assert store.dedup.content_owner(WATCH, h, "https://b.example/2") == "https://a.example/1"
    dedup.index(store, WATCH, "https://a.example/1", dedup.signature("some text of an article"))
    assert store.dedup.content_owner(WATCH, h, "https://c.example/3") == "https://a.example/1"  # indexed since
    assert store.dedup.content_owner("other", h, "https://c.example/3") is None  # per watch
    assert store.dedup.content_owner(WATCH, "not-hex", "seed:x.txt") is None  # any string works as a hash
    assert store.dedup.content_owner(WATCH, "not-hex", "https://d.example/") == "seed:x.txt"


# --------------------------------------------------------------------------- near duplicates

_VOCAB = [f"{a}{b}" for a in ("kor", "bel", "shev", "gray", "tan", "mor", "vil", "dro", "sta", "pol")
          for b in ("ov", "ka", "ino", "ets", "ane", "ist", "ura", "emo", "ik", "on", "ary", "ude")]


def _paragraph(rng: random.Random) -> str:
    return " ".join(" ".join(rng.choice(_VOCAB) for _ in range(rng.randint(12, 20))) + "." for _ in range(3))


def _article(rng: random.Random, paragraphs: int = 20) -> list[str]:
    return [_paragraph(rng) for _ in range(paragraphs)]


def test_near_duplicates_are_found_among_many_texts_and_unrelated_ones_are_not(store: Store) -> None:
    rng = random.Random(7)
    originals = {f"https://news.example/{i}": _article(rng) for i in range(400)}
    for url, paras in originals.items():
        dedup.index(store, WATCH, url, dedup.signature("\n".join(paras)))
    found = 0
    for url in list(originals)[:40]:
        paras = list(originals[url])
        paras[rng.randrange(len(paras))] = _paragraph(rng)  # one paragraph changed
        exact = dedup.signature("\n".join(paras)).jaccard(dedup.signature("\n".join(originals[url])))
        near, j = dedup.nearest_copy(store, WATCH, dedup.signature("\n".join(paras)), 0.8)
        assert exact >= 0.8 and near == url and abs(j - exact) < 1 / 32  # the 16-bit signature agrees
        updated = dedup.signature("\n".join(originals[url] + [_paragraph(rng)]))  # a paragraph added
        found += dedup.nearest_copy(store, WATCH, updated, 0.8)[0] == url
    assert found == 40
    for _ in range(40):  # unrelated texts: no candidate at all (no band shared), so no match
        sig = dedup.signature("\n".join(_article(rng)))
        assert store.dedup.candidates(WATCH, sig.bands()) == {}
        assert dedup.nearest_copy(store, WATCH, sig, 0.8) == (None, 0.0)


def test_signatures_are_kept_as_128_bytes(store: Store) -> None:
    sig = dedup.signature("one two three four five six seven eight nine ten")
    dedup.index(store, WATCH, "https://a.example/1", sig)
    raw = store.dedup.candidates(WATCH, sig.bands())  # text id -> its stored signature
    assert list(raw) == ["https://a.example/1"] and len(raw["https://a.example/1"]) == 2 * dedup.NUM_PERM
    assert sig.jaccard_compact(raw["https://a.example/1"]) == 1.0


# --------------------------------------------------------------------------- known sentences


def _as_json(rec: KnownRecord) -> bytes:
    """The record as the JSON element it was before the binary form (its vector in base64)."""
    d = {k: v for k, v in dataclasses.asdict(rec).items() if v != "" and k != "vector"}
    if rec.vector:
        d["vec"] = base64.b64encode(rec.vector).decode("ascii")
    return json.dumps(d, ensure_ascii=False).encode()


def test_known_sentences_read_back_as_written(store: Store, redis_client: redis.Redis) -> None:
    vec = encode_vector(np.arange(16, dtype=np.float32) / 40)
    url = "https://news.example/world/2025/11/25/a-long-article-url-with-words"
    records = [
        KnownRecord("Officials said on Tuesday that 40 people were moved.", url, "article", "en",
                    "2025-11-25T08:00:00+00:00"),
        KnownRecord("Губернатор сообщил во вторник о 40 раненых\x1f.", url, "article", "ru", None,
                    model="all-MiniLM-L6-v2", vector=vec),
        KnownRecord("A seed sentence.", "seed:belgorod.txt", "seed", "en",
                    terms="a6a229d9\x1eseed sentence\x1e#0\x1e\x1e3"),
    ]
    store.known.register(WATCH, records[:1])
    store.known.register(WATCH, records[1:])
    assert store.known.read(WATCH) == records
    assert store.known.read(WATCH, start=1) == records[1:]
    assert store.known.read(WATCH, start=3) == []
    raw = redis_client.lrange(f"cw:w:{WATCH}:known", 0, -1)
    assert all(r[:1] == b"\x03" and url.encode() not in r for r in raw)  # the source by short id
    assert redis_client.hlen(f"cw:w:{WATCH}:docs") == 2  # each source named once
    assert len(raw[0]) < len(_as_json(records[0])) - 60
    assert len(raw[1]) < len(_as_json(records[1])) - len(base64.b64encode(vec)) // 4 - 60  # raw vector


def test_a_known_sentence_of_an_unnamed_source_reads_with_an_empty_source(store: Store,
                                                                          redis_client: redis.Redis) -> None:
    rec = KnownRecord("A sentence.", "https://a.example/1", "article", "en")
    store.known.register(WATCH, [rec])
    redis_client.delete(f"cw:w:{WATCH}:docs")
    assert store.known.read(WATCH) == [dataclasses.replace(rec, source="")]


def test_known_sentences_and_alert_are_one_transaction(store: Store, redis_client: redis.Redis) -> None:
    alert = {"id": "a1", "watch": WATCH, "claims": []}
    rec = KnownRecord("A new claim.", "https://a.example/1", "article", "en")
    pipe_calls = []
    original = redis_client.pipeline

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        pipe = original(*args, **kwargs)
        pipe_calls.append(kwargs.get("transaction", args[0] if args else True))
        return pipe

    redis_client.pipeline = spy  # type: ignore[method-assign]
    try:
        store.known.register(WATCH, [rec], alert, {"id": "a1", "watch": WATCH})
    finally:
        redis_client.pipeline = original  # type: ignore[method-assign]
    assert pipe_calls == [True]  # one MULTI: source name, sentences, alert, log
    assert store.known.read(WATCH) == [rec] and store.alerts.saved("a1") == alert and len(store.alerts.recent()) == 1


# --------------------------------------------------------------------------- the whole layout


def test_no_key_per_article(store: Store, redis_client: redis.Redis) -> None:
    """Everything kept per article lives in a few shared keys (a key costs ~60-90 B of its own)."""
    for i in range(300):
        url = f"https://news.example/{i}"
        store.seen.mark([f"guid:f|{i}", f"url:{url}"])
        store.articles.save(url, {"status": "processing", "from_summary": 0})
        store.dedup.content_owner(WATCH, dedup.content_hash(f"text {i}"), url)
        dedup.index(store, WATCH, url, dedup.signature(f"text number {i} of a made up article"))
        store.known.register(WATCH, [KnownRecord(f"Sentence {i}.", url, "article", "en")])
        store.articles.save(url, {"status": "done", f"watch:{WATCH}": "no_new_claims"})
    assert sorted(redis_client.keys("cw:*")) == sorted(
        [b"cw:seen:packed", b"cw:articles", f"cw:w:{WATCH}:owner".encode(), f"cw:w:{WATCH}:docs".encode(),
         f"cw:w:{WATCH}:lsh".encode(), f"cw:w:{WATCH}:known".encode()])
    assert redis_client.hlen(f"cw:w:{WATCH}:docs") == 300  # one doc per article names its signature and sentences


def test_keys_of_the_old_layout_are_harmless(store: Store, redis_client: redis.Redis) -> None:
    url = "https://news.example/old"
    redis_client.hset(f"cw:article:{digest(url)}", mapping={"url": url, "status": "done"})
    redis_client.hset(f"cw:w:{WATCH}:content", dedup.content_hash("old text"), url)
    redis_client.hset(f"cw:w:{WATCH}:lsh:0", "2be9682dad8b26f1", "0011223344556677")
    redis_client.hset(f"cw:w:{WATCH}:doc", "0011223344556677", url)
    redis_client.hset(f"cw:w:{WATCH}:sig", "0011223344556677", b"\x00" * 256)
    sig = dedup.signature("The quick, brown fox jumps over the lazy dog!")  # its band 0 is the old entry's
    assert dedup.nearest_copy(store, WATCH, sig, 0.8) == (None, 0.0)
    assert store.dedup.content_owner(WATCH, dedup.content_hash("old text"), "https://news.example/new") is None
    assert store.articles.get(url) == {}  # judged again (its sentences are known: no alert twice)


def test_page_cache_is_compressed(store: Store, redis_client: redis.Redis) -> None:
    text = " ".join(["Officials said on Tuesday that people were moved from the village."] * 50)
    page = {"url": "https://a.example/1", "title": "T", "text": text, "paragraphs": [text], "published": None}
    store.articles.save_page("https://a.example/1", page)
    assert store.articles.page("https://a.example/1") == page
    raw = redis_client.get(f"cw:page:{digest('https://a.example/1')}")
    assert json.loads(zlib.decompress(raw)) == page and len(raw) < len(text) // 4
    assert 0 < redis_client.ttl(f"cw:page:{digest('https://a.example/1')}") <= 86400
