"""An async ``ragprobe_pipeline`` fixture with no plugin to run it (pytest-asyncio not installed): pytest's
error says no plugin handled it, and nothing of what works for a probe; it now adds that."""

from __future__ import annotations

import pytest

FACTS = "facts:\n" + "".join(
    f"  - forward: {{question: 'Which controller fits pump P-{i}?', answer: C-{i}}}\n"
    f"    reverse: {{question: 'Which pump fits controller C-{i}?', answer: P-{i}}}\n"
    for i in range(4)
)

TEST = """
import pytest_ragprobe as ragprobe

@ragprobe.reverse(facts="facts.yaml", max_drop=0.2)
def test_rev(ragprobe_result):
    pass
"""

ADVICE = (
    "pytest-ragprobe: return the pipeline from a sync fixture (def ragprobe_pipeline(): return Rag()): probes "
    "await its async methods on pytest-ragprobe's own event loop. Make its async clients (httpx.AsyncClient, "
    "aiohttp.ClientSession) in those methods, on first use: made in an async fixture (pytest-asyncio), they "
    "are bound to the test's event loop, where the probe cannot use them"
)


@pytest.mark.parametrize("kind", ["return", "yield"])
def test_an_async_pipeline_fixture_says_what_works(pytester: pytest.Pytester, kind: str) -> None:
    pytester.makeconftest(
        f"""
import pytest

class Rag:
    async def answer(self, question):
        return "C-0"

@pytest.fixture
async def ragprobe_pipeline():
    {kind} Rag()
"""
    )
    pytester.makefile(".yaml", facts=FACTS)
    pytester.makepyfile(test_rev=TEST)
    result = pytester.runpytest(
        "-p", "no:randomly", "-p", "no:xdist", "-p", "no:asyncio", "--ragprobe-no-cache", "--ragprobe-report=out"
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["'test_rev' requested an async fixture 'ragprobe_pipeline', with no plugin or hook that handled it.*",
         "See: https://docs.pytest.org/*", ADVICE]
    )
    report = (pytester.path / "out" / "report.json").read_text()
    assert "return the pipeline from a sync fixture" in report
