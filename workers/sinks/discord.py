"""Discord webhooks: one embed per alert, and ``allowed_mentions: {"parse": []}`` on every message.

Escaping. With ``allowed_mentions`` empty nothing in the message can ping anyone (``@everyone``,
``@here``, ``<@id>``, ``<@&role>``); on top of that every ``@`` gets a zero-width space after it and
Markdown punctuation (``* _ ~ ` | > # [ ] <``) is backslash-escaped, so an article can neither
format the message, fake a masked link ``[text](url)`` nor render a mention.

Limits: title 256, author name 256, description 4,096, footer 2,048, and 6,000 characters across the
embed. Claims that do not fit end the description with "+N more claims".
"""

from __future__ import annotations

import re
from typing import Any

from monitor.models import Alert, Digest, Message
from workers.sinks import fmt, fmt_digest
from workers.sinks.base import JsonSink, register

TITLE_MAX = 256
AUTHOR_MAX = 256
DESCRIPTION_MAX = 4096
FOOTER_MAX = 2048
EMBED_TOTAL = 6000
COLOR = 0xE67E22

_SPECIAL = re.compile(r"([\\*_~`|>#\[\]<])")
_MENTION = re.compile(r"@(?=\w)")


def esc(text: str) -> str:
    """Discord Markdown: punctuation backslash-escaped, ``@`` followed by a zero-width space."""
    return _MENTION.sub("@\u200b", _SPECIAL.sub(r"\\\1", text))


def _claim(c: fmt.ClaimPart) -> str:
    line = f"• {esc(c.text)}"
    if c.attribution:
        line += f" — {esc(c.attribution)}"
    return f"{line}\n> *{esc(fmt.why(c))}*\n"


def render(alert: Alert) -> dict[str, Any]:
    p = fmt.parts(alert)
    url = fmt.link_target(p.url)
    title = fmt.shorten(p.title, TITLE_MAX)  # the title is not Markdown: shown as is
    author = fmt.shorten(p.header, AUTHOR_MAX)
    footer = fmt.shorten(p.footer, FOOTER_MAX)
    head = f"*{esc(p.byline)}*\n\n" if p.byline else ""  # article text never starts a line
    budget = min(DESCRIPTION_MAX, EMBED_TOTAL - len(title) - len(author) - len(footer) - 100) - len(head)
    claims, tail = fmt.fit([_claim(c) for c in p.claims], budget - 1)
    description = head + "\n".join(claims) + (f"\n{tail}" if tail else "")
    embed: dict[str, Any] = {"author": {"name": author}, "title": title}
    if url:
        embed["url"] = url
    embed |= {"description": description, "color": COLOR, "footer": {"text": footer}}
    if alert.detected_at:
        embed["timestamp"] = alert.detected_at
    return {"allowed_mentions": {"parse": []}, "embeds": [embed]}


def _item(i: fmt_digest.ItemPart) -> str:
    line = f"• {esc(i.text)}" + (f" — {esc(i.attribution)}" if i.attribution else "")
    url = fmt.link_target(i.url)
    title = f"[{esc(i.title)}]({url.replace(')', '%29')})" if url else esc(i.title)
    return f"{line}\n> first: {title}" + (f" · *{esc(i.byline)}*" if i.byline else "") + "\n"


def render_digest(d: Digest) -> dict[str, Any]:
    p = fmt_digest.parts(d)
    title, author, footer = (fmt.shorten(x, m) for x, m in ((p.summary, TITLE_MAX), (p.header, AUTHOR_MAX),
                                                            (p.footer, FOOTER_MAX)))
    budget = min(DESCRIPTION_MAX, EMBED_TOTAL - len(title) - len(author) - len(footer) - 100)
    kept, tail = fmt.fit(fmt_digest.entries(p, lambda day: f"**{esc(day)}**\n", _item), budget - 1)
    embed = {"author": {"name": author}, "title": title, "description": "\n".join(kept) + (f"\n{tail}" if tail else ""),
             "color": COLOR, "footer": {"text": footer}}
    return {"allowed_mentions": {"parse": []}, "embeds": [embed]}


@register
class DiscordSink(JsonSink):
    kind = "discord"

    def render(self, alert: Message) -> dict[str, Any]:
        return render_digest(alert) if isinstance(alert, Digest) else render(alert)
