"""``@ragprobe.reverse`` / ``@ragprobe.position`` written without parentheses (as ``@pytest.mark.x`` may
be): the error said "takes keyword arguments only, got positional [<function test_x at 0x7f...>]"."""

from __future__ import annotations

import pytest

import pytest_ragprobe as ragprobe
from pytest_ragprobe.markers import MarkArgumentError


def test_reverse_without_parentheses_says_to_call_it() -> None:
    def test_x() -> None: ...

    with pytest.raises(MarkArgumentError) as info:
        ragprobe.reverse(test_x)  # type: ignore[misc]  # what `@ragprobe.reverse` on a test does
    assert str(info.value) == (
        "@ragprobe.reverse: written without its arguments on test_x: "
        "write @ragprobe.reverse(facts=...), with the parentheses"
    )


def test_position_without_parentheses_on_a_class_says_to_call_it() -> None:
    class TestX: ...

    with pytest.raises(MarkArgumentError) as info:
        ragprobe.position(TestX)  # type: ignore[misc]
    assert str(info.value) == (
        "@ragprobe.position: written without its arguments on TestX: "
        "write @ragprobe.position(data=...) or @ragprobe.position(facts=...), with the parentheses"
    )


def test_other_positional_arguments_keep_their_message() -> None:
    with pytest.raises(MarkArgumentError) as info:
        ragprobe.reverse("f.yaml")  # type: ignore[misc]
    assert str(info.value) == "@ragprobe.reverse: takes keyword arguments only, got positional ['f.yaml']"


def test_in_a_test_module(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_bare="""
import pytest_ragprobe as ragprobe
@ragprobe.reverse
def test_x(ragprobe_result):
    pass
"""
    )
    result = pytester.runpytest("-p", "no:xdist", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "E   *MarkArgumentError: @ragprobe.reverse: written without its arguments on test_x: write "
            "@ragprobe.reverse(facts=...), with the parentheses"
        ]
    )
