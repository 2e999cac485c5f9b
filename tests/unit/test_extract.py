"""workers.extract: a page's own text and metadata; the feed entry when the page has none."""

from __future__ import annotations

from monitor.models import Entry
from workers.extract import extract, from_entry

URL = "https://ledger.example/world/2023/06/02/drones-hit-depot"

BODY = [
    "Regional governor Vyacheslav Gladkov said on Friday that drones had struck a fuel depot near the town of "
    "Shebekino, starting a large fire that burned through the night.",
    "Firefighters from three districts worked for several hours to contain the blaze, the regional emergency "
    "service reported on its Telegram channel on Friday morning.",
    "The Russian Volunteer Corps said in a statement that its fighters had reached the outskirts of the village "
    "of Novaya Tavolzhanka before pulling back across the border.",
    "Residents of Shebekino told reporters that the shelling had continued almost without pause for two days "
    "and that many families had left for Belgorod.",
]
NOISE = {
    "cookie": "We use cookies to improve your experience. Accept all cookies to continue reading.",
    "nav": "World news and analysis",
    "related1": "Farmers protest over grain prices in the capital as tractors block the roads",
    "related2": "Heatwave breaks records across southern Europe this summer season",
    "comment1": "This is all propaganda and the mayor of our town should resign immediately.",
    "comment2": "My cousin lives there and says the bakery on Lenin street reopened last week.",
    "footer": "Copyright Northern Ledger. All rights reserved.",
}


