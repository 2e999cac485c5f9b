"""monitor.broker.embedded.prepare_data_dir with injected faults (test_cli_errors.py does it on tmpfs)."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from monitor.broker import embedded
from monitor.errors import ConfigError, DiskFull


def test_a_writable_directory_with_room_is_made_and_left_clean(tmp_path: Path) -> None:
    embedded.prepare_data_dir(tmp_path / "a" / "b")
    assert (tmp_path / "a" / "b").is_dir() and not list((tmp_path / "a" / "b").iterdir())


def test_a_file_or_a_path_through_a_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(ConfigError, match=r"^service\.data_dir: .*/f is a file, not a directory$"):
        embedded.prepare_data_dir(tmp_path / "f")
    with pytest.raises(ConfigError, match=r"^service\.data_dir: cannot create .*/f/d: Not a directory$"):
        embedded.prepare_data_dir(tmp_path / "f" / "d")


@pytest.mark.parametrize(("code", "error", "message"), [
    (errno.ENOSPC, DiskFull, r"^service\.data_dir: no space left on the device of .*; free some space$"),
    (errno.EDQUOT, DiskFull, r"^service\.data_dir: no space left"),
    (errno.EACCES, ConfigError, r"^service\.data_dir: cannot write in .*: Permission denied$"),
    (errno.EROFS, ConfigError, r"^service\.data_dir: cannot write in .*: Read-only file system$"),
])
def test_a_write_that_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, error: type,
                            message: str) -> None:
    def failing_open(*args: Any, **kwargs: Any) -> Any:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(embedded, "open", failing_open, raising=False)
    with pytest.raises(error, match=message):
        embedded.prepare_data_dir(tmp_path)


def test_too_little_room(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(embedded.shutil, "disk_usage", lambda p: real._replace(free=5 << 20))
    with pytest.raises(DiskFull, match=r"^service\.data_dir: only 5\.0 MiB free on the device of .*; the embedded "
                                       r"Redis needs 16 MiB to start: free some space$"):
        embedded.prepare_data_dir(tmp_path)
    embedded.prepare_data_dir(tmp_path, min_free=4 << 20)
