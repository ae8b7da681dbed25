"""pytest's own ERROR section and short test summary printed the bidi controls (U+202A-E, U+2066-9) of a
pipeline's error as they were (a bidi-aware terminal or CI log viewer reversed the rest of the line, the
plugin's own "; first for '<question>'" included): the error text the engine keeps now has their escapes,
as the terminal's ragprobe section and the reports have (commit 227a647)."""

from __future__ import annotations

import re

import pytest

BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


@pytest.mark.xdist_elsewhere
def test_pytests_error_lines_show_bidi_controls_as_escapes(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest

        def boom(question):
            raise ConnectionError("ALL GREEN \\u202eesrever \\u2066isolate\\u2069")

        @pytest.fixture(scope="session")
        def ragprobe_pipeline():
            return boom
        """
    )
    pytester.makepyfile(
        """
        import pytest_ragprobe as ragprobe

        @ragprobe.reverse(facts=[ragprobe.Fact(subject="A", relation="compatible_with", object="B")])
        def test_e(ragprobe_result):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:xdist", "--ragprobe-no-cache", "--ragprobe-retries=0", "-rE")
    out = result.stdout.str()
    summary = out.split("short test summary info", 1)[1]
    assert "ConnectionError: ALL GREEN \\u202eesrever \\u2066isolate\\u2069" in summary
    assert not BIDI.search(out), [line for line in out.splitlines() if BIDI.search(line)]
