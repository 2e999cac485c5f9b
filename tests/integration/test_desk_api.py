"""The desk's JSON API (/api/v1) in-process against the real Redis: claims paged and filtered with
their first source and corroboration, writes refused without a token, the OpenAPI document whole."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pytest
import redis
from rq import Queue
from starlette.routing import Route
from starlette.testclient import TestClient

from monitor.queue import ALERTS
from monitor.settings import Settings, from_dict
from monitor.store import Store
from monitor.store.claims import Source, claim_id
from monitor.web.api import api_routes
from monitor.web.app import create_app
from monitor.web.openapi import document

TOKEN = "t0ken-for-the-desk-tests-5e2a"
WATCH = "w"
SECRET_HOOK = "https://hooks.example/services/T000/B000/SECRETSECRET"


def settings(host: str = "127.0.0.1") -> Settings:
    return from_dict({"service": {"http_host": host, "http_port": 0, "api_tokens": [TOKEN]},
                      "watches": [{"name": WATCH, "keywords": ["Kursk"]}],
                      "feeds": [{"url": "https://feeds.example/rss?key=SECRETKEY", "name": "Example"}],
                      "alerts": [{"type": "slack", "url": SECRET_HOOK}]}, env={})


@pytest.fixture
def client(redis_client: redis.Redis) -> Iterator[TestClient]:
    app = create_app(settings(), redis_client, routes=api_routes())
    with TestClient(app) as c:
        yield c


def _claims(store: Store, n: int) -> None:
    for i in range(n):
        src = Source(f"https://a.example/{i}", "Agency" if i % 2 else "Вестник", f"t{i}", None,
                     "en" if i % 2 else "ru", f"2026-06-{1 + i:02d}T08:00:00+00:00")
        store.claims.record(WATCH, f"Claim {i}: drones hit Kursk, officials said.", "officials", src, f"a{i}")
    cid = claim_id(WATCH, "Claim 3: drones hit Kursk, officials said.")
    store.claims.corroborate(WATCH, cid, Source("https://b.example/x", "Paper", "x", None, "uk", "2026-06-09T00:00:00"))


def test_claims_paged_filtered_with_first_source_and_corroboration(client: TestClient,
                                                                   redis_client: redis.Redis) -> None:
    _claims(Store(redis_client), 5)
    r = client.get("/api/v1/watches/w/claims", params={"limit": 2})
    assert r.status_code == 200
    body = r.json()
    assert [c["seq"] for c in body["claims"]] == [5, 4] and body["next"] == 4 and body["total"] == 5
    older = client.get("/api/v1/watches/w/claims", params={"before": 4}).json()["claims"]
    assert [c["seq"] for c in older] == [3, 2, 1]
    c3 = body["claims"][1]
    assert c3["text"].startswith("Claim 3") and c3["first"]["outlet"] == "Agency"
    assert c3["corroboration"][0]["outlet"] == "Paper" and c3["summary"] == {
        "repeats": 1, "outlets": 1, "languages": ["uk"]}
    ru = client.get("/api/v1/watches/w/claims", params={"lang": "ru", "q": "KURSK drones"}).json()["claims"]
    assert [c["seq"] for c in ru] == [5, 3, 1]
    one = client.get("/api/v1/watches/w/claims", params={"outlet": "вестник", "until": "2026-06-01"}).json()
    assert [c["seq"] for c in one["claims"]] == [1]
    assert client.get(f"/api/v1/watches/w/claims/{c3['id']}").json()["id"] == c3["id"]
    assert client.get("/api/v1/watches/w/claims/nope").status_code == 404
    assert client.get("/api/v1/watches/nope/claims").status_code == 400
    assert client.get("/api/v1/watches/w/claims", params={"limit": "x"}).json() == {
        "error": "limit: not a whole number: 'x'"}
    assert client.get("/api/v1/watches/w/claims", params={"since": "yesterday"}).status_code == 400


def test_exports(client: TestClient, redis_client: redis.Redis) -> None:
    _claims(Store(redis_client), 3)
    Store(redis_client).claims.record(WATCH, "=HYPERLINK(\"x\") Kursk", None, Source("https://e.example", "E"), "e")
    r = client.get("/api/v1/watches/w/export.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0][:3] == ["id", "seq", "text"] and len(rows) == 5
    assert rows[1][2].startswith("'=")  # no formula for a spreadsheet
    lines = client.get("/api/v1/watches/w/export.jsonl").text.splitlines()
    assert [json.loads(x)["seq"] for x in lines] == [4, 3, 2, 1]


def test_writes_need_a_token_and_feedback_is_queued(client: TestClient, redis_client: redis.Redis) -> None:
    body = {"kind": "fact", "text": "The governor said on Monday that 3 drones were shot down."}
    assert client.post("/api/v1/watches/w/feedback", json=body).status_code == 401
    assert client.post("/api/v1/deliveries/retry", json={}).status_code == 401
    bad = client.post("/api/v1/watches/w/feedback", json=body, headers={"Authorization": "Bearer wrong-token-xxxxxxx"})
    assert bad.status_code == 401
    assert Queue(ALERTS, connection=redis_client).count == 0
    auth = {"Authorization": f"Bearer {TOKEN}"}
    r = client.post("/api/v1/watches/w/feedback", json=body, headers=auth)
    assert r.status_code == 202 and r.json()["status"] == "queued"
    (job,) = Queue(ALERTS, connection=redis_client).jobs
    assert job.func_name == "workers.jobs.apply_feedback" and job.args == (r.json()["id"],)
    assert client.post("/api/v1/watches/w/feedback", json={"kind": "nope"}, headers=auth).status_code == 400
    assert client.post("/api/v1/watches/w/feedback", content=b"[1]", headers=auth).status_code == 400
    listed = client.get("/api/v1/feedback", params={"watch": "w"}).json()["feedback"]
    assert [f["id"] for f in listed] == [r.json()["id"]]


def test_reads_need_a_token_off_loopback(redis_client: redis.Redis) -> None:
    with TestClient(create_app(settings("0.0.0.0"), redis_client, routes=api_routes())) as c:
        assert c.get("/api/v1/watches").status_code == 401
        assert c.get("/api/v1/watches", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_no_secret_in_any_answer(client: TestClient, redis_client: redis.Redis) -> None:
    _claims(Store(redis_client), 2)
    seen = "".join(client.get(p).text for p in ("/api/v1/watches", "/api/v1/feeds", "/api/v1/deliveries",
                                                  "/api/v1/openapi.json", "/api/v1/watches/w/claims"))
    assert "SECRET" not in seen and TOKEN not in seen and "hooks.example" not in seen
    assert client.get("/api/v1/feeds").json()[0]["url"] == "https://feeds.example/rss?…"


def test_the_openapi_document_describes_every_route() -> None:
    doc = document()
    routes = {(r.path, m.lower()) for r in api_routes() if isinstance(r, Route) for m in (r.methods or ())
              if m != "HEAD"}
    described = {(p, m) for p, ops in doc["paths"].items() for m in ops}
    assert routes == described
    refs = json.dumps(doc).split('"$ref": "#/components/schemas/')[1:]
    assert {r.split('"')[0] for r in refs} <= set(doc["components"]["schemas"])


def test_a_dead_letter_is_shown_and_sent_again(client: TestClient, redis_client: redis.Redis) -> None:
    store = Store(redis_client)
    alert = {"id": "al1", "type": "new_claims", "watch": WATCH, "article_url": "https://a.example/1",
             "article_title": "T", "article_source": "A", "article_published": None, "claims": [],
             "detected_at": "2026-06-01T00:00:00+00:00"}
    store.deliveries.set_status("al1", "0:slack", "failed: gone")
    store.deliveries.dead_letter({"alert": alert, "sink": "0:slack", "error": "gone: 404", "attempts": 1,
                                  "at": "2026-06-01T00:00:01+00:00"})
    (dead,) = client.get("/api/v1/deliveries").json()["dead_letters"]
    assert dead == {"alert_id": "al1", "watch": WATCH, "title": "T", "sink": "0:slack", "error": "gone: 404",
                    "attempts": 1, "at": "2026-06-01T00:00:01+00:00"}
    assert client.post("/api/v1/deliveries/retry", json={"sink": "nope"},
                       headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 400
    r = client.post("/api/v1/deliveries/retry", json={"alert_id": "al1"}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 202 and r.json()["requeued"] == [{"alert_id": "al1", "sink": "0:slack",
                                                               "error": "gone: 404"}]
    assert client.get("/api/v1/deliveries").json()["dead_letters"] == []
    (job,) = Queue(ALERTS, connection=redis_client).jobs
    assert job.func_name == "workers.jobs.deliver_alert" and job.args[1] == "0:slack"
