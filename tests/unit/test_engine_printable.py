"""A failed call's cause and error reach the terminal, the reports and JUnit XML: a service's reply with
terminal escapes (colours, a cursor move, a bell) must arrive as plain text."""

from __future__ import annotations

import httpx

from pytest_ragprobe.engine import classify


def test_escapes_in_a_reply_do_not_reach_the_terminal() -> None:
    request = httpx.Request("POST", "http://127.0.0.1:9/answer")
    body = "\x1b[31mupstream\x1b[0m down\x07\x1b[2J, retry later\r"
    exc = httpx.HTTPStatusError("503", request=request, response=httpx.Response(503, text=body, request=request))
    failure = classify(exc, 2.0)
    assert failure.error == "HTTP 503 from http://127.0.0.1:9/answer: upstream down, retry later"
    assert "\x1b" not in ConnectionError.__name__ + classify(ConnectionError("\x1b[31mup\x1b[0m"), 1.0).cause


def test_a_pipeline_error_keeps_its_lines_without_escapes() -> None:
    try:
        raise ValueError("bad \x1b[1mrow\x1b[0m\nsecond line")
    except ValueError as exc:
        failure = classify(exc, None)
    assert "bad row" in failure.error and "\x1b" not in failure.error
    assert failure.traceback is not None and "\x1b" not in failure.traceback
    assert "second line" in failure.traceback
