"""The desk's pages against the real Redis: each page renders what the store holds (escaped), forms
need a signed-in browser and pass the CSRF check, the timeline streams new claims (server-sent
events over a real socket), and no page shows a secret."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import redis
from starlette.testclient import TestClient
from test_desk_api import SECRET_HOOK, TOKEN, WATCH, settings

from monitor.desk import chart
from monitor.store import Store
from monitor.store.claims import Source, claim_id
from monitor.web import server as web
from monitor.web.app import create_app
from monitor.web.extensions import extra_routes

HOSTILE = 'Drones hit Kursk <script>alert(1)</script>, officials said on Monday.'


@pytest.fixture
def client(redis_client: redis.Redis) -> Iterator[TestClient]:
    with TestClient(create_app(settings(), redis_client, routes=extra_routes()), base_url="http://127.0.0.1") as c:
        yield c


def _record(store: Store, text: str = HOSTILE, url: str = "javascript:alert(2)") -> str:
    store.claims.record(WATCH, text, "officials", Source(url, "Agency", "t", None, "en", "2026-06-01T08:00:00"), "a1")
    return claim_id(WATCH, text)


def _csrf(page: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', page)
    assert m
    return m.group(1)


def test_pages_render_escaped_and_without_secrets(client: TestClient, redis_client: redis.Redis) -> None:
    store = Store(redis_client)
    _record(store)
    store.history.count_article(WATCH, "new_claims", 1)
    store.verdicts.save(WATCH, "https://a.example/1", {"url": "https://a.example/1", "title": "T", "outlet": "Agency",
                                                      "status": "no_new_claims", "reason": "every claim is known",
                                                      "verdicts": [{"sentence": "S <b>x</b>", "verdict": "known",
                                                                    "reason": "r", "similarity": 0.8,
                                                                    "nearest": "N", "attribution": None}]})
    pages = {p: client.get(p) for p in ("/", f"/watches/{WATCH}", "/feeds", "/deliveries", "/login",
                                        f"/watches/{WATCH}/article?url=https://a.example/1")}
    for path, r in pages.items():
        assert r.status_code == 200, path
        assert "SECRET" not in r.text and TOKEN not in r.text and "hooks.example" not in r.text, path
    timeline = pages[f"/watches/{WATCH}"].text
    assert "<script>alert(1)" not in timeline and "&lt;script&gt;alert(1)" in timeline
    assert "javascript:alert(2)" not in timeline.replace("value=\"javascript:alert(2)\"", "")  # never a link
    assert "first reported by" in timeline and "<svg" in timeline
    assert "S &lt;b&gt;x&lt;/b&gt;" in pages[f"/watches/{WATCH}/article?url=https://a.example/1"].text
    assert client.get("/watches/nope").status_code == 404
    assert SECRET_HOOK not in pages["/deliveries"].text


def test_forms_need_sign_in_and_a_csrf_token(client: TestClient, redis_client: redis.Redis) -> None:
    cid = _record(Store(redis_client))
    page = client.get(f"/watches/{WATCH}").text
    form = {"csrf": _csrf(page), "kind": "not_new", "claim": cid}
    r = client.post(f"/watches/{WATCH}/feedback", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")  # not signed in
    assert Store(redis_client).feedback.recent() == []
    bad = client.post("/login", data={"csrf": _csrf(page), "token": "not-the-token-xxxxxxxx"}, follow_redirects=False)
    assert bad.status_code == 401
    r = client.post("/login", data={"csrf": _csrf(page), "token": TOKEN}, follow_redirects=False)
    assert r.status_code == 303 and TOKEN not in r.headers.get("set-cookie", "")
    assert client.post(f"/watches/{WATCH}/feedback", data={**form, "csrf": "forged"}).status_code == 403
    other_site = client.post(f"/watches/{WATCH}/feedback", data=form, headers={"Origin": "https://evil.example"})
    assert other_site.status_code == 403
    assert Store(redis_client).feedback.recent() == []
    r = client.post(f"/watches/{WATCH}/feedback", data=form, follow_redirects=False)
    assert r.status_code == 303 and "flash=queued" in r.headers["location"]
    (fb,) = Store(redis_client).feedback.recent()
    assert fb["kind"] == "not_new" and fb["claim"] == cid
    assert "marked not new" in client.get(f"/watches/{WATCH}").text


def test_the_timeline_streams_new_claims(redis_url: str, redis_client: redis.Redis) -> None:
    server = web.start(settings(), redis_url, extra=lambda: {"worker_processes": 1}, routes=extra_routes())
    assert server is not None
    got: list[str] = []
    try:
        def listen() -> None:
            with httpx.stream("GET", f"http://127.0.0.1:{server.port}/watches/{WATCH}/live?after=0",
                              timeout=10) as r:
                assert r.headers["content-type"].startswith("text/event-stream")
                for line in r.iter_lines():
                    got.append(line)
                    if line.startswith("data: ") and "Grayvoron" in line:
                        return

        t = threading.Thread(target=listen, daemon=True)
        t.start()
        time.sleep(0.5)
        _record(Store(redis_client), "Shelling hit Grayvoron on Monday, officials said.", "https://a.example/g")
        t.join(10)
        assert not t.is_alive()
        assert "event: claim" in got and "id: 1" in got
    finally:
        server.stop()


def test_chart_is_an_svg_of_every_day() -> None:
    days = [{"day": f"2026-06-{d:02d}", "claims": d % 3, "articles": d} for d in range(1, 31)]
    svg = chart.svg(days, "w <x>")
    assert svg.startswith("<svg") and svg.count("<g>") == 30 and "w &lt;x&gt;" in svg
    assert "2026-06-07: 1 claims, 7 articles" in svg
