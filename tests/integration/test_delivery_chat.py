"""Chat deliveries on loopback: fake Slack, Mattermost, Discord, Teams and Telegram servers answering
200, 400, 429 and 503 as the real ones do; the Redis rate limit; the delivery job; dead letters and
`claimwatch alerts retry`; and what happens when a worker dies between sending and recording it."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from rq import Queue

from claimwatch import cli
from monitor import http
from monitor.broker import connect
from monitor.errors import PermanentError, TransientError
from monitor.models import Alert, Claim, Known
from monitor.queue import queues
from monitor.settings import NetworkSettings, Settings, from_dict
from monitor.store import Store
from workers import delivery, jobs
from workers.runtime import Context
from workers.sinks import build_sinks
from workers.sinks.base import JsonSink, rate_of

TOKEN = "123456:bot-secret-token"
LOOPBACK = NetworkSettings(allow_private_addresses=True)

# What each service answers (status, headers, body) for each outcome the tests ask for.
ANSWERS: dict[str, dict[str, tuple[int, dict[str, str], bytes]]] = {
    "slack": {"ok": (200, {}, b"ok"), "bad": (400, {}, b"invalid_blocks"),
              "limited": (429, {"Retry-After": "3"}, b"rate_limited"), "down": (503, {}, b"")},
    "mattermost": {"ok": (200, {}, b"ok"), "bad": (400, {}, b'{"id":"web.incoming_webhook.parse.app_error"}'),
                   "limited": (429, {"Retry-After": "3"}, b""), "down": (503, {}, b"")},
    "discord": {"ok": (204, {}, b""), "bad": (400, {}, b'{"message":"Invalid Form Body","code":50035}'),
                "limited": (429, {}, b'{"message":"You are being rate limited.","retry_after":3.0,"global":false}'),
                "down": (503, {}, b"")},
    "teams": {"ok": (202, {}, b""), "bad": (400, {}, b'{"error":{"code":"InvalidRequestContent"}}'),
              "limited": (429, {"Retry-After": "3"}, b""), "down": (503, {}, b"")},
    "telegram": {"ok": (200, {}, b'{"ok":true,"result":{"message_id":7}}'),
                 "bad": (400, {}, b'{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}'),
                 "limited": (429, {}, b'{"ok":false,"error_code":429,"parameters":{"retry_after":3}}'),
                 "down": (502, {}, b"")},
}


@dataclass
class Got:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Services:
    """One loopback server playing every chat service; ``plan[path]`` lists the outcomes to give next."""

    base: str = ""
    received: list[Got] = field(default_factory=list)
    plan: dict[str, list[str]] = field(default_factory=dict)
    hold: threading.Event | None = None  # when set: signal `arrived` and wait before answering
    arrived: threading.Event = field(default_factory=threading.Event)

    def service_of(self, path: str) -> str:
        return "telegram" if path.endswith("/sendMessage") else path.strip("/").split("/")[0]


@pytest.fixture
def services() -> Iterator[Services]:
    svc = Services()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                svc.received.append(Got(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                outcome = (svc.plan.get(self.path) or ["ok"]).pop(0) if svc.plan.get(self.path) else "ok"
            if svc.hold is not None:
                svc.arrived.set()
                svc.hold.wait(10)
            status, headers, payload = ANSWERS[svc.service_of(self.path)][outcome]
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    svc.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield svc
    if svc.hold is not None:
        svc.hold.set()
    server.shutdown()
    server.server_close()


def chat_settings(base: str, **extra: Any) -> Settings:
    return from_dict({
        "service": {"redis_url": extra.pop("redis_url", None)},
        "network": {"allow_private_addresses": True},
        "watches": [{"name": "belgorod-raids", "keywords": ["x"]}],
        "alerts": [
            {"type": "slack", "url": f"{base}/slack/T0/B0/slack-secret"},
            {"type": "mattermost", "url": f"{base}/mattermost/hooks/mm-secret"},
            {"type": "discord", "url": f"{base}/discord/api/webhooks/1/discord-secret"},
            {"type": "teams", "url": f"{base}/teams/workflows/x?sig=teams-secret"},
            {"type": "telegram", "token": TOKEN, "chat_id": "42", "api_url": f"{base}/tg"},
        ],
    }, env={})


PATHS = {
    "0:slack": "/slack/T0/B0/slack-secret",
    "1:mattermost": "/mattermost/hooks/mm-secret",
    "2:discord": "/discord/api/webhooks/1/discord-secret",
    "3:teams": "/teams/workflows/x?sig=teams-secret",
    "4:telegram": f"/tg/bot{TOKEN}/sendMessage",
}
SECRETS = ("slack-secret", "mm-secret", "discord-secret", "teams-secret", TOKEN, "bot-secret", "127.0.0.1")


def alert(alert_id: str = "alert-chat-1") -> Alert:
    return Alert(
        id=alert_id, type="new_claims", watch="belgorod-raids",
        article_url="https://news.example.org/a/1", article_title="Drones over Белгород <!channel>",
        article_source="Example News", article_published="2023-05-23T10:00:00+00:00",
        claims=(Claim("Three drones were shot down @everyone <b>overnight</b>.", "the ministry",
                      Known("Two drones fell.", 0.42)),),
        detected_at="2023-05-23T10:04:17+00:00",
    )


@pytest.fixture
def run_cli() -> Iterator[Any]:
    """``cli.main`` in-process; the root logger's handlers (which it replaces) are put back after."""
    import logging

    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    yield cli.main
    root.handlers[:] = saved
    root.setLevel(level)


