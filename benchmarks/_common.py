"""Shared pieces of the benchmarks: pages, local servers, a Redis, configs, worker processes, tables.

Loopback only. Pages come from ``../shared/bench/pages`` (read at run time, never copied into the
project); without that folder, synthetic news pages are generated and the output says so.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PAGES_DIR = ROOT.parent / "shared" / "bench" / "pages"
PY = sys.executable
CORES = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(os.cpu_count() or 1))

# ---------------------------------------------------------------------------- pages


def _split(words: str) -> list[str]:
    return words.split()


_WORDS = _split(
    "minister council report village border drone attack regional governor said officials river "
    "bridge residents power station evacuation army spokesman statement press agency police forces "
    "city district election budget hospital school mayor court judge trial ceremony company market "
    "prices workers strike union talks railway airport storm flood fire emergency rescue volunteers "
    "water supply damage houses energy grid weekend morning evening night troops artillery shelling "
    "ceasefire negotiations"
)
_NAMES = _split(
    "Ivanov Petrenko Kovalenko Smirnova Shevchenko Gladkov Orlov Melnyk Bondar Tkachenko Kozlov "
    "Lysenko"
)
_PLACES = _split(
    "Novoselki Zarechye Kamenka Dubrovka Sosnovka Belaya Krasnoye Ozerki Lipovka Mirnoye"
)
_DAYS = _split(
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday"
)


def _sentence(rng: random.Random) -> str:
    words = rng.sample(_WORDS, rng.randint(8, 16))
    who = rng.choice(_NAMES)
    return (f"{who} said on {rng.choice(_DAYS)} that {' '.join(words[:5])} in {rng.choice(_PLACES)} "
            f"{' '.join(words[5:])} {rng.randint(2, 400)} people.")


def synthetic_page(i: int) -> bytes:
    rng = random.Random(i)
    title = f"{rng.choice(_NAMES)} reports {rng.choice(_WORDS)} in {rng.choice(_PLACES)}"
    paras = "".join(f"<p>{' '.join(_sentence(rng) for _ in range(rng.randint(2, 4)))}</p>\n"
                    for _ in range(rng.randint(5, 12)))
    nav = "".join(f'<li><a href="/s/{k}">{w}</a></li>' for k, w in enumerate(rng.sample(_WORDS, 12)))
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f'<meta property="og:site_name" content="Synthetic Herald"></head><body><nav><ul>{nav}</ul></nav>'
            f"<article><h1>{title}</h1>\n{paras}</article><aside><h2>Related</h2><ul>{nav}</ul></aside>"
            f"<footer>(c) Synthetic Herald</footer></body></html>").encode()


def load_pages(minimum: int = 0) -> tuple[list[tuple[str, bytes]], str]:
    """[(name, html bytes)], and where they came from (printed by every benchmark)."""
    if PAGES_DIR.is_dir():
        pages = [(p.name, p.read_bytes()) for p in sorted(PAGES_DIR.iterdir()) if p.suffix in (".html", ".htm")]
        if pages:
            return pages, f"{len(pages)} real pages from {PAGES_DIR} (read at run time)"
    n = max(minimum, 150)
    return [(f"synthetic-{i}.html", synthetic_page(i)) for i in range(n)], (
        f"{n} SYNTHETIC news pages ({PAGES_DIR} is absent: these numbers are not comparable with real pages)")


# ---------------------------------------------------------------------------- local HTTP

Route = Callable[[str, str, dict[str, str], bytes], tuple[int, dict[str, str], bytes]]


class Server:
    """A threaded HTTP/1.1 server on 127.0.0.1; ``route(method, path, headers, body) -> (status, headers, body)``."""

    def __init__(self, route: Route):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # as real web servers do: headers and body are separate writes here, and with Nagle on,
            # the body's last segment would wait for the client's delayed ACK (~40 ms a page)
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:
                pass

            def _serve(self, method: str) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) if method == "POST" else b""
                status, headers, payload = outer.route(method, self.path, {k.lower(): v for k, v in
                                                                        self.headers.items()}, body)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if payload and status != 304:
                    self.wfile.write(payload)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

        self.route = route
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.request_queue_size = 1024
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def rss(base: str, items: list[dict[str, str]], title: str = "Bench feed") -> bytes:
    out = [f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
           f"<link>{base}/</link><description>benchmark</description>"]
    for it in items:
        out.append(f"<item><title>{_x(it['title'])}</title><link>{_x(it['link'])}</link><guid>{_x(it['guid'])}</guid>"
                   f"<description>{_x(it.get('summary', ''))}</description>"
                   + (f"<pubDate>{it['pubDate']}</pubDate>" if it.get("pubDate") else "") + "</item>")
    out.append("</channel></rss>")
    return "".join(out).encode()


def _x(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------------------- Redis, config, processes


@contextlib.contextmanager
def redis_server(tmp: Path) -> Iterator[str]:
    """REDIS_URL when set (its database is FLUSHED, as the tests do), else an embedded redis-server in ``tmp``."""
    from monitor.broker import EmbeddedRedis, connect

    url = os.environ.get("REDIS_URL")
    if url:
        connect(url).flushdb()
        yield url
        return
    server = EmbeddedRedis(tmp / "redis").start()
    try:
        yield server.url
    finally:
        server.stop()


def toml_str(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_str(x) for x in v) + "]"
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(path: Path, *, service: dict, network: dict | None = None, watches: list[dict] | None = None,
                 feeds: list[dict] | None = None, alerts: list[dict] | None = None) -> Path:
    lines = ["[service]"] + [f"{k} = {toml_str(v)}" for k, v in service.items()]
    lines += ["", "[network]"] + [f"{k} = {toml_str(v)}" for k, v in
                                  ({"allow_private_addresses": True} | (network or {})).items()]
    for w in watches or []:
        novelty = w.pop("novelty", None)
        lines += ["", "[[watches]]"] + [f"{k} = {toml_str(v)}" for k, v in w.items()]
        if novelty:
            lines += ["[watches.novelty]"] + [f"{k} = {toml_str(v)}" for k, v in novelty.items()]
    for f in feeds or []:
        lines += ["", "[[feeds]]"] + [f"{k} = {toml_str(v)}" for k, v in f.items()]
    for a in alerts or []:
        lines += ["", "[[alerts]]"] + [f"{k} = {toml_str(v)}" for k, v in a.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def pin(cores: set[int] | list[int]) -> Callable[[], None]:
    """preexec_fn: run the child (and every process it forks) on these cores."""
    def fn() -> None:
        with contextlib.suppress(AttributeError, OSError):
            os.sched_setaffinity(0, set(cores))
    return fn


def worker_env(redis_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL",)}
    env["CLAIMWATCH_REDIS_URL"] = redis_url
    return env


def start_worker(configs: list[Path], redis_url: str, *, burst: bool, cores: set[int] | None,
                 log: Path) -> subprocess.Popen[bytes]:
    args = [PY, "-m", "claimwatch", "worker"] + (["--burst"] if burst else [])
    for c in configs:
        args += ["--config", str(c)]
    out = log.open("ab")
    return subprocess.Popen(args, cwd=ROOT, env=worker_env(redis_url), stdout=out, stderr=subprocess.STDOUT,
                            preexec_fn=pin(cores) if cores else None, start_new_session=True)


def proc_kb(pid: int, file: str = "status", field: str = "VmRSS") -> int:
    """A kB figure of /proc/PID/<file> (status: VmRSS; smaps_rollup: Pss), 0 when gone."""
    try:
        for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kb(pid: int) -> int:
    return proc_kb(pid)


def tree(pid: int) -> list[int]:
    """The process and all its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children(p))
    return out


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to a process group started with start_new_session; SIGKILL after 40 s."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=40)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return ""


# ---------------------------------------------------------------------------- numbers and tables


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list[object]]

    def print(self) -> None:
        cells = [[_fmt(c) for c in r] for r in [self.header, *self.rows]]
        widths = [max(len(r[i]) for r in cells) for i in range(len(self.header))]
        print(f"\n{self.title}")
        print("| " + " | ".join(c.ljust(w) for c, w in zip(cells[0], widths, strict=True)) + " |")
        print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        for r in cells[1:]:
            print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")


def _fmt(v: object) -> str:
    if isinstance(v, float):
        if v == 0:
            return "0"
        if abs(v) >= 100:
            return f"{v:,.0f}"
        if abs(v) >= 10:
            return f"{v:.1f}"
        if abs(v) >= 0.1:
            return f"{v:.2f}"
        return f"{v:.3g}"
    return str(v)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(q / 100 * (len(s) - 1)))))
    return s[k]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


def wait_for(cond: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()
