"""A threaded HTTP server on 127.0.0.1 for integration tests (loopback only), and its reply helper."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def reply(handler: BaseHTTPRequestHandler, status: int, headers: Mapping[str, str], body: bytes) -> None:
    """Send one response; Content-Length unless the headers set it; a client hanging up is fine."""
    try:
        handler.send_response(status)
        for k, v in headers.items():
            handler.send_header(k, v)
        if "Content-Length" not in headers:
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
    except (BrokenPipeError, ConnectionResetError):
        pass


class QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client hanging up on a bomb or a trickle is what the test wants


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler], *, quiet_errors: bool = False) -> Iterator[str]:
    """Serve ``handler`` in daemon threads; yields the base URL; shuts down on exit."""
    server = (_QuietServer if quiet_errors else ThreadingHTTPServer)(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
