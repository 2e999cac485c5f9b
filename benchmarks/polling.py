"""Polling cost: 1,000 local feeds of 50 items, CPU per poll cycle; the 304 path per feed.

    .venv/bin/python benchmarks/polling.py [--feeds 1000] [--cycles 3] [--only-304]

A feed server in its own process (its CPU is not counted) serves N RSS feeds of 50 items with ETags
and answers 304 to a matching If-None-Match. Each cycle (the 60 s poll interval, on a simulated
clock) a share of the feeds changes: one new item on top, the oldest drops off; one item in ten
mentions the watch's keyword, so the filter, the seen set and the enqueue run too. The real
``monitor.poller.Poller`` polls every due feed (concurrency 16) against a real Redis and enqueues RQ
jobs; its process CPU (all threads) is measured, Redis's own CPU is shown apart. The baseline, in
the same run, is a bare poller: httpx.AsyncClient conditional GETs (same concurrency) and
feedparser.parse on the 200s, nothing else.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import _common as c

ITEMS = 50
CONCURRENCY = 16


# ---------------------------------------------------------------------------- the feed server (own process)


def serve(n_feeds: int, port_file: Path) -> None:
    versions = [0] * n_feeds
    cache: dict[tuple[int, int], bytes] = {}

    def body(i: int) -> bytes:
        v = versions[i]
        if (i, v) not in cache:
            items = []
            for k in range(v + ITEMS - 1, v - 1, -1):
                topic = "Belgorod governor reports" if k % 10 == 0 else "City council discusses"
                items.append({"title": f"{topic} item {k} of feed {i}", "link": f"http://127.0.0.1/a/{i}/{k}",
                              "guid": f"f{i}-{k}", "summary": f"Story {k}: what happened, who said it, and when.",
                              "pubDate": "Tue, 25 Nov 2025 08:00:00 GMT"})
            cache[(i, v)] = c.rss("http://127.0.0.1", items, title=f"Feed {i}")
        return cache[(i, v)]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:  # /advance?share=0.1&cycle=3: those feeds get a new item
            q = dict(p.split("=") for p in self.path.split("?", 1)[1].split("&"))
            share, cycle = float(q["share"]), int(q["cycle"])
            every = round(1 / share) if share > 0 else 0
            for i in range(n_feeds):
                if every and (i + cycle) % every == 0:
                    versions[i] += 1
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            i = int(self.path.split("/")[-1].split(".")[0])
            etag = f'"{i}-{versions[i]}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            b = body(i)
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(b)))
            self.end_headers()
            self.wfile.write(b)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.request_queue_size = 1024
    port_file.write_text(str(httpd.server_address[1]))
    httpd.serve_forever()


# ---------------------------------------------------------------------------- the two pollers


def advance(base: str, share: float, cycle: int) -> None:
    import httpx

    httpx.post(f"{base}/advance?share={share}&cycle={cycle}", timeout=30)


class Bare:
    """A baseline poller: conditional GET, feedparser on a 200; state in a dict."""

    def __init__(self, urls: list[str]):
        self.urls, self.etags = urls, {}

    async def cycle(self) -> tuple[int, int]:
        import feedparser
        import httpx

        sem = asyncio.Semaphore(CONCURRENCY)
        n304 = n200 = 0
        async with httpx.AsyncClient(timeout=30) as client:
            async def one(u: str) -> None:
                nonlocal n304, n200
                async with sem:
                    r = await client.get(u, headers={"If-None-Match": self.etags.get(u, "")})
                    if r.status_code == 304:
                        n304 += 1
                        return
                    self.etags[u] = r.headers.get("etag", "")
                    await asyncio.to_thread(feedparser.parse, r.content)
                    n200 += 1
            await asyncio.gather(*(one(u) for u in self.urls))
        return n200, n304


def redis_cpu(url: str) -> float:
    from monitor.broker import connect

    info = connect(url).info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--cycles", type=int, default=3, help="measured cycles per pattern (median shown)")
    ap.add_argument("--only-304", action="store_true",
                    help="the first poll and the all-unchanged cycles only (quicker, while working on the 304 path)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cw-bench-polling-"))
    server = subprocess.Popen([c.PY, __file__, "--serve", str(args.feeds), str(tmp / "port")], cwd=c.ROOT)
    try:
        c.wait_for(lambda: (tmp / "port").exists() and (tmp / "port").read_text().strip() != "", 20)
        base = f"http://127.0.0.1:{(tmp / 'port').read_text().strip()}"
        urls = [f"{base}/f/{i}.xml" for i in range(args.feeds)]
        with c.redis_server(tmp) as redis_url:
            from monitor.broker import connect
            from monitor.poller import Poller
            from monitor.queue import enqueue_entry, queues
            from monitor.store import Store

            cfg = c.write_config(tmp / "poll.toml", service={"data_dir": str(tmp / "data"), "poll_interval": 60,
                                                             "http_port": 0},
                                 network={"concurrency": CONCURRENCY},
                                 watches=[{"name": "bench", "keywords": ["Belgorod*"]}],
                                 feeds=[{"url": u} for u in urls])
            from monitor.settings import load

            settings = load([cfg])
            conn = connect(redis_url)
            entries = queues(conn)[1]
            clock = [time.time()]
            poller = Poller(settings, Store(conn), lambda e: enqueue_entry(entries, e), ident="bench",
                            clock=lambda: clock[0])
            bare = Bare(urls)
            patterns = [("first poll (all new, 5 matching items each)", None), ("all unchanged (304)", 0.0),
                        ("90% unchanged (304), 10% changed", 0.1), ("all changed", 1.0)]
            if args.only_304:
                patterns = patterns[:2]
            rows, per304 = [], {}
            cycle = 0

            async def cw_cycle() -> int:
                return await poller.poll_due()

            loop = asyncio.new_event_loop()
            poller.sync_feeds()
            for label, share in patterns:
                measured: dict[str, list[float]] = {"cw": [], "bare": [], "wall": [], "redis": [], "bw": []}
                enq = 0
                for _ in range(1 if share is None else args.cycles):
                    cycle += 1
                    if share:
                        advance(base, share, cycle)
                    clock[0] += 120  # a poll interval (60 s, with its jitter) later: every feed is due
                    r0, t0, w0 = redis_cpu(redis_url), time.process_time(), time.monotonic()
                    enq += loop.run_until_complete(cw_cycle())
                    measured["cw"].append(time.process_time() - t0)
                    measured["wall"].append(time.monotonic() - w0)
                    measured["redis"].append(redis_cpu(redis_url) - r0)
                    t0, w0 = time.process_time(), time.monotonic()
                    loop.run_until_complete(bare.cycle())
                    measured["bare"].append(time.process_time() - t0)
                    measured["bw"].append(time.monotonic() - w0)
                cw, b = c.median(measured["cw"]), c.median(measured["bare"])
                per304[label] = cw
                rows.append([label, cw, cw / args.feeds * 1000, c.median(measured["redis"]),
                             c.median(measured["wall"]), b, b / args.feeds * 1000, cw / b if b else 0.0, enq])
            loop.run_until_complete(poller.aclose())
            loop.close()
        c.Table(f"Polling {args.feeds} feeds x {ITEMS} items, CPU per cycle (median of {args.cycles}); "
                f"poller process CPU, all threads",
                ["cycle", "claimwatch CPU s", "ms/feed", "Redis CPU s", "wall s", "bare CPU s", "bare ms/feed",
                 "ratio", "entries enqueued"], rows).print()
        unchanged = per304["all unchanged (304)"] / args.feeds * 1000
        print(f"\n304 path: {unchanged:.3f} ms CPU per feed (poller process; target < 1 ms): "
              f"{c.verdict(unchanged < 1.0)}")
        return 0
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), Path(sys.argv[3]))
    else:
        os.environ.setdefault("PYTHONHASHSEED", "0")
        sys.exit(main())
