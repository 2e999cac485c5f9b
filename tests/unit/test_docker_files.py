"""What the image promises (README "Docker"), read from the Dockerfile and the configuration it layers.

Before: `docker stop` killed the container (137) twice in six tries at Docker's 10 s (the service
took up to 27 s and ran as PID 1 without an init), and `docker exec ... claimwatch status` failed
with a PermissionError on /app/data (without flags it read config/claimwatch.toml alone:
data_dir = "data", under the root-owned /app). The real run is a manual check (README "Docker").
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from monitor.settings import load
from monitor.web.auth import is_loopback

ROOT = Path(__file__).resolve().parents[2]


def instructions() -> dict[str, str]:
    """The Dockerfile's last value of each instruction (continuation lines joined)."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    out = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            out[word.upper()] = rest.strip()
    return out


def test_the_image_runs_under_an_init_and_stops_on_sigterm() -> None:
    image = instructions()
    assert json.loads(image["ENTRYPOINT"])[:2] == ["tini", "--"]
    assert "tini" in (ROOT / "Dockerfile").read_text(encoding="utf-8").split("ENTRYPOINT")[0]  # installed
    assert image["STOPSIGNAL"] == "SIGTERM"
    assert image["USER"] == "claimwatch" and json.loads(image["CMD"]) == ["run"]


def test_exec_without_flags_reads_what_run_reads_and_stops_in_docker_time(monkeypatch) -> None:
    env = dict(part.split("=", 1) for part in instructions()["ENV"].split() if "=" in part)
    files = env["CLAIMWATCH_CONFIG"].split(os.pathsep)
    assert files == ["config/claimwatch.toml", "config/docker.toml"]
    monkeypatch.delenv("CLAIMWATCH_API_TOKEN", raising=False)
    monkeypatch.delenv("CLAIMWATCH_REDIS_URL", raising=False)
    settings = load([ROOT / f for f in files])
    assert settings.service.data_dir == Path("/data")  # owned by the image's user, not /app/data
    assert settings.service.stop_timeout <= 8  # under `docker stop`'s 10 s, with room for Redis to stop
    assert not is_loopback(settings.service.http_host)  # published: /status and /metrics need a token
