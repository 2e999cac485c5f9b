"""Delivery end to end on loopback: a real webhook receiver (threaded http.server) and a real Redis."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from monitor import http
from monitor.errors import ForbiddenAddress, PermanentError, TransientError
from monitor.models import Alert, Claim, Known
from monitor.settings import NetworkSettings
from monitor.store import Store
from workers.delivery import deliver, give_up
from workers.sinks.webhook import WebhookSink

SECRET = "integration-secret-Xy9"
PATH = "/hooks/T000/B000/path-token-abc123"


@dataclass
class Reply:
    status: int = 204
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """Records every POST; answers with the queued replies in order, then 204."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.replies: list[Reply] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    reply = receiver.replies.pop(0) if receiver.replies else Reply()
                if reply.delay:
                    time.sleep(reply.delay)
                self.send_response(reply.status)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # a client that stops reading
                    self.wfile.write(reply.body)

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{PATH}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


LOOPBACK_OK = NetworkSettings(allow_private_addresses=True)


def alert(alert_id: str = "alert-0001") -> Alert:
    return Alert(
        id=alert_id,
        type="new_claims",
        watch="belgorod-raids",
        article_url="https://news.example.org/a/1",
        article_title="Drones over Белгород",
        article_source="Example News",
        article_published=None,
        claims=(Claim("Three drones were shot down overnight.", "the ministry", Known("Two drones fell.", 0.42)),),
        detected_at="2023-05-23T10:04:17+00:00",
    )


def sink(receiver: Receiver, *, secret: str | None = SECRET, timeout: float = 5.0) -> WebhookSink:
    return WebhookSink("0:webhook", receiver.url, secret=secret, timeout=timeout)


def assert_no_secrets(text: str, receiver: Receiver) -> None:
    assert receiver.url not in text
    assert "path-token" not in text and "127.0.0.1" not in text and SECRET not in text


# --------------------------------------------------------------------------- the POST


