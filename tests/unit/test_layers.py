"""The layering contracts in pyproject.toml ([tool.importlinter]) hold, and each of them can fail.

`lint-imports` (import-linter, the `test` extra) reads the imports statically, those inside functions
included, in ~0.2 s. The first test runs it on this checkout: an arrow that points the wrong way
fails the suite, naming the import and its line. The second copies the packages to a temporary
folder, adds one wrong-way import for one contract, and expects that contract broken there: a
contract that a renamed module made vacuous (it matches nothing, so it is always kept) fails it,
and so does a new contract without a wrong-way import of its own below.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from importlinter import api

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")  # the one installed beside this interpreter
PACKAGES = ("claimwatch", "monitor", "workers")

# contract id -> (a module, a wrong-way import appended to it, the arrow the report must name)
WRONG_WAY = {
    "layers": ("monitor/queue.py", "import workers.jobs", "monitor.queue -> workers.jobs"),
    "types-and-errors": ("monitor/models.py", "from monitor import settings", "monitor.models -> monitor.settings"),
    "poller-never-extracts": ("monitor/feeds.py", "import trafilatura", "monitor.feeds -> trafilatura"),
    "workers-use-the-core": ("workers/dedup.py", "import monitor.status", "workers.dedup -> monitor.status"),
    "sinks-see-models-and-errors": ("workers/sinks/console.py", "from monitor.store import Store",
                                    "workers.sinks.console -> monitor.store"),
    "pipeline-knows-no-rq": ("workers/pipeline.py", "from workers import delivery",
                             "workers.pipeline -> workers.delivery"),
}


def lint(cwd: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    args = [str(LINT), "--no-cache", "--no-logo", *(a for c in contracts for a in ("--contract", c))]
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1")  # one line per contract in the report
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_code_keeps_every_contract() -> None:
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 broken" in result.stdout


def test_every_contract_has_a_wrong_way_import() -> None:
    ids = {c["id"] for c in api.read_configuration(str(ROOT / "pyproject.toml"))["contracts_options"]}
    assert ids == set(WRONG_WAY)


@pytest.mark.parametrize("contract", sorted(WRONG_WAY))
def test_a_wrong_way_import_breaks_the_contract(contract: str, tmp_path: Path) -> None:
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    module, statement, arrow = WRONG_WAY[contract]
    with (tmp_path / module).open("a", encoding="utf-8") as f:
        f.write(f"\n{statement}  # noqa: E402\n")
    result = lint(tmp_path, contract)  # it reads the copy (cwd first on sys.path): the arrow below is there only
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN" in result.stdout and arrow in result.stdout, result.stdout
