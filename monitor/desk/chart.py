"""A watch's claims and articles per day as a small SVG (server-rendered: no script, no library).

Articles read are grey bars, claims alerted a dark bar inside each; both share one scale, so a day
whose bar is mostly dark was a day of news. Every number comes from ``History.days``."""

from __future__ import annotations

from html import escape
from typing import Any

WIDTH, HEIGHT, PAD = 600, 120, 18


def svg(days: list[dict[str, Any]], title: str) -> str:
    n = max(len(days), 1)
    top = max([1, *(int(d["articles"]) for d in days), *(int(d["claims"]) for d in days)])
    step = (WIDTH - 2 * PAD) / n
    bar = max(step * 0.8, 1.0)
    scale = (HEIGHT - 2 * PAD) / top
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'class="chart" aria-label="{escape(title)}"><title>{escape(title)}</title>',
             f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#999"/>',
             f'<text x="{PAD}" y="12" font-size="11">max {top}/day</text>']
    for i, d in enumerate(days):
        x = PAD + i * step
        a, c = int(d["articles"]), int(d["claims"])
        label = escape(f"{d['day']}: {c} claims, {a} articles")
        parts.append(f'<g><title>{label}</title>'
                     f'<rect x="{x:.1f}" y="{HEIGHT - PAD - a * scale:.1f}" width="{bar:.1f}" '
                     f'height="{a * scale:.1f}" fill="#cfd6dd"/>'
                     f'<rect x="{x:.1f}" y="{HEIGHT - PAD - c * scale:.1f}" width="{bar:.1f}" '
                     f'height="{c * scale:.1f}" fill="#1f4e79"/></g>')
    if days:
        parts.append(f'<text x="{PAD}" y="{HEIGHT - 3}" font-size="11">{escape(str(days[0]["day"]))}</text>')
        parts.append(f'<text x="{WIDTH - PAD}" y="{HEIGHT - 3}" font-size="11" text-anchor="end">'
                     f'{escape(str(days[-1]["day"]))}</text>')
    parts.append("</svg>")
    return "".join(parts)
