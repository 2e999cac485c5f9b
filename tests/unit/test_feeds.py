"""monitor.feeds: bytes -> ParsedFeed, canonical URLs, and feedparser's own hostile corpus."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from monitor import feeds
from monitor.errors import PermanentError
from monitor.feeds import ParsedFeed, canonical_url, parse

FEED_URL = "https://news.example.com/rss/world.xml"

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>World &amp; more</title><ttl>30</ttl>
<item><title>Drone attack on &lt;b&gt;Belgorod&lt;/b&gt;</title>
  <link>/news/2024/drone?utm_source=rss&amp;id=7#top</link>
  <guid isPermaLink="false">item-1</guid>
  <description>&lt;p&gt;Sirens &lt;a href="x"&gt;sounded&lt;/a&gt;&lt;/p&gt;
    &lt;script&gt;alert(1)&lt;/script&gt;</description>
  <pubDate>Tue, 07 May 2024 10:15:00 +0300</pubDate><author>desk@example.com (Desk)</author></item>
<item><title>No link, no guid, no date</title><description>Just words</description></item>
<item><title>Only a link</title><link>https://other.example.org/a</link></item>
<item><title>Script link</title><link>javascript:alert(1)</link><guid>g-js</guid></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title type="html">Новости</title>
<id>urn:feed</id><updated>2024-05-07T10:00:00Z</updated>
<entry><id>urn:e1</id><title>Белгород: «обстрел»</title>
  <link rel="alternate" href="https://ex.ru/a?fbclid=abc&amp;b=2&amp;a=1"/>
  <updated>2024-05-07T09:00:00+03:00</updated>
  <content type="html">&lt;p&gt;Текст статьи&lt;/p&gt;</content><author><name>Иван</name></author></entry>
</feed>""".encode()


def test_rss() -> None:
    feed = parse(RSS, FEED_URL)
    assert isinstance(feed, ParsedFeed)
    assert feed.title == "World & more" and feed.ttl == 1800.0 and feed.problem is None
    first, no_link, only_link, js = feed.items
    assert first.guid == "item-1"
    assert first.link == "https://news.example.com/news/2024/drone?utm_source=rss&id=7#top"
    assert first.url == "https://news.example.com/news/2024/drone?id=7"
    assert first.title == "Drone attack on Belgorod"
    assert first.summary == "Sirens sounded"
    assert first.published == "2024-05-07T07:15:00+00:00"
    assert first.author and "Desk" in first.author
    assert no_link.link == no_link.url == "" and no_link.guid.startswith("hash:") and no_link.published is None
    assert parse(RSS, FEED_URL).items[1].guid == no_link.guid  # stable
    assert only_link.guid == "https://other.example.org/a" == only_link.link
    assert js.link == "" and js.url == ""


def test_atom_with_content_only() -> None:
    headers = {"Content-Type": "application/atom+xml", "Content-Encoding": "gzip"}  # body already inflated
    feed = parse(ATOM, "https://ex.ru/atom", headers)
    (e,) = feed.items
    assert feed.title == "Новости" and feed.ttl is None
    assert (e.guid, e.title, e.summary, e.author) == ("urn:e1", "Белгород: «обстрел»", "Текст статьи", "Иван")
    assert e.url == "https://ex.ru/a?a=1&b=2"
    assert e.published == "2024-05-07T06:00:00+00:00"


@pytest.mark.parametrize("body", [
    b"", b"   ", b"<!doctype html><html><head><title>Home</title></head><body><p>Hello</p></body></html>",
    b"\x00\xff\xfe garbage", b'{"json": true}',
])
def test_not_a_feed(body: bytes) -> None:
    with pytest.raises(PermanentError) as e:
        parse(body, FEED_URL, {"Content-Type": "text/html"})
    assert e.value.kind == "not_a_feed"


def test_wrong_charset_still_gives_items() -> None:
    body = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Т</title>'
            "<item><title>Белгородская область</title><guid>1</guid></item></channel></rss>").encode("cp1251")
    feed = parse(body, FEED_URL, {"Content-Type": "application/rss+xml; charset=utf-8"})
    assert len(feed.items) == 1 and feed.problem  # a bozo feed still yields its items


def test_declared_charset_from_headers() -> None:
    body = ('<?xml version="1.0"?><rss version="2.0"><channel><title>Т</title>'
            "<item><title>Белгородская область</title><guid>1</guid></item></channel></rss>").encode("cp1251")
    feed = parse(body, FEED_URL, {"content-type": "text/xml; charset=windows-1251"})
    assert feed.items[0].title == "Белгородская область"


