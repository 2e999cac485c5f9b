"""A shared Redis that goes away for a minute: `claimwatch run` waits, reconnects and loses nothing."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
from test_crash import Service, Stage, _cleanup, _free_port, stage, wait_for  # noqa: F401  (stage: fixture)

pytestmark = pytest.mark.e2e
OUTAGE = 60.0  # seconds, as the issue asks


def _redis(port: int, folder: Path) -> subprocess.Popen[bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    binary = shutil.which("redis-server") or __import__("monitor.broker", fromlist=["x"]).redis_server_binary()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
                             "--appendonly", "yes", "--save", ""], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return proc


def test_redis_away_for_a_minute_then_back(stage: Stage, tmp_path: Path) -> None:  # noqa: F811
    port = _free_port()
    redis_proc = _redis(port, tmp_path / "redis")
    service = Service(tmp_path, stage, _free_port())
    override = tmp_path / "override.toml"
    override.write_text(override.read_text().replace(
        "[service]\n", f'[service]\nredis_url = "redis://127.0.0.1:{port}/0"\n', 1), encoding="utf-8")
    service.start()
    try:
        wait_for(lambda: stage.hits["/good.xml"] >= 2, 90, service, "the good feed is polled")
        redis_proc.terminate()
        redis_proc.wait(timeout=10)
        time.sleep(OUTAGE)
        assert service.proc is not None and service.proc.poll() is None, "the service died without Redis"
        redis_proc = _redis(port, tmp_path / "redis")
        stage.published.append("depot")
        wait_for(lambda: stage.acked("depot"), 180, service, "an article published after the outage is alerted")
        code, took = service.sigterm()
        assert code == 0 and took < 30
    finally:
        _cleanup(service, tmp_path)
        redis_proc.kill()
        redis_proc.wait()
