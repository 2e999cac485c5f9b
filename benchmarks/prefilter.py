"""The poller's first pass: what reading beyond keywords (``monitor.profile``) costs per 1,000 entries.

    .venv/bin/python benchmarks/prefilter.py

Entries: the title and first paragraph of each of the benchmark's real web pages (../shared/bench/
pages: news and blogs in five languages, none about the shipped watch), and, when ../shared has
them, the acceptance streams' entries (title and teaser) as the watch's own news. The profile is
the shipped watch's, learned from its seed as a worker learns it. Prints, per 1,000 entries, how
many each first pass keeps (each kept entry is a page fetch and a worker job) and its CPU.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import _common as c
import trafilatura

from monitor.filters import watch_query
from monitor.profile import admits
from monitor.settings import load as load_settings
from monitor.store import KnownRecord
from workers.knowledge import Knowledge
from workers.seed import seed_sentences
from workers.text import Analyzer

ACCEPTANCE = c.ROOT.parent / "shared" / "acceptance"


def _profile() -> tuple[set[str], object]:
    settings = load_settings([c.ROOT / "config" / "claimwatch.toml"])
    watch = settings.watches[0]
    analyzer = Analyzer()
    k = Knowledge(watch.name, analyzer)
    stems: set[str] = set()
    for path in watch.seed:
        lang, sents = seed_sentences(Path(path).read_text(encoding="utf-8"), analyzer)
        k.add_records([KnownRecord(s, "seed:x", "seed", lang) for s in sents])
        stems |= k.topical_stems((item.terms for item in k.items), lang)
    return stems, watch_query(watch)


def _entries() -> tuple[list[str], list[str]]:
    other = []
    for path in sorted(c.PAGES_DIR.glob("*.html")) if c.PAGES_DIR.is_dir() else []:
        doc = trafilatura.bare_extraction(path.read_bytes(), with_metadata=True)
        if doc is not None and doc.text:
            other.append(f"{doc.title or ''}\n{doc.text.split(chr(10))[0][:400]}")
    own = []
    corpus = ACCEPTANCE / "dev" / "corpus.json"
    if corpus.is_file():
        own = [f"{d['title']}\n{d.get('teaser', '')}" for d in json.loads(corpus.read_text())["docs"]
               if d["kind"] in ("new_claims", "restatement", "repeat", "duplicate")]
    return other, own


def _pass(entries: list[str], keep) -> tuple[int, float]:
    start = time.process_time()
    for _ in range(20):
        kept = sum(1 for e in entries if keep(e))
    return kept, (time.process_time() - start) / 20 / max(1, len(entries)) * 1000


def main() -> int:
    profile, query = _profile()
    other, own = _entries()
    if not other:
        print("needs ../shared/bench/pages (not in a user's checkout)")
        return 0
    rows = []
    for name, entries in (("unrelated pages (bench)", other), ("the watch's own news (dev stream)", own)):
        if not entries:
            continue
        kw, kw_ms = _pass(entries, lambda e: query.matches(e))
        both, both_ms = _pass(entries, lambda e: query.matches(e) or admits(e, profile))
        rows.append([name, len(entries), kw * 1000 // len(entries), both * 1000 // len(entries),
                     f"{kw_ms * 1000:.0f}", f"{both_ms * 1000:.0f}"])
    c.Table("The poller's first pass, per 1,000 entries",
            ["entries", "n", "kept by keywords / 1,000", "kept with the profile / 1,000",
             "CPU ms / 1,000 (keywords)", "CPU ms / 1,000 (with profile)"], rows).print()
    print(f"profile: {len(profile)} stems learned from the seed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
