"""A pipeline whose identity changes every run (a temporary directory made in ``__init__``) never
hits the answer cache: the end of the run says so, once, naming what changed."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from factories import facts_yaml

CONFTEST = """
import tempfile
import pytest

class Pipe:
{version}
    def __init__(self):
        self.workdir = tempfile.mkdtemp()

    def answer(self, question):
        i = question.rsplit("-", 1)[1].rstrip("?")
        return ("C-" if question.startswith("Which controller") else "P-") + i

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return Pipe()
"""

TEST = """
import pytest

@pytest.mark.ragprobe_reverse(facts="facts.yaml", max_drop=0.5)
def test_a(ragprobe_result):
    pass
"""


def _project(pytester: pytest.Pytester, version: str = "") -> None:
    pytester.makeconftest(CONFTEST.format(version=f"    version = {version!r}" if version else ""))
    pytester.makefile(".yaml", facts=facts_yaml(12))
    pytester.makepyfile(test_probes=TEST)


NOTICE = "ragprobe: the answer cache had no answers for conftest.Pipe#"


@pytest.mark.xdist_elsewhere  # under -n 2: test_configurations_used_side_by_side_count_as_one_run
def test_an_identity_that_changes_every_run_is_named_from_the_third_run(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    _project(pytester)
    first = pytester.runpytest(*plugin_args, "--ragprobe-cache=answers")
    first.assert_outcomes(passed=1)
    assert "answer cache had no answers" not in first.stdout.str()  # a first run: nothing to compare
    second = pytester.runpytest(*plugin_args, "--ragprobe-cache=answers")
    second.assert_outcomes(passed=1)
    assert "answer cache had no answers" not in second.stdout.str()  # one change may be on purpose
    third = pytester.runpytest(*plugin_args, "--ragprobe-cache=answers")
    third.assert_outcomes(passed=1)
    out = third.stdout.str()
    assert out.count(NOTICE) == 1, out  # once, on the xdist controller too
    line = next(ln for ln in out.splitlines() if NOTICE in ln)
    assert "(24 calls); it holds 2 other configurations of conftest.Pipe, last used " in line
    assert "what differs from the latest: attribute 'workdir'." in line
    assert "set a `version` attribute on the pipeline" in line
    # without the cache there is nothing to say
    off = pytester.runpytest(*plugin_args, "--ragprobe-cache=answers", "--ragprobe-no-cache")
    assert "answer cache had no answers" not in off.stdout.str()


def test_a_versioned_pipeline_hits_and_gets_no_notice(pytester: pytest.Pytester) -> None:
    _project(pytester, version="1")
    pytester.runpytest("--ragprobe-cache=answers").assert_outcomes(passed=1)
    second = pytester.runpytest("--ragprobe-cache=answers")
    second.assert_outcomes(passed=1)
    out = second.stdout.str()
    assert "answer cache had no answers" not in out
    assert "0 calls, 24 cached" in out, out
    # its one identity is recorded once, beside its answers
    (sidecar,) = (pytester.path / "answers" / "identities").glob("*.json")
    assert json.loads(sidecar.read_text())["identity"].startswith("conftest.Pipe@1")


SIDE_BY_SIDE = """
import os
import pytest

class Pipe:
    PROMPT = os.environ["PROMPT"]

    def __init__(self, fwd):
        self.fwd = fwd

    def answer(self, question):
        i = question.rsplit("-", 1)[1].rstrip("?")
        return ("C-" if question.startswith("Which controller") else "P-") + i

@pytest.fixture(scope="session", params=[1, 2])
def ragprobe_pipeline(request):
    return Pipe(request.param)
"""

SIDE_BY_SIDE_TEST = """
import pytest

@pytest.mark.ragprobe_reverse(facts="facts.yaml", max_drop=0.5)
def test_a(ragprobe_pipeline, ragprobe_result):
    pass
