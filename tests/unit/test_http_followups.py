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
