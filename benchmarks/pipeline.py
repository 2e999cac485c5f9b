"""Pipeline throughput: articles/s through `claimwatch worker` vs bare `trafilatura.extract`, per core.

    .venv/bin/python benchmarks/pipeline.py [--copies 2] [--worker-embeddings off|auto|both] [--claims-sample 60]

Setup (printed): every benchmark page is served by a local HTTP server, twice (the page, and an
updated copy of it with one new paragraph, as outlets republish wire copy), listed in local RSS
feeds. A synthetic watch is seeded with the first half of the article text of every third page, so a
fair share of the pages is relevant (about their own story) and the rest is judged off-topic by the
real relevance stage; its keywords match nearly any text, so relevance, not keywords, decides. An
in-process poller enqueues the entries (not timed), then one `claimwatch worker --burst` (the
PreloadedWorker: every job in the worker's own process) pinned to one core works the queue: fetch,
extract, dedup, relevance, claims, alert (a webhook to the local server). Its rate is articles /
(first job start .. last job end). The baseline is bare `trafilatura.extract(html)` on the same
pages in one process on the same core. The claims stage (``workers.claims.judge``: sentences ->
claims -> novelty, embeddings included) is timed in-process, per relevant article, on the first
``--claims-sample`` articles, with ``service.embeddings = "off"`` and ``"auto"`` (the semantic
extra, when installed); that run also splits the CPU per article by stage (page fetch, extraction,
reading, encoding, dedup, claims, the Redis writes), which says where the time beyond the bare
extraction goes. The worker run uses ``off`` by default: with the model it takes several minutes
(see the claims table for why).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import _common as c

NEWS_KEYWORDS = ["a* OR e* OR i* OR o* OR s* OR t* OR d* OR в* OR п* OR с* OR н*"]
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


class Stage:
    """The local web: pages (and their updated copies), RSS feeds of 50 items, a webhook receiver."""

    def __init__(self, pages: list[tuple[str, bytes]], copies: int, seed_every: int = 3):
        self.pages, self.copies, self.seed_every = pages, copies, seed_every
        self.hooks = 0
        self.server = c.Server(self.route)
        self.base = self.server.base
        self.urls = [f"/p/{k}/{i}.html" for k in range(copies) for i in range(len(pages))]
        self.bodies = {u: self._body(u) for u in self.urls}
        self.feed_count = (len(self.urls) + 49) // 50

    def _body(self, url: str) -> bytes:
        k, i = (int(x) for x in re.findall(r"\d+", url))
        html = self.pages[i][1]
        if k == 0:
            return html
        update = (f"<p>Update: officials said on Tuesday that {1000 + 17 * i + k} people had been moved to "
                  f"shelters in the district of Number{i}x{k}, according to a statement.</p>").encode()
        at = html.lower().find(b"</p>")
        return html[:at + 4] + update + html[at + 4:] if at >= 0 else html + update

    def route(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        if method == "POST":
            self.hooks += 1
            return 204, {}, b""
        path = path.split("?", 1)[0]
        if path in self.bodies:
            return 200, {"Content-Type": "text/html"}, self.bodies[path]
        m = re.fullmatch(r"/feed-(\d+)\.xml", path)
        if m:
            n = int(m.group(1))
            return 200, {"Content-Type": "application/rss+xml"}, c.rss(self.base, self.items(n))
        return 404, {}, b"no"

    def items(self, n: int) -> list[dict[str, str]]:
        out = []
        for u in self.urls[n * 50:(n + 1) * 50]:
            t = _TITLE.search(self.bodies[u])
            title = t.group(1).decode("utf-8", "replace").strip() if t else u
            # dated, as real feeds' items are (the worker then skips the page's own metadata search)
            out.append({"title": title[:200] or u, "link": self.base + u, "guid": u, "summary": "a story",
                        "pubDate": "Tue, 24 Nov 2026 10:00:00 GMT"})
        return out

    def seed_text(self) -> tuple[str, int]:
        """The first half of the article text of every ``seed_every``-th page: the watch's corpus."""
        import trafilatura

        parts, n = [], 0
        for i, (_name, html) in enumerate(self.pages):
            if i % self.seed_every:
                continue
            text = trafilatura.extract(html) or ""
            paras = [p for p in text.split("\n") if p.strip()]
            if paras:
                parts.append("\n\n".join(paras[: max(1, len(paras) // 2)]))
                n += 1
        return "\n\n".join(parts), n


def write_configs(stage: Stage, tmp: Path, embeddings: str, workers: int = 1) -> Path:
    if not (tmp / "seed.txt").exists():
        (tmp / "seed.txt").write_text(stage.seed_text()[0], encoding="utf-8")
    return c.write_config(
        tmp / f"bench-{embeddings}.toml",
        service={"data_dir": str(tmp / "data"), "workers": workers, "http_port": 0, "embeddings": embeddings,
                 "poll_interval": 3600, "log_level": "INFO"},
        network={"concurrency": 8},
        watches=[{"name": "bench", "seed": [str(tmp / "seed.txt")], "keywords": NEWS_KEYWORDS}],
        feeds=[{"url": f"{stage.base}/feed-{n}.xml", "name": f"Bench feed {n}"} for n in range(stage.feed_count)],
        alerts=[{"type": "webhook", "url": f"{stage.base}/hook"}],
    )


def settings_of(config: Path):  # type: ignore[no-untyped-def]
    from monitor.settings import load

    return load([config])


def poll_all(config: Path, redis_url: str, enqueue=None) -> int:  # type: ignore[no-untyped-def]
    """One poll of every feed: the real poller marks entries seen and enqueues them (RQ jobs by default)."""
    from monitor.broker import connect
    from monitor.poller import Poller
    from monitor.queue import enqueue_entry, queues
    from monitor.store import Store

    settings = settings_of(config)
    conn = connect(redis_url)
    entries = queues(conn)[1]
    poller = Poller(settings, Store(conn), enqueue or (lambda e: enqueue_entry(entries, e)), ident="bench-poller")

    async def go() -> int:
        try:
            poller.sync_feeds()
            return await poller.poll_due()
        finally:
            await poller.aclose()

    return asyncio.run(go())


def job_spans(redis_url: str) -> dict[str, list[tuple[float, float]]]:
    """func name -> [(started, ended)] of the finished and failed jobs (RQ's records)."""
    from rq.job import Job
    from rq.registry import FailedJobRegistry, FinishedJobRegistry

    from monitor.broker import connect
    from monitor.queue import queues

    conn = connect(redis_url)
    out: dict[str, list[tuple[float, float]]] = {}
    for q in queues(conn):
        ids = FinishedJobRegistry(queue=q).get_job_ids() + FailedJobRegistry(queue=q).get_job_ids()
        for job in Job.fetch_many(ids, connection=conn):
            if job is None or job.started_at is None or job.ended_at is None:
                continue
            out.setdefault(job.func_name.rsplit(".", 1)[-1], []).append(
                (job.started_at.timestamp(), job.ended_at.timestamp()))
    return out


def flush(redis_url: str) -> None:
    from monitor.broker import connect

    connect(redis_url).flushdb()


def run_workers(stage: Stage, config: Path, redis_url: str, tmp: Path, n_workers: int,
                cores: list[set[int] | None]) -> dict[str, float]:
    """Enqueue every page (not timed), then ``n_workers`` burst workers drain the queues."""
    flush(redis_url)
    enqueued = poll_all(config, redis_url)
    started = time.monotonic()
    procs = [c.start_worker([config], redis_url, burst=True, cores=cores[i], log=tmp / f"worker-{i}.log")
             for i in range(n_workers)]
    samples: list[tuple[float, float]] = []  # (unix time, CPU seconds of the workers so far)
    harness = time.process_time()  # this process: the page server and the webhook receiver
    try:
        deadline = time.monotonic() + 1800
        last: dict[int, float] = {}  # a worker's last reading stays counted once it has exited
        while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
            for p in procs:
                if p.poll() is None:
                    last[p.pid] = max(last.get(p.pid, 0.0), _cpu_seconds(p.pid))
            samples.append((time.time(), sum(last.values())))
            time.sleep(0.05)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
    wall = time.monotonic() - started
    harness = time.process_time() - harness
    spans = job_spans(redis_url)
    entries = spans.get("process_entry", [])
    every = [s for v in spans.values() for s in v]
    first = min(s for s, _ in every) if every else 0.0
    span = max(e for _, e in every) - first if every else float("nan")
    # the workers' CPU while they ran jobs (boot excluded): from the last sample before the first job
    # to the last sample (one worker: valid; several: their CPU summed while all were alive)
    before = [cpu for t, cpu in samples if t <= first]
    job_cpu = (samples[-1][1] - (before[-1] if before else 0.0)) if samples else float("nan")
    from monitor.broker import connect
    from monitor.store import Store

    store = Store(connect(redis_url))
    stats, lat = store.metrics.stats(), store.metrics.latencies()
    lock = {k: lat.get(f"novelty_lock_{k}", {"sum": 0.0, "count": 0}) for k in ("wait", "held")}
    return {"enqueued": enqueued, "articles": len(entries), "deliveries": len(spans.get("deliver_alert", [])),
            "span": span, "wall": wall, "rate": len(entries) / span if span else 0.0,
            "new_claims": stats.get("articles:new_claims", 0),
            "relevant": sum(v for k, v in stats.items() if k in ("articles:new_claims", "articles:no_new_claims",
                                                                    "articles:duplicate")),
            "mean_job": sum(e - s for s, e in entries) / max(1, len(entries)), "job_cpu": job_cpu,
            "harness_cpu": harness, "lock_wait": lock["wait"]["sum"], "lock_held": lock["held"]["sum"]}


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a live process (Linux /proc), seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def bare_extract(stage: Stage, repeat: int = 1) -> tuple[float, int]:
    """Articles/s of bare trafilatura.extract on the same bodies, in this thread."""
    import trafilatura

    bodies = [stage.bodies[u] for u in stage.urls]
    trafilatura.extract(bodies[0])  # warm-up (imports, lazy data)
    best = 0.0
    for _ in range(repeat):
        t0 = time.process_time()
        for b in bodies:
            trafilatura.extract(b)
        best = max(best, len(bodies) / (time.process_time() - t0))
    return best, len(bodies)


def _stages() -> dict[str, tuple[object, str]]:
    """stage -> (module, attribute) wrapped with a CPU timer in the in-process run."""
    from monitor import http
    from monitor.store import known
    from workers import dedup, embed, fetch, knowledge, pipeline

    return {
        "page fetch (HTTP)": (http, "fetch"),
        "extraction (trafilatura)": (fetch, "extract"),
        "reading (language, sentences, terms)": (pipeline, "read"),
        "sentence encoding (USE)": (embed, "UniversalSentenceEncoder.encode"),
        "dedup: MinHash signature and content hash": (dedup, "fingerprints"),
        "dedup: MinHash signature alone (code before fingerprints)": (dedup, "signature"),
        "dedup: near-copy lookup": (dedup, "nearest_copy"),
        "relevance": (pipeline, "relevance"),
        "claims (judge)": (pipeline, "judge"),
        "knowledge sync": (knowledge, "Knowledge.sync"),
        "Redis writes (register)": (known, "KnownSentences.register"),
    }


def _wrap(spec: tuple[object, str], into: list[float]):  # type: ignore[no-untyped-def]
    """Patch ``module.attr`` (dotted attributes allowed) with a CPU-timed wrapper; returns an undo."""
    target = spec[0]
    *path, name = spec[1].split(".")
    for part in path:
        target = getattr(target, part)
    real = getattr(target, name, None)
    if real is None:
        return lambda: None
    depth = [0]

    def timed(*a, **k):  # type: ignore[no-untyped-def]
        depth[0] += 1
        s = time.process_time()
        try:
            return real(*a, **k)
        finally:
            depth[0] -= 1
            if depth[0] == 0:
                into.append(time.process_time() - s)

    setattr(target, name, timed)
    return lambda: setattr(target, name, real)


def claims_stage(stage: Stage, config: Path, redis_url: str, sample: int) -> dict[str, object]:
    """In this process (no RQ): the whole pipeline per entry, each stage's CPU timed."""
    from monitor.broker import connect
    from workers import pipeline
    from workers.runtime import boot

    flush(redis_url)
    entries: list = []
    poll_all(config, redis_url, enqueue=entries.append)
    entries = entries[:sample]
    settings = settings_of(config)
    t0 = time.monotonic()
    ctx = boot(settings, connect(redis_url))
    boot_s = time.monotonic() - t0
    specs = _stages()
    stages: dict[str, list[float]] = {k: [] for k in specs}
    undo = [_wrap(spec, stages[k]) for k, spec in specs.items()]
    statuses: dict[str, int] = {}
    try:
        t0 = time.process_time()
        judged, encoded = stages["claims (judge)"], stages["sentence encoding (USE)"]
        with_encoding: list[float] = []  # per judged article: its claims stage and its encoding
        for e in entries:
            j, n = len(judged), len(encoded)
            for a in pipeline.process_entry(e, ctx).assessments:
                statuses[a.status] = statuses.get(a.status, 0) + 1
            if len(judged) > j:
                with_encoding.append(sum(judged[j:]) + sum(encoded[n:]))
        cpu = time.process_time() - t0
    finally:
        for u in reversed(undo):
            u()
    encoder = next(iter(ctx.knowledge.values())).encoder
    return {"times": stages["claims (judge)"], "with_encoding": with_encoding, "stages": stages,
            "statuses": statuses, "cpu": cpu,
            "articles": len(entries), "boot": boot_s, "encoder": getattr(encoder, "name", "none"),
            "known": sum(len(k.items) for k in ctx.knowledge.values())}


def semantic_installed() -> bool:
    from workers import embed

    return embed.available("use")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--copies", type=int, default=2, help="each page is served this many times (copy 2+ updated)")
    ap.add_argument("--worker-embeddings", choices=["both", "off", "auto"], default="off")
    ap.add_argument("--claims-sample", type=int, default=60, help="articles for the in-process claims timing")
    args = ap.parse_args()
    pages, origin = c.load_pages()
    core0 = {c.CORES[0]}
    others = set(c.CORES[1:]) or core0
    os.sched_setaffinity(0, others)  # Redis, the local server and this process stay off the measured core
    modes = ["off", "auto"]
    wmodes = ["off", "auto"] if args.worker_embeddings == "both" else [args.worker_embeddings]
    if not semantic_installed():
        print("note: the semantic extra is not installed: 'auto' runs lexically, as 'off'")
    tmp = Path(tempfile.mkdtemp(prefix="cw-bench-pipeline-"))
    try:
        with c.redis_server(tmp) as redis_url:
            stage = Stage(pages, args.copies)
            with stage.server:
                seed, seeded = stage.seed_text()
                (tmp / "seed.txt").write_text(seed, encoding="utf-8")
                configs = {m: write_configs(stage, tmp, m) for m in modes}
                print(f"pages: {origin}; served {args.copies}x ({len(stage.urls)} articles; copy 2+ adds one "
                      f"paragraph) from {stage.base} in {stage.feed_count} RSS feeds")
                print(f"watch 'bench': seed = first half of the text of {seeded} pages (every 3rd), keywords match "
                      f"nearly any text, novelty defaults; one core measured: cpu {sorted(core0)} "
                      f"(Redis, server, poller on {sorted(others)})")
                os.sched_setaffinity(0, core0)
                bare, n = bare_extract(stage, repeat=2)
                os.sched_setaffinity(0, others)
                worker = {m: run_workers(stage, configs[m], redis_url, tmp, 1, [core0]) for m in wmodes}
                os.sched_setaffinity(0, core0)
                inproc = {m: claims_stage(stage, configs[m], redis_url, args.claims_sample) for m in modes}
                os.sched_setaffinity(0, others)
        rows = [["bare trafilatura.extract (1 process)", n, bare, 1.0, "", ""]]
        for m in wmodes:
            w = worker[m]
            rows.append([f"claimwatch worker, embeddings={m}", w["articles"], w["rate"], w["rate"] / bare,
                         f"{w['relevant']} relevant, {w['new_claims']} alerted, {w['deliveries']} deliveries",
                         c.verdict(w["rate"] / bare >= 0.8)])
            per_cpu = w["articles"] / w["job_cpu"] if w["job_cpu"] and w["job_cpu"] > 0 else 0.0
            rows.append([f"  same, per CPU-second of the worker ({w['job_cpu']:.1f} s CPU in a {w['span']:.1f} s span)",
                         w["articles"], per_cpu, per_cpu / bare, "the rest of the span: waiting on Redis and HTTP", ""])
        for m in modes:
            r = inproc[m]
            rate = r["articles"] / r["cpu"] if r["cpu"] else 0.0
            rows.append([f"in-process, no RQ, first {r['articles']} articles, embeddings={m}", r["articles"], rate,
                         rate / bare, "(diagnostic: no RQ, smaller knowledge)", ""])
        c.Table("Pipeline throughput on one core (articles/s; target >= 0.8 of bare)",
                ["run", "articles", "articles/s", "ratio to bare", "outcome", "target"], rows).print()
        crow = []
        for m in modes:
            r = inproc[m]
            t = r["times"]
            outcomes = ", ".join(f"{k} {v}" for k, v in sorted(r["statuses"].items()))
            crow.append([m, r["encoder"], len(t), c.median(t) * 1000, c.pct(t, 95) * 1000,
                         sum(t) / max(1, len(t)) * 1000, r["known"], r["boot"], outcomes])
        c.Table("Claims stage (workers.claims.judge) per relevant article, CPU ms on one core",
                ["embeddings", "encoder", "relevant articles", "median ms", "p95 ms", "mean ms",
                 "known sentences at end", "boot s", "outcomes"], crow).print()
        srows = []
        for name in next(iter(inproc.values()))["stages"]:
            row = [name]
            for m in modes:
                r = inproc[m]
                total = sum(r["stages"][name])
                row += [total / r["articles"] * 1000, total / r["cpu"] if r["cpu"] else 0.0]
            srows.append(row)
        other = ["everything else (glue, logging, page cache, counters)"]
        for m in modes:
            r = inproc[m]
            rest = r["cpu"] - sum(sum(v) for v in r["stages"].values())
            other += [rest / r["articles"] * 1000, rest / r["cpu"] if r["cpu"] else 0.0]
        srows.append(other)
        srows.append(["bare trafilatura.extract, for scale", 1000 / bare, "", 1000 / bare, ""])
        c.Table("Where an article's CPU goes (in-process run: ms per article, share of the run)",
                ["stage"] + [x for m in modes for x in (f"{m} ms/article", f"{m} share")], srows).print()
        if len(modes) == 2:
            off, auto = (c.median(inproc[m]["times"]) for m in modes)
            print(f"\nclaims stage with embeddings / without: {auto / off:.2f}x (median)")
        for m in modes:  # the claims stage with its encoding, per judged (relevant) article
            both = inproc[m]["with_encoding"]
            if both:
                print(f"claims stage with sentence encoding, embeddings={m}: median {c.median(both) * 1000:.1f} ms, "
                      f"p95 {c.pct(both, 95) * 1000:.1f} ms per relevant article ({len(both)}; target <= 50 ms median)")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
