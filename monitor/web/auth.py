"""Who may call what on the HTTP endpoint: bearer tokens from ``service.api_tokens``.

Three kinds of route (``Access``):

- ``OPEN``: anyone (``/healthz``: a load balancer or Docker's health check has no token);
- ``READ``: anyone when the endpoint listens on loopback only (``http_host`` 127.0.0.1, ::1,
  localhost); otherwise a valid token (``/status`` shows feeds, worker hosts, dead letters);
- ``WRITE``: a valid token, wherever the endpoint listens (a route that changes something).

Every route is ``READ`` unless marked: ``TokenGate`` (middleware on the whole app) checks it, so a
route added later is never open by mistake. Mark an endpoint with ``@requires(Access.WRITE)`` or a
mounted sub-application with ``protect(app, Access.WRITE)``; ``OPEN`` paths are listed when the
app is made. A token travels as ``Authorization: Bearer <token>`` and is compared with
``hmac.compare_digest`` against every configured token (no early exit); no answer or log line
repeats it.
"""

from __future__ import annotations

import enum
import functools
import hmac
import ipaddress
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from monitor.web.session import SESSION, session_value

Endpoint = Callable[[Request], Awaitable[Response]]


class Access(enum.IntEnum):
    OPEN = 0
    READ = 1
    WRITE = 2


def is_loopback(host: str) -> bool:
    """Does a server bound to ``host`` answer this machine alone?"""
    if host.strip("[]").lower() in ("localhost", "localhost.", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve to anything


@dataclass(frozen=True)
class Auth:
    tokens: tuple[bytes, ...]
    loopback: bool

    @classmethod
    def of(cls, tokens: Sequence[str], http_host: str) -> Auth:
        return cls(tuple(t.encode() for t in tokens if t), is_loopback(http_host))

    def needs_token(self, access: Access) -> bool:
        return access is Access.WRITE or (access is Access.READ and not self.loopback)

    def valid(self, presented: bytes) -> bool:
        ok = False
        for token in self.tokens:  # every one, so the time taken says nothing about which matched
            ok |= hmac.compare_digest(presented, token)
        return ok and bool(presented)

    def valid_session(self, cookie: str | None) -> bool:
        """A desk page's sign-in cookie (``monitor.web.session``): the HMAC of one of the tokens."""
        presented = (cookie or "").encode()
        ok = False
        for token in self.tokens:
            ok |= hmac.compare_digest(presented, session_value(token).encode())
        return ok and bool(presented)

    def signed_in(self, request: Request) -> bool:
        """Does the request carry a valid token (bearer header) or sign-in cookie?"""
        scheme, _, value = (request.headers.get("authorization") or "").partition(" ")
        return ((scheme.lower() == "bearer" and self.valid(value.strip().encode()))
                or self.valid_session(request.cookies.get(SESSION)))

    def refusal(self, authorization: str | None, access: Access, cookie: str | None = None) -> Response | None:
        """None when the request may go on; else the answer that refuses it (401, or 403 when no token
        is configured at all). ``cookie``: the desk's sign-in cookie, which counts as the token."""
        if not self.needs_token(access):
            return None
        if not self.tokens:
            return JSONResponse({"error": "this route needs a token and service.api_tokens is empty"},
                                status_code=403)
        scheme, _, value = (authorization or "").partition(" ")
        if scheme.lower() == "bearer" and self.valid(value.strip().encode()):
            return None
        if self.valid_session(cookie):
            return None
        return JSONResponse({"error": "a valid bearer token is required (Authorization: Bearer ...)"},
                            status_code=401, headers={"WWW-Authenticate": 'Bearer realm="claimwatch"'})


def _auth(scope: Scope) -> Auth:
    return scope["app"].state.auth


def requires(access: Access) -> Callable[[Endpoint], Endpoint]:
    """Mark an async endpoint: ``@requires(Access.WRITE)`` refuses it to a request without a valid token."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            refused = _auth(request.scope).refusal(request.headers.get("authorization"), access,
                                                   request.cookies.get(SESSION))
            return refused if refused is not None else await endpoint(request)

        return guarded

    return decorate


class _Guard:
    """An ASGI wrapper: HTTP requests reach ``app`` only with the access ``access`` asks for."""

    def __init__(self, app: ASGIApp, access: Callable[[Scope], Access]):
        self.app, self.access = app, access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope)
            refused = _auth(scope).refusal(request.headers.get("authorization"), self.access(scope),
                                           request.cookies.get(SESSION))
            if refused is not None:
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)


def protect(app: ASGIApp, access: Access) -> ASGIApp:
    """A mounted sub-application behind ``access``: ``Mount("/api/v1/admin", protect(sub, Access.WRITE))``."""
    return _Guard(app, lambda _scope: access)


class TokenGate(_Guard):
    """The whole app's default: every path is ``READ`` except the ``open_paths`` (exactly those)."""

    def __init__(self, app: ASGIApp, open_paths: Collection[str] = ("/healthz",)):
        paths = frozenset(open_paths)
        super().__init__(app, lambda scope: Access.OPEN if scope.get("path") in paths else Access.READ)
