"""`claimwatch run` as a user runs it: local feed, page and webhook receiver; a signed alert; SIGTERM exits 0."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "e2e-secret"
ARTICLE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Governor reports drone hit</title>
<meta property="og:site_name" content="Test Gazette"></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>Belgorod governor says drone hit a fuel depot near Grayvoron</h1>
<p>Vyacheslav Gladkov, the governor of Belgorod region, said on Wednesday that a drone had set fire to a fuel
depot on the outskirts of Grayvoron, and that 12 firefighters spent six hours putting out the blaze.</p>
<p>Gladkov said nobody was hurt and that residents of two streets were moved to a school overnight as a
precaution, while the Freedom of Russia Legion said on Telegram that its fighters were not involved.</p>
</article><aside><h2>Related</h2><ul><li><a href="/x">Unrelated headline about football</a></li></ul></aside>
</body></html>"""


class Stage:
    def __init__(self) -> None:
        self.published = False
        self.alerts: list[tuple[bytes, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.base = ""

    def feed(self) -> bytes:
        items = ""
        if self.published:
            items = (f"<item><title>Belgorod governor says drone hit a fuel depot near Grayvoron</title>"
                     f"<link>{self.base}/articles/depot.html?utm_source=rss</link><guid>depot-1</guid>"
                     f"<description>Governor Gladkov reports a drone strike in Belgorod region.</description></item>")
        return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Test Gazette</title>'
                f"<link>{self.base}/</link><description>t</description>{items}</channel></rss>").encode()


def _handler(stage: Stage) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _send(self, code: int, body: bytes, ctype: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/feed.xml":
                self._send(200, stage.feed(), "application/rss+xml")
            elif path == "/articles/depot.html":
                self._send(200, ARTICLE.encode(), "text/html; charset=utf-8")
            else:
                self._send(404, b"no", "text/plain")

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with stage.lock:
                stage.alerts.append((body, {k.lower(): v for k, v in self.headers.items()}))
            self._send(204, b"", "text/plain")

    return Handler


@pytest.mark.e2e
def test_run_alerts_signed_and_stops_on_sigterm(tmp_path: Path) -> None:
    stage = Stage()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stage))
    stage.base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    override = tmp_path / "override.toml"
    override.write_text(
        f'[service]\ndata_dir = "{tmp_path / "data"}"\npoll_interval = 0.5\nworkers = 1\nhttp_port = 0\n\n'
        f"[network]\nallow_private_addresses = true\n\n"
        f'[[feeds]]\nurl = "{stage.base}/feed.xml"\nname = "Test Gazette"\n\n'
        f'[[alerts]]\ntype = "webhook"\nurl = "{stage.base}/hook"\nsecret = "{SECRET}"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("CLAIMWATCH_REDIS_URL", "REDIS_URL")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "claimwatch", "run", "--config", "config/claimwatch.toml", "--config", str(override)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        time.sleep(3)  # the first poll sees an empty feed; then the article appears
        stage.published = True
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not stage.alerts and proc.poll() is None:
            time.sleep(0.2)
        assert stage.alerts, "no alert arrived"
        body, headers = stage.alerts[0]
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["x-claimwatch-signature"], expected)
        payload = json.loads(body)
        assert payload["type"] == "new_claims" and payload["watch"] == "belgorod-raids"
        assert payload["article"]["url"] == f"{stage.base}/articles/depot.html"
        assert any("12 firefighters" in c["text"] for c in payload["claims"])
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
        log = proc.stdout.read().decode("utf-8", "replace") if proc.stdout else ""
        server.shutdown()
    assert code == 0, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    leftovers = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _cmdline_has(p, str(tmp_path))]
    assert not leftovers, "processes left running after exit"


def _cmdline_has(proc_dir: Path, needle: str) -> bool:
    try:
        return needle in (proc_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return False
