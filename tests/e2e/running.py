"""What the end-to-end stages share: a quiet loopback HTTP server for the stage, and `claimwatch
run` as a subprocess, stopped with SIGTERM (killed if it will not stop) with its exit code and log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class StageHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def send(self, code: int, body: bytes, ctype: str = "text/plain", headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """The stage at ``http://127.0.0.1:PORT`` until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def environment() -> dict[str, str]:
    """This environment without a Redis of its own: `run` starts its embedded one."""
    return {k: v for k, v in os.environ.items() if k not in ("CLAIMWATCH_REDIS_URL", "REDIS_URL")}


@dataclass
class Running:
    proc: subprocess.Popen[bytes]
    code: int | None = None
    log: str = field(default="")


@contextmanager
def claimwatch_run(*configs: str) -> Iterator[Running]:
    """`claimwatch run --config ...` from the checkout's root; SIGTERM when the block ends."""
    args = [a for c in configs for a in ("--config", c)]
    proc = subprocess.Popen([sys.executable, "-m", "claimwatch", "run", *args], cwd=ROOT, env=environment(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    running = Running(proc)
    try:
        yield running
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            running.code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
        running.log = proc.stdout.read().decode("utf-8", "replace") if proc.stdout else ""
