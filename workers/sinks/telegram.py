"""Telegram: the Bot API's ``sendMessage`` with ``parse_mode = "HTML"``.

``POST {api_url}/bot{token}/sendMessage`` (``[[alerts]] api_url`` defaults to the public Bot API;
point it at a self-hosted Bot API server if you run one). The token is in the URL: like every sink URL it is never
logged nor quoted in an error.

Escaping. Every piece of article text goes through ``html.escape`` (``& < > "``), so ``<b>``,
``<a href>`` or a broken tag in an article is text, never markup, and cannot make Telegram reject
the message as unparsable. Telegram has no channel-wide mention to abuse; ``@username`` in text links
to a profile but notifies nobody.

Limits: 4,096 characters of text after entity parsing (counted here in UTF-16 code units, as
Telegram does). Claims that do not fit end the message with "+N more claims".
"""

from __future__ import annotations

import html
import re
from typing import Any, TextIO

from monitor.models import Alert, Digest, Message
from workers.sinks import fmt, fmt_digest
from workers.sinks.base import JsonSink, Options, Sink, register, target_key, watches_of

TEXT_MAX = 4096
_TAG = re.compile(r"<[^>]*>")


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def visible_length(markup: str) -> int:
    """Characters Telegram counts once the HTML entities are parsed (UTF-16 code units)."""
    return len(html.unescape(_TAG.sub("", markup)).encode("utf-16-le")) // 2


def _claim(c: fmt.ClaimPart) -> str:
    line = f"• {esc(c.text)}" + (f" — {esc(c.attribution)}" if c.attribution else "")
    return f"{line}\n    <i>{esc(fmt.why(c))}</i>\n"


def render_text(alert: Alert) -> str:
    p = fmt.parts(alert)
    url = fmt.link_target(p.url)
    lines = [f"<b>{esc(p.header)}</b>"]
    lines.append(f'<a href="{esc(url)}"><b>{esc(p.title)}</b></a>' if url else f"<b>{esc(p.title)}</b>")
    if p.byline:
        lines.append(f"<i>{esc(p.byline)}</i>")
    lines.append("")
    footer = f"<i>{esc(p.footer)}</i>"
    used = visible_length("\n".join(lines) + "\n" + footer) + 2
    claims, tail = fmt.fit([_claim(c) for c in p.claims], TEXT_MAX - used - 2, size=visible_length)
    lines += claims
    if tail:
        lines.append(f"<b>{esc(tail)}</b>")
    lines.append(footer)
    return "\n".join(lines)


def _item(i: fmt_digest.ItemPart) -> str:
    line = f"• {esc(i.text)}" + (f" — {esc(i.attribution)}" if i.attribution else "")
    url = fmt.link_target(i.url)
    title = f'<a href="{esc(url)}">{esc(i.title)}</a>' if url else esc(i.title)
    return f"{line}\n    <i>first:</i> {title}" + (f" <i>· {esc(i.byline)}</i>" if i.byline else "") + "\n"


def render_digest_text(d: Digest) -> str:
    p = fmt_digest.parts(d)
    lines = [f"<b>{esc(p.header)}</b>", f"<i>{esc(p.summary)}</i>", ""]
    footer = f"<i>{esc(p.footer)}</i>"
    used = visible_length("\n".join(lines) + "\n" + footer) + 2
    items = fmt_digest.entries(p, lambda day: f"<b>{esc(day)}</b>\n", _item)
    kept, tail = fmt.fit(items, TEXT_MAX - used - 2, size=visible_length)
    lines += kept
    if tail:
        lines.append(f"<b>{esc(tail)}</b>")
    lines.append(footer)
    return "\n".join(lines)


def render(alert: Message, chat_id: str) -> dict[str, Any]:
    text = render_digest_text(alert) if isinstance(alert, Digest) else render_text(alert)
    return {"chat_id": chat_id, "text": text, "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True}}


@register
class TelegramSink(JsonSink):
    kind = "telegram"

    def __init__(self, name: str, token: str, chat_id: str, *, api_url: str, timeout: float = 10.0,
                 rate: float = 0.0, watches: tuple[str, ...] | None = None):
        super().__init__(name, f"{api_url.rstrip('/')}/bot{token}/sendMessage", timeout=timeout, rate=rate,
                         watches=watches)
        self.chat_id = chat_id
        self.rate_key = target_key(self.kind, api_url, token, chat_id)  # Telegram limits per chat

    @classmethod
    def from_options(cls, name: str, options: Options, stream: TextIO | None = None) -> Sink:
        return cls(name, options.token or "", str(options.chat_id or ""), api_url=options.api_url,
                   timeout=options.timeout, rate=options.messages_per_second, watches=watches_of(options))

    def render(self, alert: Message) -> dict[str, Any]:
        return render(alert, self.chat_id)
