"""A user's feedback applied to a watch's knowledge (the job ``workers.jobs.apply_feedback`` runs it).

The desk and the command line keep each piece of feedback in Redis (``monitor.store.feedback``) and
enqueue one job for it; the worker that takes the job changes the watch's known sentences under the
watch's novelty lock, and every worker reads them before its next judgement (``Knowledge.sync``), so
feedback holds for all at once, and after a restart (it is in Redis, not in a worker).

- ``fact``: a known fact (text) or ``seed_url`` (a page, fetched as an article's is): its sentences
  become known, kind "seed", source ``feedback:{id}`` or the page's URL. A claim that repeats it is
  known from then on.
- ``not_new``: the claim was no news. Its sentence is known already (every judged sentence is); the
  user's choice is recorded again as a known sentence of kind "feedback" that links the claim to the
  known sentence it repeats, and the desk marks the claim.
- ``off_topic``: the article was about something else. Its sentences are recorded again as kind
  "offtopic": their words stop counting as the watch's story (``Knowledge.topical``), so articles
  told in them score lower on relevance.
"""

from __future__ import annotations

import logging
from typing import Any

from monitor import http
from monitor.errors import PermanentError
from monitor.feeds import canonical_url
from monitor.models import Entry
from monitor.store import KnownRecord
from workers.extract import extract
from workers.knowledge import Knowledge
from workers.pipeline import Context, knowledge_of
from workers.seed import seed_sentences

log = logging.getLogger(__name__)


def _register(ctx: Context, watch: str, sentences: list[str], lang: str, source: str, kind: str) -> int:
    """Add sentences to the watch's knowledge, in Redis and in this worker's index, under the lock."""
    knowledge = knowledge_of(watch, ctx)
    with ctx.store.known.lock(watch):
        knowledge.sync(ctx.store)
        if kind == "offtopic":
            records = [KnownRecord(s, source, kind, lang) for s in sentences]
            ctx.store.known.register(watch, records)
            knowledge.add_records(records)
            knowledge.synced += len(records)
            return len(records)
        before = len(knowledge.items)
        vectors = knowledge.encode(sentences) if knowledge.encoder is not None and sentences else None
        for i, s in enumerate(sentences):
            knowledge.add(s, lang, source, kind, vector=None if vectors is None else vectors[i])
        added = knowledge.items[before:]
        ctx.store.known.register(watch, [knowledge.record(k, lang, None) for k in added])
        knowledge.synced += len(added)
        return len(added)


def _page_text(ctx: Context, url: str) -> tuple[str, str]:
    net = ctx.settings.network
    page = http.fetch(ctx.client, url, net, max_bytes=net.max_page_bytes, deadline=net.page_deadline)
    final = canonical_url(page.url)
    entry = Entry(watches=(), feed_url="", feed_name="", url=final, link=final, guid=final)
    article = extract(page.body, final, entry, page.headers.get("content-type"))
    if not article.text.strip():
        raise PermanentError("empty", f"{url}: no article text on the page")
    return final, "\n\n".join(article.paragraphs) or article.text


def _article_sentences(knowledge: Knowledge, url: str) -> tuple[str, list[str]]:
    items = [k for k in knowledge.items if k.source == url]
    return (items[0].lang if items else "en"), [k.text for k in items]


def apply(item: dict[str, Any], ctx: Context) -> str:
    """Apply one piece of feedback; what it did, in words."""
    kind, watch = item["kind"], item["watch"]
    ctx.settings.watch(watch)  # a watch removed from the config since: an error
    if kind == "fact":
        lang, sents = seed_sentences(item["text"], ctx.analyzer)
        return f"{_register(ctx, watch, sents, lang, 'feedback:' + item['id'], 'seed')} known sentence(s) added"
    if kind == "seed_url":
        url, text = _page_text(ctx, item["url"])
        lang, sents = seed_sentences(text, ctx.analyzer)
        return f"{_register(ctx, watch, sents, lang, url, 'seed')} known sentence(s) added from {url}"
    if kind == "not_new":
        text = item["claim_text"]
        lang = ctx.analyzer.language(text)
        n = _register(ctx, watch, [text], lang, f"feedback:{item['id']}", "feedback")
        return f"the claim is known ({n} sentence recorded)"
    if kind == "off_topic":
        lang, sents = _article_sentences(knowledge_of(watch, ctx), item["url"])
        n = _register(ctx, watch, sents, lang, f"offtopic:{item['url']}", "offtopic")
        return f"{n} sentence(s) of the article count against relevance"
    raise PermanentError("feedback", f"unknown feedback kind {kind!r}")
