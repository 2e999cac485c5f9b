"""The timeline's live updates: server-sent events, one ``claim`` event per new claim, its HTML as the
timeline renders it (``_claim.html``), so the page's script only inserts it.

The stream starts after the claim the page showed last (``?after=seq``, or ``Last-Event-ID`` when the
browser reconnects) and looks for newer claims every ``POLL`` seconds: one GET of the watch's claim
counter, a page read only when it moved. A comment line every ``KEEPALIVE`` seconds keeps proxies
from closing a quiet stream; a stream ends after ``MAX_AGE`` seconds (the browser reconnects by itself).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from monitor.desk import queries
from monitor.errors import UsageError
from monitor.store import Store
from monitor.web import session
from monitor.web.app import context_of
from monitor.web.templating import ENV

POLL = 1.0
KEEPALIVE = 15.0
MAX_AGE = 600.0
BATCH = 50


def _after(request: Request) -> int:
    raw = request.headers.get("last-event-id") or request.query_params.get("after") or "0"
    return int(raw) if raw.isdigit() else 0


def _newest(store: Store, watch: str, n: int) -> list[dict[str, Any]]:
    return store.claims.page(watch, limit=n)[0]


async def claims(request: Request) -> Response:
    ctx = context_of(request)
    watch = request.path_params["watch"]
    try:
        queries.check_watch(ctx.settings, watch)
    except UsageError as e:
        return Response(str(e), status_code=404)
    template = ENV.get_template("_claim.html")
    csrf = session.csrf_token(request)

    async def events() -> AsyncIterator[str]:
        last, started, beat = _after(request), time.monotonic(), time.monotonic()
        yield "retry: 2000\n\n"
        while time.monotonic() - started < MAX_AGE and not await request.is_disconnected():
            top = await ctx.run(ctx.store.claims.last_seq, watch)
            if top > last:
                page = await ctx.run(_newest, ctx.store, watch, min(top - last, BATCH))
                for c in sorted((c for c in page if c["seq"] > last), key=lambda c: c["seq"]):
                    html = template.render(c=c, watch=watch, csrf=csrf, fresh=True)
                    yield f"id: {c['seq']}\nevent: claim\n" + "".join(f"data: {x}\n" for x in html.splitlines()) + "\n"
                last = top
            elif time.monotonic() - beat > KEEPALIVE:
                beat = time.monotonic()
                yield ": keep-alive\n\n"
            await asyncio.sleep(POLL)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
