"""Startup: time from `claimwatch run` to its first poll (and to workers ready), and the RSS of each process.

    .venv/bin/python benchmarks/startup.py [--embeddings both|off|auto]

`claimwatch run` starts as a subprocess with the shipped config (the Belgorod watch and its seed)
layered with one local feed, a fresh data_dir (embedded Redis) and one worker per core. The first
poll is the first GET of the feed on the local server; a worker is ready at its "ready" log line.
RSS (VmRSS) of every process of the service is read once all workers are ready. Baseline, in the
same run: a bare Python process that imports httpx and GETs the same feed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common as c


def role(cmd: str) -> str:
    if "redis-server" in cmd:
        return "redis-server (embedded)"
    if " worker" in cmd:
        return "worker"
    if "-m claimwatch run" in cmd:
        return "claimwatch run (poller, supervisor, health)"
    return cmd[:60]


def one_run(tmp: Path, embeddings: str, gets: list[float], base: str) -> dict[str, object]:
    workers = len(c.CORES)
    cfg = c.write_config(tmp / f"start-{embeddings}.toml",
                         service={"data_dir": str(tmp / f"data-{embeddings}"), "poll_interval": 60,
                                  "workers": workers, "http_port": 0, "embeddings": embeddings},
                         feeds=[{"url": f"{base}/feed.xml", "name": "Local"}],
                         alerts=[{"type": "console"}])
    log = tmp / f"start-{embeddings}.log"
    env = {k: v for k, v in os.environ.items() if k not in ("CLAIMWATCH_REDIS_URL", "REDIS_URL")}
    n0 = len(gets)
    t0 = time.time()
    proc = subprocess.Popen([c.PY, "-m", "claimwatch", "run", "--config", "config/claimwatch.toml",
                             "--config", str(cfg)],
                            cwd=c.ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        c.wait_for(lambda: len(gets) > n0, 120, 0.01)
        first_poll = gets[n0] - t0 if len(gets) > n0 else float("nan")
        c.wait_for(lambda: log.read_text(errors="replace").count(" ready: ") >= workers, 180, 0.05)
        ready = time.time() - t0
        time.sleep(1)
        rss: dict[str, list[int]] = {}
        for pid in c.tree(proc.pid):
            rss.setdefault(role(c.cmdline(pid)), []).append(c.rss_kb(pid))
        return {"first_poll": first_poll, "ready": ready, "rss": rss}
    finally:
        c.stop_group(proc)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--embeddings", choices=["both", "off", "auto"], default="both")
    args = ap.parse_args()
    modes = ["off", "auto"] if args.embeddings == "both" else [args.embeddings]
    gets: list[float] = []

    def route(method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        gets.append(time.time())
        return 200, {"Content-Type": "application/rss+xml"}, c.rss("http://127.0.0.1", [])

    tmp = Path(tempfile.mkdtemp(prefix="cw-bench-startup-"))
    try:
        with c.Server(route) as server:
            n0, t0 = len(gets), time.time()
            probe = subprocess.run([c.PY, "-c", f"import httpx, resource; httpx.get('{server.base}/feed.xml'); "
                                    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"],
                                   capture_output=True, text=True, check=True)
            bare_first, bare_rss = gets[n0] - t0, int(probe.stdout.strip())
            runs = {m: one_run(tmp, m, gets, server.base) for m in modes}
        rows = [["bare python: import httpx, GET the feed", bare_first, "", "", 1.0]]
        for m in modes:
            r = runs[m]
            rows.append([f"claimwatch run, embeddings={m}", r["first_poll"], r["ready"], len(c.CORES),
                         r["first_poll"] / bare_first])
        c.Table("Startup, seconds from spawn", ["run", "first poll s", "all workers ready s", "workers",
                                                 "first poll ratio to bare"], rows).print()
        rrows = [["bare python + httpx (peak)", 1, bare_rss / 1024, ""]]
        for m in modes:
            for name, vals in sorted(runs[m]["rss"].items()):
                rrows.append([f"{name}, embeddings={m}", len(vals), max(vals) / 1024, sum(vals) / 1024])
        c.Table("RSS per process, MB (after all workers are ready)", ["process", "count", "max RSS MB",
                                                                      "total MB"], rrows).print()
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
