"""A threaded HTTP server on 127.0.0.1 for integration tests (loopback only), its reply helper, and
the same fetch through both of our clients (``both``)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from monitor import http
from monitor.settings import NetworkSettings


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
def serving(handler: type[BaseHTTPRequestHandler], *, quiet_errors: bool = False,
            host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``handler`` in daemon threads on ``host`` (a loopback address); yields the base URL; shuts
    down on exit."""
    server = (_QuietServer if quiet_errors else ThreadingHTTPServer)((host, 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def both(net: NetworkSettings, url: str, client_kw: dict[str, Any] | None = None,
         **kw: Any) -> list[http.Response | Exception]:
    """The same fetch through the sync client (pages, webhooks) and the async one (feeds): each
    outcome, a Response or the error raised. ``client_kw`` goes to both client factories."""
    out: list[http.Response | Exception] = []
    with http.make_client(net, **(client_kw or {})) as c:
        try:
            out.append(http.fetch(c, url, net, **kw))
        except Exception as e:
            out.append(e)

    async def run() -> None:
        async with http.make_async_client(net, **(client_kw or {})) as c:
            try:
                out.append(await http.afetch(c, url, net, **kw))
            except Exception as e:
                out.append(e)

    asyncio.run(run())
    return out
