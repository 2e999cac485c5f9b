"""The analyst's desk in a real browser (Debian's chromium, driven by Selenium) against `claimwatch run`
with a local feed: a new claim appears on the open timeline without a reload; a known fact added on
the page stops the article that states it from alerting; "not new" on a claim is applied and its next
copy stays silent; an API write without a token is refused.

Needs /usr/bin/chromium and /usr/bin/chromedriver (.ci/run installs Debian's `chromium` and
`chromium-driver`); skips without them. With CLAIMWATCH_SCREENSHOTS=DIR it saves the main pages'
screenshots there (docs/desk-*.png in the README were made so).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from running import StageHandler  # noqa: I001 (tests/e2e is on sys.path under pytest)

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM, DRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
TOKEN = "desk-e2e-token-3b8f0c2d"
WATCH = "belgorod-raids"


def _page(title: str, paragraphs: list[str]) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f'<meta property="og:site_name" content="Test Gazette"></head><body>'
            f"<article><h1>{title}</h1>{body}</article></body></html>").encode()


DEPOT_CLAIM = ("Vyacheslav Gladkov, the governor of Belgorod region, said on Wednesday that a drone had set fire to "
               "a fuel depot on the outskirts of Grayvoron, and that 12 firefighters spent six hours putting out "
               "the blaze.")
CONTEXT = ("Gladkov said nobody was hurt and that residents of two streets were moved to a school overnight as a "
           "precaution, while the Freedom of Russia Legion said on Telegram that its fighters were not involved.")
FACT = ("Governor Gladkov said on Thursday that air defences shot down 4 drones over Shebekino in the Belgorod "
        "region overnight.")
ARTICLES = {
    "/a/depot.html": ("Belgorod governor says drone hit a fuel depot near Grayvoron", [DEPOT_CLAIM, CONTEXT]),
    "/a/shebekino.html": ("Drones shot down over Shebekino, Belgorod governor says", [FACT, CONTEXT]),
    "/a/depot-copy.html": ("Fuel depot fire near Grayvoron in Belgorod region", [DEPOT_CLAIM]),
}


class Stage:
    """The local feed (its items appear as the test publishes them), the pages, the webhook receiver."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.alerts: list[dict[str, Any]] = []
        self.base = ""

    def feed(self) -> bytes:
        items = "".join(f"<item><title>{ARTICLES[p][0]}</title><link>{self.base}{p}</link><guid>{p}</guid>"
                        f"<description>Belgorod region: {ARTICLES[p][0]}.</description></item>" for p in self.items)
        return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Test Gazette</title>'
                f"<link>{self.base}/</link><description>t</description>{items}</channel></rss>").encode()


