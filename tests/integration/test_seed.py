"""Seeding against a real Redis: the seed is read and encoded once per watch, however many workers start."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import redis

from monitor.settings import WatchSettings
from monitor.store import Store
from workers import seed
from workers.text import Analyzer

SEED_TEXT = ("Drones struck an oil depot near the border town of Shebekino on Monday night, officials said.\n\n"
             "The governor said two people were hurt and forty homes lost power for several hours.\n")


def test_workers_starting_together_seed_a_watch_once(tmp_path: Path, redis_client: redis.Redis,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "seed.txt"
    path.write_text(SEED_TEXT, encoding="utf-8")
    watch = WatchSettings(name="w", keywords=["Shebekino"], seed=[path])
    computed: list[str] = []
    records = seed._records

    def slow_records(*args: Any) -> list[dict[str, str]]:
        computed.append(threading.current_thread().name)
        time.sleep(0.5)  # the others start meanwhile, as workers booting together do
        return records(*args)

    monkeypatch.setattr(seed, "_records", slow_records)
    analyzer = Analyzer()
    added: dict[str, int] = {}

    def worker(name: str) -> None:
        added[name] = seed.ensure_seeded(watch, Store(redis_client), analyzer)

    threads = [threading.Thread(target=worker, args=(f"worker-{i}",), name=f"worker-{i}") for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(computed) == 1, computed
    assert sorted(added.values()) == [0, 0, 2]
    store = Store(redis_client)
    assert len(store.known.read("w")) == 2 and list(store.known.seeded("w")) == [str(path)]
    assert not redis_client.exists("cw:w:w:seed:lock")
    assert seed.ensure_seeded(watch, store, analyzer) == 0 and len(computed) == 1  # seeded: nothing read again
