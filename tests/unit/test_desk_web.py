"""The desk's pure pieces: the sign-in cookie never holds the token, the CSRF check, what a link may be,
the OpenAPI document's references, the chart's scale."""

from __future__ import annotations

from starlette.requests import Request

from monitor.desk import chart
from monitor.web import session
from monitor.web.auth import Access, Auth
from monitor.web.templating import ENV, _safe_link

TOKEN = "a-token-of-the-service-0123"


def _request(headers: dict[str, str], cookies: str = "") -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    if cookies:
        raw.append((b"cookie", cookies.encode()))
    return Request({"type": "http", "method": "POST", "path": "/", "headers": raw, "query_string": b"",
                    "scheme": "http", "server": ("127.0.0.1", 8787)})


def test_the_session_cookie_is_an_hmac_the_gate_accepts() -> None:
    auth = Auth.of([TOKEN], "127.0.0.1")
    value = session.session_value(TOKEN.encode())
    assert TOKEN not in value and len(value) == 64
    assert auth.valid_session(value) and not auth.valid_session(value[:-1] + "0") and not auth.valid_session("")
    assert auth.refusal(None, Access.WRITE, value) is None
    assert auth.refusal(None, Access.WRITE, "forged") is not None
    assert not Auth.of([], "127.0.0.1").valid_session(session.session_value(b""))


def test_csrf_needs_the_cookie_the_field_and_this_origin() -> None:
    host = {"host": "127.0.0.1:8787"}
    assert session.csrf_ok(_request(host, "cw_csrf=abc"), "abc")
    assert session.csrf_ok(_request({**host, "origin": "http://127.0.0.1:8787"}, "cw_csrf=abc"), "abc")
    assert not session.csrf_ok(_request(host, "cw_csrf=abc"), "abd")
    assert not session.csrf_ok(_request(host), "")
    assert not session.csrf_ok(_request({**host, "origin": "https://evil.example"}, "cw_csrf=abc"), "abc")
    assert not session.csrf_ok(_request({**host, "origin": "null"}, "cw_csrf=abc"), "abc")
    assert not session.csrf_ok(_request({**host, "referer": "http://evil.example/x"}, "cw_csrf=abc"), "abc")


def test_only_http_links_are_links_and_text_is_escaped() -> None:
    assert _safe_link("javascript:alert(1)") == "#" and _safe_link("data:text/html,x") == "#"
    assert _safe_link("https://a.example/x") == "https://a.example/x"
    html = ENV.from_string("{{ t }} <a href=\"{{ u | safe_link }}\">").render(t="<b>x</b>", u="javascript:x")
    assert html == '&lt;b&gt;x&lt;/b&gt; <a href="#">'


def test_the_chart_shares_one_scale() -> None:
    svg = chart.svg([{"day": "2026-06-01", "claims": 2, "articles": 4}], "t")
    assert 'height="42.0" fill="#1f4e79"' in svg and 'height="84.0" fill="#cfd6dd"' in svg
    assert chart.svg([], "empty").endswith("</svg>")