"""


def _side_by_side(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> Callable[[str], str]:
    """Two stable configurations of one class in every run (fwd=1, fwd=2), with a class attribute
    PROMPT from the environment; a function running the suite with a given prompt."""
    pytester.makeconftest(SIDE_BY_SIDE)
    pytester.makefile(".yaml", facts=facts_yaml(12))
    pytester.makepyfile(test_probes=SIDE_BY_SIDE_TEST)

    def run(prompt: str) -> str:
        monkeypatch.setenv("PROMPT", prompt)
        result = pytester.runpytest(*args, "--ragprobe-cache=answers")
        result.assert_outcomes(passed=2)
        return str(result.stdout.str())

    return run


def test_configurations_used_side_by_side_count_as_one_run(
    pytester: pytest.Pytester, plugin_args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _side_by_side(pytester, monkeypatch, plugin_args)
    assert "answer cache had no answers" not in run("a")
    # the second run: a prompt changed between two runs is an ordinary change of both configurations
    # (not "2 other configurations": they were made in one run, side by side)
    assert "answer cache had no answers" not in run("b")


def test_configurations_a_later_run_hits_are_not_taken_for_a_value_that_changes_every_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _side_by_side(pytester, monkeypatch, [])
    assert "answer cache had no answers" not in run("a")
    assert "answer cache had no answers" not in run("b")
    cached = run("b")
    assert cached.count("(n=12, 0 calls, 24 cached)") == 2, cached
    # the "b" configurations were used again: stable, so the next change is again an ordinary one
    assert "answer cache had no answers" not in run("c")
    # a prompt made anew in each of the last runs ("c" and "d", never hit) does change every run
    out = run("d")
    lines = [ln for ln in out.splitlines() if NOTICE in ln]
    assert len(lines) == 2, out  # one per configuration
    for line in lines:  # each compared with its own configuration of the last run: fwd is the same
        assert "what differs from the latest: class attribute 'Pipe.PROMPT'." in line, line


NAMED = """
import os
import pytest
import pytest_ragprobe as ragprobe

class Rag:
    def __init__(self, rev):
        self.rev = rev

    def answer(self, question):
        i = int(question.rsplit("-", 1)[1].rstrip("?"))
        if question.startswith("Which controller"):
            return f"C-{i}"
        return f"P-{i}" if i < self.rev * 12 else "P-0"

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return ragprobe.Pipeline(answer=Rag(float(os.environ["REV"])).answer, name="my-rag")
"""


def test_a_named_pipeline_built_with_another_configuration_is_not_served_old_answers(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeconftest(NAMED)
    pytester.makefile(".yaml", facts=facts_yaml(12))
    pytester.makepyfile(
        test_probes="""
import pytest

@pytest.mark.ragprobe_reverse(facts="facts.yaml", max_drop=0.1)
def test_a(ragprobe_result):
    pass
"""
    )
    monkeypatch.setenv("REV", "1.0")
    first = pytester.runpytest("--ragprobe-cache=answers")
    first.assert_outcomes(passed=1)
    monkeypatch.setenv("REV", "0.5")  # a regression in the wrapped object's configuration
    second = pytester.runpytest("--ragprobe-cache=answers")
    second.assert_outcomes(failed=1)
    assert "(n=12, 24 calls)" in second.stdout.str(), second.stdout.str()
    again = pytester.runpytest("--ragprobe-cache=answers")  # and its own answers are cached
    again.assert_outcomes(failed=1)
    assert "(n=12, 0 calls, 24 cached)" in again.stdout.str()


HTTP_SERVICE = """
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import pytest_ragprobe as ragprobe


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        question = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["question"]
        i = question.rsplit("-", 1)[1].rstrip("?")
        body = json.dumps({"answer": ("C-" if question.startswith("Which controller") else "P-") + i}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="session")
def ragprobe_pipeline():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)  # a random port, as test servers use
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield ragprobe.HTTPPipeline(f"http://127.0.0.1:{server.server_address[1]}"{name})
    server.shutdown()
    server.server_close()
"""


@pytest.mark.parametrize("named", [False, True], ids=["url", "named"])
def test_an_http_service_on_a_random_port_is_named_from_the_third_run(pytester: pytest.Pytester, named: bool) -> None:
    """README: give HTTPPipeline `name=` when the URL changes between runs. The notice that the cache
    never hits never came for it (each port was a pipeline of its own) and, had it come, it advised
    a `version` attribute, which leaves the URL in the identity."""
    pytester.makeconftest(HTTP_SERVICE.replace("{name}", ', name="my-rag"' if named else ""))
    pytester.makefile(".yaml", facts=facts_yaml(12))
    pytester.makepyfile(test_probes=TEST)
    for _ in range(2):
        out = pytester.runpytest("--ragprobe-cache=answers")
        out.assert_outcomes(passed=1)
        assert "answer cache had no answers" not in out.stdout.str()
    third = pytester.runpytest("--ragprobe-cache=answers")
    third.assert_outcomes(passed=1)
    out = third.stdout.str()
    if named:  # named: one identity, cached from the second run on
        assert "answer cache had no answers" not in out
        assert "(n=12, 0 calls, 24 cached)" in out, out
        return
    line = next(ln for ln in out.splitlines() if "answer cache had no answers for http:http://127.0.0.1:" in ln)
    assert "(24 calls); it holds 2 other identities of http:http://127.0.0.1:<port> (the same service at another port)" in line
    assert "what differs from the latest: the URL (http://127.0.0.1:" in line
    assert 'give it `name="my-rag"`' in line