def page(body: list[str] = BODY, charset_meta: str = '<meta charset="utf-8">', lang: str = "en") -> str:
    paragraphs = "\n".join(f"<p>{p}</p>" for p in body)
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head>{charset_meta}
<title>Drones hit fuel depot in Belgorod region | Northern Ledger</title>
<meta property="og:title" content="Drones hit fuel depot in Belgorod region">
<meta property="og:site_name" content="Northern Ledger">
<meta property="article:published_time" content="2023-06-02T10:15:00+00:00">
<meta name="author" content="Anna Writer">
</head><body>
<div id="cookie-banner" class="cookie-consent">{NOISE["cookie"]}</div>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/world">{NOISE["nav"]}</a></li>
<li><a href="/sport">Sport results today</a></li></ul></nav></header>
<main><article>
<h1>Drones hit fuel depot in Belgorod region</h1>
{paragraphs}
</article>
<aside class="related"><h3>Related stories</h3><ul>
<li><a href="/a1">{NOISE["related1"]}</a></li>
<li><a href="/a2">{NOISE["related2"]}</a></li></ul></aside>
<section id="comments" class="comments"><h3>Comments</h3>
<div class="comment"><p>Reader42 wrote: {NOISE["comment1"]}</p></div>
<div class="comment"><p>Jane D: {NOISE["comment2"]}</p></div>
</section></main>
<footer><p>{NOISE["footer"]}</p></footer>
</body></html>"""


def entry(**kw: str | None) -> Entry:
    fields: dict = {"watches": ("belgorod-raids",), "feed_url": "https://ledger.example/rss",
                    "feed_name": "Ledger feed", "url": URL, "link": URL, "guid": URL,
                    "title": "Feed title: drones hit depot",
                    "summary": "Feed summary: drones struck a fuel depot near Shebekino, the governor said."}
    fields.update(kw)
    return Entry(**fields)


def test_article_text_is_the_article_only() -> None:
    a = extract(page().encode(), URL, entry(), "text/html; charset=utf-8")
    assert not a.from_summary
    for p in BODY:
        assert p in a.text
        assert p in a.paragraphs
    for what, noise in NOISE.items():
        assert noise not in a.text, what
    assert "Reader42" not in a.text and "Related stories" not in a.text and "Comments" not in a.text


def test_paragraphs_are_stripped_and_non_empty() -> None:
    a = extract(page().encode(), URL, entry(), "text/html")
    assert a.paragraphs and all(p == p.strip() and p for p in a.paragraphs)
    assert a.text == "\n".join(a.paragraphs)


def test_metadata_from_the_page() -> None:
    a = extract(page().encode(), URL, entry(published=None, author=None), "text/html")
    assert a.url == URL
    assert a.title == "Drones hit fuel depot in Belgorod region"
    assert a.source == "Northern Ledger"
    assert a.published is not None and a.published.startswith("2023-06-02")
    assert a.author == "Anna Writer"
    assert a.language == "en"


def test_the_feeds_date_wins_over_the_pages() -> None:
    a = extract(page().encode(), URL, entry(published="2023-06-03T08:00:00+00:00"), "text/html")
    assert a.published == "2023-06-03T08:00:00+00:00"


def test_a_feed_that_titles_and_dates_the_entry_spares_the_page_metadata() -> None:
    e = entry(published="2023-06-03T08:00:00+00:00", author="Wire")
    a = extract(page().encode(), URL, e, "text/html")
    assert not a.from_summary and all(p in a.text for p in BODY)
    assert (a.title, a.source, a.published, a.author) == (e.title, "Ledger feed", e.published, "Wire")
    assert a.language == "en"  # from <html lang>, not from the metadata


def test_language_comes_from_the_html_tag() -> None:
    assert extract(page(lang="ru-RU").encode(), URL, entry(), "text/html").language == "ru"


def test_a_page_without_text_falls_back_to_the_feed_entry() -> None:
    empty = b"<html><head><title>Paywall</title></head><body><p>Subscribe to read.</p></body></html>"
    e = entry()
    a = extract(empty, URL, e, "text/html")
    assert a.from_summary
    assert a.text == f"{e.title}\n{e.summary}"
    assert a.paragraphs == (e.title, e.summary)
    assert a.url == URL


def test_no_body_at_all_falls_back_to_the_feed_entry() -> None:
    e = entry(published="2023-06-01T00:00:00+00:00", author="Wire")
    a = extract(b"", URL, e)
    assert a.from_summary
    assert a.title == e.title and a.source == "Ledger feed"
    assert a.published == e.published and a.author == "Wire"
    assert a.paragraphs == (e.title, e.summary)


def test_fallback_with_an_empty_summary() -> None:
    a = extract(b"", URL, entry(summary=""))
    assert a.from_summary and a.text == "Feed title: drones hit depot" and a.paragraphs == (a.text,)


def test_non_html_bytes_do_not_crash() -> None:
    a = extract(bytes(range(256)) * 10, URL, entry(), "text/html")
    assert a.from_summary


RU_BODY = [
    "Губернатор Белгородской области Вячеслав Гладков заявил в пятницу, что беспилотники атаковали нефтебазу "
    "под Шебекино, и пожар продолжался всю ночь.",
    "Пожарные из трёх районов несколько часов тушили огонь, сообщила региональная служба спасения в пятницу утром.",
    "Жители Шебекино рассказали журналистам, что обстрелы продолжались почти без перерыва два дня.",
]


def test_a_wrong_charset_header_still_decodes() -> None:
    html = page(RU_BODY, '<meta charset="windows-1251">', "ru").encode("cp1251")
    a = extract(html, URL, entry(), "text/html; charset=utf-8")  # the header lies
    assert not a.from_summary
    for p in RU_BODY:
        assert p in a.text


def test_a_missing_charset_is_read_from_the_meta_tag() -> None:
    html = page(RU_BODY, '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">', "ru")
    a = extract(html.encode("cp1251"), URL, entry(), "text/html")
    assert RU_BODY[0] in a.text


def test_an_unknown_charset_name_falls_back_to_detection() -> None:
    a = extract(page().encode("utf-8"), URL, entry(), "text/html; charset=x-no-such-charset")
    assert BODY[0] in a.text


def test_no_charset_anywhere_utf8_is_detected() -> None:
    a = extract(page(RU_BODY, "", "ru").encode("utf-8"), URL, entry(), None)
    assert RU_BODY[0] in a.text


def test_no_charset_anywhere_cp1251_is_detected() -> None:
    a = extract(page(RU_BODY, "", "ru").encode("cp1251"), URL, entry(), None)
    assert not a.from_summary
    assert RU_BODY[0] in a.text


def test_a_quoted_charset_in_the_header_is_honoured() -> None:
    a = extract(page(RU_BODY, "", "ru").encode("cp1251"), URL, entry(), 'text/html; charset="windows-1251"')
    assert RU_BODY[2] in a.text


def test_the_standfirst_is_not_part_of_the_article() -> None:
    from monitor.models import Entry
    from workers.extract import extract
    body = ("<html><body><article><h1>Raid</h1><p class='byline'>By Staff</p>"
            "<p class=\"article__standfirst\">The Legion says it is back, officials deny it.</p>"
            + "".join(f"<p>Paragraph {i} of the report says what happened in the border villages on Monday.</p>"
                      for i in range(6)) + "</article></body></html>").encode()
    e = Entry(watches=("w",), feed_url="f", feed_name="F", url="https://x/a", link="https://x/a", guid="g",
              title="Raid", published="2023-06-01T10:00:00+00:00")
    a = extract(body, e.url, e, "text/html; charset=utf-8")
    assert "Legion says it is back" not in a.text and "Paragraph 3" in a.text


def test_an_entry_that_carries_its_text_is_its_own_article() -> None:
    entry = Entry(watches=("w",), feed_url="https://t.me/s/ua_novyny", feed_name="Новини", guid="tg:ua_novyny/5",
                  url="https://t.me/gladkov_ru/7", link="https://t.me/ua_novyny/5",
                  published="2023-06-01T08:00:00+00:00", text="Перший рядок.\n\n  Другий рядок.  ",
                  origin="Вячеслав Гладков")
    a = from_entry(entry)
    assert (a.url, a.title, a.paragraphs) == ("https://t.me/gladkov_ru/7", "", ("Перший рядок.", "Другий рядок."))
    assert a.source == "Новини (forwarded from Вячеслав Гладков)" and a.published == entry.published
    assert not a.from_summary and a.first_hand
