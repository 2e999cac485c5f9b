"""Microsoft Teams through a Workflows webhook ("Post to a channel when a webhook request is
received"): a message with one Adaptive Card (the Office 365 connectors it replaces are retired).

Escaping. Adaptive Card text blocks take a Markdown subset; article text has ``\\ * _ ~ ` [ ]``
backslash-escaped so it cannot format the card or fake a link. Teams mentions need explicit
``msteams.entities``, which this card never carries, so ``<at>`` in an article stays text.

Limits: a Workflows request carries about 28 KB; claims are budgeted to ``BUDGET`` bytes of JSON,
and the rest end the card with "+N more claims".
"""

from __future__ import annotations

import json
import re
from typing import Any

from monitor.models import Alert, Digest, Message
from workers.sinks import fmt, fmt_digest
from workers.sinks.base import JsonSink, register

BUDGET = 20_000  # bytes of claim blocks; the rest of the card is well under 2 KB
_SPECIAL = re.compile(r"([\\*_~`\[\]])")


def esc(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text)


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True} | style


def _claim(c: fmt.ClaimPart) -> dict[str, Any]:
    line = f"• {esc(c.text)}" + (f" — {esc(c.attribution)}" if c.attribution else "")
    return {"type": "Container", "items": [
        _text(line),
        _text(esc(fmt.why(c)), isSubtle=True, size="Small", spacing="None"),
    ]}


def _size(block: str) -> int:
    return len(block.encode("utf-8"))


def _message(card: dict[str, Any]) -> dict[str, Any]:
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}]}


def _card(body: list[dict[str, Any]]) -> dict[str, Any]:
    return {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.4", "msteams": {"width": "Full"}, "body": body}


def _item(i: fmt_digest.ItemPart) -> list[dict[str, Any]]:
    line = f"• {esc(i.text)}" + (f" — {esc(i.attribution)}" if i.attribution else "")
    url = fmt.link_target(i.url)
    title = f"[{esc(i.title)}]({url.replace(')', '%29')})" if url else esc(i.title)
    first = f"first: {title}" + (f" · {esc(i.byline)}" if i.byline else "")
    return [_text(line), _text(first, isSubtle=True, size="Small", spacing="None")]


def render_digest(d: Digest) -> dict[str, Any]:
    p = fmt_digest.parts(d)
    body = [_text(esc(p.header), size="Small", weight="Bolder", color="Accent"),
            _text(esc(p.summary), isSubtle=True, spacing="None")]
    encoded = fmt_digest.entries(
        p, lambda day: json.dumps(_text(esc(day), weight="Bolder"), ensure_ascii=False) + "\n",
        lambda i: json.dumps({"type": "Container", "items": _item(i)}, ensure_ascii=False))
    kept, tail = fmt.fit(encoded, BUDGET, size=_size)
    body += [json.loads(line) for k in kept for line in k.split("\n")]
    if tail:
        body.append(_text(tail, weight="Bolder"))
    body.append(_text(esc(p.footer), isSubtle=True, size="Small"))
    return _message(_card(body))


def render(alert: Alert) -> dict[str, Any]:
    p = fmt.parts(alert)
    url = fmt.link_target(p.url)
    body: list[dict[str, Any]] = [
        _text(esc(p.header), size="Small", weight="Bolder", color="Accent"),
        _text(esc(p.title), size="Large", weight="Bolder", spacing="Small"),
    ]
    if p.byline:
        body.append(_text(esc(p.byline), isSubtle=True, spacing="None"))
    encoded = [json.dumps(_claim(c), ensure_ascii=False) for c in p.claims]
    kept, tail = fmt.fit(encoded, BUDGET, size=_size)
    body += [json.loads(k) for k in kept]
    if tail:
        body.append(_text(tail, weight="Bolder"))
    body.append(_text(esc(p.footer), isSubtle=True, size="Small"))
    card = _card(body)
    if url:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open article", "url": url}]
    return _message(card)


@register
class TeamsSink(JsonSink):
    kind = "teams"

    def render(self, alert: Message) -> dict[str, Any]:
        return render_digest(alert) if isinstance(alert, Digest) else render(alert)
