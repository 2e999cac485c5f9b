"""`claimwatch run` whose workers fail on their configuration stops with that error (exit 2) instead of
restarting them every few seconds forever while /healthz says ok."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_run import _cmdline_has

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.e2e
def test_run_stops_when_its_workers_keep_exiting_2(tmp_path: Path) -> None:
    # `run` passes its workers the embedded Redis's URL in CLAIMWATCH_REDIS_URL: this setting is valid for
    # `run` (variable unset: "text") and not for its workers, as an edit made while running would be
    override = tmp_path / "override.toml"
    override.write_text(f'[service]\ndata_dir = "{tmp_path / "data"}"\nworkers = 1\nhttp_port = 0\n'
                        'log_format = "${CLAIMWATCH_REDIS_URL:-text}"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("CLAIMWATCH_REDIS_URL", "REDIS_URL")}
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "claimwatch", "run", "--config", "config/claimwatch.toml", "--config", str(override)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    took = time.monotonic() - started
    log = proc.stdout + proc.stderr
    assert proc.returncode == 2, log[-3000:]
    assert log.count("claimwatch: config error: service.log_format:") == 3, log[-3000:]
    assert "configuration error (exit code 2, printed above) 3 times in a row; stopping" in log
    assert "Traceback" not in log, log[-3000:]
    assert took < 60, f"{took:.0f} s"
    leftovers = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _cmdline_has(p, str(tmp_path))]
    assert not leftovers, "processes left running after exit"

