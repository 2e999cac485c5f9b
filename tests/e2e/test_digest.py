"""`claimwatch run` with a digest sink (every 30 s) and a local webhook: articles alerted in a period
arrive as one message at its end, with every claim in it, though the whole service was killed with
``kill -9`` in the middle of the period and started again on the same data."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import redis
from running import StageHandler  # noqa: I001 (tests/e2e is on sys.path under pytest)
from test_crash import ARTICLES, _leftovers, page  # noqa: I001 (tests/e2e is on sys.path under pytest)

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
PERIOD = 30  # seconds: every = "30s", boundaries at multiples of 30 s since the epoch
TOKEN = "digesthook-9c2e1"
BUFFER = "cw:digest:0:webhook:belgorod-raids:buffer"


class Stage:
    def __init__(self) -> None:
        self.published: list[str] = []
        self.posts: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.polls = 0
        self.lock = threading.Lock()
        self.base = ""

    def feed(self) -> bytes:
        items = "".join(
            f"<item><title>{ARTICLES[s][0]}</title><link>{self.base}/articles/{s}.html</link>"
            f"<guid isPermaLink='false'>{s}</guid><description>{ARTICLES[s][0]}.</description></item>"
            for s in self.published)
        return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Test Gazette</title>'
                f"<link>{self.base}/</link><description>t</description>{items}</channel></rss>").encode()


@pytest.fixture
def stage() -> Iterator[Stage]:
    st = Stage()

    class Handler(StageHandler):  # quiet, HTTP/1.1, send()
        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/feed.xml":
                st.polls += 1
                self.send(200, st.feed(), "application/rss+xml")
            elif self.path.startswith("/articles/"):
                self.send(200, page(self.path.rsplit("/", 1)[-1].removesuffix(".html")), "text/html; charset=utf-8")
            else:
                self.send(404, b"no", "text/plain")

        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            with st.lock:
                st.posts.append((dict(self.headers.items()), body))
            self.send(204, b"", "text/plain")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    st.base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield st
    server.shutdown()


class Service:
    def __init__(self, tmp: Path, stage: Stage) -> None:
        self.tmp, self.log = tmp, tmp / "service.log"
        override = tmp / "override.toml"
        override.write_text(
            f'[service]\ndata_dir = "{tmp / "data"}"\npoll_interval = 0.5\nworkers = 1\nhttp_port = 0\n'
            f'embeddings = "off"\n\n[network]\nallow_private_addresses = true\ntimeout = 3\n\n'
            f'[[feeds]]\nurl = "{stage.base}/feed.xml"\nname = "Test Gazette"\n\n'
            f'[[alerts]]\ntype = "webhook"\nurl = "{stage.base}/hook/{TOKEN}"\nmode = "digest"\nevery = "{PERIOD}s"\n',
            encoding="utf-8")
        self.args = [sys.executable, "-m", "claimwatch", "run", "--config", "config/claimwatch.toml",
                     "--config", str(override)]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("CLAIMWATCH_REDIS_URL", "REDIS_URL")}
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def redis(self) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.tmp / "data" / "redis.sock"))

    def text(self) -> str:
        return self.log.read_text("utf-8", "replace")

    def kill(self) -> None:
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


def wait_for(what: Any, timeout: float, service: Service, why: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(redis.RedisError):
            if what():
                return
        assert service.proc is not None and service.proc.poll() is None, f"service exited\n{service.text()[-3000:]}"
        time.sleep(0.1)
    raise AssertionError(f"timed out: {why}\n{service.text()[-4000:]}")


def into_period(at_least: float, at_most: float) -> None:
    """Wait until the current period is between ``at_least`` and ``at_most`` seconds old."""
    while not at_least <= time.time() % PERIOD <= at_most:
        time.sleep(0.1)


def test_a_digest_period_survives_kill_9_of_the_whole_service(stage: Stage, tmp_path: Path) -> None:
    service = Service(tmp_path, stage)
    service.start()
    try:
        wait_for(lambda: stage.polls >= 2, 120, service, "the feed is polled")
        into_period(1, 4)  # a fresh period: the articles are alerted and held well before it ends
        period_end = (time.time() // PERIOD + 1) * PERIOD
        stage.published += ["depot", "bakery"]
        r = service.redis()
        wait_for(lambda: r.hlen(BUFFER) == 2, 20, service, "both alerts held for the digest")
        assert time.time() < period_end - 3, "too slow to stay within one period"
        service.kill()  # `run`, its worker and the embedded Redis, mid-period
        gone = time.monotonic() + 10
        while _leftovers(tmp_path) and time.monotonic() < gone:
            time.sleep(0.1)
        assert not _leftovers(tmp_path)
        assert not stage.posts  # nothing was sent: the period had not ended

        service.start()
        r = service.redis()
        wait_for(lambda: stage.posts, 120, service, "the digest after the restart")
        stage.published.append("bridge")  # an article after it goes to a later digest
        wait_for(lambda: len(stage.posts) >= 2, 90, service, "the next digest")
        time.sleep(2)  # nothing more (an empty period sends nothing: tests/integration/test_digests.py)
        logged = [json.loads(f[b"claims"]) for _id, f in r.xrange("cw:alerts")]
        assert service.proc is not None
        os.killpg(service.proc.pid, signal.SIGTERM)
        assert service.proc.wait(timeout=40) == 0
    finally:
        if service.proc is not None and service.proc.poll() is None:
            service.kill()
        for pid in _leftovers(tmp_path):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)

    digests = [body for _h, body in stage.posts]
    assert [d["type"] for d in digests] == ["digest", "digest"]  # nothing went out alert by alert
    first, second = digests
    assert first["until"] == time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(period_end))
    assert second["until"] > first["until"] and second["since"] == first["until"]
    slugs = [Counter(c["first_source"]["url"].rsplit("/", 1)[-1].removesuffix(".html")
                     for day in d["days"] for c in day["claims"]) for d in digests]
    assert set(slugs[0]) == {"depot", "bakery"} and set(slugs[1]) == {"bridge"}
    sent = sorted(c["text"] for d in digests for day in d["days"] for c in day["claims"])
    assert sent == sorted(c["text"] for claims in logged for c in claims)  # every claim alerted, once
    ids = [h["X-Claimwatch-Id"] for h, _b in stage.posts]
    assert len(set(ids)) == 2 and ids == [d["id"] for d in digests]
    log = service.text()
    assert "Traceback" not in log and TOKEN not in log
    assert log.count("digest digest-") >= 2  # "digest ... formed", "... enqueued" are logged
