"""Novelty in-process, sentence by sentence, on a labelled acceptance corpus: why each labelled
sentence got its verdict. A development aid beside ``../shared/acceptance/run.py`` (which scores the
whole service); it needs ../shared and steps aside without it.

    .venv/bin/python benchmarks/novelty_eval.py [--corpus dev|dev-ru|dev-wagner] [--embeddings auto|use|off]
                                                [--show errors|all] [--orders N [--show-orders]]

Articles are judged in the corpus's phase order (one worker, no Redis), every article that reaches
the judge (keywords in title or text, relevance, time), with the shipped watch or the corpus's own.
Prints each mistake (a known or repeated fact judged new, a new fact judged known, an off-topic
article's claim, a context sentence alerted) with the reason, then counts.

The service reads a phase's articles in whatever order its workers take them, and a verdict can
depend on what was read before: ``--orders N`` judges the stream N more times, each phase shuffled
(seeded, so repeatable), from the seed alone each time, and prints the counts of every order and
their sum (the mistakes shown are those of the published order).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "acceptance"
sys.path.insert(0, str(ROOT))

from monitor.filters import watch_query  # noqa: E402
from monitor.models import Article  # noqa: E402
from monitor.settings import load as load_settings  # noqa: E402
from monitor.store import KnownRecord  # noqa: E402
from workers import embed  # noqa: E402
from workers.knowledge import Knowledge  # noqa: E402
from workers.pipeline import assess  # noqa: E402
from workers.seed import seed_sentences  # noqa: E402
from workers.text import Analyzer  # noqa: E402


def _settings(corpus: str, embeddings: str):
    files = [ROOT / "config" / "claimwatch.toml"]
    extra = SHARED / corpus / "watch.toml"
    tmp = Path(tempfile.mkdtemp()) / "novelty_eval.toml"
    body = f'[service]\nembeddings = "{embeddings}"\n'
    if extra.exists():  # its relative seed path means its own folder
        body += extra.read_text().replace('seed = ["', f'seed = ["{extra.parent}/')
    tmp.write_text(body)
    files.append(tmp)
    return load_settings(files)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default="dev")
    ap.add_argument("--embeddings", default="auto")
    ap.add_argument("--show", default="errors", choices=["errors", "all"])
    ap.add_argument("--orders", type=int, default=0, help="also judge N shuffled orders of each phase")
    ap.add_argument("--show-orders", action="store_true", help="and print the shuffled orders' lines too")
    ap.add_argument("--features", type=Path, help="append each judged claim's signals and label here (JSON lines)")
    args = ap.parse_args()
    if not SHARED.is_dir():
        print("needs ../shared/acceptance (not in a user's checkout)")
        return 0
    settings = _settings(args.corpus, args.embeddings)
    watch = settings.watches[0]
    analyzer = Analyzer()
    encoder = embed.load(args.embeddings)
    docs = json.loads((SHARED / args.corpus / "corpus.json").read_text())["docs"]
    docs.sort(key=lambda d: (d["phase"], d.get("published") or ""))
    counts = _evaluate(docs, watch, analyzer, encoder, args, show=True)
    print(dict(counts))
    if args.orders:
        total = Counter(counts)
        for n in range(1, args.orders + 1):
            rng = random.Random(n)
            shuffled = sorted(docs, key=lambda d: (d["phase"], rng.random()))
            one = _evaluate(shuffled, watch, analyzer, encoder, args, show=args.show_orders, prefix=f"order {n} ")
            print(f"order {n}: {dict(one)}")
            total.update(one)
        print(f"published order and {args.orders} shuffled: {dict(total)}")
    return 0


def _evaluate(docs: list[dict], watch, analyzer: Analyzer, encoder, args: argparse.Namespace,  # type: ignore[no-untyped-def]
              show: bool, prefix: str = "") -> Counter[str]:
    """Judge ``docs`` in this order, from the seed alone; the counts (and, with ``show``, the lines)."""
    knowledge = Knowledge(watch.name, analyzer, encoder)
    for path in watch.seed:
        lang, sents = seed_sentences(Path(path).read_text(), analyzer)
        knowledge.add_records([KnownRecord(s, f"seed:{Path(path).name}", "seed", lang) for s in sents])
    query = watch_query(watch)
    seen_facts: set[str] = set()
    counts: Counter[str] = Counter()
    out = (lambda line: print(prefix + line)) if show else (lambda *a, **k: None)
    for d in docs:
        paras = tuple(" ".join(s["text"] for s in p) for p in d["paragraphs"])
        labels = {s["text"]: (s["tag"], s.get("fact")) for p in d["paragraphs"] for s in p}
        article = Article(url=f"http://x/{d['id']}", title=d["title"], text="\n".join(paras), paragraphs=paras,
                          source=d.get("outlet_name", ""), published=d.get("published"), language=d.get("lang"))
        a = assess(article, watch, knowledge, analyzer, query, record=bool(args.features and show))
        out(f"{d['id']} {d['kind']:<12} {d.get('lang', 'en')} {a.status}: {a.reason}")
        for v in a.verdicts:
            tag, fact = labels.get(v.sentence, ("?", None))
            expected_new = tag == "new" and fact not in seen_facts
            if v.is_new and expected_new:
                counts["hit"] += 1
            elif v.is_new:
                counts[f"false:{tag}"] += 1
            elif expected_new:
                counts["missed"] += 1
            wrong = v.is_new != expected_new and v.verdict in ("new", "known")
            wrong = wrong or (expected_new and not v.is_new)
            if args.show == "all" or wrong:
                mark = "NEW " if v.is_new else f"{v.verdict:<5}"
                out(f"  {'!!' if wrong else '  '} {mark} [{tag} {fact or ''}] {v.sentence[:110]}")
                near = f" | nearest ({v.similarity:.2f}): {v.nearest[:90]}" if v.nearest else ""
                out(f"        {v.reason}{near}")
            if args.features and show and v.signals is not None and tag in ("new", "known"):
                with args.features.open("a") as f:
                    f.write(json.dumps({"corpus": args.corpus, "doc": d["id"], "lang": d.get("lang", "en"),
                                        "tag": tag, "new": expected_new, "verdict": v.verdict,
                                        "rule": v.reason.split(" (")[0], **v.signals}) + "\n")
            if v.is_new and fact:
                seen_facts.add(fact)
        if d["kind"] != "new_claims" and any(v.is_new for v in a.verdicts):
            counts["false_alert_docs"] += 1  # as the acceptance harness counts them
        for p in d["paragraphs"]:  # facts the article carries count as told, alerted or not
            for s in p:
                if s["tag"] == "new" and s.get("fact"):
                    seen_facts.add(s["fact"])
    return counts


if __name__ == "__main__":
    raise SystemExit(main())
