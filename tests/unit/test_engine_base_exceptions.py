"""A call whose pipeline code raises a BaseException that is neither Ctrl-C nor sys.exit() (a custom subclass,
GeneratorExit) is that call's error under the direct API too, as one raising CancelledError is: a GeneratorExit
from a call read "internal error in pytest-ragprobe: RuntimeError: coroutine ignored GeneratorExit" (gather
threw it into engine.run, which closed it), and a custom one ended the probe with no result."""

from __future__ import annotations

import os

import pytest

import pytest_ragprobe as ragprobe

FACTS = [ragprobe.Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(6)]


class Abort(BaseException):
    pass


def _answer(question: str) -> str:
    if "controller is compatible with pump" in question:
        return "C-" + question.rsplit("P-", 1)[1].rstrip("?")
    return "P-" + question.rsplit("C-", 1)[1].rstrip("?")


@pytest.mark.parametrize("kind", ["async", "sync"])
@pytest.mark.parametrize("raised", [Abort("stop here"), GeneratorExit()], ids=["custom", "GeneratorExit"])
def test_a_base_exception_from_a_call_is_its_error(raised: BaseException, kind: str) -> None:
    def sync_answer(question: str) -> str:
        if question.endswith("P-0?"):
            raise raised
        return _answer(question)

    async def async_answer(question: str) -> str:
        return sync_answer(question)

    result = ragprobe.check_reverse(
        ragprobe.Pipeline(answer=async_answer if kind == "async" else sync_answer),
        FACTS, max_drop=0.2, max_error_rate=0.5, retries=2,
    )
    name, said = type(raised).__name__, f"{type(raised).__name__}: {raised}" if str(raised) else type(raised).__name__
    where = f"{os.path.relpath(__file__)}:{sync_answer.__code__.co_firstlineno + 2}"  # (its raise line)
    assert (result.calls, result.errors, result.retries) == (12, 1, 0)  # never retried
    assert result.error_cause == f"{name} at {where} (1x), first: {said}"
    assert result.verdict == "inconclusive"  # (1 of 12 failed: within max_error_rate=0.5)


def test_closing_a_call_suspended_in_the_pipeline_is_not_its_error() -> None:
    """close() throws a GeneratorExit in where the call waits, in the pipeline's code: that one is not the
    pipeline's (no frame of its own in its traceback) and ends the call, not recorded as its error (taken as
    one, the call went on to a retry's sleep: "coroutine ignored GeneratorExit")."""
    import asyncio

    from pytest_ragprobe.engine import Call, Engine, EngineSettings
    from pytest_ragprobe.pipeline import make_adapter

    class Waits:
        async def answer(self, question: str) -> str:
            await asyncio.get_running_loop().create_future()  # never done
            return ""

    async def main() -> None:
        engine = Engine(make_adapter(Waits()), EngineSettings(timeout=None, retries=2))
        call = engine._one(Call(kind="answer", question="Which pump?"))
        assert isinstance(call.send(None), asyncio.Future)  # suspended in the pipeline's answer()
        call.close()  # (raises RuntimeError if the call goes on)
        assert engine.stats.errors == 0

    asyncio.run(main())
