"""The service's small local HTTP endpoint: /healthz, /metrics (Prometheus), /status (JSON).

``/healthz`` answers 200 when Redis answers, the poller loop beat recently and a worker is alive;
else 503, with the reason in the JSON body. ``extra`` (``claimwatch run``'s supervisor) adds what only
the process holding the workers knows: how many worker processes run, how often they were restarted.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import redis
from prometheus_client import CollectorRegistry, generate_latest

from monitor.status import StatsCollector, collect, health
from monitor.store import Store

log = logging.getLogger(__name__)


def serve(host: str, port: int, store: Store, connection: redis.Redis,
          extra: Callable[[], dict[str, Any]] | None = None) -> ThreadingHTTPServer | None:
    """Start the endpoint in a daemon thread; None (with a warning) if the port is taken."""
    registry = CollectorRegistry()
    registry.register(StatsCollector(store, connection, extra))

    class Handler(BaseHTTPRequestHandler):
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
            try:
                if path == "/healthz":
                    ok, checks = health(store, connection, extra)
                    self._send(200 if ok else 503, json.dumps(checks).encode(), "application/json")
                elif path == "/metrics":
                    self._send(200, generate_latest(registry), "text/plain; version=0.0.4")
                elif path in ("/", "/status"):
                    self._send(200, json.dumps(collect(store, connection), indent=1).encode(), "application/json")
                else:
                    self._send(404, b"not found\n", "text/plain")
            except redis.RedisError as e:
                self._send(503, json.dumps({"ok": False, "redis": f"unreachable: {type(e).__name__}"}).encode(),
                           "application/json")
            except (BrokenPipeError, ConnectionResetError):
                pass

    try:
        server = ThreadingHTTPServer((host, port), Handler)
    except OSError as e:
        log.warning("health endpoint not started: %s:%d: %s", host, port, e.strerror or e)
        return None
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    log.info("health endpoint on http://%s:%d/ (healthz, metrics, status)", host, server.server_address[1])
    return server
