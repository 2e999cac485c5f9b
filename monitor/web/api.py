"""The desk's JSON API, ``/api/v1``: everything the pages show, and the feedback and retries they do.

Reads are ``READ`` (open on loopback, a token elsewhere), writes ``WRITE`` (a token always:
``monitor.web.auth``). Bad input answers 400 with one line (``{"error": ...}``), something that does
not exist 404. The OpenAPI document (``monitor.web.openapi``) describes every route here, and
tests/integration/test_desk_api.py checks that it does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from monitor.desk import actions, export, queries
from monitor.errors import ConfigError, UsageError
from monitor.web.app import context_of
from monitor.web.auth import Access, requires
from monitor.web.openapi import document

PREFIX = "/api/v1"
MAX_BODY = 200_000  # bytes of a JSON request body


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _answer(request: Request, fn: Callable[..., Any], *args: Any) -> Response:
    ctx = context_of(request)
    try:
        return JSONResponse(await ctx.run(fn, ctx.store, ctx.settings, *args))
    except (UsageError, ConfigError) as e:
        return _error(400, str(e))
    except LookupError as e:
        return _error(404, str(e.args[0]) if e.args else "not found")


async def openapi(request: Request) -> Response:
    return JSONResponse(document())


async def watches(request: Request) -> Response:
    return await _answer(request, queries.watches)


async def claims(request: Request) -> Response:
    return await _answer(request, queries.claims, request.path_params["watch"], dict(request.query_params))


async def claim(request: Request) -> Response:
    return await _answer(request, queries.claim, request.path_params["watch"], request.path_params["claim"])


async def article(request: Request) -> Response:
    url = request.query_params.get("url", "")
    if not url:
        return _error(400, "url: required (the article's URL)")
    return await _answer(request, queries.article, request.path_params["watch"], url)


async def chart(request: Request) -> Response:
    watch = request.path_params["watch"]

    def days(store: Any, settings: Any) -> dict[str, Any]:
        queries.check_watch(settings, watch)
        return {"watch": watch, "days": queries.chart(store, watch, 30)}

    return await _answer(request, days)


async def feeds(request: Request) -> Response:
    return await _answer(request, queries.feeds_of)


async def deliveries(request: Request) -> Response:
    return await _answer(request, queries.deliveries)


async def feedback_list(request: Request) -> Response:
    watch = request.query_params.get("watch") or None
    return await _answer(request, lambda store, _settings: {"feedback": store.feedback.recent(watch, 100)})


async def _body(request: Request) -> dict[str, Any] | Response:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        return _error(413, f"body over {MAX_BODY:,} bytes")
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return _error(400, "body: not JSON")
    return body if isinstance(body, dict) else _error(400, "body: not a JSON object")


@requires(Access.WRITE)
async def feedback(request: Request) -> Response:
    body = await _body(request)
    if isinstance(body, Response):
        return body
    ctx = context_of(request)
    watch = request.path_params["watch"]
    given = {k: body.get(k) for k in ("text", "url", "claim", "repeats") if body.get(k) is not None}
    try:
        rec = await ctx.run(lambda: actions.submit(ctx.store, ctx.connection, ctx.settings,
                                                   str(body.get("kind", "")), watch, **given))
    except (UsageError, ConfigError) as e:
        return _error(400, str(e))
    return JSONResponse(rec, status_code=202)


@requires(Access.WRITE)
async def retry(request: Request) -> Response:
    body = await _body(request)
    if isinstance(body, Response):
        return body
    ctx = context_of(request)
    try:
        done = await ctx.run(actions.retry_dead, ctx.store, ctx.connection, ctx.settings,
                             body.get("sink") or None, body.get("alert_id") or None)
    except ConfigError as e:
        return _error(400, str(e))
    return JSONResponse({"requeued": done}, status_code=202)


def _export(kind: str) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        ctx = context_of(request)
        watch = request.path_params["watch"]
        try:
            queries.check_watch(ctx.settings, watch)
        except UsageError as e:
            return _error(404, str(e))
        filters = queries.filters_from(dict(request.query_params))
        lines = (export.csv_lines if kind == "csv" else export.jsonl_lines)(ctx.store, watch, filters)
        media = "text/csv; charset=utf-8" if kind == "csv" else "application/x-ndjson"
        name = f"{watch}-claims.{'csv' if kind == 'csv' else 'jsonl'}"
        return StreamingResponse(_threaded(ctx, lines), media_type=media,
                                 headers={"Content-Disposition": f'attachment; filename="{name}"'})

    return endpoint


async def _threaded(ctx: Any, lines: Any) -> Any:
    """A blocking iterator read on the endpoint's threads, a chunk at a time."""
    done = object()
    while True:
        chunk = await ctx.run(next, lines, done)
        if chunk is done:
            return
        yield chunk


def api_routes() -> list[BaseRoute]:
    w = PREFIX + "/watches/{watch}"
    return [
        Route(PREFIX + "/openapi.json", openapi, methods=["GET"]),
        Route(PREFIX + "/watches", watches, methods=["GET"]),
        Route(w + "/claims", claims, methods=["GET"]),
        Route(w + "/claims/{claim}", claim, methods=["GET"]),
        Route(w + "/article", article, methods=["GET"]),
        Route(w + "/chart", chart, methods=["GET"]),
        Route(w + "/export.csv", _export("csv"), methods=["GET"]),
        Route(w + "/export.jsonl", _export("jsonl"), methods=["GET"]),
        Route(w + "/feedback", feedback, methods=["POST"]),
        Route(PREFIX + "/feedback", feedback_list, methods=["GET"]),
        Route(PREFIX + "/feeds", feeds, methods=["GET"]),
        Route(PREFIX + "/deliveries", deliveries, methods=["GET"]),
        Route(PREFIX + "/deliveries/retry", retry, methods=["POST"]),
    ]
