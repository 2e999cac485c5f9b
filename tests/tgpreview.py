"""Telegram web preview pages (``t.me/s/<channel>``) built for tests, in the markup the real pages
use: the channel header, each post's wrap, bubble, author, forward line, text, link preview and
footer with the views and meta line (``edited`` before the date link), service messages, the
"more" link, and the contact page a channel without a public preview redirects to. Links inside a
post's text carry the real pages' quirk: ``&`` escaped twice (``&amp;amp;``).

Used by the unit tests (saved markup), the integration tests (a local preview server) and the
end-to-end run; never the live site.
"""

from __future__ import annotations

import html
from dataclasses import dataclass


@dataclass(frozen=True)
class TgPost:
    id: int
    text: str  # plain text: paragraphs separated by "\n" (each becomes <br/>)
    date: str = "2023-05-22T09:15:00+00:00"
    edited: bool = False
    forward: tuple[str, str | None] | None = None  # (name, the original post's link or None)
    link: tuple[str, str, str, str] | None = None  # an inline link and its preview: (url, site, title, description)
    reply_to: str | None = None  # the text of the post this one answers (quoted above it)
    service: bool = False  # "Channel created", "pinned a message"...
    photo_only: bool = False  # a photo and no text


def _text_html(post: TgPost) -> str:
    body = "<br/>".join(html.escape(line) for line in post.text.split("\n"))
    if post.link:
        url = post.link[0]
        # t.me escapes the & of links in posts twice: href="...?a=1&amp;amp;b=2"
        body += f'<br/><a href="{html.escape(url).replace("&amp;", "&amp;amp;")}" target="_blank" ' \
                f'rel="noopener">{html.escape(url)}</a>'
    return body


def _message(channel: str, title: str, post: TgPost) -> str:
    ref = f"{channel}/{post.id}"
    if post.service:
        return (f'<div class="tgme_widget_message_wrap js-widget_message_wrap"><div class="tgme_widget_message '
                f'service_message js-widget_message" data-post="{ref}"><div class="tgme_widget_message_bubble">'
                f'<div class="tgme_widget_message_text js-message_text" dir="auto">{html.escape(post.text)}</div>'
                f'</div></div></div>')
    parts = [f'<div class="tgme_widget_message_author accent_color"><a class="tgme_widget_message_owner_name" '
             f'href="https://t.me/{channel}"><span dir="auto">{html.escape(title)}</span></a></div>']
    if post.forward:
        name, href = post.forward
        tag = (f'<a class="tgme_widget_message_forwarded_from_name" href="{html.escape(href)}">' if href else
               '<span class="tgme_widget_message_forwarded_from_name">')
        parts.append(f'<div class="tgme_widget_message_forwarded_from accent_color">Forwarded from {tag}'
                     f'<span dir="auto">{html.escape(name)}</span>{"</a>" if href else "</span>"}</div>')
    if post.reply_to:
        parts.append(f'<a class="tgme_widget_message_reply" href="https://t.me/{channel}/{post.id - 1}">'
                     f'<div class="tgme_widget_message_author accent_color">'
                     f'<span class="tgme_widget_message_author_name"'
                     f' dir="auto">{html.escape(title)}</span></div>'
                     f'<div class="tgme_widget_message_text js-message_text"'
                     f' dir="auto">{html.escape(post.reply_to)}</div></a>')
    if post.photo_only:
        parts.append(f'<a class="tgme_widget_message_photo_wrap" href="https://t.me/{channel}/{post.id}" '
                     f"style=\"width:800px;background-image:url('https://cdn4.telesco.pe/file/x.jpg')\"></a>")
    else:
        parts.append(f'<div class="tgme_widget_message_text js-message_text" dir="auto">{_text_html(post)}</div>')
    if post.link:
        url, site, head, desc = (html.escape(x) for x in post.link)
        parts.append(f'<a class="tgme_widget_message_link_preview" href="{url.replace("&amp;", "&amp;amp;")}">'
                     f"<i class=\"link_preview_right_image\" style=\"background-image:url('https://cdn4.telesco.pe/"
                     f"file/p.jpg')\"></i><div class=\"link_preview_site_name accent_color\" dir=\"auto\">{site}</div>"
                     f'<div class="link_preview_title" dir="auto">{head}</div>'
                     f'<div class="link_preview_description" dir="auto">{desc}</div></a>')
    edited = "edited&nbsp;" if post.edited else ""
    parts.append(f'<div class="tgme_widget_message_footer compact js-message_footer">'
                 f'<div class="tgme_widget_message_info'
                 f' short js-message_info"><span class="tgme_widget_message_views">1.2K</span><span class="copyonly">'
                 f'&nbsp;views</span><span class="tgme_widget_message_meta">{edited}'
                 f'<a class="tgme_widget_message_date" '
                 f'href="https://t.me/{ref}"><time datetime="{post.date}" class="time">09:15</time></a>'
                 f'</span></div></div>')
    return (f'<div class="tgme_widget_message_wrap js-widget_message_wrap"><div class="tgme_widget_message '
            f'text_not_supported_wrap js-widget_message" data-post="{ref}" data-view="eyJjIjotMTAwMCwicCI6MX0">'
            f'<div class="tgme_widget_message_user"><a href="https://t.me/{channel}">'
            f'<i class="tgme_widget_message_user_'
            f'photo bgcolor2" data-content="{html.escape(title[:1])}"></i></a></div><div class="tgme_widget_message_'
            f'bubble"><i class="tgme_widget_message_bubble_tail"></i>{"".join(parts)}</div></div></div>')


