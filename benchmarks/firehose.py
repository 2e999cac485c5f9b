"""The whole service on a burst: `claimwatch run` judging every article of a local outlet published at once.

    .venv/bin/python benchmarks/firehose.py [--workers 1,2] [--embeddings auto] [--copies 2]

Setup (printed): every benchmark page is served twice (``pipeline.Stage``: the page and a copy of it),
each with one paragraph that carries a figure no other article has, listed in local RSS feeds of 50
items that stay empty until the burst is published. The watch is ``pipeline.py``'s: seeded with the
first half of every third page's text, keywords that match nearly any text, so the real relevance
stage decides what is on-topic. `claimwatch run` starts as a user starts it (one config file: this
watch, these feeds, a webhook to the local server, poll interval 1 s, an external Redis the
benchmark reads), with 1 and then 2 workers; once every worker is ready the feeds publish every
article at once, and the run is timed from then until Redis counts every article judged. The rate
is articles / that span: it includes the poll (<= 1 s), the page fetches, Redis and the webhook.
Baseline, in the same run on the same bodies: bare ``trafilatura.extract(fast=True)``, one process
on one core (measured before and after the service runs; their mean). Also printed: the CPU of
each process of the service over the span (per article), and the resident memory of each process
once every article is judged (RSS; PSS shares the mapped files between the processes that map them).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common as c
from pipeline import Stage, _cpu_seconds, write_configs


class Outlet(Stage):
    """``Stage`` whose feeds are empty until ``publish``, and whose every article brings a new figure."""

    published = False

    def _body(self, url: str) -> bytes:
        k, i = (int(x) for x in re.findall(r"\d+", url))
        html = self.pages[i][1]
        update = (f"<p>Officials said on Tuesday that {1000 + 17 * i + 7 * k} people had been moved to shelters "
                  f"in the district of Number{i}x{k}, according to a statement.</p>").encode()
        at = html.lower().find(b"</p>")
        return html[:at + 4] + update + html[at + 4:] if at >= 0 else html + update

    def items(self, n: int) -> list[dict[str, str]]:
        return super().items(n) if self.published else []

    def route(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        """Feeds answer conditional GETs, as real outlets' do (else each 1 s poll re-reads 286 items)."""
        if method == "GET" and path.startswith("/feed-"):
            etag = f'"{int(self.published)}"'
            if headers.get("if-none-match") == etag:
                return 304, {"ETag": etag}, b""
            status, out, payload = super().route(method, path, headers, body)
            return status, {**out, "ETag": etag}, payload
        return super().route(method, path, headers, body)


def bare(bodies: list[bytes]) -> float:
    """Pages/s of bare trafilatura.extract(fast=True), this process, one core (CPU seconds)."""
    import trafilatura

    trafilatura.extract(bodies[0], fast=True)
    t0 = time.process_time()
    for b in bodies:
        trafilatura.extract(b, fast=True)
    return len(bodies) / (time.process_time() - t0)


def role(cmd: str, pid: int, parent: int) -> str:
    if " worker" in cmd:
        return "worker" if parent == 0 else "worker's RQ scheduler (forked)"
    return "redis-server" if "redis-server" in cmd else "run (poller, service)"


def roles(pid: int) -> dict[int, str]:
    out: dict[int, str] = {}
    todo = [(pid, 0)]
    while todo:
        p, parent_is_worker = todo.pop()
        cmd = c.cmdline(p)
        out[p] = role(cmd, p, parent_is_worker)
        todo.extend((ch, int(" worker" in cmd)) for ch in c.children(p))
    return out


def judged(redis_url: str) -> int:
    from monitor.broker import connect
    from monitor.store import Store

    stats = Store(connect(redis_url)).metrics.stats()
    return sum(v for k, v in stats.items() if k.startswith("articles:"))


