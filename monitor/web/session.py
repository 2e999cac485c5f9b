"""The pages' sign-in and their forms' CSRF defence.

Sign-in: a browser has no bearer header, so ``POST /login`` takes one of ``service.api_tokens`` and
sets a cookie holding an HMAC of it (never the token itself: HttpOnly, SameSite=Strict); the token
gate (``monitor.web.auth``) takes that cookie as it takes a bearer token, compared in constant time.

CSRF: every form carries the value of a random ``cw_csrf`` cookie (double submit), and a POST is
refused unless the two match and its ``Origin`` (or ``Referer``), when sent, is this very host; the
session cookie is SameSite=Strict too, so another site's form never carries it.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

SESSION = "cw_session"
CSRF = "cw_csrf"
_LABEL = b"claimwatch desk session v1"


def session_value(token: bytes) -> str:
    """The session cookie for a token: an HMAC of it, so the cookie never holds the token itself."""
    return hmac.new(token, _LABEL, "sha256").hexdigest()


def csrf_token(request: Request) -> str:
    """The request's CSRF cookie value, or a fresh one (``set_csrf`` puts it on the response)."""
    return request.cookies.get(CSRF) or request.state.__dict__.setdefault("csrf", secrets.token_urlsafe(24))


def set_csrf(request: Request, response: Response) -> Response:
    fresh = request.state.__dict__.get("csrf")
    if fresh and not request.cookies.get(CSRF):
        response.set_cookie(CSRF, fresh, httponly=True, samesite="strict", secure=request.url.scheme == "https")
    return response


def same_origin(request: Request) -> bool:
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or origin == "null":
        return origin is None  # "null": a sandboxed or privacy-stripped context: refuse
    return urlsplit(origin).netloc == request.headers.get("host", "")


def csrf_ok(request: Request, form_value: str | None) -> bool:
    cookie = request.cookies.get(CSRF) or ""
    return bool(cookie) and hmac.compare_digest(cookie.encode(), (form_value or "").encode()) and same_origin(request)


def sign_in(response: Response, request: Request, token: bytes) -> Response:
    response.set_cookie(SESSION, session_value(token), httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", max_age=30 * 86400)
    return response


def sign_out(response: Response) -> Response:
    response.delete_cookie(SESSION)
    return response
