"""`claimwatch run` as an operator meets it: the log of a quiet service, its data directory deleted
under it, `status` while it runs (subprocess, loopback servers, made-up articles from test_crash).

Before: an idle service's log was mostly RQ's "cleaning registries" and job start/end lines (84 of
110 lines in ten minutes), and a feed URL's password showed in them (the job's description);
deleting data_dir went unnoticed (/healthz 200, `status` started an empty Redis of its own) and a
restart sent every earlier alert again.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_crash import ROOT, TOKEN, Service, Stage, _cleanup, _free_port, stage, wait_for  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e
FEED_PASSWORD = "feedpass-71c"  # in the feed URL's userinfo: must never show in a log line or in status


def service(tmp: Path, stage: Stage) -> Service:  # noqa: F811
    svc = Service(tmp, stage, _free_port())
    feed = stage.base.replace("http://", f"http://cwuser:{FEED_PASSWORD}@") + "/good.xml"
    (tmp / "override.toml").write_text(
        f'[service]\ndata_dir = "{tmp / "data"}"\npoll_interval = 0.5\nworkers = 1\nhttp_port = {svc.port}\n'
        'embeddings = "off"\n\n[network]\nallow_private_addresses = true\n\n'
        f'[[feeds]]\nurl = "{feed}"\nname = "Test Gazette"\n\n'
        f'[[alerts]]\ntype = "webhook"\nurl = "{stage.base}/hook/{TOKEN}"\n', encoding="utf-8")
    return svc


def claimwatch_status(svc: Service) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("CLAIMWATCH_REDIS_URL", "REDIS_URL")}
    done = subprocess.run([sys.executable, "-m", "claimwatch", "status", "--json", *svc.args[4:]], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_quiet_service_logs_its_own_lines_and_no_secret(stage: Stage, tmp_path: Path) -> None:  # noqa: F811
    svc = service(tmp_path, stage)
    stage.published.append("depot")
    svc.start()
    try:
        wait_for(lambda: stage.acked("depot"), 90, svc, "the article is alerted")
        time.sleep(35)  # idle past RQ's registry clean-up (every 30 s; the first at the worker's start)
        code, took = svc.sigterm()
    finally:
        _cleanup(svc, tmp_path)
    log = svc.text()
    assert code == 0, log[-3000:]
    print(f"stopped in {took:.1f} s; {len(log.splitlines())} log lines")
    assert FEED_PASSWORD not in log and TOKEN not in log
    for chatter in ("cleaning registries", "Job OK", "Successfully completed", "Listening on",
                    "result is kept", "entry-"):
        assert chatter not in log, (chatter, log[-3000:])
    loggers = {m.group(1) for m in re.finditer(r"^\S+ \S+ (?:INFO|DEBUG)\s+\S+ ([\w.]+): ", log, re.M)}
    assert loggers and all(name.split(".")[0] in ("monitor", "workers", "claimwatch") for name in loggers), loggers
    assert len(log.splitlines()) < 40, log


def test_data_dir_deleted_while_running(stage: Stage, tmp_path: Path) -> None:  # noqa: F811
    svc = service(tmp_path, stage)
    data = tmp_path / "data"
    stage.published += ["depot", "bakery"]
    svc.start()
    try:
        wait_for(lambda: stage.acked("depot") and stage.acked("bakery"), 90, svc, "both articles are alerted")
        # deleted, and replaced by a file: the service cannot write it back, and says so
        shutil.rmtree(data)
        data.write_text("in the way")
        said = f"service.data_dir: {data} was replaced by a file"
        wait_for(lambda: said in svc.get("/healthz")[1].decode(), 10, svc, "/healthz says data_dir is gone")
        status, body = svc.get("/healthz")
        problems = json.loads(body)["problems"]
        assert status == 503 and any(said in p for p in problems), problems
        assert "service.data_dir:" in svc.text() and "replaced by a file" in svc.text()
        # the file removed: the service writes the directory back by itself
        data.unlink()
        wait_for(lambda: svc.get("/healthz")[0] == 200, 60, svc, "data_dir written back")
        assert "written back" in svc.text() and any((data / f).exists() for f in ("appendonlydir", "appendonly.aof"))
        report = claimwatch_status(svc)  # the running service's Redis, not an empty one of its own
        assert [f["name"] for f in report["feeds"]] == ["Test Gazette"] and report["pollers"]
        assert FEED_PASSWORD not in json.dumps(report)
        code, _ = svc.sigterm()
        assert code == 0
        report = claimwatch_status(svc)
        assert report["pollers"] == [] and all((f["next_poll_in"] or 0) >= 0 for f in report["feeds"])

        polled = stage.hits["/good.xml"]
        svc.start()  # restarted on the same data: what was delivered is not sent again
        wait_for(lambda: stage.hits["/good.xml"] >= polled + 4, 90, svc, "the feed is polled after the restart")
        stage.published.append("bridge")
        wait_for(lambda: stage.acked("bridge"), 60, svc, "a new article is alerted after the restart")
        time.sleep(3)
        assert (stage.acked("depot"), stage.acked("bakery"), stage.acked("bridge")) == (1, 1, 1)
        code, _ = svc.sigterm()
        assert code == 0
    finally:
        _cleanup(svc, tmp_path)
    assert "Traceback" not in svc.text(), svc.text()[-3000:]
