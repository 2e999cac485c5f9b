"""Apprise (the optional extra: ``pip install 'claimwatch[apprise]'``): the many services Apprise reaches
by URL (``tgram://``, ``mailto://``, ``ntfy://``, ``matrix://``, ``json://``, ...).

``url`` holds one or more Apprise URLs, separated by spaces or commas, from the environment
(``url = "${CLAIMWATCH_APPRISE_URLS:-}"``). They carry the services' tokens: no log line, error,
``status`` or repr shows them, and the loggers of Apprise and of urllib3 (under Apprise's requests)
are silenced (messages name the sink by its label, ``apprise sink 2``). Apprise sends through its
own HTTP stack (requests), not claimwatch's client: the network guard against private addresses does
not apply to these URLs, which come from the operator's environment, never from an article.

The message is Markdown (Apprise turns it into each service's format): a title (watch and headline,
or "watch · digest") and a body with every claim, escaped like Mattermost's (Markdown punctuation,
``& < >`` as entities, a zero-width space after every ``@``, so an article can neither format,
link nor mention). ``BUDGET`` characters of claims at most; the rest end with "+N more claims", and
Apprise splits or truncates further for services with smaller limits.

Apprise reports success or failure per call, not why: a failed send is a ``TransientError``
(retried with backoff, then a dead letter), a timeout ``timeout``.
"""

from __future__ import annotations

import logging
import re
from typing import Any, TextIO

import httpx

from monitor.errors import ConfigError, TransientError
from monitor.models import Digest, Message
from workers.sinks import fmt, fmt_digest
from workers.sinks.base import Options, Sink, label_of, register, target_key, watches_of
from workers.sinks.slack import md

BUDGET = 12_000  # characters of claims in one message
_SPLIT = re.compile(r"[\s,]+")


def _md_url(url: str) -> str:
    return url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")


def _claim(c: fmt.ClaimPart) -> str:
    line = f"- {md(c.text)}" + (f" — {md(c.attribution)}" if c.attribution else "")
    return f"{line}\n  _{md(fmt.why(c))}_\n"


def _item(i: fmt_digest.ItemPart) -> str:
    line = f"- {md(i.text)}" + (f" — {md(i.attribution)}" if i.attribution else "")
    url = fmt.link_target(i.url)
    title = f"[{md(i.title)}]({_md_url(url)})" if url else md(i.title)
    return f"{line}\n  first: {title}" + (f" · _{md(i.byline)}_" if i.byline else "") + "\n"


def render(message: Message) -> dict[str, str]:
    """{"title": plain text, "body": Markdown}. Pure."""
    if isinstance(message, Digest):
        d = fmt_digest.parts(message)
        kept, tail = fmt.fit(fmt_digest.entries(d, lambda day: f"**{md(day)}**\n", _item), BUDGET)
        lines = [f"_{md(d.summary)}_", "", *kept]
        title, footer = d.header, d.footer
    else:
        p = fmt.parts(message)
        url = fmt.link_target(p.url)
        kept, tail = fmt.fit([_claim(c) for c in p.claims], BUDGET)
        lines = [f"**[{md(p.title)}]({_md_url(url)})**" if url else f"**{md(p.title)}**"]
        lines += [f"_{md(p.byline)}_", "", *kept] if p.byline else ["", *kept]
        title, footer = f"{p.header}: {p.title}", p.footer
    lines.append(f"_{md(' · '.join(x for x in (tail, footer) if x))}_")
    return {"title": fmt.shorten(title, 250), "body": "\n".join(lines)}


def _apprise() -> Any:
    try:
        import apprise
    except ImportError:
        return None
    for name in (apprise.LOGGER_NAME, "urllib3"):  # their lines quote URLs (urllib3 at DEBUG: the path, which
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)  # may hold a token); only Apprise uses urllib3
    return apprise


@register
class AppriseSink:
    kind = "apprise"

    def __init__(self, name: str, urls: list[str], *, timeout: float = 10.0, rate: float = 0.0,
                 watches: tuple[str, ...] | None = None):
        apprise = _apprise()
        index = name.partition(":")[0]
        if apprise is None:
            raise ConfigError(f"alerts[{index}].type: apprise is not installed (pip install 'claimwatch[apprise]')")
        self.name, self.watches, self._timeout = name, watches, timeout
        self._apprise = apprise
        self._targets = apprise.Apprise(asset=apprise.AppriseAsset(secure_logging=True))
        for k, url in enumerate(urls):
            if not self._targets.add(url):
                raise ConfigError(f"alerts[{index}].url: Apprise does not know URL number {k + 1} (of {len(urls)})")
        self.rate_key = target_key(self.kind, *urls)
        self.min_interval = 1.0 / rate if rate > 0 else 0.0

    @classmethod
    def from_options(cls, name: str, options: Options, stream: TextIO | None = None) -> Sink:
        urls = [u for u in _SPLIT.split(options.url or "") if u]
        return cls(name, urls, timeout=options.timeout, rate=options.messages_per_second,
                   watches=watches_of(options))

    def __repr__(self) -> str:
        return f"AppriseSink(name={self.name!r}, urls={len(self._targets)})"

    def render(self, alert: Message) -> dict[str, str]:
        return render(alert)

    def send(self, alert: Message, client: httpx.Client) -> None:
        payload = self.render(alert)
        result = self._targets.notify(body=payload["body"], title=payload["title"],
                                      body_format=self._apprise.NotifyFormat.MARKDOWN, timeout=self._timeout)
        if not result:
            status = getattr(getattr(result, "status", None), "name", "FAILURE")
            kind = "timeout" if status == "TIMEOUT" else "apprise_failed"
            raise TransientError(f"{label_of(self.name)}: Apprise could not deliver ({status.lower()})", kind=kind)
