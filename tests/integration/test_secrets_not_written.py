"""Acceptance: a probe of an HTTP service configured with secrets (a password and a key in the URL, an
Authorization header), whose errors quote the credentials back, writes none of them anywhere: not in
report.json / .html / .md, JUnit XML, the terminal, nor the answer cache (`ragprobe cache` lists it)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from factories import facts_yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from faults import FaultServer, Reply, Request

SECRETS = ("s13-url-password", "s13-query-key", "s13-header-token")


def handler(req: Request) -> Reply:
    question = str((req.json or {}).get("question", ""))
    i = int(question.rsplit("-", 1)[1].rstrip("?"))
    if i == 3:  # a 500 whose body quotes what the client sent
        return Reply(status=500, body=f"denied {req.headers.get('authorization')} on {req.path}".encode())
    if i == 5:
        return Reply(json={"answer": "", "error": f"token {req.headers.get('x-api-key')} expired"})
    other = "C" if question.startswith("Which controller") else "P"
    return Reply(json={"answer": f"{other}-{i}"})


CONFTEST = """
import pytest
import pytest_ragprobe as ragprobe

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return ragprobe.HTTPPipeline(
        "http://alice:s13-url-password@127.0.0.1:{port}/rag?api_key=s13-query-key&tenant=t1",
        headers={{"Authorization": "Bearer s13-header-token", "X-Api-Key": "s13-header-token"}},
    )
"""

TEST = """
import pytest

@pytest.mark.ragprobe_reverse(facts="facts.yaml", max_drop=0.10)
def test_catalog(ragprobe_result):
    pass
"""


def test_no_secret_reaches_reports_junit_terminal_or_cache(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    with FaultServer(handler, max_requests=500, lifetime=120) as server:
        pytester.makeconftest(CONFTEST.format(port=server.port))
        pytester.makefile(".yaml", facts=facts_yaml(40))
        pytester.makepyfile(test_catalog=TEST)
        result = pytester.runpytest_subprocess(
            "--ragprobe-report=rep", "--junitxml=junit.xml", "--ragprobe-retries=0", "-p", "no:randomly",
            *plugin_args,
        )
        listing = pytester.run(sys.executable, "-m", "pytest_ragprobe.cli", "cache", ".ragprobe_cache")
    (probe,) = json.loads((pytester.path / "rep" / "report.json").read_text())["probes"]
    # the service got the credentials (as Basic auth from the URL, as httpx sends them) and the key
    shown = f"http://alice:***@127.0.0.1:{server.port}/rag"
    assert probe["pipeline"] == f"http:{shown}?api_key=***&tenant=t1"
    assert probe["errors"] == 4  # both directions of facts 3 and 5
    errors = sorted({e["error"] for e in probe["examples"] if e.get("error")})
    assert errors == [
        f"HTTP 500 from http://127.0.0.1:{server.port}/rag/answer?api_key=***&tenant=t1: denied Basic *** "
        "on /rag/answer?api_key=***&tenant=t1",
        f"http://127.0.0.1:{server.port}/rag/answer?api_key=***&tenant=t1 answered with an error field: "
        "'token *** expired'",
    ]
    texts = {
        "terminal": result.stdout.str() + result.stderr.str(),
        "cache listing": listing.stdout.str() + listing.stderr.str(),
        **{p.name: p.read_text() for p in (pytester.path / "rep").iterdir()},
        "junit.xml": (pytester.path / "junit.xml").read_text(),
    }
    texts |= {str(p): p.read_text() for p in (pytester.path / ".ragprobe_cache").rglob("*.json")}
    assert len(texts) > 40 and "report.html" in texts
    leaks = sorted((where, s) for where, text in texts.items() for s in SECRETS if s in text)
    assert leaks == []
    assert f"http:{shown}?api_key=***&tenant=t1" in texts["cache listing"]
