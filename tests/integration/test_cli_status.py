"""`claimwatch status`: works with the service's embedded Redis running, and without it."""

from __future__ import annotations

import asyncio
import json
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from localserver import QuietHandler, reply, serving

from claimwatch.cli import main
from monitor.broker import EmbeddedRedis, connect
from monitor.poller import Poller
from monitor.settings import load
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


def test_status_after_the_service_stopped(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: a stopped poller looked alive for 30 s more, next polls went negative, names were empty."""
    monkeypatch.delenv("CLAIMWATCH_REDIS_URL", raising=False)

    class Feed(QuietHandler):
        def do_GET(self: BaseHTTPRequestHandler) -> None:
            reply(self, 200, {"Content-Type": "application/rss+xml"}, b'<?xml version="1.0"?><rss version="2.0">'
                  b"<channel><title>t</title><link>http://x/</link><description>d</description></channel></rss>")

    with serving(Feed) as base:
        cfg = tmp_path / "c.toml"
        cfg.write_text(f'[service]\ndata_dir = "{tmp_path / "data"}"\npoll_interval = 1\n\n'
                       "[network]\nallow_private_addresses = true\n\n"
                       '[[watches]]\nname = "w"\nkeywords = ["Kursk"]\n\n'
                       f'[[feeds]]\nurl = "{base}/a.xml?key=s3cret"\nname = "Kursk Daily"\n', encoding="utf-8")
        settings = load([cfg])
        server = EmbeddedRedis(tmp_path / "data").start()
        try:
            store = Store(connect(server.url))
            poller = Poller(settings, store, lambda entry: None, ident="poller-test")

            async def run_a_while() -> None:
                stop = asyncio.Event()
                asyncio.get_running_loop().call_later(1.5, stop.set)
                await poller.run(stop, grace=1)

            asyncio.run(run_a_while())
            assert store.metrics.alive("poller") == []  # gone at once, not 30 s later
        finally:
            server.stop()
    time.sleep(1.5)  # the feed's next poll is in the past now
    assert main(["status", "--json", "--config", str(cfg)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["pollers"] == []
    feed = report["feeds"][0]
    assert feed["name"] == "Kursk Daily" and feed["next_poll_in"] == 0 and feed["last_status"] == "200"
    assert "s3cret" not in json.dumps(report)
    assert main(["status", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "Kursk Daily" in out and "next poll when a poller runs" in out and "in -" not in out
    assert "no poller is running" in out and "s3cret" not in out
