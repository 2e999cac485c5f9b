"""Telegram preview pages -> posts -> feed items, on markup built as the real pages are (tests/tgpreview.py)."""

from __future__ import annotations

import pytest
from tgpreview import TgPost, contact_page, page

from monitor.errors import ConfigError
from monitor.settings import from_dict
from monitor.telegram import channel, markup, posts

TITLE = "Вячеслав Гладков"


def parse(*ps: TgPost, name: str = "vvgladkov") -> markup.Preview:
    return markup.parse(page(name, TITLE, list(ps)), name)


def test_posts_text_lines_dates_and_permalinks() -> None:
    p = parse(TgPost(41, "Белгородская область.\nВ Шебекино & Новой Таволжанке <объявлена> эвакуация.",
                     date="2023-06-01T12:30:00+03:00"))
    assert p.title == TITLE and p.unavailable is None
    [post] = p.posts
    assert (post.channel, post.id, post.permalink) == ("vvgladkov", 41, "https://t.me/vvgladkov/41")
    assert post.text == "Белгородская область.\nВ Шебекино & Новой Таволжанке <объявлена> эвакуация."
    assert post.published == "2023-06-01T09:30:00+00:00"  # in UTC
    assert not post.edited and not post.origin


def test_a_page_without_a_charset_is_read_as_the_utf_8_it_is() -> None:
    body = page("vvgladkov", TITLE, [TgPost(2, "Белгород: сегодня тихо.")]).replace(b'<meta charset="utf-8">', b"")
    assert b"charset" not in body
    [post] = markup.parse(body, "vvgladkov").posts
    assert post.text == "Белгород: сегодня тихо."


def test_service_messages_photos_without_text_and_other_channels_are_not_posts() -> None:
    body = page("vvgladkov", TITLE, [TgPost(1, "Channel created", service=True), TgPost(2, "", photo_only=True),
                                      TgPost(3, "Текст поста о Белгороде.")])
    body = body.replace(b'data-post="vvgladkov/3"', b'data-post="otherchan/3"')
    assert markup.parse(body, "vvgladkov").posts == []
    assert [x.id for x in markup.parse(body, "otherchan").posts] == [3]


def test_a_reply_quotes_text_that_is_not_its_own() -> None:
    [post] = parse(TgPost(7, "Ответ: ранены двое.", reply_to="Вчерашний пост о другом")).posts
    assert post.text == "Ответ: ранены двое."


def test_edited_is_read_from_the_meta_line() -> None:
    edited, plain = parse(TgPost(5, "Текст после правки.", edited=True), TgPost(6, "Мы edited тут ничего.")).posts
    assert edited.edited and not plain.edited  # "edited" in the text is not the mark


def test_forwards_keep_their_origin_and_the_original_post_link() -> None:
    public, hidden = parse(TgPost(8, "Переслано.", forward=("Русский добровольческий корпус", "https://t.me/russvolcorps/77")),
                           TgPost(9, "Тоже переслано.", forward=("Иван Петров", None))).posts
    assert (public.origin, public.origin_url) == ("Русский добровольческий корпус", "https://t.me/russvolcorps/77")
    assert (hidden.origin, hidden.origin_url) == ("Иван Петров", "")
    # a forward from a user links the user's profile, not a post: there is no original to link
    body = page("vvgladkov", TITLE, [TgPost(10, "От пользователя.", forward=("User", "https://t.me/someuser"))])
    assert markup.parse(body, "vvgladkov").posts[0].origin_url == ""


def test_link_previews_are_context_and_hrefs_lose_the_double_escaped_ampersand() -> None:
    url = "https://news.example/story?id=5&lang=ru&copy=1"
    link = (url, "News", "Взрыв в Белгороде", "Описание статьи.")
    [post] = parse(TgPost(12, "Подробности по ссылке.", link=link)).posts
    assert post.preview_url == url and post.links == (url,)  # not "...&amp;lang" nor "(c)=1"
    assert post.preview == "News\nВзрыв в Белгороде\nОписание статьи."
    item = posts.item(post)
    # the line that is only the link is not text; the preview is
    assert item.text == "Подробности по ссылке.\nNews\nВзрыв в Белгороде\nОписание статьи."
    assert "Взрыв в Белгороде" in item.summary


