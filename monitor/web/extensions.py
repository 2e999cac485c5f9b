"""Routes beyond the service's own (/healthz, /metrics, /status): pages and APIs plug in here.

``extra_routes()`` is what `claimwatch run` serves next to them: Starlette ``Route``s or ``Mount``s
of sub-applications. Every one needs a token off loopback unless listed in ``app.OPEN_PATHS``; mark
what changes something ``@auth.requires(Access.WRITE)`` (or ``auth.protect(sub_app, Access.WRITE)``
for a Mount). An endpoint reads the service through ``app.context_of(request)``: the settings, the
endpoint's own Redis client and store, and ``await ctx.run(fn, ...)`` for a blocking call.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from monitor.web.api import api_routes
from monitor.web.pages import page_routes


def extra_routes() -> list[BaseRoute]:
    """The analyst's desk: its JSON API (``/api/v1``) and its pages."""
    return [*api_routes(), *page_routes()]
