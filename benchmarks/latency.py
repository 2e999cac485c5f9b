"""Latency: a feed changes -> the webhook receives the alert; p50 and p95 with poll interval 1 s.

    .venv/bin/python benchmarks/latency.py [--articles 12] [--embeddings both|off|auto]

`claimwatch run` runs as a subprocess (embedded Redis, one worker per core) with the shipped config
(the Belgorod watch and its seed) layered with: poll_interval = 1, one local RSS feed, a local
webhook sink. One at a time, a new Belgorod article (new figures, so it has new claims) is added to
the feed; the time from that change to the webhook POST is one sample; then a pause of 0.2-1.2 s
(random) so changes land at every phase of the poll cycle. Baseline, in the same run, against the
same local server: a bare loop that polls the feed every second with httpx, fetches each new page,
runs trafilatura.extract and POSTs to the webhook. Target: p95 < 2 s.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import _common as c

ARTICLE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta property="og:site_name" content="Test Gazette"></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>{title}</h1>
<p>Vyacheslav Gladkov, the governor of Belgorod region, said on Wednesday that a drone had set fire to a fuel
depot on the outskirts of Grayvoron, and that {n} firefighters spent {h} hours putting out the blaze.</p>
<p>Gladkov said {m} people were taken to hospital and that residents of {s} streets were moved to a school
overnight as a precaution, while the Freedom of Russia Legion said on Telegram that its fighters were not
involved.</p></article><aside><h2>Related</h2><ul><li><a href="/x">Unrelated headline about football</a></li></ul>
</aside></body></html>"""


class Stage:
    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []
        self.published: dict[str, float] = {}  # article path -> when it entered the feed
        self.received: dict[str, float] = {}  # article path -> when its alert arrived
        self.lock = threading.Lock()
        self.feed_gets = 0
        self.server = c.Server(self.route)
        self.base = self.server.base

    def publish(self, key: str) -> str:
        path = f"/a/{key}.html"
        with self.lock:
            self.items.insert(0, {"title": f"Belgorod governor: drone hit a fuel depot ({key})",
                                  "link": self.base + path, "guid": key,
                                  "summary": "Governor Gladkov reports a drone strike in Belgorod region."})
            self.published[path] = time.time()
        return path

    def route(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        now = time.time()
        if method == "POST":
            import json

            try:
                url = json.loads(body)["article"]["url"]
            except (ValueError, KeyError, TypeError):
                url = body.decode("utf-8", "replace")
            key = "/a/" + url.rsplit("/a/", 1)[-1]
            with self.lock:
                self.received.setdefault(key, now)
            return 204, {}, b""
        path = path.split("?", 1)[0]
        if path in ("/feed.xml", "/bare.xml"):
            self.feed_gets += 1
            with self.lock:
                items = [i for i in self.items if (path == "/bare.xml") == i["guid"].startswith("bare")]
            return 200, {"Content-Type": "application/rss+xml"}, c.rss(self.base, items[:50])
        if path.startswith("/a/"):
            k = sum(map(ord, path))
            html = ARTICLE.format(title=f"Belgorod governor says drone hit a fuel depot near Grayvoron ({path[3:-5]})",
                                  n=100 + k % 800, h=3 + k % 40, m=1000 + k, s=7 + k % 90)
            return 200, {"Content-Type": "text/html; charset=utf-8"}, html.encode()
        return 404, {}, b"no"


def measure(stage: Stage, prefix: str, n: int, timeout: float = 30.0) -> list[float]:
    out = []
    for i in range(n):
        path = stage.publish(f"{prefix}{i}")
        c.wait_for(lambda p=path: p in stage.received, timeout)
        if path in stage.received:
            out.append(stage.received[path] - stage.published[path])
        time.sleep(random.uniform(0.2, 1.2))
    return out


def bare_loop(stage: Stage, stop: threading.Event) -> None:
    import httpx
    import trafilatura

    seen: set[str] = set()
    with httpx.Client(timeout=10) as client:
        while not stop.is_set():
            started = time.monotonic()
            import feedparser

            for e in feedparser.parse(client.get(f"{stage.base}/bare.xml").content).entries:
                if e.link in seen:
                    continue
                seen.add(e.link)
                text = trafilatura.extract(client.get(e.link).content) or ""
                client.post(f"{stage.base}/hook", json={"article": {"url": e.link}, "text": text})
            stop.wait(max(0.0, 1.0 - (time.monotonic() - started)))


def run_claimwatch(stage: Stage, tmp: Path, embeddings: str, n: int) -> tuple[list[float], int]:
    data = tmp / f"data-{embeddings}"
    workers = len(c.CORES)
    override = c.write_config(tmp / f"latency-{embeddings}.toml",
                              service={"data_dir": str(data), "poll_interval": 1, "workers": workers, "http_port": 0,
                                       "embeddings": embeddings},
                              feeds=[{"url": f"{stage.base}/feed.xml", "name": "Test Gazette"}],
                              alerts=[{"type": "webhook", "url": f"{stage.base}/hook"}])
    log = tmp / f"run-{embeddings}.log"
    env = {k: v for k, v in os.environ.items() if k not in ("CLAIMWATCH_REDIS_URL", "REDIS_URL")}
    proc = subprocess.Popen([c.PY, "-m", "claimwatch", "run", "--config", "config/claimwatch.toml", "--config",
                             str(override)], cwd=c.ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        gets = stage.feed_gets
        ready = c.wait_for(lambda: stage.feed_gets > gets and log.read_text(errors="replace").count(" ready: ")
                           >= workers, 180, 0.2)
        if not ready:
            raise SystemExit(f"claimwatch run did not get ready; see {log}")
        time.sleep(1)
        return measure(stage, f"cw-{embeddings}-", n), workers
    finally:
        c.stop_group(proc)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--articles", type=int, default=12)
    ap.add_argument("--embeddings", choices=["both", "off", "auto"], default="both")
    args = ap.parse_args()
    random.seed(7)
    modes = ["off", "auto"] if args.embeddings == "both" else [args.embeddings]
    tmp = Path(tempfile.mkdtemp(prefix="cw-bench-latency-"))
    rows = []
    try:
        with Stage().server as server:
            stage: Stage = server.route.__self__  # type: ignore[attr-defined]
            stop = threading.Event()
            t = threading.Thread(target=bare_loop, args=(stage, stop), daemon=True)
            t.start()
            time.sleep(1.5)
            base = measure(stage, "bare-", args.articles)
            stop.set()
            t.join(timeout=10)
            rows.append(["bare loop (httpx + trafilatura.extract + POST)", len(base), c.median(base), c.pct(base, 95),
                         1.0, ""])
            for m in modes:
                lat, workers = run_claimwatch(stage, tmp, m, args.articles)
                rows.append([f"claimwatch run, {workers} workers, embeddings={m}", len(lat), c.median(lat),
                             c.pct(lat, 95), c.pct(lat, 95) / c.pct(base, 95) if base else 0.0,
                             c.verdict(len(lat) == args.articles and c.pct(lat, 95) < 2.0)])
        c.Table("Feed change -> webhook delivery, seconds (poll interval 1 s; target p95 < 2 s)",
                ["run", "alerts", "p50 s", "p95 s", "p95 ratio to bare", "target"], rows).print()
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
