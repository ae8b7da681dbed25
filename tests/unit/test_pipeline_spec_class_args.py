"""``--ragprobe-pipeline=rag:Rag`` names a class, which is built with no arguments: one whose __init__
needs some ended in a raw TypeError from inside ragprobe ("Rag.__init__() missing 1 required positional
argument: 'url'", ragprobe's frame first), where the other wrong targets get an error naming the spec."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator

import pytest

from pytest_ragprobe.pipeline import PipelineConfigError, load_pipeline_spec


class Rag:
    def __init__(self, url: str, *, top_k: int = 5) -> None:
        self.url = url

    def answer(self, question: str) -> str:
        return question


class Fine:
    def __init__(self, top_k: int = 5) -> None:
        self.top_k = top_k

    def answer(self, question: str) -> str:
        return question


class Broken:
    def __init__(self) -> None:
        raise TypeError("a bug in the constructor")


@pytest.fixture
def module() -> Iterator[str]:
    mod = types.ModuleType("rag_spec_mod")
    mod.Rag, mod.Fine, mod.Broken = Rag, Fine, Broken  # type: ignore[attr-defined]
    sys.modules[mod.__name__] = mod
    yield mod.__name__
    del sys.modules[mod.__name__]


def test_a_class_that_needs_arguments_is_a_clear_error(module: str) -> None:
    with pytest.raises(PipelineConfigError) as info:
        load_pipeline_spec(f"{module}:Rag")
    assert str(info.value) == (
        f"--ragprobe-pipeline='{module}:Rag' names the class Rag, which needs arguments to be built (url); "
        "ragprobe builds a class with none: name an instance of it, or a function without arguments that "
        "returns one"
    )


def test_a_class_built_without_arguments_still_is(module: str) -> None:
    assert isinstance(load_pipeline_spec(f"{module}:Fine"), Fine)
    with pytest.raises(TypeError, match="a bug in the constructor"):  # its own error, as raised
        load_pipeline_spec(f"{module}:Broken")
