"""`claimwatch feeds import` of a 200-feed Miniflux export gives a config that `claimwatch run` starts
with and polls every feed of; `feeds export` gives the 200 back."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from miniflux import miniflux_opml
from running import ROOT, StageHandler, claimwatch_run, environment, serving

from monitor import opml

N = 200


def _handler(hits: set[str], lock: threading.Lock) -> type[StageHandler]:
    class Handler(StageHandler):
        def do_GET(self) -> None:  # noqa: N802
            with lock:
                hits.add(self.path)
            self.send(200, b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><guid>1</guid>'
                           b"<title>Weather in Paris</title><link>https://x.example/1</link></item></channel></rss>",
                      "application/rss+xml")

    return Handler


def _claimwatch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "claimwatch", *args], cwd=ROOT, env=environment(),
                          capture_output=True, text=True, timeout=120)


@pytest.mark.e2e
def test_imported_miniflux_feeds_start_and_are_polled(tmp_path: Path) -> None:
    hits: set[str] = set()
    with serving(_handler(hits, threading.Lock())) as base:
        subs, tables = tmp_path / "miniflux.opml", tmp_path / "feeds.toml"
        subs.write_bytes(miniflux_opml(base, N))
        done = _claimwatch("feeds", "import", str(subs), "--watch", "belgorod-raids", "--output", str(tables))
        assert done.returncode == 0 and f"{N} feed(s) written" in done.stderr, done.stderr
        override = tmp_path / "override.toml"
        override.write_text(f'[service]\ndata_dir = "{tmp_path / "data"}"\npoll_interval = 600\nworkers = 1\n'
                            f"http_port = 0\n\n[network]\nallow_private_addresses = true\n", encoding="utf-8")
        configs = ["config/claimwatch.toml", str(override), str(tables)]
        exported = _claimwatch("feeds", "export", *(a for c in configs for a in ("--config", c)))
        assert exported.returncode == 0, exported.stderr
        back = opml.read(exported.stdout.encode()).feeds
        assert len(back) == N and all(f.url.startswith(base) for f in back)  # the shipped feeds were replaced
        with claimwatch_run(*configs) as run:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and len(hits) < N and run.proc.poll() is None:
                time.sleep(0.2)
    assert len(hits) == N, f"{len(hits)} of {N} feeds polled"
    assert run.code == 0 and "Traceback" not in run.log and " failed (" not in run.log, run.log[-3000:]
