"""`claimwatch feeds import|export|discover` through the command line's own entry point: local pages
over loopback, files in a temporary folder."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from localserver import QuietHandler, reply, serving
from miniflux import miniflux_opml

from claimwatch.cli import main

PAGES = {
    "/article": (b'<html><head><link rel="alternate" type="application/rss+xml" title="News" href="/rss.xml">'
                 b'<link rel="alternate" type="application/atom+xml" title="Comments" href="comments/atom">'
                 b'<link rel="stylesheet" href="/s.css"></head><body>text</body></html>', "text/html"),
    "/plain": (b"<html><head><title>No feeds</title></head><body>text</body></html>", "text/html"),
    "/rss.xml": (b'<?xml version="1.0"?><rss version="2.0"><channel><title>News</title></channel></rss>',
                 "application/rss+xml"),
}


class Pages(QuietHandler):
    def do_GET(self) -> None:  # noqa: N802
        body, ctype = PAGES.get(self.path, (b"", "text/plain"))
        reply(self, 200 if body else 404, {"Content-Type": ctype}, body)


@pytest.fixture
def config(tmp_path: Path) -> list[str]:
    local = tmp_path / "local.toml"
    local.write_text("[network]\nallow_private_addresses = true\n", encoding="utf-8")
    return ["--config", "config/claimwatch.toml", "--config", str(local)]


@pytest.fixture(autouse=True)
def at_the_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[2])


def test_discover_prints_the_feeds_a_page_names(config: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with serving(Pages) as base:
        assert main(["feeds", "discover", f"{base}/article", *config]) == 0
        assert capsys.readouterr().out == f"{base}/rss.xml\trss\tNews\n{base}/comments/atom\tatom\tComments\n"
        assert main(["feeds", "discover", f"{base}/rss.xml", *config]) == 0  # a feed is its own feed
        assert capsys.readouterr().out == f"{base}/rss.xml\tfeed\tNews\n"
        assert main(["feeds", "discover", f"{base}/plain", *config]) == 1
        assert "names no feed" in capsys.readouterr().err
        assert main(["feeds", "discover", f"{base}/gone", *config]) == 2
        assert "HTTP 404" in capsys.readouterr().err


def test_import_prints_tables_or_writes_a_new_file(tmp_path: Path, config: list[str],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    subs = tmp_path / "subs.opml"
    subs.write_bytes(miniflux_opml("https://feeds.example", 3))
    assert main(["feeds", "import", str(subs), *config]) == 0
    out = capsys.readouterr().out
    printed = tomllib.loads(out)["feeds"]
    assert [f["url"] for f in printed] == [f"https://feeds.example/feeds/{i}.xml?format=rss&lang=en" for i in range(3)]
    target = tmp_path / "feeds.toml"
    assert main(["feeds", "import", str(subs), "--watch", "belgorod-raids", "-o", str(target), *config]) == 0
    written = tomllib.loads(target.read_text(encoding="utf-8"))["feeds"]
    assert [f["watches"] for f in written] == [["belgorod-raids"]] * 3
    assert [f["category"] for f in written] == ["All", "Belgorod", "Europe & Russia"]


@pytest.mark.parametrize("args, said", [
    (["--watch", "nope"], "no watch named 'nope'"),
    (["-o", "EXISTING"], "exists; give a new file"),
])
def test_import_refuses_what_cannot_work(tmp_path: Path, config: list[str], capsys: pytest.CaptureFixture[str],
                                         args: list[str], said: str) -> None:
    subs = tmp_path / "subs.opml"
    subs.write_bytes(miniflux_opml("https://feeds.example", 1))
    (tmp_path / "existing.toml").write_text("", encoding="utf-8")
    args = [str(tmp_path / "existing.toml") if a == "EXISTING" else a for a in args]
    assert main(["feeds", "import", str(subs), *args, *config]) == 2
    assert said in capsys.readouterr().err
    assert main(["feeds", "import", str(tmp_path / "missing.opml"), *config]) == 2
    assert "no such file" in capsys.readouterr().err
