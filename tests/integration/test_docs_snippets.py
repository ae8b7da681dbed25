"""The README's snippets, run as a newcomer copies them: each block is read from README.md itself (not a
copy here), written into a fresh project and run, and what the README says of its outcome is checked, so
the documentation cannot drift from the plugin. Also: the opening commands are Makefile targets, the
options table is the plugin's option list, and the markdown's internal links resolve."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ("README.md", "examples/README.md", "docs/statistics.md", "docs/HELPERS.md", "fixtures/README.md")


def _section(title: str) -> str:
    """The text of the README's ``## title`` section, up to the next ``## `` heading."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def _prose(title: str) -> str:
    """The section with its line breaks and indents as single spaces, to find a sentence however wrapped."""
    return " ".join(_section(title).split())


def _blocks(title: str, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", _section(title), flags=re.S | re.M)


def _block(title: str, lang: str, first_line: str, containing: str = "") -> str:
    """The ``lang`` block of section ``title`` whose first line is ``first_line`` (``# conftest.py``) and
    that holds ``containing``."""
    found = [b for b in _blocks(title, lang) if b.splitlines()[0] == first_line and containing in b]
    assert len(found) == 1, f"README section {title!r}: {len(found)} {lang} blocks start with {first_line!r}"
    return found[0]


def _write(pytester: pytest.Pytester, relpath: str, text: str) -> None:
    path = pytester.path / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _parts_answer(facts: dict[str, str]) -> str:
    """``myapp/rag.py``: an ``answer`` right both ways on the pump -> controller pairs given."""
    return f"""
FACTS = {facts!r}

def answer(question):
    for pump, controller in FACTS.items():
        if pump + "?" in question or pump + " " in question:
            return controller
        if controller + "?" in question or controller + " " in question:
            return pump
    return "I don't know"
"""


def test_readme_opening_commands_are_the_makefile_targets() -> None:
    """The README opens with ``make examples`` and ``make test``: both are Makefile targets, the examples
    one writes ragprobe-report/ as the comment says, and ``make test`` lints, type-checks and runs the
    suite; examples/README.md's spelled-out command is the target's recipe."""
    opening = re.search(r"\A# pytest-ragprobe\n\n```bash\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert opening is not None
    commands = [line.split("#")[0].strip() for line in opening.group(1).splitlines()]
    assert commands == ["make examples", "make test"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = dict(re.findall(r"^([a-z-]+):([^\n=]*)$", makefile, flags=re.M))
    assert {"examples", "test", "test-lowest", "test-newest"} <= set(targets)
    assert set(targets["test"].split()) >= {"lint", "typecheck", "unit"}
    assert "REPORT ?= ragprobe-report" in makefile
    recipe = re.search(r"^examples:.*\n\t(.*)$", makefile, flags=re.M)
    assert recipe is not None
    expanded = recipe.group(1).replace("$(PY)", ".venv/bin/python").replace("$(REPORT)", "ragprobe-report")
    examples_readme = (ROOT / "examples/README.md").read_text(encoding="utf-8")
    assert f"HF_HUB_OFFLINE=1 {expanded}\n" in examples_readme
    for target in ("test-lowest", "test-newest"):
        assert f"`make {target}`" in README.read_text(encoding="utf-8")
    # Development: the lowest versions `make test-lowest` installs, as the README lists them
    lowest = re.search(r"^LOWEST := (.*)$", makefile, flags=re.M)
    listed = re.search(r"`pyproject.toml` allows \(([^)]*)\)", _prose("Development"))
    assert lowest is not None and listed is not None
    pins = {name.lower(): version for name, version in (pin.split("==") for pin in lowest.group(1).split())}
    said = {name.lower(): version for name, version in (item.split(" ") for item in listed.group(1).split(", "))}
    assert said == pins


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation but ``-`` and ``_`` dropped, spaces to ``-``."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)
    return {_slug(h) for h in re.findall(r"^#+ (.*)$", text, flags=re.M)}


@pytest.mark.parametrize("doc", DOCS)
def test_markdown_links_resolve(doc: str) -> None:
    """Every relative link (``[x](#anchor)``, ``[x](docs/statistics.md)``) names a file that exists and
    a heading it has."""
    path = ROOT / doc
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        linked = (path.parent / file) if file else path
        if not linked.exists() or (anchor and anchor not in _anchors(linked)):
            broken.append(target)
    assert broken == []


def _help_options(pytester: pytest.Pytester) -> tuple[dict[str, str], set[str]]:
    """The ragprobe options of ``pytest --help`` with their help text, and the ragprobe ini names."""
    out = pytester.runpytest("--help").stdout.str()
    group = out[out.index("pytest-ragprobe:") : out.index("\n\n", out.index("pytest-ragprobe:"))]
    options: dict[str, str] = {}
    for m in re.finditer(r"^  (--ragprobe-[a-z-]+)(.*?)(?=^  --|\Z)", group, flags=re.M | re.S):
        options[m.group(1)] = " ".join(m.group(2).split())
    ini = set(re.findall(r"^  (ragprobe_[a-z_]+) \(", out, flags=re.M))
    return options, ini


def test_options_table_is_the_plugin_option_list(pytester: pytest.Pytester) -> None:
    """README's Options table lists every ``--ragprobe-*`` option of ``pytest --help`` (and no other),
    each with its ini twin, and the defaults the help states."""
    rows = re.findall(r"^\| `(--ragprobe-[a-z-]+)[^`]*` \| `(ragprobe_[a-z_]+)` \| ([^|]*) \|", _section("Options"),
                      flags=re.M)
    options, ini = _help_options(pytester)
    assert sorted(r[0] for r in rows) == sorted(options)
    assert sorted(r[1] for r in rows) == sorted(ini)
    for option, twin, default in rows:
        assert twin == "ragprobe_" + option.removeprefix("--ragprobe-").replace("-", "_")
        stated = re.search(r"\(default ([0-9.]+)\)", options[option])
        if stated:
            assert default.strip() == stated.group(1), option


def test_quick_start_runs_as_the_readme_says(pytester: pytest.Pytester) -> None:
    """The Quick start's conftest.py, test_rag.py and fixtures/parts.yaml, verbatim, with a myapp.rag
    answer right both ways and fixtures/qa.jsonl from the README's example line: the reverse probe of
    two facts ends INCONCLUSIVE (a warning naming the 29 facts a PASS needs), and test_mid_context, given
    a plain callable, is an error saying it needs the pipeline's generate."""
    _write(pytester, "conftest.py", _block("Quick start", "python", "# conftest.py"))
    _write(pytester, "test_rag.py", _block("Quick start", "python", "# test_rag.py"))
    _write(pytester, "fixtures/parts.yaml", _block("Quick start", "yaml", "# fixtures/parts.yaml"))
    (qa_line,) = _blocks("Facts and data files", "json")
    _write(pytester, "fixtures/qa.jsonl", qa_line)
    _write(pytester, "myapp/__init__.py", "")
    _write(pytester, "myapp/rag.py", _parts_answer({"P-200": "C-17", "P-300": "C-18"}))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rA")
    result.assert_outcomes(passed=1, errors=1, warnings=1)
    out = result.stdout.str()
    assert "INCONCLUSIVE test_rag.py::test_catalog_answers_both_ways [reverse]  fwd 1.00 rev 1.00 drop +0.00" in out
    assert "RagprobeInconclusiveWarning" in out
    assert "the minimum for a PASS is 29 facts, reached only if every answer agreed" in out
    assert "ERROR at setup of test_mid_context" in out
    assert "@ragprobe.position needs the pipeline's `generate` but myapp.rag.answer only offers: answer" in out
    assert "ragprobe.Pipeline(answer=my_answer, generate=my_generate)" in out


def test_quick_start_fail_and_pass_sizes() -> None:
    """Quick start: a PASS needs at least 29 facts at max_drop=0.10 (19 at 0.15) even when every answer
    agrees; a FAIL as clear as all right forward and all wrong in reverse shows with 6 (not with 5)."""
    import pytest_ragprobe as ragprobe
    from pytest_ragprobe.stats import min_pass_n

    text = _prose("Quick start")
    assert "PASS needs at least 29 facts (19 at `0.15`)" in text and "all wrong shows with 6" in text
    assert (min_pass_n(max_drop=0.10), min_pass_n(max_drop=0.15)) == (29, 19)

    def facts(k: int) -> list[ragprobe.Fact]:
        return [ragprobe.Fact(forward={"question": f"Forward {i}?", "answer": f"F{i}"},
                              reverse={"question": f"Reverse {i}?", "answer": f"R{i}"}) for i in range(k)]

    def forward_only(question: str) -> str:
        return "F" + question.split()[1].rstrip("?") if question.startswith("Forward") else "no idea"

    def both_ways(question: str) -> str:
        return question[0] + question.split()[1].rstrip("?")

    assert ragprobe.check_reverse(forward_only, facts(5), max_drop=0.10).verdict == "inconclusive"
    assert ragprobe.check_reverse(forward_only, facts(6), max_drop=0.10).verdict == "fail"
    assert ragprobe.check_reverse(both_ways, facts(28), max_drop=0.10).verdict == "inconclusive"
    assert ragprobe.check_reverse(both_ways, facts(29), max_drop=0.10).verdict == "pass"


def test_building_blocks_snippet_runs(pytester: pytest.Pytester) -> None:
    """The "Building blocks" test_custom, verbatim, against 30 facts answered both ways and a qa.jsonl
    whose first question has 12 distractors: check_reverse PASSes and assert_ok() lets it through, and
    ragprobe_contexts yields the three positions asked for."""
    (snippet,) = _blocks("Marks", "python")
    assert snippet.startswith("import json\nimport pytest_ragprobe as ragprobe\n\ndef test_custom(")
    snippet += "\n    assert [p for p, _ in ragprobe_contexts(example, n_docs=10, positions=[0, 5, 9])] == [0, 5, 9]\n"
    _write(pytester, "test_custom.py", snippet)
    facts = {f"P-{i}": f"C-{i}" for i in range(100, 130)}
    _write(pytester, "myapp/__init__.py", "")
    _write(pytester, "myapp/rag.py", _parts_answer(facts))
    _write(pytester, "conftest.py", _block("Quick start", "python", "# conftest.py"))
    lines = ["facts:"] + [f"  - {{subject: {p}, relation: compatible_with, object: {c}}}" for p, c in facts.items()]
    _write(pytester, "fixtures/parts.yaml", "\n".join(lines) + "\n")
    ctxs = [{"title": "P-200 manual", "text": "Pump P-200 is compatible with controller C-17.", "isgold": True}]
    ctxs += [{"title": f"P-{i} manual", "text": f"Pump P-{i} needs a {i} V supply.", "isgold": False} for i in range(12)]
    row = {"id": "q1", "question": "Which controller fits pump P-200?", "answers": ["C-17"], "ctxs": ctxs}
    _write(pytester, "fixtures/qa.jsonl", json.dumps(row) + "\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error::pytest_ragprobe.RagprobeWarning")
    result.assert_outcomes(passed=1)


def test_make_pipeline_hook_snippet_runs(pytester: pytest.Pytester) -> None:
    """The Hooks section's conftest, verbatim: a framework object the fixture returns is probed through
    the ragprobe.Pipeline the hook makes of it."""
    hook = _block("The pipeline", "python", "# conftest.py", "def pytest_ragprobe_make_pipeline(config, pipeline):")
    hook += """
import pytest

@pytest.fixture(scope="session")
def ragprobe_pipeline():
    return MyChain()
"""
    _write(pytester, "conftest.py", hook)
    _write(pytester, "myapp/__init__.py", "")
    _write(pytester, "myapp/chains.py", """
from myapp.rag import answer

class MyChain:                   # a framework's object: not a pipeline shape the plugin knows
    def invoke(self, question):
        return {"result": answer(question)}
""")
    _write(pytester, "myapp/rag.py", _parts_answer({"P-200": "C-17", "P-300": "C-18"}))
    _write(pytester, "fixtures/parts.yaml", _block("Quick start", "yaml", "# fixtures/parts.yaml"))
    _write(pytester, "test_chain.py", """
import pytest_ragprobe as ragprobe

@ragprobe.reverse(facts="fixtures/parts.yaml")
def test_chain(ragprobe_result):
    assert (ragprobe_result.forward.accuracy, ragprobe_result.reverse.accuracy) == (1.0, 1.0)
""")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, warnings=1)  # INCONCLUSIVE: two facts
    assert "(n=2, 4 calls)" in result.stdout.str()


class _ChatHandler(BaseHTTPRequestHandler):
    """A service with JSON of its own, as the README's ChatService expects: {"query"} in, {"response",
    "sources"} out."""

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["query"]
        known = {"P-200": "C-17", "C-17": "P-200", "P-300": "C-18"}  # C-18's reverse question: missed
        reply = next((v for k, v in known.items() if k + "?" in query or k + " " in query), "no idea")
        page = {"title": "P-200 manual", "text": "Pump P-200 is compatible with controller C-17."}
        body = json.dumps({"response": reply, "sources": [page]}).encode()
        self.send_response(200 if self.path == "/chat" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def chat_service() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ChatHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_chat_service_snippet_runs(pytester: pytest.Pytester, chat_service: str) -> None:
    """The ChatService conftest (a service with JSON of its own), verbatim but for its URL: its dict
    answers with documents are scored and attributed (C-18's reverse question is missed with only P-200's
    page retrieved: a retrieval miss)."""
    conftest = _block("The pipeline", "python", "# conftest.py", "class ChatService:")
    assert conftest.count('"http://localhost:8000"') == 1
    _write(pytester, "conftest.py", conftest.replace('"http://localhost:8000"', repr(chat_service)))
    _write(pytester, "fixtures/parts.yaml", _block("Quick start", "yaml", "# fixtures/parts.yaml"))
    _write(pytester, "test_chat.py", """
import pytest_ragprobe as ragprobe

@ragprobe.reverse(facts="fixtures/parts.yaml")
def test_chat(ragprobe_result):
    assert ragprobe_result.metrics["reverse_misses"] == {"retrieval": 1, "reading": 0, "unknown": 0}
""")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, warnings=1)
    assert "(n=2, 4 calls)" in result.stdout.str()


def test_facts_and_data_examples_load(pytester: pytest.Pytester) -> None:
    """The facts file and the position-data line of "Facts and data files" load as described: templates,
    object aliases, explicit questions with answer lists, statements; one gold and one distractor."""
    (facts,) = _blocks("Facts and data files", "yaml")
    (qa_line,) = _blocks("Facts and data files", "json")
    _write(pytester, "facts.yaml", facts)
    _write(pytester, "qa.jsonl", qa_line)
    _write(pytester, "test_load.py", """
import json

def test_facts(ragprobe_fact_pairs):
    pairs = ragprobe_fact_pairs("facts.yaml")
    got = [(p.forward.question, list(p.forward.answers), p.reverse.question, list(p.reverse.answers), p.statement)
           for p in pairs]
    assert got == [
        ("Which controller is compatible with pump P-200?", ["C-17"], "Which pump is compatible with controller C-17?",
         ["P-200"], "Pump P-200 is compatible with controller C-17."),
        ("Which controller is compatible with pump P-300?", ["C-18", "C18", "controller 18"],
         "Which pump is compatible with controller C-18?", ["P-300"], "Pump P-300 is compatible with controller C-18."),
        ("Who is Tom Cruise's mother?", ["Mary Lee Pfeiffer", "Mary Lee South"], "Who is Mary Lee Pfeiffer's son?",
         ["Tom Cruise"], "Who is Tom Cruise's mother? Mary Lee Pfeiffer."),
    ]

def test_data(ragprobe_contexts):
    example = json.loads(open("qa.jsonl").readline())
    got = [(p, [d.title for d in docs]) for p, docs in ragprobe_contexts(example, n_docs=2, positions=[0, 1])]
    assert got == [(0, ["P-200 manual", "P-300 manual"]), (1, ["P-300 manual", "P-200 manual"])]
""")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_parametrized_pipelines_are_named_as_the_readme_says(pytester: pytest.Pytester) -> None:
    """Marks: parametrizing ``ragprobe_pipeline`` probes each pipeline; without ``ids=`` pytest names a
    function by its name and another object by its position, as the README says."""
    marks = _prose("Marks")
    assert '`@pytest.mark.parametrize("ragprobe_pipeline", [rag_v1, rag_v2], ids=["v1", "v2"])`' in marks
    assert "pytest names functions by their name (`test_x[rag_v1]`) and other objects by their place" in marks
    assert "(`test_x[ragprobe_pipeline0]`, `[...1]`)" in marks
    _write(pytester, "fixtures/parts.yaml", _block("Quick start", "yaml", "# fixtures/parts.yaml"))
    _write(pytester, "test_x.py", """
import pytest
import pytest_ragprobe as ragprobe

def rag_v1(question):
    return "C-17"

class Rag:
    def __init__(self, top_k):
        self.top_k = top_k
    def answer(self, question):
        return "P-200"

@ragprobe.reverse(facts="fixtures/parts.yaml")
@pytest.mark.parametrize("ragprobe_pipeline", [rag_v1, Rag(top_k=3)], ids=["v1", "v2"])
def test_x(ragprobe_pipeline):
    ...

@ragprobe.reverse(facts="fixtures/parts.yaml")
@pytest.mark.parametrize("ragprobe_pipeline", [rag_v1, Rag(top_k=3)])
def test_y(ragprobe_pipeline):
    ...
""")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=4, warnings=4)
    out = result.stdout.str()
    for nodeid in ("test_x[v1]", "test_x[v2]", "test_y[rag_v1]", "test_y[ragprobe_pipeline1]"):
        assert f"test_x.py::{nodeid} PASSED" in out
    assert "fwd 0.50 rev 0.00" in out and "fwd 0.00 rev 0.50" in out  # each probed its own pipeline


def _readme_command_lines() -> list[str]:
    """The ``ragprobe show|merge|cache ...`` command lines the README writes in code spans (a synopsis's
    ``[DIR]`` / ``...`` parts dropped; a bare ``ragprobe merge``, the command's name in prose, left out)."""
    text = " ".join(README.read_text(encoding="utf-8").split())
    lines = []
    for span in re.findall(r"`ragprobe ((?:show|merge|cache)[^`]*)`", text):
        line = re.sub(r"\[([^]]*)\]", "", span.replace(" ...", "")).replace("DAYS", "30")
        lines.append(" ".join(line.split()))
    return sorted(set(lines) - {"merge"})


def test_readme_cli_command_lines_parse() -> None:
    """The ``ragprobe`` command lines the README shows are accepted by the command's parser."""
    from pytest_ragprobe.cli import build_parser

    lines = _readme_command_lines()
    assert {"show ragprobe-report/report.json --explain", "merge OUT_DIR report1.json report2.json",
            "cache --prune 30"} <= set(lines)
    for line in [*lines, "show --format markdown", "show --strict", "merge --prefer last --strict OUT a.json"]:
        build_parser().parse_args(line.split())


def test_reference_pipeline_snippet_builds() -> None:
    """"The reference pipeline": its fixture (the documents' ``...`` left out) builds a ReferencePipeline
    (no model loads before the first question), and the switches the README names are its parameters, with
    the defaults it says (``one_shot`` off, ``max_tokens`` 16, retrieval order, the index as written)."""
    import importlib.util
    import inspect

    from pytest_ragprobe.reference import ReferencePipeline
    from pytest_ragprobe.reference._extra import REFERENCE_MODULES

    if any(importlib.util.find_spec(mod) is None for mod in REFERENCE_MODULES):  # looked up, not imported
        pytest.skip("reference extra not installed; pip install 'pytest-ragprobe[reference]'")

    (snippet,) = _blocks("The reference pipeline", "python")
    assert snippet.count(", ...]") == 1 and snippet.count('@pytest.fixture(scope="session")\n') == 1
    namespace: dict[str, object] = {}
    exec(snippet.replace(", ...]", "]").replace('@pytest.fixture(scope="session")\n', ""), namespace)
    pipeline = namespace["ragprobe_pipeline"]()  # type: ignore[operator]
    assert isinstance(pipeline, ReferencePipeline) and (pipeline.k, pipeline.one_shot) == (3, True)
    params = inspect.signature(ReferencePipeline).parameters
    text = _prose("The reference pipeline")
    for switch in ("k", "index_mode", "order", "one_shot", "entity_index", "max_tokens"):
        assert f"`{switch}`" in text or f"`{switch}=" in text, switch
        assert switch in params
    defaults = {name: params[name].default for name in ("index_mode", "order", "one_shot", "max_tokens")}
    assert defaults == {"index_mode": "as_written", "order": "retrieval", "one_shot": False, "max_tokens": 16}
    assert "`max_tokens` (16)" in text and "off by default" in text


def test_ci_gating_steps_run_as_written(pytester: pytest.Pytester) -> None:
    """"Gating deploys in CI": the step's pytest command, as written, is a usage error naming the option
    that creates the baseline until one is saved (the comment's command); then it gates (exit 0 on a
    PASS) and writes the report.md the next step appends to the job summary."""
    (steps,) = _blocks("Gating deploys in CI", "yaml")
    save = re.search(r"^# baseline/report.json: saved once by `pytest (.*?)`", steps, flags=re.M)
    gate = re.search(r"^- run: pytest (.*)$", steps, flags=re.M)
    assert save is not None and gate is not None
    assert '- run: cat ragprobe-report/report.md >> "$GITHUB_STEP_SUMMARY"' in steps
    _write(pytester, "conftest.py", _block("Quick start", "python", "# conftest.py"))
    facts = {f"P-{i}": f"C-{i}" for i in range(100, 130)}
    _write(pytester, "myapp/__init__.py", "")
    _write(pytester, "myapp/rag.py", _parts_answer(facts))
    lines = ["facts:"] + [f"  - {{subject: {p}, relation: compatible_with, object: {c}}}" for p, c in facts.items()]
    _write(pytester, "fixtures/parts.yaml", "\n".join(lines) + "\n")
    _write(pytester, "test_rag.py", _block("Quick start", "python", "# test_rag.py").split("\n\n@ragprobe.position")[0])
    first = pytester.runpytest_subprocess("-p", "no:cacheprovider", *gate.group(1).split())
    assert first.ret == pytest.ExitCode.USAGE_ERROR
    assert "--ragprobe-baseline: file not found" in first.stderr.str()
    assert "a first run writes one with --ragprobe-save-baseline=PATH" in first.stderr.str()
    saved = pytester.runpytest_subprocess("-p", "no:cacheprovider", *save.group(1).split())
    assert saved.ret == pytest.ExitCode.OK
    gated = pytester.runpytest_subprocess("-p", "no:cacheprovider", *gate.group(1).split())
    assert gated.ret == pytest.ExitCode.OK
    assert "ragprobe baseline: the probe compared with" in gated.stdout.str()
    assert "PASS" in (pytester.path / "ragprobe-report" / "report.md").read_text(encoding="utf-8")


def test_marks_table_lists_every_mark_argument() -> None:
    """The Marks table names each argument of ``@ragprobe.reverse`` / ``@ragprobe.position`` (and no
    other), for the marks that take it, with the defaults the marks have."""
    from dataclasses import fields

    from pytest_ragprobe.markers import PositionSpec, ReverseSpec

    rows = [line.split("|")[1:-1] for line in _section("Marks").splitlines() if re.match(r"\| `[a-z_]+` \|", line)]
    table = {name.strip().strip("`"): (marks.strip(), default.strip()) for name, marks, _, default in rows}
    reverse = {f.name: f.default for f in fields(ReverseSpec)}
    position = {f.name: f.default for f in fields(PositionSpec)}
    assert set(table) == set(reverse) | set(position)
    for name, (marks, _) in table.items():
        takes = {"reverse"} if name in reverse else set()
        takes |= {"position"} if name in position else set()
        assert takes == ({"reverse", "position"} if marks == "both" else set(re.findall(r"reverse|position", marks)))
    assert "(required)" in table["facts"][0] and reverse["facts"] == ""  # no usable default: required
    stated = {"max_drop": "`0.10`", "n_docs": "`10`", "distractors": '`"given"`', "match": '`"contains"`'}
    for name, cell in stated.items():
        assert table[name][1] == cell
        assert f"`{position[name]!r}`".replace("'", '"') in (cell, cell.replace("0.10", "0.1"))
    assert {table[name][1] for name in ("min_accuracy", "context_tokens")} == {"none"}
    assert reverse["min_accuracy"] is None and position["context_tokens"] is None
