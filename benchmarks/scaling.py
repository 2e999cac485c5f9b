"""Scaling: two `claimwatch worker` processes vs one, on the pipeline benchmark's pages and watch.

    .venv/bin/python benchmarks/scaling.py [--copies 2] [--embeddings off|auto]

The same setup as benchmarks/pipeline.py (local pages and feeds, a watch seeded from a third of the
pages, a local webhook). Entries are enqueued first (not timed); then one burst worker (pinned to
the first core), and, after a flush and the same enqueue, two burst workers (one per core) drain the
queue. Rate = articles / (first job start .. last job end). Baseline in the same run: what this
machine gives two processes of bare `trafilatura.extract` vs one (other load on the machine shows
there too). Target: two workers >= 1.8x one.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import shutil
import sys
import tempfile
import time
from pathlib import Path

import _common as c
import pipeline as p


def _extract_all(bodies: list[bytes], core: int | None, out: mp.Queue) -> None:
    import os

    import trafilatura

    if core is not None:
        os.sched_setaffinity(0, {core})
    trafilatura.extract(bodies[0])
    t0 = time.monotonic()
    for b in bodies:
        trafilatura.extract(b)
    out.put((t0, time.monotonic()))


def bare(bodies: list[bytes], n: int) -> float:
    """Articles/s of ``n`` processes each extracting every page (on its own core)."""
    q: mp.Queue = mp.Queue()
    ctx = mp.get_context("fork")
    cores = c.CORES
    procs = [ctx.Process(target=_extract_all, args=(bodies, cores[i % len(cores)], q)) for i in range(n)]
    for pr in procs:
        pr.start()
    spans = [q.get(timeout=900) for _ in procs]
    for pr in procs:
        pr.join()
    return n * len(bodies) / (max(e for _, e in spans) - min(s for s, _ in spans))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--copies", type=int, default=2)
    ap.add_argument("--embeddings", choices=["off", "auto"], default="off")
    args = ap.parse_args()
    if len(c.CORES) < 2:
        print("only one core available: two workers cannot scale here")
    pages, origin = c.load_pages()
    tmp = Path(tempfile.mkdtemp(prefix="cw-bench-scaling-"))
    try:
        with c.redis_server(tmp) as redis_url:
            stage = p.Stage(pages, args.copies)
            with stage.server:
                seed, seeded = stage.seed_text()
                (tmp / "seed.txt").write_text(seed, encoding="utf-8")
                cfg = p.write_configs(stage, tmp, args.embeddings)
                print(f"pages: {origin}; {len(stage.urls)} articles served locally; watch seeded from {seeded} "
                      f"pages; embeddings={args.embeddings}")
                bodies = [stage.bodies[u] for u in stage.urls]
                b1, b2 = bare(bodies, 1), bare(bodies, 2)
                one = p.run_workers(stage, cfg, redis_url, tmp, 1, [{c.CORES[0]}])
                two = p.run_workers(stage, cfg, redis_url, tmp, 2, [{c.CORES[0]}, {c.CORES[-1]}])
        rows = [["bare trafilatura.extract", b1, b2, b2 / b1, ""],
                ["claimwatch worker", one["rate"], two["rate"], two["rate"] / one["rate"],
                 c.verdict(two["rate"] / one["rate"] >= 1.8)]]
        c.Table("Scaling: articles/s with one and two processes (target: claimwatch >= 1.8x)",
                ["run", "1 process", "2 processes", "speed-up", "target"], rows).print()
        print(f"\nrelevant articles: {one['relevant']} (1 worker), {two['relevant']} (2 workers); "
              f"mean job {one['mean_job']:.3f} s vs {two['mean_job']:.3f} s")
        for label, r in (("1 worker", one), ("2 workers", two)):
            print(f"{label}: workers' CPU {r['job_cpu']:.1f} s ({r['job_cpu'] / r['articles'] * 1000:.1f} ms/article); "
                  f"page server + webhook receiver {r['harness_cpu']:.1f} s CPU; novelty lock held "
                  f"{r['lock_held'] / r['articles'] * 1000:.1f} ms/article "
                  f"({r['lock_held'] / r['span']:.0%} of the span), waited for "
                  f"{r['lock_wait'] / r['articles'] * 1000:.1f} ms/article")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
