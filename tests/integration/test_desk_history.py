"""What the workers keep for the desk (workers.history): the claim with its first source, the articles
that repeat it (in other words, and as an exact copy), each article's verdicts, the watch's counts."""

from __future__ import annotations

from dataclasses import replace

import redis
from test_pipeline import (  # noqa: F401 (fixtures)
    ARTICLE_A,
    ARTICLE_C,
    NEW_FACT,
    WATCH,
    Server,
    analyzer,
    ctx,
    entry,
    page,
    server,
    settings,
)

from monitor.store.claims import claim_id
from monitor.store.history import today
from workers.jobs import handle_entry
from workers.runtime import Context


def test_first_source_and_corroboration(ctx: Context, server: Server, redis_client: redis.Redis) -> None:  # noqa: F811
    store = ctx.store
    server.pages["/h-a"] = page("Shells hit school in Belgorod region", ARTICLE_A)
    server.pages["/h-c"] = page("Twelve hurt as school is shelled in Shebekino", ARTICLE_C, "Other Outlet")
    server.pages["/h-copy"] = page("Shells hit school in Belgorod region", ARTICLE_A, "Syndicator")
    (a,) = handle_entry(entry(server, "/h-a"), ctx)
    assert a.status == "new_claims"
    cid = claim_id(WATCH, NEW_FACT)
    (claim,), more = store.claims.page(WATCH)
    assert more is None and claim["id"] == cid and claim["text"] == NEW_FACT
    assert claim["first"]["outlet"] == "Test feed" and claim["first"]["url"] == server.url("/h-a")
    assert claim["first"]["lang"] == "en" and claim["attribution"] == "Vyacheslav Gladkov"
    assert claim["corroboration"] == []

    # the fact in other words, another outlet
    (c,) = handle_entry(replace(entry(server, "/h-c"), feed_name="Other feed"), ctx)
    assert c.status == "no_new_claims"
    (copy,) = handle_entry(entry(server, "/h-copy"), ctx)  # the same text: a duplicate, never judged
    assert copy.status == "duplicate" and not copy.verdicts
    claim = store.claims.get(WATCH, cid)
    assert claim is not None
    assert [r["url"] for r in claim["corroboration"]] == [server.url("/h-c"), server.url("/h-copy")]
    assert claim["summary"]["repeats"] == 2 and claim["summary"]["languages"] == ["en"]

    seen = store.verdicts.get(WATCH, server.url("/h-c"))
    assert seen is not None and seen["status"] == "no_new_claims" and seen["outlet"] == "Other feed"
    repeat = [v for v in seen["verdicts"] if v["repeats"] == cid]
    assert repeat and repeat[0]["verdict"] == "known" and repeat[0]["nearest"] == NEW_FACT
    first = store.verdicts.get(WATCH, server.url("/h-a"))
    assert first is not None and [v["claim"] for v in first["verdicts"] if v["verdict"] == "new"] == [cid]

    assert store.history.outcomes(WATCH) == {"new_claims": 1, "no_new_claims": 1, "duplicate": 1}
    (day,) = store.history.days(WATCH, 1)
    assert day == {"day": today().isoformat(), "claims": 1, "articles": 3}