def test_webhook_delivery_arrives_signed(receiver: Receiver, client: httpx.Client) -> None:
    a = alert()
    sink(receiver).send(a, client)
    (got,) = receiver.received
    assert got.path == PATH
    assert got.headers["content-type"] == "application/json"
    assert got.headers["x-claimwatch-id"] == a.id
    assert got.headers["x-claimwatch-event"] == "new_claims"
    assert got.headers["user-agent"] == LOOPBACK_OK.user_agent
    expected = "sha256=" + hmac.new(SECRET.encode(), got.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(got.headers["x-claimwatch-signature"], expected)
    assert json.loads(got.body.decode("utf-8")) == a.payload()
    assert "Белгород".encode() in got.body  # raw UTF-8, as the contract's json.dumps(ensure_ascii=False)


def test_webhook_without_secret_is_unsigned(receiver: Receiver, client: httpx.Client) -> None:
    sink(receiver, secret=None).send(alert(), client)
    assert "x-claimwatch-signature" not in receiver.received[0].headers


def test_429_with_retry_after(receiver: Receiver, client: httpx.Client) -> None:
    receiver.replies.append(Reply(429, {"Retry-After": "17"}))
    with pytest.raises(TransientError) as info:
        sink(receiver).send(alert(), client)
    assert info.value.kind == "http_429" and info.value.retry_after == 17.0
    assert_no_secrets(str(info.value), receiver)


def test_429_with_discord_body(receiver: Receiver, client: httpx.Client) -> None:
    receiver.replies.append(Reply(429, {"Content-Type": "application/json"}, b'{"retry_after": 2.5, "global": false}'))
    with pytest.raises(TransientError) as info:
        sink(receiver).send(alert(), client)
    assert info.value.retry_after == 2.5


def test_503_is_transient(receiver: Receiver, client: httpx.Client) -> None:
    receiver.replies.append(Reply(503, body=f"upstream {receiver.url} down".encode()))
    with pytest.raises(TransientError) as info:
        sink(receiver).send(alert(), client)
    assert info.value.kind == "http_503"
    assert str(info.value) == "webhook sink 0: HTTP 503"


def test_400_is_permanent(receiver: Receiver, client: httpx.Client) -> None:
    receiver.replies.append(Reply(400, body=b"invalid_payload"))
    with pytest.raises(PermanentError) as info:
        sink(receiver).send(alert(), client)
    assert info.value.kind == "http_4xx"
    assert_no_secrets(str(info.value), receiver)


def test_a_huge_error_body_is_not_read(receiver: Receiver, client: httpx.Client) -> None:
    huge = b'{"retry_after": 5}' + b" " * 2_000_000
    receiver.replies.append(Reply(429, {"Content-Type": "application/json"}, huge))
    with pytest.raises(TransientError) as info:
        sink(receiver).send(alert(), client)
    assert info.value.kind == "http_429" and info.value.retry_after is None  # past the 64 KiB read: no hint


def test_timeout_is_transient(receiver: Receiver, client: httpx.Client) -> None:
    receiver.replies.append(Reply(204, delay=1.0))
    with pytest.raises(TransientError) as info:
        sink(receiver, timeout=0.2).send(alert(), client)
    assert info.value.kind == "timeout"
    assert_no_secrets(str(info.value), receiver)


def test_connection_refused_is_transient(client: httpx.Client) -> None:
    with Receiver() as gone:
        url = gone.url
    s = WebhookSink("0:webhook", url, secret=SECRET)
    with pytest.raises(TransientError) as info:
        s.send(alert(), client)
    assert info.value.kind == "network"
    assert url not in str(info.value) and "path-token" not in str(info.value)


def test_loopback_target_refused_by_default(receiver: Receiver) -> None:
    s = WebhookSink("0:webhook", receiver.url, secret=SECRET)
    with http.make_client(NetworkSettings()) as strict, pytest.raises(ForbiddenAddress) as info:
        s.send(alert(), strict)
    assert info.value.kind == "forbidden_address"
    assert_no_secrets(str(info.value), receiver)
    assert receiver.received == []


# --------------------------------------------------------------------------- deliver / give_up


def test_deliver_twice_sends_once(receiver: Receiver, client: httpx.Client, store: Store) -> None:
    a, s = alert(), sink(receiver)
    assert deliver(a, s, store, client) is True
    assert deliver(a, s, store, client) is False
    assert len(receiver.received) == 1
    assert store.deliveries.status(a.id, "0:webhook") == "sent"
    assert store.metrics.stats()["alerts_sent:0:webhook"] == 1


def test_deliver_retries_after_a_failure_then_sends(receiver: Receiver, client: httpx.Client, store: Store) -> None:
    a, s = alert(), sink(receiver)
    receiver.replies.append(Reply(503))
    with pytest.raises(TransientError):
        deliver(a, s, store, client)
    assert not store.deliveries.sent(a.id, s.name)
    assert deliver(a, s, store, client) is True
    assert len(receiver.received) == 2
    bodies = {r.body for r in receiver.received}
    assert len(bodies) == 1  # the same bytes, the same id on every retry
    stats = store.metrics.stats()
    assert stats["alerts_failed:0:webhook:http_503"] == 1 and stats["alerts_sent:0:webhook"] == 1


def test_deliver_counts_permanent_failures(receiver: Receiver, client: httpx.Client, store: Store) -> None:
    receiver.replies.append(Reply(404))
    with pytest.raises(PermanentError):
        deliver(alert(), sink(receiver), store, client)
    assert store.metrics.stats()["alerts_failed:0:webhook:http_404"] == 1
    assert store.deliveries.status("alert-0001", "0:webhook") is None


def test_give_up_writes_a_dead_letter(
    receiver: Receiver, client: httpx.Client, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    a, s = alert("alert-dead"), sink(receiver)
    receiver.replies.append(Reply(400))
    with pytest.raises(PermanentError) as info:
        deliver(a, s, store, client)
    with caplog.at_level(logging.WARNING):
        give_up(a, s, store, info.value, attempts=1)
    assert store.deliveries.status(a.id, "0:webhook") == "failed: http_4xx"
    (dead,) = store.deliveries.dead_letters()
    assert dead["sink"] == "0:webhook"
    assert dead["attempts"] == 1
    assert dead["error"] == "http_4xx: webhook sink 0: HTTP 400"
    assert Alert.from_dict(dead["alert"]) == a
    assert dead["at"].endswith("+00:00")
    assert "alert-dead" in caplog.text and "giving up" in caplog.text
    assert_no_secrets(caplog.text + json.dumps(dead), receiver)
    assert deliver(a, s, store, client) is True  # a failed delivery is not "sent": a manual retry may send it


def test_give_up_on_a_foreign_exception_does_not_quote_it(receiver: Receiver, store: Store) -> None:
    give_up(alert(), sink(receiver), store, RuntimeError(f"boom at {receiver.url}"), attempts=8)
    (dead,) = store.deliveries.dead_letters()
    assert dead["error"] == "error: RuntimeError"
    assert_no_secrets(json.dumps(dead), receiver)
