"""`claimwatch feeds import` of a 200-feed Miniflux export gives a config that `claimwatch run` starts
with and polls every feed of; `feeds export` gives the 200 back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from miniflux import miniflux_opml

from monitor import opml

ROOT = Path(__file__).resolve().parents[2]
N = 200


def _server(hits: set[str], lock: threading.Lock) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            with lock:
                hits.add(self.path)
            body = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><guid>1</guid>'
                    b"<title>Weather in Paris</title><link>https://x.example/1</link></item></channel></rss>")
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


def _claimwatch(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CLAIMWATCH_REDIS_URL", "REDIS_URL")}
    return subprocess.run([sys.executable, "-m", "claimwatch", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.e2e
def test_imported_miniflux_feeds_start_and_are_polled(tmp_path: Path) -> None:
    hits: set[str] = set()
    server = _server(hits, threading.Lock())
    base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    subs, tables = tmp_path / "miniflux.opml", tmp_path / "feeds.toml"
    subs.write_bytes(miniflux_opml(base, N))
    done = _claimwatch("feeds", "import", str(subs), "--watch", "belgorod-raids", "--output", str(tables))
    assert done.returncode == 0 and f"{N} feed(s) written" in done.stderr, done.stderr
    override = tmp_path / "override.toml"
    override.write_text(f'[service]\ndata_dir = "{tmp_path / "data"}"\npoll_interval = 600\nworkers = 1\n'
                        f"http_port = 0\n\n[network]\nallow_private_addresses = true\n", encoding="utf-8")
    configs = ["--config", "config/claimwatch.toml", "--config", str(override), "--config", str(tables)]
    exported = _claimwatch("feeds", "export", *configs)
    assert exported.returncode == 0, exported.stderr
    back = opml.read(exported.stdout.encode()).feeds
    assert len(back) == N and all(f.url.startswith(base) for f in back)  # the shipped feeds were replaced
    env = {k: v for k, v in os.environ.items() if k not in ("CLAIMWATCH_REDIS_URL", "REDIS_URL")}
    proc = subprocess.Popen([sys.executable, "-m", "claimwatch", "run", *configs], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(hits) < N and proc.poll() is None:
            time.sleep(0.2)
        assert len(hits) == N, f"{len(hits)} of {N} feeds polled"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
        log = proc.stdout.read().decode("utf-8", "replace") if proc.stdout else ""
        server.shutdown()
    assert code == 0 and "Traceback" not in log and " failed (" not in log, log[-3000:]
