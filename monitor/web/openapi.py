"""The OpenAPI 3.1 document of ``/api/v1`` (served at ``/api/v1/openapi.json``), written by hand next
to the routes (``monitor.web.api``); tests/integration/test_desk_api.py checks that every route is
in it, with its method, and that nothing else is."""

from __future__ import annotations

from typing import Any

_STR = {"type": "string"}
_NSTR = {"type": ["string", "null"]}
_INT = {"type": "integer"}


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": props, **({"required": required} if required else {})}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERROR = _json(_ref("Error"), "bad input (one line saying what)")
_NOT_FOUND = _json(_ref("Error"), "no such watch, claim or article")
_DENIED = _json(_ref("Error"), "a token is needed (Authorization: Bearer ...): 401, or 403 with no token configured")
_WATCH = {"name": "watch", "in": "path", "required": True, "schema": _STR}


def _q(name: str, description: str, schema: dict[str, Any] = _STR) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


_FILTERS = [
    _q("q", "words the claim's text holds, all of them (case, accents and look-alike letters folded)"),
    _q("outlet", "part of the first outlet's name"),
    _q("lang", "the first source's language (en, ru, uk, ...)"),
    _q("since", "first seen on or after (ISO 8601 date or time)"),
    _q("until", "first seen on or before (an ISO date: that whole day)"),
]

_SCHEMAS: dict[str, Any] = {
    "Error": _obj({"error": _STR}, ["error"]),
    "Source": _obj({"url": _STR, "outlet": _STR, "title": _STR, "published": _NSTR, "lang": _STR,
                    "seen": {"type": "string", "description": "when the service read it (ISO 8601)"}}),
    "Claim": _obj({
        "id": _STR, "seq": _INT, "text": _STR, "attribution": _NSTR, "alert": _STR,
        "nearest_known": {"type": ["object", "null"], "properties": {"text": _STR, "similarity": {"type": "number"}}},
        "first": _ref("Source"),
        "corroboration": {"type": "array", "items": _ref("Source"),
                          "description": "every later article that repeated the claim, oldest first "
                                         "(in a page: the first 100; `summary.repeats` counts all)"},
        "summary": _obj({"repeats": _INT, "outlets": _INT, "languages": {"type": "array", "items": _STR}}),
        "feedback": {"type": "object", "description": "the user's feedback on it, if any (kind, id, at)"},
    }, ["id", "seq", "text", "first"]),
    "ClaimPage": _obj({"watch": _STR, "claims": {"type": "array", "items": _ref("Claim")},
                       "next": {"type": ["integer", "null"], "description": "pass as `before` for the next page"},
                       "total": _INT}),
    "Watch": _obj({"name": _STR, "keywords": {"type": "array", "items": _STR}, "claims_today": _INT,
                   "claims_week": _INT, "claims_total": _INT, "articles_read": _INT,
                   "outcomes": {"type": "object", "additionalProperties": _INT,
                                "description": "articles by outcome: new_claims, no_new_claims, duplicate, "
                                               "off_topic, no_match"},
                   "last_claim": {"oneOf": [_ref("Claim"), {"type": "null"}]},
                   "feeds": _obj({"total": _INT, "failing": _INT, "gone": _INT})}),
    "Verdict": _obj({"sentence": _STR, "verdict": {"enum": ["new", "known", "short", "question", "headline",
                                                              "background"]},
                     "reason": _STR, "similarity": {"type": "number"}, "nearest": _NSTR, "attribution": _NSTR,
                     "repeats": {"type": ["string", "null"], "description": "the claim this known sentence repeats"},
                     "claim": {"type": ["string", "null"], "description": "the claim id of a new sentence"}}),
    "Article": _obj({"watch": _STR, "url": _STR, "title": _STR, "outlet": _STR, "published": _NSTR, "lang": _STR,
                     "status": _STR, "reason": _STR, "relevance": {"type": "number"}, "duplicate_of": _NSTR,
                     "from_summary": {"type": "boolean"}, "judged_at": _STR,
                     "verdicts": {"type": "array", "items": _ref("Verdict")}}),
    "Feed": _obj({"name": _STR, "url": {"type": "string", "description": "without query string or credentials"},
                  "watches": {"type": "array", "items": _STR}, "last_status": _STR, "errors": _INT,
                  "last_error": _STR, "gone": {"type": "boolean"}, "next_poll_in": {"type": ["number", "null"]},
                  "entries": _INT}),
    "Deliveries": _obj({"sinks": {"type": "array", "items": _STR},
                        "recent": {"type": "array", "items": _obj({
                            "id": _STR, "watch": _STR, "title": _STR, "url": _STR, "detected_at": _STR,
                            "sinks": {"type": "object", "additionalProperties": _STR}})},
                        "dead_letters": {"type": "array", "items": _obj({
                            "alert_id": _STR, "watch": _STR, "title": _STR, "sink": _STR, "error": _STR,
                            "attempts": _INT, "at": _STR})}}),
    "FeedbackIn": _obj({
        "kind": {"enum": ["fact", "seed_url", "not_new", "off_topic"]},
        "text": {"type": "string", "description": "fact: the known fact, one or more sentences"},
        "url": {"type": "string", "description": "seed_url: a page whose article becomes known; off_topic: the "
                                                 "article that was not about the watch"},
        "claim": {"type": "string", "description": "not_new: the claim's id"},
        "repeats": {"type": "string", "description": "not_new: the known sentence it repeats (optional)"},
    }, ["kind"]),
    "Feedback": _obj({"id": _STR, "kind": _STR, "watch": _STR, "status": {"enum": ["queued", "applied", "failed"]},
                      "created": _STR, "result": _STR}),
}


