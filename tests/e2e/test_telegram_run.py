"""`claimwatch run` on a local stage of Telegram channels and an RSS feed: each new claim alerts
once, whichever source carried it first; a Telegram post's alert links its permalink.

The stage (one loopback server): the web previews of three channels (Russian, Ukrainian, English;
tests/tgpreview.py builds the markup as t.me does), a restricted channel whose preview redirects to
its contact page, an RSS feed and its article pages, and the webhook receiver. Two phases:

1. the governor's Russian posts (one in his own words, naming no source); a Ukrainian post; the
   Ukrainian channel forwarding a governor's post that his own page does not show yet; an English
   post of the Legion; an RSS article (two claims);
2. the governor's post edited (a death added); the forwarded post now on the governor's page; the
   Legion's channel repeating one of the RSS article's claims; a second RSS article repeating the
   Legion's post and adding a claim of its own.

Phase 1 alerts six times, phase 2 twice (the edit's new sentence, the second article's own claim);
the restricted channel fails with its reason.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from running import StageHandler, claimwatch_run, serving
from tgpreview import TgPost, contact_page, page

DAY1, DAY2 = "2023-06-01T08:10:00+00:00", "2023-06-01T15:40:00+00:00"

R1 = ("Губернатор Вячеслав Гладков сообщил сегодня утром, что в результате обстрела Шебекино и Белгорода "
      "ранены четыре мирных жителя, повреждены 19 частных домов.")
G1 = "В Шебекино эвакуированы пациенты городской больницы, их перевезли в больницы Белгорода."  # his own words
R2 = "Вечером Гладков сообщил, что один из раненых в Шебекино, 58-летний мужчина, скончался в больнице Белгорода."
F1 = ("Губернатор Вячеслав Гладков сообщил сегодня, что в Грайвороне беспилотник атаковал здание администрации, "
      "в Белгороде выбиты окна, пострадавших нет.")
U1 = ("Російський добровольчий корпус заявив сьогодні, що його бійці знову увійшли в Грайворон, а біля Бєлгорода "
      "захопили 11 полонених.")
T1 = ("The Freedom of Russia Legion said on Thursday that its fighters had taken 14 Russian soldiers prisoner near "
      "Shebekino and would hand them over to Ukraine.")
X1 = ("A spokesman for the regional emergency service said on Thursday that 2,500 residents of Shebekino had been "
      "taken to temporary shelters in Belgorod.")
X2 = ("Belgorod governor Vyacheslav Gladkov said on Thursday that a drone struck an oil depot in Novy Oskol and that "
      "the fire covered 300 square metres.")
X3 = ("Regional officials said on Thursday evening that power was cut to 4,000 homes in Shebekino after shelling "
      "damaged a substation.")


def _article(title: str, *paras: str) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paras)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f'<meta property="og:site_name" content="Border Wire"></head><body><nav><a href="/">Home</a></nav>'
            f"<article><h1>{title}</h1>{body}</article></body></html>").encode()


ARTICLES = {
    "shelters": ("Belgorod evacuees moved to shelters as Shebekino shelling goes on", [X1, X2]),
    "power": ("Legion says it took prisoners near Shebekino; power cut in the town", [
        T1.replace("The Freedom of Russia Legion said", "The Freedom of Russia Legion also said"), X3]),
}


class Stage:
    def __init__(self) -> None:
        self.phase = 1
        self.alerts: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.base = ""

    def channels(self) -> dict[str, tuple[str, list[TgPost]]]:
        two = self.phase >= 2
        gladkov = [TgPost(100, R1 + ("\n" + R2 if two else ""), date=DAY1, edited=two), TgPost(102, G1, date=DAY1)]
        if two:
            gladkov.append(TgPost(101, F1, date=DAY1))
        ua = [TgPost(300, "Щойно: " + U1, date=DAY1),
              TgPost(301, F1, date=DAY1, forward=("Вячеслав Гладков", "https://t.me/gladkov_ru/101"))]
        legion = [TgPost(12, T1, date=DAY1)] + ([TgPost(13, X2, date=DAY2)] if two else [])
        return {"gladkov_ru": ("Вячеслав Гладков", gladkov), "ua_novyny": ("Новини України", ua),
                "legion_en": ("Freedom of Russia Legion", legion)}

    def feed(self) -> bytes:
        names = ["shelters"] + (["power"] if self.phase >= 2 else [])
        items = "".join(f"<item><title>{ARTICLES[n][0]}</title><link>{self.base}/articles/{n}.html</link>"
                        f"<guid>{n}</guid><pubDate>Thu, 01 Jun 2023 16:00:00 GMT</pubDate>"
                        f"<description>Belgorod region news.</description></item>" for n in names)
        return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Border Wire</title>'
                f"<link>{self.base}/</link><description>t</description>{items}</channel></rss>").encode()


def _handler(stage: Stage) -> type[StageHandler]:
    class Handler(StageHandler):
        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?", 1)[0]
            channels = stage.channels()
            if path == "/feed.xml":
                self.send(200, stage.feed(), "application/rss+xml")
            elif path.startswith("/articles/") and path[10:-5] in ARTICLES:
                title, paras = ARTICLES[path[10:-5]]
                self.send(200, _article(title, *paras), "text/html; charset=utf-8")
            elif path == "/s/closed_chan":
                self.send(302, b"", "text/html", {"Location": "/closed_chan"})
            elif path == "/closed_chan":
                self.send(200, contact_page("closed_chan", "This channel is blocked in your country."),
                          "text/html; charset=utf-8")
            elif path.startswith("/s/") and path[3:] in channels:
                title, posts = channels[path[3:]]
                before = self.path.partition("before=")[2]
                shown = [p for p in posts if not before or p.id < int(before)]
                self.send(200, page(path[3:], title, shown), "text/html; charset=utf-8")
            else:
                self.send(404, b"no")

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with stage.lock:
                stage.alerts.append(json.loads(body))
            self.send(204, b"")

    return Handler


def _wait(stage: Stage, n: int, proc: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and len(stage.alerts) < n and proc.poll() is None:
        time.sleep(0.2)


@pytest.mark.e2e
def test_run_alerts_each_claim_once_across_telegram_and_rss(tmp_path: Path) -> None:
    stage = Stage()
    with serving(_handler(stage)) as base:
        stage.base = base
        feeds = "".join(f'[[feeds]]\ntype = "telegram"\nurl = "{base}/s/{c}"\n\n'
                        for c in ("gladkov_ru", "ua_novyny", "legion_en", "closed_chan"))
        override = tmp_path / "override.toml"
        override.write_text(
            f'[service]\ndata_dir = "{tmp_path / "data"}"\npoll_interval = 0.5\nworkers = 1\nhttp_port = 0\n\n'
            f"[network]\nallow_private_addresses = true\n\n{feeds}"
            f'[[feeds]]\nurl = "{base}/feed.xml"\nname = "Border Wire"\n\n'
            f'[[alerts]]\ntype = "webhook"\nurl = "{base}/hook"\n', encoding="utf-8")
        with claimwatch_run("config/claimwatch.toml", str(override)) as run:
            _wait(stage, 6, run.proc, 150)
            time.sleep(3)  # nothing more is due from phase 1
            first = list(stage.alerts)
            stage.phase = 2
            _wait(stage, len(first) + 2, run.proc, 90)
            time.sleep(4)  # and nothing more from phase 2
    log = run.log
    assert run.code == 0 and "Traceback" not in log, log[-3000:]
    claims = {a["article"]["url"]: [c["text"] for c in a["claims"]] for a in stage.alerts}
    summary = json.dumps(claims, ensure_ascii=False, indent=1)
    assert len(first) == 6, summary + log[-4000:]
    assert len(stage.alerts) == 8, summary + log[-4000:]
    assert len(claims) == 8, summary  # one alert per article

    def alert_of(text: str) -> str:
        [url] = [u for u, cs in claims.items() if any(text[:60] in c for c in cs)] or [None]
        assert url, f"no alert carries {text[:60]!r}: {summary}"
        return url

    assert alert_of(R1) == "https://t.me/gladkov_ru/100"
    assert alert_of(G1) == "https://t.me/gladkov_ru/102"  # first-hand: it names no source, being the source
    assert alert_of(U1) == "https://t.me/ua_novyny/300"
    assert alert_of(F1) == "https://t.me/gladkov_ru/101"  # the forward, read first, links the original
    assert alert_of(T1) == "https://t.me/legion_en/12"
    assert alert_of(X1) == f"{base}/articles/shelters.html"
    edit = alert_of(R2)  # the edit alerts for what it adds, and only that
    assert edit.startswith("https://t.me/gladkov_ru/100#edited-") and claims[edit] == [R2], summary
    assert alert_of(X2) == f"{base}/articles/shelters.html"  # the Legion's channel repeats it later: known
    power = alert_of(X3)  # the article alerts its own claim, not the Legion's post it repeats
    assert power == f"{base}/articles/power.html" and claims[power] == [X3], summary
    sources = {a["article"]["url"]: a["article"]["source"] for a in stage.alerts}
    assert sources["https://t.me/gladkov_ru/101"] == "Новини України (forwarded from Вячеслав Гладков)"
    assert "channel closed_chan has no public preview" in log and "telegram_unavailable" in log
