"""A match= callable that calls sys.exit() or raises a custom BaseException (GeneratorExit, CancelledError) is a
MatchError naming it, as one raising an Exception is: it reached pytest-ragprobe's session as a BaseException
raised through the user's code, and the probe's error read "the pipeline raised Abort" / "the pipeline called
sys.exit(3)", blaming the pipeline for the scorer."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence

import pytest

from pytest_ragprobe.scoring import MatchError, score


class Abort(BaseException):
    pass


@pytest.mark.parametrize(
    ("raised", "said"),
    [
        (Abort("scorer gave up"), "Abort: scorer gave up"),
        (SystemExit(3), "SystemExit: 3"),
        (GeneratorExit(), "GeneratorExit"),
        (asyncio.CancelledError(), "CancelledError"),
    ],
    ids=["custom", "sys.exit", "GeneratorExit", "CancelledError"],
)
def test_a_base_exception_of_the_match_callable_is_a_match_error(raised: BaseException, said: str) -> None:
    def broken(answer: str, golds: Sequence[str]) -> bool:
        raise raised

    with pytest.raises(MatchError) as info:
        score(broken, "C-2", ["C-1"])
    assert str(info.value).endswith(f"broken failed: the match callable raised {said} (answer 'C-2', accepted answers ['C-1'])")
    assert info.value.__cause__ is raised


@pytest.mark.parametrize("raised", [KeyboardInterrupt(), pytest.skip.Exception("not today")], ids=["Ctrl-C", "skip"])
def test_ctrl_c_and_pytest_outcomes_go_through(raised: BaseException) -> None:
    def stops(answer: str, golds: Sequence[str]) -> bool:
        raise raised

    with pytest.raises(type(raised)):
        score(stops, "C-2", ["C-1"])


def test_sys_exit_without_code() -> None:
    with pytest.raises(MatchError, match=r"the match callable raised SystemExit \(answer"):
        score(lambda a, g: sys.exit(), "C-2", ["C-1"])
