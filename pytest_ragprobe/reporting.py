"""Report files: ``report.json`` (the contract), ``report.md`` and ``report.html`` in one directory."""

from __future__ import annotations

from pathlib import Path

from pytest_ragprobe.render import explain, summary_line
from pytest_ragprobe.results import Report, atomic_write


def render_markdown(report: Report) -> str:
    counts = report.counts()
    lines = [
        "# pytest-ragprobe report" + (" (partial)" if report.partial else ""),
        "",
        f"{len(report.probes)} probes: " + ", ".join(f"{v} {k}" for k, v in counts.items() if v),
        f"seed {report.seed}, confidence {report.confidence}, created {report.created}",
        "",
        "| verdict | test | kind | n | calls | summary |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for p in report.probes:
        short = summary_line(p).split(f"[{p.kind}]", 1)[-1].strip()
        lines.append(f"| {p.verdict.upper()} | `{p.nodeid}` | {p.kind} | {p.n} | {p.calls} | {short} |")
    for p in report.probes:
        lines += ["", f"## {p.nodeid}", "", "```text", explain(p, examples=5), "```"]
    return "\n".join(lines) + "\n"


def render_html(report: Report) -> str:
    from pytest_ragprobe.html import render_html as _render

    return _render(report)


def write_reports(directory: Path, report: Report, *, partial: bool = False) -> Path:
    """Write all three files atomically; returns the path of report.json."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / "report.json"
    atomic_write(json_path, report.model_dump_json(indent=2))
    atomic_write(directory / "report.md", render_markdown(report))
    atomic_write(directory / "report.html", render_html(report))
    return json_path
