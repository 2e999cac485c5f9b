"""Where the encoder's cosine bars come from: percentiles of the cosine between sentences of general
web pages, none about any watch (``workers.embed.Calibration`` quotes them).

    .venv/bin/python benchmarks/calibrate.py [--min-words 8]

Pages: ``../shared/bench/pages`` (read at run time; without it this benchmark steps aside, since
synthetic pages say nothing of an encoder). Each page's text is extracted as the worker extracts it
(``workers.extract``), split into sentences (``Analyzer.sentences``) and every sentence of at least
``--min-words`` words is encoded. "One story": every pair of sentences of one page. "Unrelated": the
first sentences of two different pages, same language and across languages. A bar reads as "as close
as 1 pair in N of one story".
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import PAGES_DIR  # noqa: E402
from monitor.models import Entry  # noqa: E402
from workers import embed  # noqa: E402
from workers.extract import extract  # noqa: E402
from workers.text import Analyzer  # noqa: E402

LEVELS = (50.0, 90.0, 95.0, 97.0, 98.0, 99.0, 99.5, 99.9)


def _page_sentences(analyzer: Analyzer, body: bytes, min_words: int) -> tuple[str, list[str]]:
    url = "https://bench.example/page"
    article = extract(body, url, Entry(watches=(), feed_url=url, feed_name="bench", url=url, link=url, guid=url))
    # the page's declared language (any); else the likeliest of the analyser's (its sentence splitter's rules)
    lang = (article.language or analyzer.language(article.text)).split("-")[0]
    out = [s for p in article.paragraphs for s in analyzer.sentences(p, lang) if len(s.split()) >= min_words]
    return lang, list(dict.fromkeys(out))  # a page's repeated boilerplate is one sentence


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--min-words", type=int, default=8)
    ap.add_argument("--per-page", type=int, default=60, help="at most this many sentences of a page")
    args = ap.parse_args()
    if not PAGES_DIR.is_dir():
        print(f"calibrate: {PAGES_DIR} is absent; the calibration is read off real pages only, so this steps aside")
        return 0
    analyzer = Analyzer()
    encoder = embed.load("use")
    assert encoder is not None
    pages = []
    for path in sorted(PAGES_DIR.iterdir()):
        lang, sentences = _page_sentences(analyzer, path.read_bytes(), args.min_words)
        if len(sentences) >= 2:
            pages.append((lang, encoder.encode(sentences[: args.per_page])))
    within = np.concatenate([(v @ v.T)[np.triu_indices(len(v), 1)] for _, v in pages])
    same, across = [], []
    for (la, va), (lb, vb) in itertools.combinations(pages, 2):
        (same if la == lb else across).extend((va[:5] @ vb[:5].T).ravel())
    langs = sorted({lang for lang, _ in pages})
    print(f"{len(pages)} pages ({', '.join(langs)}), encoder {encoder.name}, sentences of >= {args.min_words} words")
    print(f"{'cosine percentile':>20} " + " ".join(f"p{p:g}".rjust(6) for p in LEVELS))
    for label, values in (("one story", within), ("unrelated, same lang", same), ("unrelated, across", across)):
        row = np.percentile(np.asarray(values), LEVELS)
        print(f"{label:>20} " + " ".join(f"{x:6.3f}" for x in row) + f"   ({len(values):,} pairs)")
    print(f"calibration in use: {encoder.calibration}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
