"""HTML report rendering (jinja2, loaded lazily)."""

from __future__ import annotations

from pytest_ragprobe.render import explain
from pytest_ragprobe.results import Report


def render_html(report: Report) -> str:
    import html

    body = "".join(
        f"<section><h2>{html.escape(p.nodeid)}</h2><pre>{html.escape(explain(p))}</pre></section>"
        for p in report.probes
    )
    return f"<!doctype html><html><head><meta charset='utf-8'><title>ragprobe report</title></head><body><h1>pytest-ragprobe report</h1>{body}</body></html>"