def _handler(stage: Stage) -> type[StageHandler]:
    class Handler(StageHandler):  # quiet, HTTP/1.1, send()
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            path = self.path.split("?", 1)[0]
            if path == "/feed.xml":
                self.send(200, stage.feed(), "application/rss+xml")
            elif path in ARTICLES:
                self.send(200, _page(*ARTICLES[path]), "text/html; charset=utf-8")
            else:
                self.send(404, b"no", "text/plain")

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            stage.alerts.append(json.loads(body))
            self.send(204, b"", "text/plain")

    return Handler


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(cond: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = cond()
        if got:
            return got
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def browser() -> Iterator[Any]:
    if not (CHROMIUM.exists() and DRIVER.exists()):
        pytest.skip("Debian's chromium and chromium-driver are not installed (.ci/run installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage", "--window-size=1280,900"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(DRIVER)), options=opts)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[Stage, str]]:
    stage = Stage()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stage))
    stage.base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = _free_port()
    override = tmp_path / "override.toml"
    override.write_text(
        f'[service]\ndata_dir = "{tmp_path / "data"}"\npoll_interval = 0.5\nworkers = 1\nhttp_port = {port}\n'
        f'api_tokens = ["{TOKEN}"]\n\n[network]\nallow_private_addresses = true\n\n'
        f'[[feeds]]\nurl = "{stage.base}/feed.xml"\nname = "Test Gazette"\n\n'
        f'[[alerts]]\ntype = "webhook"\nurl = "{stage.base}/hook"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("CLAIMWATCH_REDIS_URL", "REDIS_URL")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "claimwatch", "run", "--config", "config/claimwatch.toml", "--config", str(override)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: _ready(base), 120, "a worker and the HTTP endpoint")
        yield stage, base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        server.shutdown()


def _ready(base: str) -> bool:
    try:
        r = httpx.get(base + "/healthz", timeout=2)
    except httpx.HTTPError:
        return False
    return r.status_code == 200


def _verdicts(base: str, path: str, stage: Stage) -> dict[str, Any] | None:
    r = httpx.get(f"{base}/api/v1/watches/{WATCH}/article", params={"url": stage.base + path}, timeout=5)
    return r.json() if r.status_code == 200 else None


def _shot(driver: Any, name: str) -> None:
    out = os.environ.get("CLAIMWATCH_SCREENSHOTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(out) / f"desk-{name}.png"))


@pytest.mark.e2e
def test_the_desk_in_a_browser(browser: Any, service: tuple[Stage, str]) -> None:
    from selenium.webdriver.common.by import By

    stage, base = service
    # an API write without a token is refused, and nothing is queued
    refused = httpx.post(f"{base}/api/v1/watches/{WATCH}/feedback", json={"kind": "fact", "text": FACT}, timeout=5)
    assert refused.status_code == 401
    assert httpx.get(f"{base}/api/v1/feedback", timeout=5).json() == {"feedback": []}

    # (1) the timeline is open; a new claim appears on it without a reload
    browser.get(f"{base}/watches/{WATCH}")
    assert "No claims yet." in browser.page_source
    browser.execute_script("window.__notReloaded = true;")
    stage.items.append("/a/depot.html")
    claim = _wait(lambda: [e for e in browser.find_elements(By.CSS_SELECTOR, "li.claim")
                           if "12 firefighters" in e.text], 120, "the claim on the open timeline")[0]
    assert browser.execute_script("return window.__notReloaded === true;")
    assert "first reported by" in claim.text and "Test Gazette" in claim.text
    _wait(lambda: stage.alerts, 30, "the webhook alert")
    assert len(stage.alerts) == 1

    # sign in, then add a known fact on the page; the article stating it stays silent
    browser.get(f"{base}/login")
    browser.find_element(By.NAME, "token").send_keys(TOKEN)
    browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
    _wait(lambda: "Signed in." in browser.page_source, 10, "signed in")
    assert TOKEN not in browser.page_source and all(TOKEN not in c["value"] for c in browser.get_cookies())
    browser.get(f"{base}/watches/{WATCH}")
    browser.find_element(By.ID, "fact").send_keys(FACT)
    browser.find_element(By.CSS_SELECTOR, "textarea#fact ~ button").click()
    _wait(lambda: "the workers apply it" in browser.page_source, 10, "the feedback's confirmation")
    _wait(lambda: [f for f in httpx.get(f"{base}/api/v1/feedback", timeout=5).json()["feedback"]
                   if f["kind"] == "fact" and f["status"] == "applied"], 60, "the fact applied by a worker")
    stage.items.append("/a/shebekino.html")
    seen = _wait(lambda: _verdicts(base, "/a/shebekino.html", stage), 60, "the article with the known fact judged")
    assert seen["status"] == "no_new_claims", seen
    fact = [v for v in seen["verdicts"] if v["sentence"] == FACT][0]
    assert fact["verdict"] == "known" and fact["nearest"] == FACT

    # "not new" on the claim: applied by a worker; its next copy stays silent and is counted as a repeat
    def depot() -> dict[str, Any]:
        found = httpx.get(f"{base}/api/v1/watches/{WATCH}/claims", params={"q": "12 firefighters"}, timeout=5)
        (one,) = found.json()["claims"]
        return one

    browser.get(f"{base}/watches/{WATCH}")
    browser.find_element(By.CSS_SELECTOR, f"li#claim-{depot()['id']} details.feedback summary").click()
    browser.find_element(By.CSS_SELECTOR, f"li#claim-{depot()['id']} button[name='not_new']").click()
    _wait(lambda: "marked not new" in browser.page_source, 10, "the claim marked")
    _wait(lambda: [f for f in httpx.get(f"{base}/api/v1/feedback", timeout=5).json()["feedback"]
                   if f["kind"] == "not_new" and f["status"] == "applied"], 60, "not new applied")
    stage.items.append("/a/depot-copy.html")
    copy = _wait(lambda: _verdicts(base, "/a/depot-copy.html", stage), 60, "the copy judged")
    assert copy["status"] in ("no_new_claims", "duplicate") and len(stage.alerts) == 1
    listed = depot()
    assert listed["feedback"]["kind"] == "not_new"
    assert stage.base + "/a/depot-copy.html" in [r["url"] for r in listed["corroboration"]]

    for name, path in (("timeline", f"/watches/{WATCH}"), ("watches", "/"), ("feeds", "/feeds"),
                       ("deliveries", "/deliveries"),
                       ("article", f"/watches/{WATCH}/article?url={stage.base}/a/shebekino.html")):
        browser.get(base + path)
        assert browser.find_element(By.TAG_NAME, "h1").text
        _shot(browser, name)
    browser.set_window_size(390, 844)  # a phone
    browser.get(f"{base}/watches/{WATCH}")
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1;")
    _shot(browser, "phone")
