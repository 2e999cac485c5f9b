"""Layered TOML configuration -> validated, typed settings; one module per part of the file.

    base.py      the strict model every table is, the URL and keyword-expression checks
    service.py   [service] (processes, Redis, the health endpoint) and [network] (fetch limits, SSRF)
    watches.py   [[watches]] and [watches.novelty]
    feeds.py     [[feeds]], and the merge of one URL listed twice
    alerts.py    [[alerts]], the keys each sink type needs, default send rates
    config.py    Settings, the whole file, and the checks across tables
    loader.py    load(): layering, ${ENV} substitution, one error line naming the key

Everything a process will compile or load is checked here, before anything starts: keyword
expressions (``monitor.filters``), seed files and their size (``max_seed_bytes``); the encoder
that ``service.embeddings`` names is checked by the commands that load it (``claimwatch.cli``). A
worker that fails on any of these would only exit and be restarted, over and over.

The same feed URL listed twice (two ``[[feeds]]`` for two watches) becomes one feed, polled once for
both: its watches are the union, its names joined, its interval the shorter.
"""

from __future__ import annotations

from monitor.settings.alerts import TELEGRAM_API, AlertSettings
from monitor.settings.config import Settings
from monitor.settings.feeds import FeedSettings
from monitor.settings.loader import from_dict, load, merge
from monitor.settings.service import NetworkSettings, ServiceSettings
from monitor.settings.watches import NoveltySettings, WatchSettings

__all__ = ["TELEGRAM_API", "AlertSettings", "FeedSettings", "NetworkSettings", "NoveltySettings", "ServiceSettings",
           "Settings", "WatchSettings", "from_dict", "load", "merge"]
