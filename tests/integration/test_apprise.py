"""The Apprise sink against a local HTTP server (Apprise's ``json://`` URL), through the delivery job:
alerts and digests arrive as Markdown; failures retry; the URLs never show in errors or logs.
Skipped when the apprise extra is not installed (the ``test`` extra installs it)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis
from localserver import QuietHandler, reply, serving  # noqa: I001 (tests/integration is on sys.path under pytest)

from monitor.errors import ConfigError, TransientError
from monitor.models import Alert, Claim, Known, items_of
from monitor.queue import queues
from monitor.settings import from_dict
from monitor.store import Store
from workers import jobs
from workers.runtime import Context
from workers.sinks import build_sinks, sample_digest

pytest.importorskip("apprise")
SECRET_PATH = "notify/s3cr3t-path"


@pytest.fixture
def server() -> Iterator[dict[str, Any]]:
    state: dict[str, Any] = {"got": [], "answers": [], "lock": threading.Lock()}

    class Handler(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with state["lock"]:
                state["got"].append((self.path, json.loads(body)))
                status = state["answers"].pop(0) if state["answers"] else 200
            reply(self, status, {"Content-Type": "application/json"}, b"{}")

    with serving(Handler) as base:
        state["url"] = base.replace("http://", "json://") + "/" + SECRET_PATH
        yield state


def sinks(urls: str, **extra: Any) -> list[Any]:
    s = from_dict({"watches": [{"name": "w", "keywords": ["x"]}],
                   "alerts": [{"type": "apprise", "url": "${APPRISE_URLS}"} | extra]}, env={"APPRISE_URLS": urls})
    return build_sinks(s.alerts)


def alert() -> Alert:
    return Alert(id="apprise-1", type="new_claims", watch="w", article_url="https://news.example.org/a",
                 article_title="Drones over Белгород", article_source="Example News",
                 article_published="2023-05-23T10:00:00+00:00",
                 claims=(Claim("Three drones were shot down @everyone *overnight*.", "the ministry",
                               Known("Two drones fell.", 0.42)),), detected_at="2023-05-23T10:04:17+00:00")


def test_an_alert_and_a_digest_reach_the_server(server: dict[str, Any], client: httpx.Client) -> None:
    (sink,) = sinks(server["url"])
    sink.send(alert(), client)
    sink.send(sample_digest(alert()), client)
    (path1, first), (path2, second) = server["got"]
    assert path1 == path2 == "/" + SECRET_PATH
    assert first["title"] == "w · new claims: Drones over Белгород"
    assert "Three drones were shot down @\u200beveryone \\*overnight\\*." in first["message"]
    assert "[Drones over Белгород](https://news.example.org/a)" in first["message"]
    assert second["title"] == "w · digest" and "1 claim from 1 article" in second["message"]
    assert "first: [Drones over Белгород](https://news.example.org/a)" in second["message"]


def test_two_urls_get_the_message_each(server: dict[str, Any], client: httpx.Client) -> None:
    (sink,) = sinks(f"{server['url']}, {server['url']}/second")
    sink.send(alert(), client)
    assert sorted(p for p, _ in server["got"]) == ["/" + SECRET_PATH, f"/{SECRET_PATH}/second"]


def test_a_failure_is_transient_and_quotes_no_url(server: dict[str, Any], client: httpx.Client,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    (sink,) = sinks(server["url"])
    server["answers"] = [500]
    with caplog.at_level(logging.DEBUG), pytest.raises(TransientError) as info:
        sink.send(alert(), client)
    assert info.value.kind == "apprise_failed"
    assert str(info.value) == "apprise sink 0: Apprise could not deliver (failure)"
    assert "s3cr3t" not in caplog.text and "127.0.0.1" not in caplog.text
    assert "s3cr3t" not in repr(sink)


def test_bad_urls_and_an_empty_one(server: dict[str, Any]) -> None:
    with pytest.raises(ConfigError) as info:
        sinks(f"{server['url']} nosuchservice://s3cr3t")
    assert str(info.value) == "alerts[0].url: Apprise does not know URL number 2 (of 2)"
    assert sinks("") == []  # "${APPRISE_URLS:-}" left unset: the sink is skipped


def test_through_the_delivery_job(server: dict[str, Any], redis_client: redis.Redis, client: httpx.Client) -> None:
    s = from_dict({"watches": [{"name": "w", "keywords": ["x"]}],
                   "alerts": [{"type": "apprise", "url": server["url"]}]}, env={})
    ctx = Context(settings=s, store=Store(redis_client), analyzer=None, client=client,  # type: ignore[arg-type]
                  alerts_queue=queues(redis_client)[0], sinks=build_sinks(s.alerts), queries={})
    jobs.install(ctx)
    try:
        server["answers"] = [503]
        assert jobs.deliver_alert(alert().to_dict(), "0:apprise").startswith("retry in")
        assert jobs.deliver_alert(alert().to_dict(), "0:apprise", 1) == "sent"
        assert jobs.deliver_alert(alert().to_dict(), "0:apprise", 2) == "already sent"
        digest = sample_digest(alert())
        assert jobs.deliver_alert(digest.to_dict(), "0:apprise") == "sent"
        assert len(server["got"]) == 3 and len(items_of(alert())) == 1
    finally:
        jobs._ctx = None  # noqa: SLF001