def page(channel: str, title: str, posts: list[TgPost], *, more: bool = True) -> bytes:
    """The preview page listing ``posts`` (oldest first, as t.me does)."""
    messages = "".join(_message(channel, title, p) for p in posts)
    older = (f'<div class="tgme_widget_message_centered js-messages_more_wrap"><a href="/s/{channel}?before='
             f'{posts[0].id}" class="tme_messages_more js-messages_more" data-before="{posts[0].id}"></a></div>'
             if more and posts else "")
    return (f'<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)} – Telegram</title>\n'
            f'<meta property="og:title" content="{html.escape(title)}">\n'
            f'<meta property="og:description" content="The channel of {html.escape(title)}">\n'
            f'</head>\n<body class="widget_frame_base tgme_webpreview emoji_image no_transitions">\n'
            f'<header class="tgme_header search_collapsed"><div class="tgme_header_search"></div></header>\n'
            f'<main class="tgme_main"><div class="tgme_container"><div class="tgme_channel_info">'
            f'<div class="tgme_channel_info_header"><i class="tgme_page_photo_image bgcolor2"></i>'
            f'<div class="tgme_channel_info_header_title"><span dir="auto">{html.escape(title)}</span></div>'
            f'<div class="tgme_channel_info_header_username"><a href="https://t.me/{channel}">@{channel}</a></div>'
            f'</div></div>\n<section class="tgme_channel_history js-message_history">{older}{messages}</section>'
            f'</div></main>\n</body>\n</html>\n').encode()


def contact_page(channel: str, description: str) -> bytes:
    """What ``t.me/<channel>`` shows when the channel has no public preview (``/s/`` redirects here)."""
    return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Telegram: Contact @{channel}</title>'
            f'<meta property="og:title" content="Telegram: Contact @{channel}">'
            f'<meta property="og:description" content="{html.escape(description)}"></head>'
            f'<body class="no_transition"><div class="tgme_page_wrap"><div class="tgme_body_wrap">'
            f'<div class="tgme_page">'
            f'<div class="tgme_page_title"><span dir="auto">{channel}</span></div>'
            f'<div class="tgme_page_extra">@{channel}</div><div class="tgme_page_description">'
            f'{html.escape(description)}</div><div class="tgme_page_action"><a class="tgme_action_button_new" '
            f'href="tg://resolve?domain={channel}">View in Telegram</a></div></div></div></div></body></html>').encode()
