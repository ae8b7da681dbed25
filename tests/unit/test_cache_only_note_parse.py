"""The run-end line reads the services of a probe answered from the cache alone back from its note
(runner.cache_only_services: under xdist the controller has only the reports). A service said with
", " in it (an OpenAI-compatible server's model name, "qwen, 7b at URL") was read as two services:
the line said "the services qwen, 7b at URL were not called", and lost the name= the cache knows it by."""

from __future__ import annotations

import pytest

from pytest_ragprobe.runner import cache_only_named, cache_only_note, cache_only_services

SERVICE = "qwen, 7b at http://127.0.0.1:9/v1"


@pytest.mark.parametrize("named", [{}, {SERVICE: "gen, 'prod'"}])
def test_one_service_with_the_separator_in_it_is_read_back_whole(named: dict[str, str]) -> None:
    note = cache_only_note([SERVICE], 4, named)
    assert f": {SERVICE} was not called by this probe." in note
    listed = cache_only_services(note)
    assert listed == [SERVICE]
    assert cache_only_named(note, listed) == named


def test_several_services_are_still_read_back_each() -> None:
    services = ["http://127.0.0.1:9/rag", "m at http://127.0.0.1:9/v1"]
    note = cache_only_note(services, 4, {services[0]: 'it\'s "search"'})
    listed = cache_only_services(note)
    assert listed == services
    assert cache_only_named(note, services) == {services[0]: 'it\'s "search"'}
