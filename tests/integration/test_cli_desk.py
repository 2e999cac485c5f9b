"""`claimwatch seed add|list` and `claimwatch feedback ...`: feedback kept in the service's Redis and
queued for its workers; bad input is one line and exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from rq import Queue

from claimwatch.cli import main
from monitor.queue import ALERTS
from monitor.store import Store
from monitor.store.claims import Source, claim_id


def _config(tmp_path: Path) -> Path:
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[service]\ndata_dir = "{tmp_path / "data"}"\n\n'
                   '[[watches]]\nname = "w"\nkeywords = ["Kursk"]\n', encoding="utf-8")
    return cfg


def test_seed_and_feedback_commands(tmp_path: Path, redis_url: str, redis_client: redis.Redis,
                                    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAIMWATCH_REDIS_URL", redis_url)
    cfg = ["--config", str(_config(tmp_path))]
    fact = tmp_path / "fact.txt"
    fact.write_text("The governor said on Monday that 3 drones hit Kursk.\n\nOfficials said 2 were hurt.", "utf-8")
    assert main(["seed", "add", "w", "--file", str(fact), *cfg]) == 0
    assert main(["seed", "add", "w", "--url", "https://news.example/kursk", *cfg]) == 0
    store = Store(redis_client)
    src = Source("https://a.example/1", "A")
    store.claims.record("w", "Drones hit Kursk on Monday, officials said.", None, src, "x")
    cid = claim_id("w", "Drones hit Kursk on Monday, officials said.")
    assert main(["feedback", "not-new", "w", cid, "--repeats", "The governor said 3 drones hit Kursk.", *cfg]) == 0
    assert main(["feedback", "off-topic", "w", "https://b.example/2", *cfg]) == 0
    out = capsys.readouterr().out
    assert out.count("queued") == 4
    kinds = [f["kind"] for f in store.feedback.recent()]
    assert kinds == ["off_topic", "not_new", "seed_url", "fact"]
    assert [j.func_name for j in Queue(ALERTS, connection=redis_client).jobs] == ["workers.jobs.apply_feedback"] * 4
    assert store.claims.get("w", cid)["feedback"]["kind"] == "not_new"  # type: ignore[index]
    assert main(["seed", "list", "w", *cfg]) == 0
    listed = capsys.readouterr().out
    assert "https://news.example/kursk" in listed and "3 drones hit Kursk" in listed
    assert main(["feedback", "list", *cfg]) == 0
    assert capsys.readouterr().out.count("[queued]") == 4

    assert main(["feedback", "not-new", "w", "nope", *cfg]) == 2
    assert main(["seed", "add", "nowatch", "A fact.", *cfg]) == 2
    assert main(["seed", "add", "w", *cfg]) == 2
    assert main(["feedback", "off-topic", "w", "ftp://x", *cfg]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["claimwatch: claim: watch w has no claim 'nope'", "claimwatch: watch: no watch named 'nowatch'",
                   "claimwatch: seed add: give one of TEXT, --url URL or --file FILE",
                   "claimwatch: url: not an http(s) URL: 'ftp://x'"]
