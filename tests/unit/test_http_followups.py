"""Follow-ups to the HTTP-service review: the timeout's help text, the runner's messages."""

from __future__ import annotations

from pytest_ragprobe._config import _VALUED
from pytest_ragprobe.engine import EngineSettings


def test_timeout_help_states_the_longest_retry_after_rule() -> None:
    # The help said "also the longest Retry-After waited out": a --ragprobe-timeout=5 run still waits a
    # Retry-After of 20 s (EngineSettings.longest_wait: the longer of the timeout and max_backoff).
    (help_,) = [h for name, *_, h in _VALUED if name == "timeout"]
    cap = EngineSettings().max_backoff
    assert f"the longer of this and {cap:g} s" in help_
    assert "also the longest Retry-After waited out" not in help_
    assert EngineSettings(timeout=5.0).longest_wait == cap


def _cache_only_of(pipeline: object) -> tuple[str, dict[str, str | None]]:
    """The note and the services (ProbeResult.cache_only_services) of a probe answered from the cache alone."""
    from pytest_ragprobe.engine import unversioned_services
    from pytest_ragprobe.pipeline import make_adapter
    from pytest_ragprobe.runner import cache_only_note, named_services

    adapter = make_adapter(pipeline)
    services = unversioned_services(adapter, {"answer"})
    named = named_services(adapter, {"answer"})
    return cache_only_note(services, 40, named), {s: named.get(s) for s in services}


def _cache_only_note_of(pipeline: object) -> str:
    return _cache_only_of(pipeline)[0]


def test_cache_only_note_says_the_cache_knows_a_service_by_its_address_without_a_name() -> None:
    from pytest_ragprobe.adapters import HTTPPipeline

    note, services = _cache_only_of(HTTPPipeline("http://127.0.0.1:9/rag/"))
    assert "The cache knows a service by its address, so a new deployment behind it is not seen" in note
    assert services == {"http://127.0.0.1:9/rag/": None}


def test_cache_only_note_says_the_cache_knows_a_named_service_by_its_name() -> None:
    # HTTPPipeline(name=...): the cache key is the name (another URL under that name keeps the answers),
    # yet the note said "The cache knows a service by its address".
    from pytest_ragprobe.adapters import HTTPPipeline, OpenAIGenerator
    from pytest_ragprobe.pipeline import Pipeline

    note, services = _cache_only_of(HTTPPipeline("http://127.0.0.1:9/rag", name="rag-prod"))
    assert "by its address" not in note
    assert "The cache knows the service by its name= ('rag-prod'), so a new deployment behind it" in note
    assert services == {"http://127.0.0.1:9/rag": "rag-prod"}  # (what the run-end line reads)
    # one named, one not: each as the cache knows it
    both = Pipeline(
        retrieve=HTTPPipeline("http://127.0.0.1:9/rag", answer_path=None, retrieve_path="/r", name="search"),
        generate=OpenAIGenerator("http://127.0.0.1:9/v1", "m"),
    )
    note = _cache_only_note_of(both)
    assert "The cache knows http://127.0.0.1:9/rag by its name= ('search') and m at http://127.0.0.1:9/v1 by its " \
        "address, so a new deployment behind them is not seen" in note


def _probe_error(exc: BaseException, question: str = "Which controller works with pump P-1?") -> str:
    import asyncio

    import pytest

    from pytest_ragprobe.engine import Call
    from pytest_ragprobe.pipeline import PipelineAdapter
    from pytest_ragprobe.runner import ProbeContext, ProbeError, RunSettings

    def broken(question: str) -> str:
        raise exc

    settings = RunSettings(engine=EngineSettings(concurrency=1, timeout=5.0, retries=0, fail_fast=0))
    ctx = ProbeContext(PipelineAdapter(broken), settings)
    asyncio.run(ctx.run_calls([Call("answer", question)]))
    with pytest.raises(ProbeError) as info:
        ctx.check_error_rate()
    return str(info.value)


def test_the_first_for_part_gives_the_detail_without_the_cause_again() -> None:
    # "most common cause (5x): transport error (ConnectError) from URL (could not connect: ...); first for
    # 'q': transport error (ConnectError) from URL: cannot connect to ...": the cause said twice.
    import httpx

    url = "http://127.0.0.1:9/answer"
    exc = httpx.ConnectError("cannot connect to 127.0.0.1:9: Connection refused", request=httpx.Request("POST", url))
    message = _probe_error(exc)
    cause = f"transport error (ConnectError) from {url}"
    assert message.count(cause) == 1, message
    assert message.endswith(
        f"{cause} (could not connect: is the service running, and listening at that address?); first for "
        "'Which controller works with pump P-1?': cannot connect to 127.0.0.1:9: Connection refused"
    )
    # an HTTP status: its body once, after the question
    response = httpx.Response(500, text="database is down", request=httpx.Request("POST", url))
    message = _probe_error(httpx.HTTPStatusError("500", request=response.request, response=response))
    assert message.count(f"HTTP 500 from {url}") == 1, message
    assert "; first for 'Which controller works with pump P-1?': " in message
    # an error that does not start with its cause is given whole, as before
    assert message_of_keyerror().endswith("; first for 'Which controller works with pump P-1?': KeyError: 'x'")


