"""Failures a pipeline's own client raises, classified by what they carry."""

from __future__ import annotations

import aiohttp
import yarl

from pytest_ragprobe.engine import classify


class ServiceUnavailable(Exception):
    """An SDK's error for a status, with no response object (google-api-core's carry ``code``)."""

    code = 503


class Throttled(Exception):
    status_code = 429


def test_a_status_error_without_a_response_keeps_its_message() -> None:
    # "HTTP 503 from the pipeline" said all: the message, the only detail there is, was dropped
    failure = classify(ServiceUnavailable("503 The service is currently unavailable (region us-east1)"), 5.0)
    assert (failure.cause, failure.retryable) == ("HTTP 503 from the pipeline", True)
    assert failure.error == "HTTP 503 from the pipeline: 503 The service is currently unavailable (region us-east1)"
    failure = classify(Throttled("quota of 60 requests per minute used up"), 5.0)
    assert failure.error == "HTTP 429 from the pipeline: quota of 60 requests per minute used up"
    assert classify(Throttled(), 5.0).error == "HTTP 429 from the pipeline"


def test_aiohttp_raise_for_status_says_its_message_once() -> None:
    info = aiohttp.RequestInfo(yarl.URL("http://127.0.0.1:9/answer"), "POST", {}, yarl.URL("http://127.0.0.1:9/answer"))
    exc = aiohttp.ClientResponseError(info, (), status=503, message="Service Unavailable")
    failure = classify(exc, 5.0)
    # (its str() repeats the status and the URL: "503, message='Service Unavailable', url='...'"; the
    # standard reason phrase says no more than the status)
    assert failure.error == "HTTP 503 from http://127.0.0.1:9/answer"
    exc = aiohttp.ClientResponseError(info, (), status=500, message="model crashed")
    assert classify(exc, 5.0).error == "HTTP 500 from http://127.0.0.1:9/answer: model crashed"


def test_an_exception_whose_str_fails_is_still_classified() -> None:
    class Unprintable(Exception):
        def __str__(self) -> str:
            raise ValueError("no str")

    def pipeline() -> None:
        raise Unprintable()

    try:
        pipeline()
    except Unprintable as exc:
        failure = classify(exc, 5.0)
    assert failure.cause.startswith("Unprintable at "), failure
    assert failure.error == "Unprintable: <str() failed>" and not failure.retryable