def test_broken_xml_with_entries_returns_them() -> None:
    body = (b'<rss version="2.0"><channel><title>x</title>'
            b'<item><title>A &amp B</title><guid isPermaLink="false">1</guid></item>')
    feed = parse(body, FEED_URL)
    assert [i.guid for i in feed.items] == ["1"]


@pytest.mark.parametrize(("raw", "canonical"), [
    ("HTTP://Example.COM:80/a/b?utm_source=x&b=2&a=1&fbclid=3#frag", "http://example.com/a/b?a=1&b=2"),
    ("https://ex.com:443/x?ref=foo&q=1", "https://ex.com/x?q=1"),
    ("https://ex.com/x?gclid=1&mc_cid=2&mc_eid=3&_ga=4&igshid=5&yclid=6&utm_medium=m&utm_campaign=c",
     "https://ex.com/x"),
    ("https://ex.com:8443/a?z=1&y=2", "https://ex.com:8443/a?y=2&z=1"),
    ("https://ex.com", "https://ex.com/"),
    ("  https://ex.com/a  ", "https://ex.com/a"),
    ("", ""),
])
def test_canonical_url(raw: str, canonical: str) -> None:
    assert canonical_url(raw) == canonical
    assert canonical_url(canonical) == canonical  # idempotent


def test_canonical_url_same_article_two_ways() -> None:
    a = canonical_url("https://News.Example.com/story/42?utm_source=tg&page=2#comments")
    b = canonical_url("https://news.example.com:443/story/42?page=2&fbclid=XYZ")
    assert a == b


def test_canonical_url_leaves_odd_input_alone() -> None:
    assert canonical_url("mailto:desk@example.com") == "mailto:desk@example.com"
    assert canonical_url("http://[::1") == "http://[::1"


def _headers(body: bytes) -> dict[str, str]:
    found = re.findall(rb"^Header:\s*([^:\r\n]+):\s*(.*?)\s*$", body[:4000], re.MULTILINE)
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in found}


def test_feedparser_corpus_never_crashes(shared_dir: Path) -> None:
    folder = shared_dir / "peer" / "feedparser-tests"
    files = [p for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix in (".xml", ".rdf", ".atom", "")]
    files = [p for p in files if p.name != "LICENSE"]
    assert len(files) > 2000
    parsed = refused = 0
    for path in files:
        body = path.read_bytes()
        try:
            result = parse(body, "http://example.com/feed", _headers(body))
        except PermanentError:
            refused += 1
            continue
        assert isinstance(result, ParsedFeed), path
        parsed += 1
    assert parsed > 2000, (parsed, refused)


def test_external_entities_never_read_local_files(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    xxe = (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">'
           f'<!ENTITY % pe SYSTEM "file://{secret}"> %pe;]>'
           '<rss version="2.0"><channel><title>T &xxe;</title><item><title>A &xxe;</title>'
           '<link>https://x.test/a</link><description>d &xxe;</description></item></channel></rss>').encode()
    parsed = feeds.parse(xxe, "https://x.test/feed")
    assert "TOP-SECRET" not in repr(parsed)
    assert [i.link for i in parsed.items] == ["https://x.test/a"]


def test_entity_expansion_bomb_is_refused_quickly() -> None:
    levels = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 9))
    bomb = (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY l0 "lol">{levels}]>'
            '<rss version="2.0"><channel><title>&l8;</title><item><title>x &l8;</title>'
            '<link>https://x.test/b</link></item></channel></rss>').encode()
    started = time.monotonic()
    parsed = feeds.parse(bomb, "https://x.test/feed")  # 10**8 "lol"s if expanded
    assert time.monotonic() - started < 5
    assert all(len(i.title) < 1000 for i in parsed.items) and len(parsed.title) < 1000


def test_items_beyond_the_cap_are_dropped_and_counted() -> None:
    items = "".join(f"<item><guid isPermaLink='false'>{i}</guid><title>t{i}</title></item>" for i in range(50))
    parsed = feeds.parse(f'<rss version="2.0"><channel>{items}<item></item></channel></rss>'.encode(),
                         "https://x.test/feed", max_items=10)
    assert [i.guid for i in parsed.items] == [str(i) for i in range(10)] and parsed.dropped == 41