def test_a_contact_page_is_no_preview_and_says_why() -> None:
    said = "This channel can't be displayed because it violated Telegram's Terms of Service."
    p = markup.parse(contact_page("closedchan", said), "closedchan")
    assert p.posts == [] and p.unavailable == said
    assert markup.parse(page("emptychan", "Empty", []), "emptychan").unavailable is None  # no posts yet: fine


def test_items_link_the_permalink_forwards_the_original_and_edits_are_versions() -> None:
    own, fwd = parse(TgPost(20, "Сегодня утром обстреляли Грайворон."),
                     TgPost(21, "Сегодня РДК заявил о бое.", forward=("РДК", "https://t.me/russvolcorps/77"))).posts
    a, b = posts.item(own), posts.item(fwd)
    assert (a.guid, a.url, a.link, a.title) == ("tg:vvgladkov/20", "https://t.me/vvgladkov/20",
                                                "https://t.me/vvgladkov/20", "")
    assert a.text == "Сегодня утром обстреляли Грайворон." and a.published == "2023-05-22T09:15:00+00:00"
    assert (b.url, b.link, b.origin) == ("https://t.me/russvolcorps/77", "https://t.me/vvgladkov/21", "РДК")
    first = posts.item(parse(TgPost(20, "Сегодня утром обстреляли Грайворон. Ранен один.", edited=True)).posts[0])
    second = posts.item(parse(TgPost(20, "Сегодня утром обстреляли Грайворон. Ранены двое.", edited=True)).posts[0])
    assert first.guid.startswith("tg:vvgladkov/20#edited-") and first.url.startswith("https://t.me/vvgladkov/20#edited-")
    assert len({a.guid, first.guid, second.guid}) == 3 and len({a.url, first.url, second.url}) == 3


def test_not_html_is_a_clear_error() -> None:
    with pytest.raises(Exception) as e:
        markup.parse(b"", "vvgladkov")
    assert getattr(e.value, "kind", "") == "not_a_preview"


def test_channel_names_and_preview_urls() -> None:
    assert channel.name_of("@vvgladkov") == channel.name_of("https://t.me/vvgladkov") == "vvgladkov"
    with pytest.raises(ValueError):
        channel.name_of("ab")
    assert channel.preview_url("vvgladkov") == "https://t.me/s/vvgladkov"
    assert channel.channel_of("http://127.0.0.1:8080/mirror/s/vvgladkov") == "vvgladkov"
    assert channel.channel_of("https://t.me/vvgladkov") is None and channel.channel_of("https://t.me/s/x?q=1") is None
    assert channel.page_url("https://t.me/s/vvgladkov", 120) == "https://t.me/s/vvgladkov?before=120"
    assert channel.still_preview("https://t.me/s/vvgladkov", "https://t.me/s/vvgladkov?before=1")
    assert not channel.still_preview("https://t.me/s/vvgladkov", "https://t.me/vvgladkov")


def _feeds(*feeds: dict[str, object]) -> list[object]:
    return list(from_dict({"watches": [{"name": "w", "keywords": ["x"]}], "feeds": list(feeds)}).feeds)


def test_settings_name_a_channel_or_its_preview_page() -> None:
    [by_name, by_url] = _feeds({"type": "telegram", "channel": "@vvgladkov", "name": "Гладков"},
                               {"type": "telegram", "url": "http://127.0.0.1:9/s/russvolcorps"})
    assert (by_name.url, by_name.channel, by_name.type) == ("https://t.me/s/vvgladkov", "vvgladkov", "telegram")
    assert (by_url.url, by_url.channel) == ("http://127.0.0.1:9/s/russvolcorps", "russvolcorps")
    for bad, said in [({"type": "telegram"}, "one of the two"),
                      ({"type": "telegram", "channel": "ab"}, "not a public channel"),
                      ({"type": "telegram", "url": "https://t.me/vvgladkov"}, "not a Telegram preview page"),
                      ({"url": "https://x.org/rss", "channel": "vvgladkov"}, 'only for type = "telegram"')]:
        with pytest.raises(ConfigError, match=said):
            _feeds(bad)
