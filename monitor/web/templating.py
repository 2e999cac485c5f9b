"""The pages' templates (``monitor/web/templates``): one Jinja2 environment, autoescaped, with the
filters they use (``when``: a time shortened; ``safe_link``: only http(s) URLs are links)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

OUTCOMES = {"new_claims": "new claims", "no_new_claims": "nothing new", "duplicate": "a copy",
            "off_topic": "about something else", "no_match": "no keyword"}
FEEDBACK = {"not_new": "marked not new", "off_topic": "marked not about this watch"}


def _when(value: str | None) -> str:
    return (value or "").replace("T", " ")[:16]


def _safe_link(url: str | None) -> str:
    """Only http(s) links are links (a ``javascript:`` URL from a feed never is)."""
    return url if url and url.startswith(("http://", "https://")) else "#"


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")),
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    env.filters["when"] = _when
    env.filters["safe_link"] = _safe_link
    env.globals.update(outcome_names=OUTCOMES, feedback_names=FEEDBACK)
    return env


ENV = environment()
