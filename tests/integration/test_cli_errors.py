"""What an operator sees when the configuration, the command line or the data directory is wrong:
one line, a non-zero exit, no traceback, and nothing started (`python -m claimwatch` as a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def claimwatch(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CLAIMWATCH_REDIS_URL", "REDIS_URL")}
    return subprocess.run([sys.executable, "-m", "claimwatch", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr + done.stdout, done.stderr[-3000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr[-3000:]
    return lines[0]


def config(tmp_path: Path, *, keywords: tuple[str, ...] = ("Belgorod*",), data_dir: Path | None = None,
           service: str = "") -> Path:
    path = tmp_path / "claimwatch.toml"
    path.write_text(f'[service]\ndata_dir = "{data_dir or tmp_path / "data"}"\nhttp_port = 0\nworkers = 1\n{service}\n'
                    f'[[watches]]\nname = "w"\nkeywords = {json.dumps(list(keywords))}\n', encoding="utf-8")
    return path


def test_version() -> None:
    done = claimwatch("--version")
    assert done.returncode == 0 and done.stdout.startswith("claimwatch 0."), done


@pytest.mark.parametrize(("args", "message"), [
    (("check", "no/such/page.html"), "claimwatch: check: no/such/page.html: no such file"),
    (("check", "tests"), "claimwatch: check: tests is a directory, not an HTML file"),
    (("check", "--watch", "nosuch", "README.md"), "claimwatch: check --watch: no watch named 'nosuch' (watches: w)"),
])
def test_check_refuses_what_cannot_work(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    done = claimwatch(*args, "--config", str(config(tmp_path)))
    assert done.returncode == 2
    assert one_line(done).startswith(message)


@pytest.mark.parametrize(("keyword", "why"), [
    ("(dam AND", "expected a term, got the end"),
    ("(" * 1000 + "dam" + ")" * 1000, "nested more than 32 deep"),
    ("Belgorod.*", "looks like a regular expression"),
])
def test_run_refuses_a_bad_keyword_before_starting_anything(tmp_path: Path, keyword: str, why: str) -> None:
    done = claimwatch("run", "--config", str(config(tmp_path, keywords=("Belgorod*", keyword))))
    assert done.returncode == 2
    line = one_line(done)
    assert line.startswith("claimwatch: config error: watches[0].keywords[1]: bad expression ") and why in line
    assert not (tmp_path / "data").exists()  # no Redis, no worker was started


def test_run_refuses_an_encoder_it_does_not_have(tmp_path: Path) -> None:
    done = claimwatch("run", "--config", str(config(tmp_path, service='embeddings = "minilm"')))
    assert done.returncode == 2
    assert one_line(done).startswith("claimwatch: config error: service.embeddings")
    assert not (tmp_path / "data").exists()


# --------------------------------------------------------------------------- the data directory


@pytest.mark.parametrize("command", ["run", "status"])
def test_data_dir_that_is_a_file(tmp_path: Path, command: str) -> None:
    (tmp_path / "file").write_text("x")
    done = claimwatch(command, "--config", str(config(tmp_path, data_dir=tmp_path / "file")))
    assert done.returncode == 2
    error = "claimwatch: config error: service.data_dir:"
    assert one_line(done) == f"{error} {tmp_path / 'file'} is a file, not a directory"
    done = claimwatch(command, "--config", str(config(tmp_path, data_dir=tmp_path / "file" / "data")))
    assert done.returncode == 2
    assert one_line(done) == f"{error} cannot create {tmp_path / 'file' / 'data'}: Not a directory"


@contextmanager
def tmpfs(where: Path, options: str) -> Iterator[Path]:
    """A small tmpfs at ``where`` (needs root, as CI and the dev VM have); the test skips without it."""
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.decode().strip()}); README has the manual check")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_data_dir_on_a_read_only_disk(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", "ro,size=1m") as disk:
        done = claimwatch("run", "--config", str(config(tmp_path, data_dir=disk)))
    assert done.returncode == 2
    assert one_line(done) == f"claimwatch: config error: service.data_dir: cannot write in {disk}: Read-only file " \
                             "system"


def test_data_dir_on_a_full_or_nearly_full_disk(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", "size=1m") as disk:
        done = claimwatch("run", "--config", str(config(tmp_path, data_dir=disk / "data")))
        assert done.returncode == 1
        assert one_line(done).startswith(f"claimwatch: service.data_dir: only 1.0 MiB free on the device of "
                                         f"{disk / 'data'}; the embedded Redis needs 16 MiB to start")
        with open(disk / "filler", "wb") as f, pytest.raises(OSError, match="No space left"):  # full to the last byte
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        done = claimwatch("status", "--config", str(config(tmp_path, data_dir=disk / "data")))
    assert done.returncode == 1
    assert one_line(done) == f"claimwatch: service.data_dir: no space left on the device of {disk / 'data'}; free " \
                             "some space"


def test_without_config_the_files_claimwatch_config_names(tmp_path: Path) -> None:
    """`docker exec ... claimwatch status` gives no --config: the image's CLAIMWATCH_CONFIG stands in."""
    first, second = tmp_path / "a.toml", config(tmp_path)
    first.write_text('[service]\nhttp_port = 1\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("CLAIMWATCH_REDIS_URL", "REDIS_URL")}
    env["CLAIMWATCH_CONFIG"] = f"{first}{os.pathsep}{second}"
    done = subprocess.run([sys.executable, "-m", "claimwatch", "status", "--json"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["feeds"] == [] and (tmp_path / "data" / "redis.log").is_file()
    env["CLAIMWATCH_CONFIG"] = str(tmp_path / "missing.toml")
    done = subprocess.run([sys.executable, "-m", "claimwatch", "status"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and one_line(done).startswith(f"claimwatch: config error: {tmp_path / 'missing.toml'}")
