"""OPML in and out (monitor.opml), on files built as Miniflux exports them (tests/miniflux.py)."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime

import pytest
from miniflux import CATEGORIES, feed_name, miniflux_opml

from monitor import opml
from monitor.errors import UsageError
from monitor.settings import from_dict

BASE = "https://feeds.example"


def settings_with(tables: str) -> object:
    doc = tomllib.loads(tables)
    return from_dict({"watches": [{"name": "belgorod", "keywords": ["x"]}], **doc})


def test_a_miniflux_export_gives_feeds_with_their_names_and_categories() -> None:
    got = opml.read(miniflux_opml(BASE, 200))
    assert len(got.feeds) == 200 and got.skipped == []
    by_url = {f.url: f for f in got.feeds}
    third = by_url[f"{BASE}/feeds/3.xml?format=rss&lang=en"]
    assert (third.name, third.category, third.type) == (feed_name(3), CATEGORIES[3], "rss")
    assert {f.category for f in got.feeds} == set(CATEGORIES)


def test_the_tables_load_as_settings_with_everything_kept() -> None:
    got = opml.read(miniflux_opml(BASE, 200))
    text = opml.to_toml(got.feeds, watch="belgorod")
    feeds = settings_with(text).feeds  # type: ignore[attr-defined]
    assert len(feeds) == 200
    assert [(f.url, f.name, f.category) for f in feeds] == [(f.url, f.name, f.category) for f in got.feeds]
    assert all(f.watches == ["belgorod"] for f in feeds)
    assert 'name = "Quoted \\"name\\" 5"' in text and "Tom & Jerry's <Wire> 3" in text


def test_duplicates_once_and_bad_urls_skipped_with_a_reason() -> None:
    data = b"""<?xml version="1.0"?><opml version="1.0"><head/><body>
      <outline text="A"><outline text="One" xmlUrl="https://a.example/rss"/>
        <outline text="Nested"><outline title="Deep" xmlUrl="https://b.example/atom"/></outline></outline>
      <outline text="B"><outline text="One again" xmlUrl="https://a.example/rss"/></outline>
      <outline text="Local file" xmlUrl="file:///etc/passwd"/>
      <outline text="Podcast" type="rss" xmlUrl="feed://c.example/rss"/>
      <outline text="Just a folder"/>
      <outline title="Gladkov" type="telegram" xmlUrl="https://t.me/s/vvgladkov"/>
    </body></opml>"""
    got = opml.read(data)
    assert [(f.url, f.name, f.category, f.type) for f in got.feeds] == [
        ("https://a.example/rss", "One", "A", "rss"), ("https://b.example/atom", "Deep", "Nested", "rss"),
        ("https://t.me/s/vvgladkov", "Gladkov", "", "telegram")]
    assert [s.split(":")[0] for s in got.skipped] == ["Local file", "Podcast"]
    assert all("not an http(s) URL" in s for s in got.skipped)


def test_an_external_entity_is_never_read() -> None:
    secret = "file:///etc/hostname"
    data = f"""<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "{secret}">]>
      <opml version="2.0"><head><title>&x;</title></head><body><outline text="A" xmlUrl="https://a.example/rss"/>
      </body></opml>""".encode()
    [feed] = opml.read(data).feeds
    assert feed.url == "https://a.example/rss" and feed.name == "A"
    with pytest.raises(UsageError, match="external entity"):  # in an attribute libxml2 refuses it outright
        opml.read(data.replace(b'text="A"', b'text="&x;"'))


@pytest.mark.parametrize("data", [b"", b"<rss version='2.0'/>", b"<opml><body>"])
def test_not_opml_is_one_clear_error(data: bytes) -> None:
    with pytest.raises(UsageError, match="not an OPML file"):
        opml.read(data, "subs.opml")


def test_export_groups_by_category_and_reads_back() -> None:
    settings = settings_with(
        '[[feeds]]\nname = "BBC"\ncategory = "Europe"\nurl = "https://bbc.example/rss?a=1&b=2"\n\n'
        '[[feeds]]\nname = "Meduza"\nurl = "https://meduza.example/rss"\n\n'
        '[[feeds]]\ntype = "telegram"\nchannel = "vvgladkov"\ncategory = "Europe"\n')
    data = opml.export(settings.feeds, now=datetime(2026, 12, 5, tzinfo=UTC))  # type: ignore[attr-defined]
    assert b"<dateCreated>Sat, 05 Dec 2026 00:00:00 +0000</dateCreated>" in data
    assert data.count(b'<outline text="Europe"') == 1
    back = opml.read(data)
    assert [(f.url, f.name, f.category, f.type) for f in back.feeds] == [
        ("https://bbc.example/rss?a=1&b=2", "BBC", "Europe", "rss"),
        ("https://t.me/s/vvgladkov", "vvgladkov", "Europe", "telegram"),
        ("https://meduza.example/rss", "Meduza", "", "rss")]