def _get(summary: str, schema: dict[str, Any], params: list[dict[str, Any]] | None = None,
         not_found: bool = False) -> dict[str, Any]:
    responses = {"200": _json(schema), "400": _ERROR, "401": _DENIED}
    if not_found:
        responses["404"] = _NOT_FOUND
    return {"get": {"summary": summary, "parameters": params or [], "responses": responses}}


def _csv(summary: str, media: str) -> dict[str, Any]:
    return {"get": {"summary": summary, "parameters": [_WATCH, *_FILTERS],
                    "responses": {"200": {"description": "every claim, newest first, streamed",
                                          "content": {media: {"schema": _STR}}},
                                  "401": _DENIED, "404": _NOT_FOUND}}}


def _post(summary: str, body: dict[str, Any], answer: dict[str, Any], params: list[dict[str, Any]]) -> dict[str, Any]:
    return {"post": {"summary": summary, "parameters": params, "security": [{"bearer": []}],
                     "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
                     "responses": {"202": _json(answer, "accepted"), "400": _ERROR, "401": _DENIED}}}


def document() -> dict[str, Any]:
    w = "/api/v1/watches/{watch}"
    return {
        "openapi": "3.1.0",
        "info": {"title": "claimwatch desk API", "version": "1",
                 "description": "Reads are open on loopback and need a bearer token elsewhere; writes always "
                                "need one (service.api_tokens). No answer holds a secret."},
        "components": {"schemas": _SCHEMAS,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": {
            "/api/v1/openapi.json": _get("this document", {"type": "object"}),
            "/api/v1/watches": _get("every watch: claims today and this week, articles read and why silent, "
                                    "feed health", {"type": "array", "items": _ref("Watch")}),
            w + "/claims": _get("a page of the watch's claims, newest first, each with its first source and "
                                "corroboration", _ref("ClaimPage"),
                                [_WATCH, *_FILTERS, _q("limit", "claims per page (1-200, default 20)", _INT),
                                 _q("before", "the `next` of the previous page", _INT)], True),
            w + "/claims/{claim}": _get("one claim", _ref("Claim"),
                                        [_WATCH, {"name": "claim", "in": "path", "required": True, "schema": _STR}],
                                        True),
            w + "/article": _get("what the watch made of one article, sentence by sentence (kept 30 days)",
                                 _ref("Article"), [_WATCH, {**_q("url", "the article's URL"), "required": True}],
                                 True),
            w + "/chart": _get("claims and articles per day, the last 30 days",
                               _obj({"watch": _STR, "days": {"type": "array", "items": _obj(
                                   {"day": _STR, "claims": _INT, "articles": _INT})}}), [_WATCH], True),
            w + "/export.csv": _csv("the claims as CSV", "text/csv"),
            w + "/export.jsonl": _csv("the claims as JSON Lines (one Claim a line)", "application/x-ndjson"),
            w + "/feedback": _post("teach the watch: a known fact (text or page), a claim that was not new, an "
                                   "article not about the watch; applied by a worker, for every worker",
                                   _ref("FeedbackIn"), _ref("Feedback"), [_WATCH]),
            "/api/v1/feedback": _get("the feedback given, newest first, and what it did",
                                     _obj({"feedback": {"type": "array", "items": _ref("Feedback")}}),
                                     [_q("watch", "only this watch's")]),
            "/api/v1/feeds": _get("every feed: status, last error and why, next poll, entries",
                                  {"type": "array", "items": _ref("Feed")}),
            "/api/v1/deliveries": _get("recent alerts' delivery status per sink, and the dead letters",
                                       _ref("Deliveries")),
            "/api/v1/deliveries/retry": _post("send dead letters again (all, one sink's, or one alert's)",
                                              _obj({"sink": _STR, "alert_id": _STR}),
                                              _obj({"requeued": {"type": "array", "items": {"type": "object"}}}), []),
        },
    }