def no_secrets(text: str) -> None:
    for s in SECRETS:
        assert s not in text, s


# --------------------------------------------------------------------------- each service's answers


@pytest.mark.parametrize("name", list(PATHS))
def test_each_sink_posts_valid_json_to_its_service(name: str, services: Services, client: httpx.Client) -> None:
    sink = next(s for s in build_sinks(chat_settings(services.base).alerts) if s.name == name)
    sink.send(alert(), client)
    (got,) = services.received
    assert got.path == PATHS[name]
    assert got.headers["content-type"].startswith("application/json")
    payload = got.json
    assert payload == json.loads(json.dumps(sink.render(alert())))
    blob = json.dumps(payload, ensure_ascii=False)
    assert "alert-chat-1" in blob and "Белгород" in blob  # raw UTF-8
    if name == "2:discord":
        assert payload["allowed_mentions"] == {"parse": []}
    if name == "4:telegram":
        assert payload["chat_id"] == "42" and payload["parse_mode"] == "HTML"
        assert "&lt;b&gt;overnight&lt;/b&gt;" in payload["text"]
    if name == "0:slack":
        assert "&lt;!channel&gt;" in blob and "<!channel>" not in blob


@pytest.mark.parametrize("name", list(PATHS))
def test_each_sink_maps_400_429_503(name: str, services: Services, client: httpx.Client) -> None:
    sink = next(s for s in build_sinks(chat_settings(services.base).alerts) if s.name == name)
    services.plan[PATHS[name]] = ["bad", "limited", "down"]
    with pytest.raises(PermanentError) as bad:
        sink.send(alert(), client)
    assert bad.value.kind == "http_4xx"
    with pytest.raises(TransientError) as limited:
        sink.send(alert(), client)
    assert limited.value.kind == "http_429" and limited.value.retry_after == 3.0  # header, Discord or Telegram body
    with pytest.raises(TransientError) as down:
        sink.send(alert(), client)
    assert down.value.kind == ("http_5xx" if name == "4:telegram" else "http_503")  # Telegram's plan: a 502
    sink.send(alert(), client)
    assert len(services.received) == 4
    no_secrets(str(bad.value) + str(limited.value) + str(down.value) + repr(sink))


def test_loopback_refused_without_allow_private(services: Services) -> None:
    s = chat_settings(services.base)
    with http.make_client(NetworkSettings()) as strict:  # the client of a service with the default settings
        for sink in build_sinks(s.alerts):
            with pytest.raises(PermanentError) as info:
                sink.send(alert(), strict)
        assert info.value.kind == "forbidden_address"
        no_secrets(str(info.value))
    assert services.received == []


# --------------------------------------------------------------------------- the rate limit in Redis


def test_rate_slots_are_shared_and_reserved(store: Store, redis_url: str) -> None:
    other = Store(connect(redis_url))  # another worker
    assert store.rates.slot("slack:t1", 1.0) == 0.0
    w1 = other.rates.slot("slack:t1", 1.0)
    w2 = store.rates.slot("slack:t1", 1.0)
    assert 0.9 <= w1 <= 1.0 and 1.9 <= w2 <= 2.0  # a burst queues up, one slot a second
    assert store.rates.slot("slack:t2", 1.0) == 0.0  # another target has its own limit
    assert store.rates.slot("slack:t1", 1.0, reserved=True) == 0.0  # a holder of a slot goes at once
    store.rates.block("slack:t1", 5.0)  # a 429 said: wait 5 s
    assert 4.9 <= other.rates.slot("slack:t1", 1.0, reserved=True) <= 5.0  # even holders wait now
    assert 5.9 <= store.rates.slot("slack:t1", 1.0) <= 6.0


