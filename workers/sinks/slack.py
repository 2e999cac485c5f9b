"""Slack incoming webhooks (Block Kit with a plain-text fallback), and Mattermost / Rocket.Chat
(Slack-compatible ``text`` in Markdown).

Escaping. Slack's mrkdwn needs ``& < >`` escaped, and nothing else can be: with them escaped,
``<!channel>``, ``<@U123>`` and ``<http://evil|link>`` in an article stay text. Slack has no escape
for ``* _ ~ ` ``; article text can make words bold, but cannot ping or link. ``verbatim`` stops Slack
from turning bare channel names and URLs into links. Mattermost parses ``@channel``, ``@all``,
``@here`` and ``@user`` in plain text and translates Slack's ``<!channel>`` too: every ``@`` is
followed by a zero-width space, ``& < >`` become entities, and Markdown punctuation is
backslash-escaped (article text never starts a line, so list and heading markers are inert).

Limits: Slack section text 3,000 characters, 50 blocks per message, header 150; Mattermost posts
16,383 characters. Claims that do not fit end the message with "+N more claims".
"""

from __future__ import annotations

import re
from typing import Any

from monitor.models import Alert, Digest, Message
from workers.sinks import fmt, fmt_digest
from workers.sinks.base import JsonSink, register

SECTION_MAX = 3000
HEADER_MAX = 150
MAX_BLOCKS = 50
SLACK_BUDGET = 12_000  # characters of claims in one message (far below Slack's 40,000 for a message)
MATTERMOST_MAX = 16_383
MATTERMOST_BUDGET = 12_000


def esc(text: str) -> str:
    """Slack mrkdwn: ``& < >`` as entities; the only escaping Slack has."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _url(url: str) -> str:
    return esc(url).replace("|", "%7C")


def _claim_mrkdwn(c: fmt.ClaimPart) -> str:
    line = f"• {esc(c.text)}"
    if c.attribution:
        line += f" — {esc(c.attribution)}"
    return f"{line}\n      {esc(fmt.why(c))}"


def render_slack(alert: Alert) -> dict[str, Any]:
    p = fmt.parts(alert)
    url = fmt.link_target(p.url)
    title = f"*<{_url(url)}|{esc(p.title)}>*" if url else f"*{esc(p.title)}*"
    head = title + (f"\n{esc(p.byline)}" if p.byline else "")
    claims, tail = fmt.fit([_claim_mrkdwn(c) for c in p.claims], SLACK_BUDGET, max_items=MAX_BLOCKS - 3)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": fmt.shorten(p.header, HEADER_MAX), "emoji": False}},
        {"type": "section", "text": {"type": "mrkdwn", "text": head[:SECTION_MAX], "verbatim": True}},
    ]
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": c, "verbatim": True}} for c in claims]
    footer = " · ".join(x for x in (tail, p.footer) if x)
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": esc(footer), "verbatim": True}]})
    n = len(p.claims)
    fallback = f"[{p.watch}] {n} new claim{'s' if n != 1 else ''}: {p.title}" + (f" {url}" if url else "")
    return {"text": esc(fmt.shorten(fallback, SECTION_MAX)), "blocks": blocks,
            "unfurl_links": False, "unfurl_media": False}


def _item_mrkdwn(i: fmt_digest.ItemPart) -> str:
    line = f"• {esc(i.text)}" + (f" — {esc(i.attribution)}" if i.attribution else "")
    url = fmt.link_target(i.url)
    title = f"<{_url(url)}|{esc(i.title)}>" if url else esc(i.title)
    return f"{line}\n      first: {title}" + (f" · {esc(i.byline)}" if i.byline else "")


def render_slack_digest(d: Digest) -> dict[str, Any]:
    p = fmt_digest.parts(d)
    items = fmt_digest.entries(p, lambda day: f"*{esc(day)}*\n", _item_mrkdwn)
    kept, tail = fmt.fit(items, SLACK_BUDGET, max_items=MAX_BLOCKS - 3)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": fmt.shorten(p.header, HEADER_MAX), "emoji": False}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": esc(p.summary), "verbatim": True}]},
    ]
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": c, "verbatim": True}} for c in kept]
    footer = " · ".join(x for x in (tail, p.footer) if x)
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": esc(footer), "verbatim": True}]})
    return {"text": esc(fmt.shorten(f"[{p.watch}] digest: {p.summary}", SECTION_MAX)), "blocks": blocks,
            "unfurl_links": False, "unfurl_media": False}


# --------------------------------------------------------------------------- Mattermost

_MD_SPECIAL = re.compile(r"([\\`*_~\[\]|#])")  # what can format or link mid-line
_MENTION = re.compile(r"@(?=\w)")


def md(text: str) -> str:
    """Mattermost Markdown: entities for ``& < >``, Markdown punctuation escaped, no @mention."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _MENTION.sub("@\u200b", text)


def _md_url(url: str) -> str:
    return url.replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E")


def _claim_md(c: fmt.ClaimPart) -> str:
    line = f"- {md(c.text)}"
    if c.attribution:
        line += f" — {md(c.attribution)}"
    return f"{line}\n  _{md(fmt.why(c))}_\n"


def render_mattermost(alert: Alert) -> dict[str, Any]:
    p = fmt.parts(alert)
    url = fmt.link_target(p.url)
    title = f"**[{md(p.title)}]({_md_url(url)})**" if url else f"**{md(p.title)}**"
    lines = [f"#### {md(p.header)}", title]
    if p.byline:
        lines.append(f"_{md(p.byline)}_")
    lines.append("")
    claims, tail = fmt.fit([_claim_md(c) for c in p.claims], MATTERMOST_BUDGET)
    lines += claims
    lines.append(f"_{md(' · '.join(x for x in (tail, p.footer) if x))}_")
    return {"text": "\n".join(lines)[:MATTERMOST_MAX]}


def _item_md(i: fmt_digest.ItemPart) -> str:
    line = f"- {md(i.text)}" + (f" — {md(i.attribution)}" if i.attribution else "")
    url = fmt.link_target(i.url)
    title = f"[{md(i.title)}]({_md_url(url)})" if url else md(i.title)
    return f"{line}\n  first: {title}" + (f" · _{md(i.byline)}_" if i.byline else "") + "\n"


def render_mattermost_digest(d: Digest) -> dict[str, Any]:
    p = fmt_digest.parts(d)
    lines = [f"#### {md(p.header)}", f"_{md(p.summary)}_", ""]
    kept, tail = fmt.fit(fmt_digest.entries(p, lambda day: f"**{md(day)}**\n", _item_md), MATTERMOST_BUDGET)
    lines += kept
    lines.append(f"_{md(' · '.join(x for x in (tail, p.footer) if x))}_")
    return {"text": "\n".join(lines)[:MATTERMOST_MAX]}


@register
class SlackSink(JsonSink):
    kind = "slack"

    def render(self, alert: Message) -> dict[str, Any]:
        return render_slack_digest(alert) if isinstance(alert, Digest) else render_slack(alert)


@register
class MattermostSink(JsonSink):
    kind = "mattermost"

    def render(self, alert: Message) -> dict[str, Any]:
        return render_mattermost_digest(alert) if isinstance(alert, Digest) else render_mattermost(alert)