def one_run(stage: Outlet, tmp: Path, redis_url: str, embeddings: str, workers: int) -> dict[str, object]:
    from monitor.broker import connect

    connect(redis_url).flushdb()
    stage.published = False
    cfg = write_configs(stage, tmp, embeddings, workers)
    text = cfg.read_text(encoding="utf-8").replace("poll_interval = 3600", "poll_interval = 1")
    text = text.replace("[service]", f'[service]\nredis_url = "{redis_url}"', 1)
    cfg.write_text(text, encoding="utf-8")
    log = tmp / f"run-{embeddings}-{workers}.log"
    env = {k: v for k, v in os.environ.items() if k not in ("CLAIMWATCH_REDIS_URL", "REDIS_URL")}
    proc = subprocess.Popen([c.PY, "-m", "claimwatch", "run", "--config", str(cfg)], cwd=c.ROOT, env=env,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        if not c.wait_for(lambda: log.read_text(errors="replace").count(" ready: ") >= workers, 300, 0.1):
            raise SystemExit(f"workers not ready; see {log}")
        time.sleep(1.5)  # a poll of the still empty feeds
        pids = c.tree(proc.pid)
        before = {p: _cpu_seconds(p) for p in pids}
        harness = time.process_time()
        t0 = time.monotonic()
        stage.published = True
        n = len(stage.urls)
        done = c.wait_for(lambda: judged(redis_url) >= n, 1800, 0.1)
        span = time.monotonic() - t0
        harness = time.process_time() - harness
        used: dict[str, float] = {}
        rss: dict[str, list[tuple[int, int]]] = {}
        for p, r in roles(proc.pid).items():
            used[r] = used.get(r, 0.0) + _cpu_seconds(p) - before.get(p, 0.0)
            rss.setdefault(r, []).append((c.rss_kb(p), c.proc_kb(p, "smaps_rollup", "Pss")))
        from monitor.store import Store

        store = Store(connect(redis_url))
        stats, lat = store.metrics.stats(), store.metrics.latencies()
        lock = {k: lat.get(f"novelty_lock_{k}", {}).get("sum", 0.0) for k in ("wait", "held")}
        return {"lock": lock, "span": span, "articles": judged(redis_url), "complete": done, "cpu": used, "rss": rss,
                "harness": harness, "statuses": {k.split(":", 1)[1]: v for k, v in stats.items()
                                                 if k.startswith("articles:")}}
    finally:
        c.stop_group(proc)


def report(rates: list[float], runs: dict[int, dict], articles: int) -> None:
    base = sum(rates) / len(rates)
    rows = [["bare trafilatura.extract(fast=True), 1 process", articles, "", base, 1.0, ""]]
    for n, r in runs.items():
        rate = r["articles"] / r["span"]
        ok = "" if n != 2 else c.verdict(rate / base >= 1.2)
        rows.append([f"claimwatch run, {n} worker(s)", r["articles"], r["span"], rate, rate / base, ok])
    c.Table("Burst through `claimwatch run` (articles judged per second; target 2 workers >= 1.2x bare)",
            ["run", "articles", "span s", "articles/s", "ratio to bare", "target"], rows).print()
    if 1 in runs and 2 in runs:
        s = (runs[2]["articles"] / runs[2]["span"]) / (runs[1]["articles"] / runs[1]["span"])
        print(f"\nscaling, 2 workers / 1: {s:.2f}x ({c.verdict(s >= 1.8)} target 1.8x); bare extract "
              f"{min(rates):.0f}-{max(rates):.0f} pages/s over its two runs")
    for n, r in runs.items():
        per = ", ".join(f"{k} {v / r['articles'] * 1000:.1f}" for k, v in sorted(r["cpu"].items()))
        mem = "; ".join(f"{k}: " + ", ".join(f"{a // 1024} MB RSS / {b // 1024} PSS" for a, b in v)
                        for k, v in sorted(r["rss"].items()))
        print(f"\n{n} worker(s): {', '.join(f'{k} {v}' for k, v in sorted(r['statuses'].items()))}"
              f"{'' if r['complete'] else ' (INCOMPLETE)'}\n  CPU ms per article: {per}; the outlet "
              f"(this process) {r['harness'] / r['articles'] * 1000:.1f}; the watch's novelty lock held "
              f"{r['lock']['held'] / r['articles'] * 1000:.1f} ms and waited "
              f"{r['lock']['wait'] / r['articles'] * 1000:.1f} ms per article\n  memory after the burst: {mem}"
              f"\n  total RSS {sum(a for v in r['rss'].values() for a, _ in v) // 1024} MB, "
              f"PSS {sum(b for v in r['rss'].values() for _, b in v) // 1024} MB")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workers", default="1,2", help="worker counts to run, in this order")
    ap.add_argument("--embeddings", default="auto", choices=["auto", "off"])
    ap.add_argument("--copies", type=int, default=2)
    args = ap.parse_args()
    counts = [int(x) for x in args.workers.split(",")]
    pages, origin = c.load_pages()
    tmp = Path(tempfile.mkdtemp(prefix="cw-bench-firehose-"))
    try:
        with c.redis_server(tmp) as redis_url:
            stage = Outlet(pages, args.copies)
            with stage.server:
                bodies = [stage.bodies[u] for u in stage.urls]
                print(f"pages: {origin}; {len(stage.urls)} articles ({args.copies} copies, each with its own new "
                      f"figure) from {stage.base} in {stage.feed_count} RSS feeds, published at once; "
                      f"embeddings={args.embeddings}; code under test: {c.ROOT}")
                rates = [bare(bodies)]
                runs = {n: one_run(stage, tmp, redis_url, args.embeddings, n) for n in counts}
                rates.append(bare(bodies))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report(rates, runs, len(stage.urls))
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