def make_ctx(settings: Settings, store: Store, connection: redis.Redis, client: httpx.Client) -> Context:
    return Context(settings=settings, store=store, analyzer=None, client=client,  # type: ignore[arg-type]
                   alerts_queue=queues(connection)[0], sinks=build_sinks(settings.alerts), queries={})


@pytest.fixture
def ctx(services: Services, store: Store, redis_client: redis.Redis, client: httpx.Client) -> Iterator[Context]:
    c = make_ctx(chat_settings(services.base), store, redis_client, client)
    jobs.install(c)
    yield c
    jobs._ctx = None  # noqa: SLF001


def statuses(ctx: Context, alert_id: str) -> dict[str, str]:
    """The alert's delivery status of each configured sink that has one."""
    return {s.name: st for s in ctx.sinks if (st := ctx.store.deliveries.status(alert_id, s.name)) is not None}


def scheduled(queue: Queue) -> list[str]:
    return sorted(queue.scheduled_job_registry.get_job_ids())


def test_a_burst_is_queued_not_sent_at_once(ctx: Context, services: Services) -> None:
    a1, a2, a3 = alert("burst-1"), alert("burst-2"), alert("burst-3")
    assert jobs.deliver_alert(a1.to_dict(), "4:telegram") == "sent"
    assert jobs.deliver_alert(a2.to_dict(), "4:telegram").startswith("rate limited")
    assert jobs.deliver_alert(a3.to_dict(), "4:telegram").startswith("rate limited")
    assert len(services.received) == 1
    queue = ctx.alerts_queue
    assert queue is not None
    ids = scheduled(queue)
    assert len(ids) == 2 and all(i.endswith("-0-s1") for i in ids)
    times = sorted(queue.scheduled_job_registry.get_scheduled_time(i).timestamp() for i in ids)
    assert 0.5 <= times[1] - times[0] <= 1.5  # one slot a second apart
    assert jobs.deliver_alert(a1.to_dict(), "2:discord") == "sent"  # other sinks are not held up
    job = queue.fetch_job(ids[0])
    assert job is not None and jobs.deliver_alert(*job.args) == "sent"  # a reserved slot sends at once
    assert len(services.received) == 3


def test_429_waits_as_the_service_says_then_sends(ctx: Context, services: Services, store: Store) -> None:
    services.plan[PATHS["2:discord"]] = ["limited"]
    a = alert("limited-1")
    result = jobs.deliver_alert(a.to_dict(), "2:discord")
    assert result == "retry in 3.0 s"  # Discord's body said retry_after 3.0: more than the backoff
    queue = ctx.alerts_queue
    assert queue is not None
    (retry_id,) = scheduled(queue)
    assert retry_id.endswith("-1")
    # every worker now holds back this target for those 3 s
    key, interval = rate_of(next(s for s in ctx.sinks if s.name == "2:discord"))
    assert 2.5 <= store.rates.slot(key, interval) <= 3.0  # type: ignore[arg-type]
    store.client.delete(f"cw:rate:{key}", f"cw:rate:{key}:block")  # (time passes)
    job = queue.fetch_job(retry_id)
    assert job is not None and jobs.deliver_alert(*job.args) == "sent"
    assert [g.json for g in services.received][0] == [g.json for g in services.received][1]
    assert statuses(ctx, a.id) == {"2:discord": "sent"}


