"""A watch's seed corpus -> its first knowledge: every sentence known, every text indexed as seen.

Idempotent and safe with many workers: under the watch's novelty lock, a seed file is added once
per content (``cw:w:{watch}:seeded`` remembers its hash); an edited file is added again. The work
(sentences, terms, vectors: ~45 s per MB of seed with the default encoder on the 2-core dev VM,
~1.7 s with ``embeddings = "off"``) is done once per watch, not once per worker: the first worker to
find the seed new takes the watch's seed lock and does it; the others wait on the lock, then find it
done and only load the index (~0.3 s and ~40 MB per MB of seed, in every worker). The seed's size is
capped by ``watches.max_seed_bytes`` (monitor.settings) for that reason; a seed that takes longer
than ``SEED_LOCK`` to encode lets a second worker start on it too (wasted work, nothing added twice).
"""

from __future__ import annotations

import contextlib
import logging
import re
from dataclasses import replace
from pathlib import Path

from redis.exceptions import LockError

from monitor.settings import WatchSettings
from monitor.store import KnownRecord, Store, digest
from workers import dedup
from workers.embed import Encoder
from workers.text import Analyzer
from workers.vectors import encode_vector

log = logging.getLogger(__name__)
_BLANK = re.compile(r"\n\s*\n")
SEED_LOCK = 600.0  # seconds one worker may spend seeding a watch before another may take over (and waits)


def seed_sentences(text: str, analyzer: Analyzer) -> tuple[str, list[str]]:
    lang = analyzer.language(text)
    out = []
    for para in _BLANK.split(text):
        out.extend(analyzer.sentences(" ".join(para.split()), lang))
    return lang, out


def _records(path: Path, text: str, analyzer: Analyzer, encoder: Encoder | None) -> list[KnownRecord]:
    lang, sents = seed_sentences(text, analyzer)
    source = f"seed:{path.name}"
    records = [KnownRecord(s, source, "seed", lang, terms=analyzer.pack(analyzer.terms(s, lang)) or "")
               for s in sents]
    if encoder is not None:  # the vectors travel with the records: workers need not encode the seed
        records = [replace(rec, model=encoder.name, vector=encode_vector(vector))
                   for rec, vector in zip(records, encoder.encode(sents), strict=True)]
    return records


def ensure_seeded(watch: WatchSettings, store: Store, analyzer: Analyzer, encoder: Encoder | None = None) -> int:
    """Add the watch's new or changed seed files to its knowledge; returns sentences added.

    The reading (and encoding, which can take minutes for a large corpus) happens under the watch's
    seed lock, outside its novelty lock (judging goes on meanwhile); under the novelty lock, only the
    check that no other worker seeded the file meanwhile, and the writes.
    """
    texts = {path: path.read_text(encoding="utf-8", errors="replace") for path in map(Path, watch.seed)}

    def unseeded() -> list[tuple[Path, str]]:
        done = store.known.seeded(watch.name)
        return [(path, text) for path, text in texts.items() if done.get(str(path)) != digest(text)]

    if not unseeded():
        return 0
    lock = store.known.seed_lock(watch.name, SEED_LOCK)
    held = lock.acquire()  # another worker seeding: wait, then find its work done
    try:
        return _add(watch, store, [(path, text, _records(path, text, analyzer, encoder)) for path, text in unseeded()])
    finally:
        if held:
            with contextlib.suppress(LockError):  # held past its timeout: another worker may have taken over
                lock.release()


def _add(watch: WatchSettings, store: Store, pending: list[tuple[Path, str, list[KnownRecord]]]) -> int:
    added = 0
    with store.known.lock(watch.name):
        done = store.known.seeded(watch.name)
        for path, text, records in pending:
            h = digest(text)
            if done.get(str(path)) == h:
                continue
            source = f"seed:{path.name}"
            store.known.register(watch.name, records)
            store.dedup.content_owner(watch.name, dedup.content_hash(text), source)
            dedup.index(store, watch.name, source, dedup.signature(text))
            store.known.mark_seeded(watch.name, str(path), h)
            added += len(records)
            log.info("watch %s: seeded %d sentences from %s", watch.name, len(records), path.name)
    return added
