"""Faults without the whole service: Redis going away under the poller loop; RQ jobs of a dead worker.

(The whole service under kill -9 is tests/e2e/test_crash.py.)
"""

from __future__ import annotations

import asyncio
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import redis
from rq import Queue, Retry
from rq.job import JobStatus

from monitor.broker import EmbeddedRedis, connect, recover_jobs, worker_name, worker_prefix
from monitor.models import Entry
from monitor.poller import Poller
from monitor.settings import from_dict
from monitor.store import Store


def _feed_server(items: list[str]) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = ('<rss version="2.0"><channel><title>F</title>' + "".join(
                f"<item><guid isPermaLink='false'>{g}</guid><link>https://f.test/{g}</link><title>Kursk {g}</title>"
                "</item>" for g in items) + "</channel></rss>").encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def test_poller_loop_waits_out_a_redis_outage_and_loses_nothing(tmp_path: Path) -> None:
    items = ["a1"]
    server, base = _feed_server(items)
    data = tmp_path / "redis"
    embedded = EmbeddedRedis(data).start()
    settings = from_dict({
        "service": {"poll_interval": 0.3, "feed_lease": 5},
        "network": {"allow_private_addresses": True, "timeout": 2},
        "watches": [{"name": "kursk", "keywords": ["Kursk"], "seed": []}],
        "feeds": [{"url": base + "/f.xml"}],
    })
    sink: list[Entry] = []
    client = redis.Redis(unix_socket_path=str(embedded.socket), socket_timeout=1, socket_connect_timeout=1)
    poller = Poller(settings, Store(client), sink.append, ident="outage")
    errors: list[BaseException] = []
    loop_holder: dict[str, Any] = {}

    def runner() -> None:
        async def main() -> None:
            loop_holder["loop"] = asyncio.get_running_loop()
            loop_holder["stop"] = stop = asyncio.Event()
            await poller.run(stop)

        try:
            asyncio.run(main())
        except BaseException as e:
            errors.append(e)

    thread = threading.Thread(target=runner, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not sink and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [e.guid for e in sink] == ["a1"]
        embedded.stop()  # Redis goes away (SIGTERM: the append-only file is flushed)
        items.append("a2")  # ... and the feed changes while it is away
        time.sleep(4)
        assert thread.is_alive() and not errors
        embedded = EmbeddedRedis(data).start()  # back, same data
        deadline = time.monotonic() + 20
        while len(sink) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [e.guid for e in sink] == ["a1", "a2"]  # nothing lost, nothing twice
        assert Store(client).metrics.alive("poller") == ["outage"]
    finally:
        if "loop" in loop_holder:
            loop_holder["loop"].call_soon_threadsafe(loop_holder["stop"].set)
        thread.join(timeout=10)
        embedded.stop()
        server.shutdown()
    assert not thread.is_alive() and not errors


def test_jobs_of_a_dead_worker_go_back_to_the_queue(redis_client: redis.Redis, redis_url: str) -> None:
    connection = connect(redis_url)
    entries = Queue("t-entries", connection=connection)
    alerts = Queue("t-alerts", connection=connection)
    with_retry = entries.enqueue("builtins.len", [1], job_id="e1", retry=Retry(max=3, interval=[1]))
    without = alerts.enqueue("builtins.len", [2], job_id="d1")
    dead, alive = worker_name(4242), worker_name(4343)
    for job, queue, owner in ((with_retry, entries, dead), (without, alerts, dead)):
        # what a worker does when it starts a job (RQ's own calls), then it is killed
        from rq.executions import Execution

        queue.remove(job.id)
        with connection.pipeline() as p:
            execution = Execution.create(job, 300, pipeline=p, worker_name=owner)
            job.prepare_for_execution(owner, pipeline=p)
            p.execute()
        assert execution.id
    other = alerts.enqueue("builtins.len", [3], job_id="d2")
    alerts.remove(other.id)
    with connection.pipeline() as p:
        Execution.create(other, 300, pipeline=p, worker_name=alive)
        other.prepare_for_execution(alive, pipeline=p)
        p.execute()

    recovered = recover_jobs(connection, [entries, alerts], dead=[worker_prefix(4242)])
    assert sorted(recovered) == ["d1", "e1"]
    for job in (with_retry, without, other):
        job.refresh()
    assert with_retry.get_status() == JobStatus.SCHEDULED and with_retry.retries_left == 2  # its Retry applies
    assert without.get_status() == JobStatus.QUEUED and "d1" in alerts.job_ids  # re-queued from failed
    assert other.get_status() == JobStatus.STARTED  # a live worker's job is left alone
    assert without.meta["cw_reruns"] == 1
