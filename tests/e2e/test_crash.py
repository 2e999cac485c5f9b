"""`claimwatch run` under fire (subprocess, loopback servers, made-up articles): a stage mixing one good
feed with hostile ones; kill -9 of a worker mid-article (jobs run in
the worker process itself); kill -9 of the embedded
Redis; kill -9 of the whole service and a restart on the same data_dir; /healthz, /metrics, secrets.

Slow (a service boots its workers several times): marked ``e2e``; CI runs them (the default run).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
TOKEN = "hooktoken-5f1c9"  # in the webhook URL: must never show in logs, /status or /metrics
SECRET = "signing-secret-77ad"

ARTICLES = {  # made up for these tests
    "depot": ("Belgorod governor says drone hit a fuel depot near Grayvoron", [
        "Vyacheslav Gladkov, the governor of Belgorod region, said on Wednesday that a drone had set fire to a fuel "
        "depot on the outskirts of Grayvoron, and that 12 firefighters spent six hours putting out the blaze.",
        "Gladkov said nobody was hurt and that residents of two streets were moved to a school overnight as a "
        "precaution, while the Freedom of Russia Legion said on Telegram that its fighters were not involved."]),
    "bakery": ("Shelling damages bakery in Shebekino, Belgorod governor says", [
        "Belgorod governor Vyacheslav Gladkov said on Thursday that artillery shells hit a bakery in Shebekino "
        "overnight, shattering 40 windows and wounding a 63-year-old night watchman.",
        "According to Gladkov, 18 bakery workers were evacuated to Belgorod city, and the regional emergencies "
        "ministry said on Thursday that two power lines near the Shebekino border crossing were cut."]),
    "bridge": ("Belgorod officials close a road bridge near Kozinka after drone attack", [
        "The Belgorod regional administration said on Friday that a drone struck a road bridge near Kozinka at "
        "dawn, leaving a crater five metres wide in the carriageway.",
        "Governor Gladkov said on Friday that traffic towards Grayvoron would be diverted through Borisovka for "
        "at least 11 days while engineers inspect the bridge supports."]),
    "school": ("Belgorod region moves pupils to online classes after border shelling", [
        "Belgorod governor Vyacheslav Gladkov said on Saturday that 27 schools in the Valuyki district would "
        "switch to online lessons for two weeks after shelling damaged a school gymnasium.",
        "The Russian Volunteer Corps claimed on Saturday that its fighters had crossed into the Belgorod region "
        "near Valuyki, a claim the Russian defence ministry denied the same evening."]),
}


def page(slug: str) -> bytes:
    title, paragraphs = ARTICLES[slug]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f'<meta property="og:site_name" content="Test Gazette"></head><body><nav><a href="/">Home</a></nav>'
            f"<article><h1>{title}</h1>{body}</article></body></html>").encode()


class Stage:
    """The outside world: a good feed, hostile feeds, article pages, a webhook receiver."""

    def __init__(self) -> None:
        self.published: list[str] = []
        self.hold_page: dict[str, threading.Event] = {}  # slug -> released when set (first request only)
        self.page_arrived: dict[str, threading.Event] = {}
        self.hold_post: dict[str, threading.Event] = {}  # article slug -> its first POST gets no answer
        self.hits: Counter[str] = Counter()
        self.alerts: list[tuple[float, dict[str, Any]]] = []  # POSTs answered 204
        self.lock = threading.Lock()
        self.base = ""

    def feed(self) -> bytes:
        items = "".join(
            f"<item><title>{ARTICLES[s][0]}</title><link>{self.base}/articles/{s}.html?utm_source=rss</link>"
            f"<guid isPermaLink='false'>{s}</guid><description>{ARTICLES[s][0]}.</description></item>"
            for s in self.published)
        return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Test Gazette</title>'
                f"<link>{self.base}/</link><description>t</description>{items}</channel></rss>").encode()

    def slug_of(self, payload: dict[str, Any]) -> str:
        return payload["article"]["url"].rsplit("/", 1)[-1].removesuffix(".html")

    def acked(self, slug: str) -> int:
        with self.lock:
            return sum(1 for _, p in self.alerts if self.slug_of(p) == slug)


BOMB = gzip.compress(b"\0" * 30_000_000, 9)


def handler(stage: Stage) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _send(self, code: int, body: bytes = b"", **headers: str) -> None:
            self.send_response(code)
            for k, v in headers.items():
                self.send_header(k.replace("_", "-"), v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?", 1)[0]
            stage.hits[path] += 1
            try:
                if path == "/good.xml":
                    self._send(200, stage.feed(), Content_Type="application/rss+xml")
                elif path.startswith("/articles/"):
                    slug = path.rsplit("/", 1)[-1].removesuffix(".html")
                    if slug in stage.page_arrived:
                        stage.page_arrived[slug].set()
                    if slug in stage.hold_page and stage.hits[path] == 1:
                        stage.hold_page[slug].wait(60)
                    self._send(200, page(slug), Content_Type="text/html; charset=utf-8")
                elif path == "/trickle.xml":
                    self.send_response(200)
                    self.send_header("Content-Length", "50000")
                    self.end_headers()
                    for _ in range(200):
                        self.wfile.write(b"<")
                        self.wfile.flush()
                        time.sleep(0.5)
                elif path == "/bomb.xml":
                    self._send(200, BOMB, Content_Encoding="gzip", Content_Type="application/rss+xml")
                elif path == "/gone.xml":
                    self._send(410, b"gone")
                elif path == "/html.xml":
                    self._send(200, b"<!doctype html><html><body>Belgorod news, not a feed</body></html>",
                               Content_Type="text/html")
                elif path == "/loop.xml":
                    self._send(302, Location="/loop.xml?again=1")
                elif path == "/busy.xml":
                    self._send(503, Retry_After="120")
                elif path == "/malformed.xml":
                    self._send(200, b"<rss><channel><item><title>Belgorod &&& <<</item", Content_Type="text/xml")
                else:
                    self._send(404, b"no")
            except (BrokenPipeError, ConnectionResetError):
                pass

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            payload = json.loads(body)
            slug = stage.slug_of(payload)
            held = stage.hold_post.pop(slug, None)
            if held is not None:  # the service gets no answer: the alert is in flight
                held.wait(60)
                self.close_connection = True
                return
            with stage.lock:
                stage.alerts.append((time.monotonic(), payload))
            self._send(204)

    return Handler


class Service:
    def __init__(self, tmp: Path, stage: Stage, port: int) -> None:
        self.tmp, self.stage, self.port = tmp, stage, port
        self.log = tmp / "service.log"
        self.proc: subprocess.Popen[bytes] | None = None
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            closed = s.getsockname()[1]
        hostile = ["trickle", "bomb", "gone", "html", "loop", "busy", "malformed", "missing"]
        feeds = [f"{stage.base}/good.xml"] + [f"{stage.base}/{h}.xml" for h in hostile] + [
            stage.base.replace("http://", "https://") + "/tls.xml", "http://feeds.nowhere.invalid/rss.xml",
            f"http://127.0.0.1:{closed}/refused.xml"]
        override = tmp / "override.toml"
        override.write_text(
            f'[service]\ndata_dir = "{tmp / "data"}"\npoll_interval = 0.5\nworkers = 2\nhttp_port = {port}\n'
            f"max_backoff = 30\n\n[network]\nallow_private_addresses = true\ntimeout = 3\nfetch_deadline = 4\n"
            f"max_feed_bytes = 1000000\n\n"
            + "".join(f'[[feeds]]\nurl = "{u}"\nname = "feed {i}"\n\n' for i, u in enumerate(feeds))
            + f'[[alerts]]\ntype = "webhook"\nurl = "{stage.base}/hook/{TOKEN}"\nsecret = "{SECRET}"\n',
            encoding="utf-8")
        self.args = [sys.executable, "-m", "claimwatch", "run", "--config", "config/claimwatch.toml",
                     "--config", str(override)]

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("CLAIMWATCH_REDIS_URL", "REDIS_URL")}
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def children(self, needle: str) -> list[int]:
        """Pids whose parent is ``run`` and whose command line holds ``needle``."""
        assert self.proc is not None
        return [pid for pid, ppid, cmd in _processes() if ppid == self.proc.pid and needle in cmd]

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def sigterm(self) -> tuple[int, float]:
        assert self.proc is not None
        started = time.monotonic()
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            raise
        return code, time.monotonic() - started

    def text(self) -> str:
        return self.log.read_text("utf-8", "replace")


def _processes() -> list[tuple[int, int, str]]:
    out = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                stat = (p / "stat").read_text().rsplit(")", 1)[1].split()
                cmd = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            except (OSError, IndexError):
                continue
            out.append((int(p.name), int(stat[1]), cmd))
    return out


def _leftovers(tmp: Path) -> list[int]:
    return [pid for pid, _, cmd in _processes() if str(tmp) in cmd]


def wait_for(what: Any, timeout: float, service: Service, why: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if what():
            return
        assert service.proc is not None and service.proc.poll() is None, f"service exited\n{service.text()[-3000:]}"
        time.sleep(0.1)
    raise AssertionError(f"timed out: {why}\n{service.text()[-4000:]}")


@pytest.fixture
def stage() -> Any:
    st = Stage()

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # the service hanging up on a trickle or a bomb is expected

    server = Server(("127.0.0.1", 0), handler(st))
    server.daemon_threads = True
    st.base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield st
    for e in (*st.hold_page.values(), *st.hold_post.values()):
        e.set()
    server.shutdown()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cleanup(service: Service, tmp: Path) -> None:
    if service.proc is not None and service.proc.poll() is None:
        os.killpg(service.proc.pid, signal.SIGKILL)
        service.proc.wait()
    for pid in _leftovers(tmp):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def test_hostile_stage_worker_and_redis_kills(stage: Stage, tmp_path: Path) -> None:
    service = Service(tmp_path, stage, _free_port())
    service.start()
    timings: dict[str, float] = {}
    try:
        # 1. one good feed among hostile ones: its new article is alerted
        wait_for(lambda: stage.hits["/good.xml"] >= 2, 90, service, "the good feed is polled")
        stage.published.append("depot")
        wait_for(lambda: stage.acked("depot"), 60, service, "the good feed's article is alerted")
        status, body = service.get("/healthz")
        assert status == 200, body
        health = json.loads(body)
        assert health["ok"] and health["workers"] == 2 and health["worker_processes"] == 2
        kinds = ("deadline", "too_large", "http_410", "not_a_feed", "redirect_loop", "http_503", "http_404",
                 "tls", "dns", "network")
        wait_for(lambda: all(f'claimwatch_feed_errors_total{{kind="{k}"}}' in service.get("/metrics")[1].decode()
                             for k in kinds), 30, service, "every hostile feed counted by kind")
        metrics = service.get("/metrics")[1].decode()
        assert 'claimwatch_alerts_sent_total{sink="0:webhook"} 1.0' in metrics
        assert "claimwatch_page_fetch_seconds_count" in metrics and "claimwatch_queue_depth" in metrics
        feeds = {f["url"]: f for f in json.loads(service.get("/status")[1])["feeds"]}
        assert feeds[f"{stage.base}/gone.xml"]["gone"] is True

        # 2. kill -9 a worker mid-article: the job comes back, the article is alerted once
        stage.hold_page["bakery"], stage.page_arrived["bakery"] = threading.Event(), threading.Event()
        stage.published.append("bakery")
        wait_for(stage.page_arrived["bakery"].is_set, 30, service, "the bakery page is requested")
        busy = _worker_running(service, "bakery")
        killed = time.monotonic()
        os.kill(busy, signal.SIGKILL)
        stage.hold_page["bakery"].set()
        wait_for(lambda: stage.acked("bakery"), 120, service, "the bakery article after a worker kill")
        timings["worker kill"] = time.monotonic() - killed

        # 3. kill -9 the embedded Redis: started again, nothing lost, the next article alerted
        (redis_pid,) = service.children("redis-server")
        killed = time.monotonic()
        os.kill(redis_pid, signal.SIGKILL)
        stage.published.append("school")
        wait_for(lambda: stage.acked("school"), 120, service, "the school article after a Redis kill")
        timings["redis kill"] = time.monotonic() - killed
        wait_for(lambda: service.get("/healthz")[0] == 200, 30, service, "healthy again")

        time.sleep(2)  # nothing more should arrive
        assert Counter(stage.slug_of(p) for _, p in stage.alerts) == Counter({"depot": 1, "bakery": 1, "school": 1})
        assert stage.hits["/articles/depot.html"] == 1 and stage.hits["/articles/school.html"] == 1
        status_text = service.get("/status")[1].decode() + service.get("/metrics")[1].decode()
        code, took = service.sigterm()
    finally:
        _cleanup(service, tmp_path)
    log = service.text()
    print("recovery times:", {k: round(v, 1) for k, v in timings.items()})
    assert all(t < 120 for t in timings.values()), timings
    assert code == 0 and took < 30, (code, took)
    assert "Traceback" not in log, log[-4000:]
    assert TOKEN not in log and SECRET not in log and TOKEN not in status_text and SECRET not in status_text
    assert not _leftovers(tmp_path)


def test_kill_9_the_whole_service_and_restart_on_the_same_data(stage: Stage, tmp_path: Path) -> None:
    service = Service(tmp_path, stage, _free_port())
    service.start()
    try:
        stage.published.append("depot")
        wait_for(lambda: stage.acked("depot"), 90, service, "the first article")
        # an article mid-fetch and an alert mid-POST when the power goes
        stage.hold_page["bakery"], stage.page_arrived["bakery"] = threading.Event(), threading.Event()
        stage.hold_post["bridge"] = threading.Event()
        stage.published += ["bakery", "bridge"]
        wait_for(lambda: stage.page_arrived["bakery"].is_set() and "bridge" not in stage.hold_post, 60, service,
                 "the bakery page requested and the bridge alert posted")
        assert service.proc is not None
        os.killpg(service.proc.pid, signal.SIGKILL)  # as the acceptance run does: run's process group
        service.proc.wait()
        wait_for_gone = time.monotonic() + 10
        while _leftovers(tmp_path) and time.monotonic() < wait_for_gone:  # workers and Redis die with run
            time.sleep(0.1)
        assert not _leftovers(tmp_path), "processes outlived the killed service"
        stage.hold_page["bakery"].set()
        polls_before = stage.hits["/good.xml"]

        restarted = time.monotonic()
        service.start()
        wait_for(lambda: stage.acked("bakery") and stage.acked("bridge"), 120, service,
                 "the in-flight article and alert after the restart")
        recovery = time.monotonic() - restarted
        stage.published.append("school")
        wait_for(lambda: stage.acked("school"), 60, service, "a new article after the restart")
        time.sleep(2)
        assert stage.hits["/good.xml"] > polls_before
        code, _took = service.sigterm()
    finally:
        _cleanup(service, tmp_path)
    print(f"restart recovery: {recovery:.1f} s")
    assert code == 0
    assert Counter(stage.slug_of(p) for _, p in stage.alerts) == Counter(
        {"depot": 1, "bakery": 1, "bridge": 1, "school": 1})  # answered deliveries: one each
    assert stage.hits["/articles/depot.html"] == 1  # done before the crash: not fetched again
    assert stage.hits["/articles/bridge.html"] == 1  # judged before the crash: only its delivery re-ran
    assert stage.hits["/articles/bakery.html"] == 2  # in flight at the crash: fetched again, alerted once
    assert "Traceback" not in service.text()


def _worker_running(service: Service, slug: str) -> int:
    """The worker process whose job is fetching ``slug`` (RQ's registration says which job it runs)."""
    from rq import Worker

    from monitor.broker import connect

    connection = connect(f"unix://{service.tmp / 'data' / 'redis.sock'}")
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            busy = [w.pid for w in Worker.all(connection=connection) if w.get_current_job_id()]
            if busy:
                return busy[0]
            time.sleep(0.05)
    finally:
        connection.close()
    raise AssertionError(f"no busy worker for {slug}")