def message_of_keyerror() -> str:
    return _probe_error(KeyError("x"))


def _status_error(status: int, retry_after: str | None = None) -> BaseException:
    import httpx

    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    request = httpx.Request("POST", "http://127.0.0.1:9/answer")
    response = httpx.Response(status, headers=headers, request=request)
    return httpx.HTTPStatusError(str(status), request=request, response=response)


def _mixed_probe_error(errors: dict[str, BaseException]) -> str:
    import asyncio

    import pytest

    from pytest_ragprobe.engine import Call
    from pytest_ragprobe.pipeline import PipelineAdapter
    from pytest_ragprobe.runner import ProbeContext, ProbeError, RunSettings

    def broken(question: str) -> str:
        raise errors[question]

    settings = RunSettings(engine=EngineSettings(concurrency=1, timeout=5.0, retries=0, fail_fast=0))
    ctx = ProbeContext(PipelineAdapter(broken), settings)
    asyncio.run(ctx.run_calls([Call("answer", q) for q in errors]))
    with pytest.raises(ProbeError) as info:
        ctx.check_error_rate()
    return str(info.value)


def test_the_long_retry_after_advice_goes_with_the_cause_that_asked_it() -> None:
    # One 429 quota refusal (Retry-After: 3600) among plain 503s: the 503 line (the most common cause) got
    # "the service asked to wait 3600 s ... raise --ragprobe-timeout to 3600", asked of the 429 alone.
    errors = {"q0": _status_error(429, "3600"), **{f"q{i}": _status_error(503) for i in range(1, 5)}}
    message = _mixed_probe_error(errors)
    assert "most common cause (4x): HTTP 503 from http://127.0.0.1:9/answer" in message, message
    assert "3600" not in message, message
    # the 503s asked for a long wait, the 429 did not: the 429 line gets no wait advice
    errors = {"q0": _status_error(429), **{f"q{i}": _status_error(503, "3600") for i in range(1, 3)}}
    message = _mixed_probe_error(errors)
    assert "most common cause (2x): HTTP 503 from http://127.0.0.1:9/answer (the service asked to wait " \
        "3600 s, more than ragprobe waits" in message, message
    errors = {"q0": _status_error(503, "3600"), **{f"q{i}": _status_error(429) for i in range(1, 3)}}
    message = _mixed_probe_error(errors)
    assert "most common cause (2x): HTTP 429 from http://127.0.0.1:9/answer (rate limited: " in message, message
    assert "3600" not in message.split("; first for")[0], message


def test_the_run_end_cache_only_line_says_how_the_cache_knows_a_named_service() -> None:
    """The run-end line said "a new deployment behind its address is not seen" of a service given a name=,
    which the cache knows by that name (its probe's note said so)."""
    from factories import report, reverse_probe

    from pytest_ragprobe.adapters import HTTPPipeline, OpenAIGenerator
    from pytest_ragprobe.pipeline import Pipeline
    from pytest_ragprobe.session import RagprobeSession

    def line_of(pipeline: object) -> str:
        note, services = _cache_only_of(pipeline)
        replayed = reverse_probe("t.py::test_a", cached_calls=40, notes=[note], cache_only_services=services)
        replayed.calls = 0
        (line,) = RagprobeSession._cache_only_notices(report(replayed))
        return line

    line = line_of(HTTPPipeline("http://127.0.0.1:9/rag", name="rag-prod"))
    assert "address" not in line
    assert (
        "the service http://127.0.0.1:9/rag was not called this run, and the cache knows it by its name= "
        "('rag-prod'), so a new deployment behind it is not seen; a deploy gate should run with "
        "--ragprobe-no-cache, or give the service a version= (its build id)"
    ) in line
    both = Pipeline(
        retrieve=HTTPPipeline("http://127.0.0.1:9/rag", answer_path=None, retrieve_path="/r", name="search"),
        generate=OpenAIGenerator("http://127.0.0.1:9/v1", "m"),
    )
    assert (
        "were not called this run, and the cache knows http://127.0.0.1:9/rag by its name= ('search') and m at "
        "http://127.0.0.1:9/v1 by its address, so a new deployment behind them is not seen; a deploy gate"
    ) in line_of(both)
    # without a name: as before
    assert "a new deployment behind its address is not seen" in line_of(HTTPPipeline("http://127.0.0.1:9/rag"))


def test_a_long_retry_after_is_said_once_in_the_probe_error() -> None:
    """A 503 (or 429) asking for a long Retry-After: "...so those calls were not retried: ... wait that long);
    first for 'q0': HTTP 503 from URL (the service asked to wait 3600 s, more than the 20 s ragprobe waits for a
    Retry-After: not retried)" said the cause twice (3c5e6cf left the call's own note in the 'first for' part)."""
    for status in (503, 429):
        message = _mixed_probe_error({"q0": _status_error(status, "3600")})
        assert message.count("asked to wait 3600 s") == 1, message
        assert message.count(f"HTTP {status} from http://127.0.0.1:9/answer") == 1, message
        assert message.endswith("to 3600 to wait that long); first for 'q0'"), message
