"""The desk's pages: server-rendered HTML (Jinja2, autoescaped), plain forms, and one small inline
script for the timeline's live updates (server-sent events, ``monitor.web.live``). No JavaScript
framework, no build step: every page works without script, and a form is a form.

Reads follow the token gate (open on loopback); a form that changes something needs a signed-in
browser (``/login``: a token, kept as an HMAC in a cookie) and passes the CSRF check
(``monitor.web.session``). After a POST, a redirect back (so a reload never posts twice).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from monitor.desk import actions, chart, queries
from monitor.errors import ConfigError, UsageError
from monitor.web import live, session
from monitor.web.app import context_of
from monitor.web.auth import Access
from monitor.web.templating import ENV

FLASH = {"queued": "Thank you: the workers apply it in a moment, for every worker.",
         "retried": "Sent back to the delivery queue.", "signed_in": "Signed in.", "signed_out": "Signed out."}
FILTER_KEYS = ("q", "outlet", "lang", "since", "until")


def render(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    ctx = context_of(request)
    flash = request.query_params.get("flash", "")
    html = ENV.get_template(name).render(
        csrf=session.csrf_token(request), signed_in=ctx.auth.signed_in(request), loopback=ctx.auth.loopback,
        flash=FLASH.get(flash, ""), flash_error=False, **values)
    response = HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store",
                                                               "X-Frame-Options": "DENY",
                                                               "Referrer-Policy": "same-origin"})
    return session.set_csrf(request, response)


def _problem(request: Request, message: str, status: int = 400) -> HTMLResponse:
    response = render(request, "base.html", status=status)
    body = bytes(response.body).replace(b"<main>\n", f'<main>\n<div class="flash error" role="alert">'
                                                    f'{Markup.escape(message)}</div>'.encode(), 1)
    return HTMLResponse(body, status_code=status, headers=dict(response.headers))


async def watches(request: Request) -> Response:
    ctx = context_of(request)
    items = await ctx.run(queries.watches, ctx.store, ctx.settings)
    charts = {}
    for w in items:
        days = await ctx.run(queries.chart, ctx.store, w["name"], 30)
        charts[w["name"]] = Markup(chart.svg(days, f"{w['name']}: claims and articles per day, last 30 days"))
    return render(request, "watches.html", watches=items, charts=charts)


async def timeline(request: Request) -> Response:
    ctx = context_of(request)
    watch = request.path_params["watch"]
    params = {k: request.query_params.get(k, "") for k in FILTER_KEYS}
    try:
        page = await ctx.run(queries.claims, ctx.store, ctx.settings, watch, dict(request.query_params))
    except UsageError as e:
        return _problem(request, str(e), 404 if "no watch" in str(e) else 400)
    days = await ctx.run(queries.chart, ctx.store, watch, 30)
    first_page = not request.query_params.get("before")
    return render(request, "timeline.html", watch=watch, claims=page["claims"], next=page["next"],
                  total=page["total"], params=params, query=urlencode({k: v for k, v in params.items() if v}),
                  live=first_page and not any(params.values()),
                  last_seq=page["claims"][0]["seq"] if page["claims"] else 0,
                  chart=Markup(chart.svg(days, f"{watch}: claims and articles per day, last 30 days")))


async def article(request: Request) -> Response:
    ctx = context_of(request)
    watch = request.path_params["watch"]
    try:
        a = await ctx.run(queries.article, ctx.store, ctx.settings, watch, request.query_params.get("url", ""))
    except UsageError as e:
        return _problem(request, str(e), 404)
    except LookupError as e:
        return _problem(request, str(e.args[0]), 404)
    return render(request, "article.html", watch=watch, a=a)


async def feeds(request: Request) -> Response:
    ctx = context_of(request)
    return render(request, "feeds.html", feeds=await ctx.run(queries.feeds_of, ctx.store, ctx.settings))


async def deliveries(request: Request) -> Response:
    ctx = context_of(request)
    return render(request, "deliveries.html", d=await ctx.run(queries.deliveries, ctx.store, ctx.settings))


async def _form(request: Request) -> tuple[dict[str, str], Response | None]:
    """The form, or the answer that refuses it: not signed in (to /login), a failed CSRF check (403)."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    ctx = context_of(request)
    if ctx.auth.refusal(request.headers.get("authorization"), Access.WRITE,
                        request.cookies.get(session.SESSION)) is not None:
        return form, RedirectResponse("/login?need=write", status_code=303)
    if not session.csrf_ok(request, form.get("csrf")):
        return form, _problem(request, "The form is stale or came from another site: reload the page and try again.",
                              403)
    return form, None


async def feedback(request: Request) -> Response:
    form, refused = await _form(request)
    if refused is not None:
        return refused
    ctx = context_of(request)
    watch = request.path_params["watch"]
    given = {k: form[k] for k in ("text", "url", "claim", "repeats") if form.get(k)}
    try:
        await ctx.run(lambda: actions.submit(ctx.store, ctx.connection, ctx.settings, form.get("kind", ""),
                                             watch, **given))
    except (UsageError, ConfigError) as e:
        return _problem(request, str(e))
    return RedirectResponse(f"/watches/{watch}?flash=queued", status_code=303)


async def retry(request: Request) -> Response:
    form, refused = await _form(request)
    if refused is not None:
        return refused
    ctx = context_of(request)
    try:
        await ctx.run(actions.retry_dead, ctx.store, ctx.connection, ctx.settings, form.get("sink") or None,
                      form.get("alert_id") or None)
    except ConfigError as e:
        return _problem(request, str(e))
    return RedirectResponse("/deliveries?flash=retried", status_code=303)


async def login(request: Request) -> Response:
    ctx = context_of(request)
    if request.method == "GET":
        return render(request, "login.html")
    form = {k: str(v) for k, v in (await request.form()).items()}
    if not session.csrf_ok(request, form.get("csrf")):
        return _problem(request, "The form is stale: reload the page and try again.", 403)
    token = form.get("token", "").strip().encode()
    if not ctx.auth.valid(token):
        return _problem(request, "That is not one of the service's tokens.", 401)
    return session.sign_in(RedirectResponse("/?flash=signed_in", status_code=303), request, token)


async def logout(request: Request) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    if not session.csrf_ok(request, form.get("csrf")):
        return _problem(request, "The form is stale: reload the page and try again.", 403)
    return session.sign_out(RedirectResponse("/?flash=signed_out", status_code=303))


def page_routes() -> list[BaseRoute]:
    w = "/watches/{watch}"
    return [
        Route("/", watches, methods=["GET"]),
        Route(w, timeline, methods=["GET"]),
        Route(w + "/article", article, methods=["GET"]),
        Route(w + "/live", live.claims, methods=["GET"]),
        Route(w + "/feedback", feedback, methods=["POST"]),
        Route("/feeds", feeds, methods=["GET"]),
        Route("/deliveries", deliveries, methods=["GET"]),
        Route("/deliveries/retry", retry, methods=["POST"]),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
    ]