def test_permanent_4xx_is_a_dead_letter_that_alerts_retry_resends(
    ctx: Context, services: Services, store: Store, redis_url: str, capsys: pytest.CaptureFixture[str],
    tmp_path: Path, run_cli: Any,
) -> None:
    services.plan[PATHS["0:slack"]] = ["bad"]
    a = alert("dead-1")
    assert jobs.deliver_alert(a.to_dict(), "0:slack") == "failed"
    assert jobs.deliver_alert(a.to_dict(), "3:teams") == "sent"
    (dead,) = store.deliveries.dead_letters()
    assert dead["sink"] == "0:slack" and dead["error"] == "http_4xx: slack sink 0: HTTP 400"
    no_secrets(json.dumps(dead))
    assert statuses(ctx, a.id) == {"0:slack": "failed: http_4xx", "3:teams": "sent"}

    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[service]\nredis_url = "{redis_url}"\n[network]\nallow_private_addresses = true\n'
                   '[[watches]]\nname = "belgorod-raids"\nkeywords = ["x"]\n'
                   f'[[alerts]]\ntype = "slack"\nurl = "{services.base}{PATHS["0:slack"]}"\n', encoding="utf-8")
    assert run_cli(["alerts", "retry", "--config", str(cfg), "--sink", "teams"]) == 2  # no such sink
    assert run_cli(["alerts", "retry", "--config", str(cfg), "--sink", "slack"]) == 0
    out = capsys.readouterr().out
    assert "dead-1 -> sink 0:slack" in out and "re-queued 1 delivery; 0 dead letter(s) left" in out
    no_secrets(out.replace(services.base, ""))
    assert store.deliveries.dead_letters() == [] and statuses(ctx, a.id) == {"3:teams": "sent"}
    queue = ctx.alerts_queue
    assert queue is not None
    (job,) = queue.get_jobs()
    assert job.id.startswith("deliver-dead-1-") and "-0-g" in job.id
    store.client.delete(*store.client.keys("cw:rate:*"))  # (a second passes: the failed send took Slack's slot)
    assert jobs.deliver_alert(*job.args) == "sent"
    assert statuses(ctx, a.id)["0:slack"] == "sent"
    assert run_cli(["alerts", "retry", "--config", str(cfg)]) == 0  # nothing left: a no-op
    assert "re-queued 0 deliveries" in capsys.readouterr().out


def test_test_alert_command(
    services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str], run_cli: Any
) -> None:
    cfg = tmp_path / "c.toml"
    lines = ['[network]\nallow_private_addresses = true\n[[watches]]\nname = "w"\nkeywords = ["x"]\n']
    lines.append(f'[[alerts]]\ntype = "discord"\nurl = "{services.base}{PATHS["2:discord"]}"\n')
    lines.append(f'[[alerts]]\ntype = "telegram"\ntoken = "{TOKEN}"\nchat_id = "42"\napi_url = "{services.base}/tg"\n')
    cfg.write_text("".join(lines), encoding="utf-8")
    assert run_cli(["test-alert", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "0:discord: sent (alert test-" in out and "1:telegram: sent" in out
    assert [g.path for g in services.received] == [PATHS["2:discord"], PATHS["4:telegram"]]
    services.plan[PATHS["4:telegram"]] = ["bad"]
    assert run_cli(["test-alert", "telegram", "--config", str(cfg)]) == 1
    out = capsys.readouterr().out
    assert out.strip() == "1:telegram: failed: http_4xx: telegram sink 1: HTTP 400"
    assert run_cli(["test-alert", "slack", "--config", str(cfg)]) == 2
    no_secrets(out)


# --------------------------------------------------------------------------- killed between send and ack


def _deliver_in_child(redis_url: str, base: str, alert_dict: dict[str, Any]) -> None:
    settings = chat_settings(base)
    sink = next(s for s in build_sinks(settings.alerts) if s.name == "4:telegram")
    with http.make_client(settings.network) as c:
        delivery.deliver(Alert.from_dict(alert_dict), sink, Store(connect(redis_url)), c)
    os._exit(0)


def test_killed_between_send_and_ack_is_sent_again_with_the_same_id(
    services: Services, store: Store, redis_url: str, client: httpx.Client
) -> None:
    """The guarantee: at least once. The service received the message, the worker died before it
    recorded "sent"; RQ runs the job again and the message goes out a second time, byte for byte
    the same, with the same alert id. Once recorded, never again. A webhook receiver drops the copy
    on X-Claimwatch-Id (exactly once for it); a chat service shows it twice (README)."""
    a = alert("killed-1")
    services.hold = threading.Event()
    child = multiprocessing.get_context("fork").Process(target=_deliver_in_child,
                                                        args=(redis_url, services.base, a.to_dict()))
    child.start()
    assert services.arrived.wait(10), "the child never sent"
    os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]  # power cut: sent, not acknowledged
    child.join(5)
    services.hold.set()
    assert not store.deliveries.sent(a.id, "4:telegram")  # nothing recorded: the job will run again

    sink = next(s for s in build_sinks(chat_settings(services.base).alerts) if s.name == "4:telegram")
    services.hold = None
    assert delivery.deliver(a, sink, store, client) is True  # RQ's re-run of the job
    assert delivery.deliver(a, sink, store, client) is False  # and any later run: not again
    assert len(services.received) == 2
    first, second = services.received
    assert first.body == second.body and "killed-1" in first.json["text"]


def test_jobs_for_an_unconfigured_sink_are_dropped(ctx: Context) -> None:
    assert jobs.deliver_alert(alert().to_dict(), "9:slack") == "no such sink"
    assert isinstance(next(s for s in ctx.sinks if s.name == "0:slack"), JsonSink)
