"""The terminal's ragprobe section printed a bidi control of a pipeline's error (U+202E) as it was: a
bidi-aware terminal reversed the rest of the line. It prints its escape, as `ragprobe show` and the reports
do (tests/unit/test_report_bidi_controls.py)."""

from __future__ import annotations

import re

import pytest

BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


@pytest.mark.xdist_elsewhere
def test_terminal_summary_shows_bidi_controls_as_escapes(pytester: pytest.Pytester, plugin_args: list[str]) -> None:
    """The ragprobe section printed the error's U+202E as it was (a bidi-aware terminal reversed the rest of
    the line); `ragprobe show` prints the same line with its escape."""
    pytester.makeconftest(
        """
        import pytest

        def boom(question):
            raise ConnectionError("ALL GREEN \\u202eesrever")

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
    result = pytester.runpytest(*plugin_args, "--ragprobe-no-cache", "--ragprobe-retries=0")
    section = result.stdout.str().split("= ragprobe =", 1)[1].split("short test summary", 1)[0]
    line = next(text for text in section.splitlines() if text.startswith("ERROR "))
    assert "ConnectionError: ALL GREEN \\u202eesrever; first for" in line
    assert not BIDI.search(section)
