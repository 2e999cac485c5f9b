"""The claim history in Redis: a claim recorded once, its repeats, the timeline's pages and filters."""

from __future__ import annotations

import redis

from monitor.store import Store
from monitor.store.claims import CHUNK, SHOWN, Filters, Source, claim_id


def _src(i: int, outlet: str = "Wire", lang: str = "en", day: int = 1) -> Source:
    return Source(f"https://news.example/{i}", outlet, f"title {i}", f"2026-06-{day:02d}T08:00:00+00:00", lang,
                  f"2026-06-{day:02d}T08:14:00+00:00")


def test_a_claim_is_recorded_once_and_repeats_once_per_article(redis_client: redis.Redis) -> None:
    claims = Store(redis_client).claims
    assert claims.record("w", "Shelling hit Shebekino on Monday, officials said.", "officials", _src(1), "a1") == 1
    assert claims.record("w", "Shelling  hit SHEBEKINO on Monday, officials said.", None, _src(9), "a9") == 0
    cid = claim_id("w", "Shelling hit Shebekino on Monday, officials said.")
    assert claims.corroborate("w", cid, _src(2, "Agency", "ru"), "Обстрел Шебекино в понедельник.")
    assert not claims.corroborate("w", cid, _src(2, "Agency", "ru"))  # the same article again
    assert claims.corroborate("w", cid, _src(3, "Paper", "uk"))
    got = claims.get("w", cid)
    assert got is not None and got["first"]["outlet"] == "Wire" and got["attribution"] == "officials"
    assert [r["outlet"] for r in got["corroboration"]] == ["Agency", "Paper"]
    assert got["summary"] == {"repeats": 2, "outlets": 2, "languages": ["ru", "uk"]}
    # the repeat's sentence now stands for the claim, and both articles name it
    assert claims.claims_of_sentences("w", ["Обстрел Шебекино в понедельник.", "other"]) == {
        "Обстрел Шебекино в понедельник.": cid}
    assert claims.claims_of_article("w", "https://news.example/2") == [cid]
    assert claims.claims_of_article("w", "https://news.example/1") == [cid]
    # what a digest says of it (``monitor.digests``: the poller's Flusher asks this)
    assert claims.repeats("w", "Shelling hit Shebekino on Monday, officials said.") == 2
    assert claims.repeats("w", "A claim never alerted.") is None


def test_pages_newest_first_with_a_cursor_and_filters(redis_client: redis.Redis) -> None:
    claims = Store(redis_client).claims
    n = CHUNK + 150  # across two chunks
    for i in range(n):
        outlet, lang = ("Wire", "en") if i % 3 else ("Агентство", "ru")
        text = f"Claim number {i} about drones, officials said." if i % 10 else f"Claim {i}: Grayvoron shelled."
        claims.record("w", text, None, _src(i, outlet, lang, 1 + i * 28 // n), f"a{i}")  # seen in time order
    page, more = claims.page("w", limit=20)
    assert [c["seq"] for c in page] == list(range(n, n - 20, -1)) and more == n - 19
    page2, _ = claims.page("w", limit=20, before=more)
    assert page2[0]["seq"] == n - 20
    hits, more = claims.page("w", Filters(text="grayvoron SHELLED"), limit=500)
    assert more is None and len(hits) == n // 10 and all("Grayvoron" in c["text"] for c in hits)
    assert [c["seq"] for c in hits] == sorted((c["seq"] for c in hits), reverse=True)
    ru, _ = claims.page("w", Filters(lang="ru", outlet="агентство"), limit=5)
    assert len(ru) == 5 and all(c["first"]["lang"] == "ru" for c in ru)
    day, _ = claims.page("w", Filters(since="2026-06-05", until="2026-06-05"), limit=2000)
    assert day and all(c["first"]["seen"].startswith("2026-06-05") for c in day)
    assert claims.page("w", Filters(text="nowhere"))[0] == []
    assert claims.page("other") == ([], None)


def test_a_page_lists_the_first_repeats_and_counts_them_all(redis_client: redis.Redis) -> None:
    claims = Store(redis_client).claims
    claims.record("w", "Drones hit Kursk on Monday, officials said.", None, _src(0), "a0")
    cid = claim_id("w", "Drones hit Kursk on Monday, officials said.")
    for i in range(1, SHOWN + 21):
        claims.corroborate("w", cid, _src(i, f"Outlet {i % 7}", "ru" if i % 2 else "en"))
    (listed,), _ = claims.page("w")
    assert len(listed["corroboration"]) == SHOWN and listed["summary"]["repeats"] == SHOWN + 20
    assert listed["summary"]["outlets"] == 7 and listed["summary"]["languages"] == ["en", "ru"]
    assert len(claims.get("w", cid)["corroboration"]) == SHOWN + 20  # type: ignore[index]


def test_the_services_digests_count_each_claims_repeats(redis_client: redis.Redis) -> None:
    from pathlib import Path

    from monitor.models import Alert, Claim, items_of
    from monitor.service import make_poller
    from monitor.settings import load

    store = Store(redis_client)
    text = "Shelling hit Shebekino on Monday, officials said."
    store.claims.record("w", text, None, _src(1), "a1")
    store.claims.corroborate("w", claim_id("w", text), _src(2, "Agency"))
    settings = load([Path(__file__).resolve().parents[2] / "config" / "claimwatch.toml"])
    flusher = make_poller(settings, store, redis_client).digests
    alert = Alert(id="a1", type="new_claims", watch="w", article_url="https://news.example/1", article_title="t",
                  article_source="Wire", article_published=None, detected_at="2026-06-01T08:14:00+00:00",
                  claims=(Claim(text=text),))
    (item,) = items_of(alert)
    assert flusher.corroboration("w", item) == 1  # the claim history's count, not "not recorded"
