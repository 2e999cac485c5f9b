"""`claimwatch status`: works with the service's embedded Redis running, and without it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from claimwatch.cli import main
from monitor.broker import EmbeddedRedis, connect
from monitor.store import Store


def _config(tmp_path: Path) -> Path:
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[service]\ndata_dir = "{tmp_path / "data"}"\nredis_url = ""\n\n'
                   '[[watches]]\nname = "w"\nkeywords = ["Kursk"]\n\n'
                   '[[feeds]]\nurl = "https://feeds.example/rss.xml"\n', encoding="utf-8")
    return cfg


def test_status_reads_the_running_services_redis(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLAIMWATCH_REDIS_URL", raising=False)
    cfg = _config(tmp_path)
    server = EmbeddedRedis(tmp_path / "data").start()  # as `claimwatch run` leaves it while it runs
    try:
        Store(connect(server.url)).feeds.save_state("https://feeds.example/rss.xml", {"errors": 2,
                                                   "last_error": "dns: cannot resolve"}, next_poll=1.0)
        assert main(["status", "--json", "--config", str(cfg)]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["feeds"][0]["errors"] == 2 and report["feeds"][0]["last_error"].startswith("dns")
    finally:
        server.stop()
    # the service stopped: status starts the embedded server on the same data, reads it, stops it
    assert main(["status", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "1 error" not in out and "2 error(s): dns: cannot resolve" in out
    assert not (tmp_path / "data" / "redis.sock").exists()
