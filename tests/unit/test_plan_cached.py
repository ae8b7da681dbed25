"""The cost plan's count of cached calls: probes' plan records in the cache dir (cache.write_plan_record),
matched by digest (plan.probe_digest) and counted by a stat of each answer file they name."""

from __future__ import annotations

import functools
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from factories import litm_data_file

from pytest_ragprobe.cache import (
    AnswerCache,
    answer_path,
    pack_key,
    plan_record,
    plan_record_path,
    scan,
    write_plan_record,
)
from pytest_ragprobe.engine import Call
from pytest_ragprobe.facts import Fact
from pytest_ragprobe.markers import POSITION_MARK, REVERSE_MARK, build_spec
from pytest_ragprobe.plan import ProbePlan, plan_probe, run_digest, summary_lines
from pytest_ragprobe.runner import RunSettings
from pytest_ragprobe.scoring import matcher_code
from pytest_ragprobe.types import Answer, Document

FACTS = [Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(30)]
NODE = "t.py::test_x"


def stored_keys(root: Path, n: int, *, store: int | None = None) -> bytes:
    """The packed keys of ``n`` answer calls, the first ``store`` of them (all by default) in the cache."""
    cache = AnswerCache(root, "pipe@1")
    packed = b""
    for i in range(n):
        call = Call("answer", f"q{i}")
        key = cache.key(call)
        if store is None or i < store:
            assert cache.put(key, call, Answer("a"))
        raw = pack_key(key)
        assert raw is not None
        packed += raw
    return packed


def test_a_record_round_trips_and_counts_the_answers_present(tmp_path: Path) -> None:
    keys = stored_keys(tmp_path, 10, store=7)
    assert write_plan_record(tmp_path, NODE, "d1", keys, 11)  # 10 keyed calls + 1 that could not be keyed
    found = plan_record(tmp_path, NODE, "d1")
    assert found is not None and (found.calls, found.cached, found.all_cached) == (11, 7, False)
    # an answer deleted since (pruned, rm) is not counted; one stored since is
    first = keys[:32].hex()
    answer_path(tmp_path, first).unlink()
    found = plan_record(tmp_path, NODE, "d1")
    assert found is not None and found.cached == 6
    # another probe (another test id) has no record
    assert plan_record(tmp_path, "t.py::test_y", "d1") is None
    # the record is one file per test id under plans/v1, written atomically (no temp file left)
    assert [p.name for p in plan_record_path(tmp_path, NODE).parent.iterdir()] == [
        plan_record_path(tmp_path, NODE).name
    ]


def _corrupt_entries(path: Path, key: str) -> dict[str, bytes | None]:
    """Ways an entry file may be there but not a hit (None: a directory where the file should be)."""
    whole = path.read_bytes()
    data = json.loads(whole)
    edited_value = {**data, "value": {"type": "answer", "text": "x", "documents": [{"title": "no text"}]}}
    other = {"type": "text", "text": "x"} if data["kind"] == "retrieve" else {"type": "documents", "documents": []}
    return {
        "truncated": whole[: len(whole) // 2],
        "empty": b"",
        "not json": b"\xff\xfe{",
        "a list": b"[]",
        "another key": json.dumps({**data, "key": "0" * 64}).encode(),
        "no value": json.dumps({"key": key}).encode(),
        "a value that does not decode": json.dumps(edited_value).encode(),
        "another value type": json.dumps({**data, "value": other}).encode(),  # (an edited entry)
        "a directory": None,
    }


CORRUPT = ["truncated", "empty", "not json", "a list", "another key", "no value", "a value that does not decode",
           "another value type", "a directory"]


@pytest.mark.parametrize("way", CORRUPT)
def test_a_corrupt_entry_is_not_counted_as_cached(tmp_path: Path, way: str) -> None:
    """The engine reads an entry that is there but corrupt as a miss and calls the pipeline again: the plan
    counted it as cached (it only stat'ed the file), so it said fewer calls than the run made."""
    cache = AnswerCache(tmp_path, "pipe@1")
    calls = [Call("answer", "q0"), Call("generate", "q1", documents=(Document("d"),)), Call("retrieve", "q2", k=2)]
    values: list[Any] = [Answer("a", documents=(Document("d"),)), "text", [Document("d"), Document("e")]]
    keys = [cache.key(call) for call in calls]
    for key, call, value in zip(keys, calls, values, strict=True):
        assert cache.put(key, call, value)
    packed = b"".join(pack_key(key) or b"" for key in keys)
    assert write_plan_record(tmp_path, NODE, "d", packed, 3)
    found = plan_record(tmp_path, NODE, "d")
    assert found is not None and found.cached == 3
    for key in keys:  # each kind of entry in turn
        path = cache.path(key)
        good = path.read_bytes()
        junk = _corrupt_entries(path, key)[way]
        path.unlink()
        if junk is None:
            path.mkdir()
        else:
            path.write_bytes(junk)
        found = plan_record(tmp_path, NODE, "d")
        engine = AnswerCache(tmp_path, "pipe@1")
        hits = sum(engine.get(k, call.kind) is not None for k, call in zip(keys, calls, strict=True))
        assert hits == 2  # the engine: a miss, so the run calls the pipeline once more
        assert found is not None and (found.calls, found.cached) == (3, hits)
        if junk is None:
            path.rmdir()
        path.write_bytes(good)


def test_every_answer_cached_is_all_cached(tmp_path: Path) -> None:
    keys = stored_keys(tmp_path, 5)
    write_plan_record(tmp_path, NODE, "d", keys, 5)
    found = plan_record(tmp_path, NODE, "d")
    assert found is not None and found.all_cached


def test_a_record_of_other_settings_is_not_used(tmp_path: Path) -> None:
    write_plan_record(tmp_path, NODE, "digest-of-n=10", stored_keys(tmp_path, 4), 4)
    assert plan_record(tmp_path, NODE, "digest-of-n=20") is None
    assert plan_record(tmp_path, NODE, "") is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{not json",
        "[]",
        json.dumps({"nodeid": NODE, "digest": "d", "answers": 1, "calls": 2, "keys": "!!not base64!!"}),
        json.dumps({"nodeid": NODE, "digest": "d", "answers": 1, "calls": 2, "keys": "AAAA"}),  # 3 bytes
        json.dumps({"nodeid": NODE, "digest": "d", "answers": 1, "calls": 0, "keys": "A" * 43 + "="}),  # 1 > 0
        json.dumps({"nodeid": NODE, "digest": "d", "answers": 1, "calls": "2", "keys": ""}),
        json.dumps({"nodeid": NODE, "digest": "d", "answers": 99, "calls": 0, "keys": ""}),  # other format
        json.dumps({"nodeid": "other", "digest": "d", "answers": 1, "calls": 0, "keys": ""}),  # a hash clash
        json.dumps({"nodeid": NODE, "digest": "d", "answers": 1, "calls": 2, "keys": "é"}),
    ],
)
def test_a_corrupt_record_is_ignored(tmp_path: Path, text: str) -> None:
    path = plan_record_path(tmp_path, NODE)
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    assert plan_record(tmp_path, NODE, "d") is None


def test_writing_never_raises(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert write_plan_record(blocker, NODE, "d", b"", 1) is False  # the cache dir is a file
    assert write_plan_record(tmp_path, NODE, "d", b"\0" * 31, 1) is False  # not whole keys
    assert write_plan_record(tmp_path, NODE, "", b"", 1) is False  # no digest: nothing to match
    assert pack_key("") is None and pack_key("zz" * 32) is None


def test_records_are_not_answers_and_prune_removes_stale_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pytest_ragprobe.cli import main

    keys = stored_keys(tmp_path, 3)
    write_plan_record(tmp_path, "t.py::test_new", "d", keys, 3)
    write_plan_record(tmp_path, "t.py::test_old", "d", keys, 3)
    month_ago = time.time() - 30 * 86400
    stale = plan_record_path(tmp_path, "t.py::test_old")
    os.utime(stale, (month_ago, month_ago))
    leftover = stale.parent / ".abc.tmp"  # an interrupted write, long ago
    leftover.write_text("{")
    os.utime(leftover, (month_ago, month_ago))
    stats = scan(tmp_path)
    assert (stats.entries, stats.plans) == (3, 2)  # the records are not counted as answers
    assert main(["cache", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "3 entries" in out and "and 2 plan records" in out
    assert main(["cache", str(tmp_path), "--prune", "7"]) == 0
    out = capsys.readouterr().out
    assert "removed 0 entries" in out and "1 plan record of probes not run since" in out
    assert not stale.exists() and not leftover.exists()
    assert plan_record(tmp_path, "t.py::test_new", "d") is not None
    assert (scan(tmp_path).plans, scan(tmp_path).entries) == (1, 3)


# -- the plan ------------------------------------------------------------------------------------------


def settings_for(root: Path, **kwargs: object) -> RunSettings:
    return RunSettings(cache_dir=root, **kwargs)  # type: ignore[arg-type]


def recorded_plan(tmp_path: Path, mark: str, settings: RunSettings, cached: int, **args: object) -> ProbePlan:
    """Plan a probe, then record it as its run would have (``cached`` of its calls answered)."""
    spec = build_spec(mark, args)
    first = plan_probe(NODE, spec, settings, [tmp_path])
    assert first.digest and settings.cache_dir is not None
    root = settings.cache_dir
    write_plan_record(root, NODE, first.digest, stored_keys(root, first.calls_max, store=cached), first.calls_max)
    return plan_probe(NODE, spec, settings, [tmp_path])


def test_a_matching_record_gives_the_cached_count(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    again = recorded_plan(tmp_path, REVERSE_MARK, settings, 40, facts=FACTS, n=20)
    assert (again.recorded, again.cached, again.all_cached, again.uncached_max) == (40, 40, True, 0)
    partly = recorded_plan(tmp_path, REVERSE_MARK, settings_for(tmp_path / "other"), 30, facts=FACTS, n=20)
    assert (partly.cached, partly.all_cached, partly.uncached_max) == (30, False, 10)
    # the cache off (--ragprobe-no-cache): nothing looked up (nor a digest made: nothing is recorded either)
    off = plan_probe(NODE, build_spec(REVERSE_MARK, {"facts": FACTS, "n": 20}), RunSettings(), [tmp_path])
    assert off.cached is None and off.digest == ""
    # lookup=False (what a probe uses to record itself): no stat
    spec = build_spec(REVERSE_MARK, {"facts": FACTS, "n": 20})
    assert plan_probe(NODE, spec, settings, [tmp_path], lookup=False).cached is None


@pytest.mark.parametrize(
    "change",
    [
        {"n": 21},
        {"seed": 5},
        {"max_drop": 0.2},  # a verdict setting may move where a sequential probe stops: conservative
        {"sequential": True},
    ],
)
def test_a_record_of_other_reverse_settings_is_not_used(tmp_path: Path, change: dict[str, object]) -> None:
    settings = settings_for(tmp_path)
    recorded_plan(tmp_path, REVERSE_MARK, settings, 40, facts=FACTS, n=20, max_drop=0.1)
    args = {"facts": FACTS, "n": 20, "max_drop": 0.1, **change}
    assert plan_probe(NODE, build_spec(REVERSE_MARK, args), settings, [tmp_path]).cached is None


def compiled(source: str, name: str = "judge", first_line: int = 1) -> Any:
    namespace: dict[str, Any] = {}
    exec(compile("\n" * (first_line - 1) + source, "judges.py", "exec"), namespace)
    return namespace[name]


JUDGE = "def judge(answer, golds):\n    return any(g in answer for g in golds)\n"


def test_a_match_callable_whose_body_changed_is_not_the_recorded_probe(tmp_path: Path) -> None:
    # matcher_name is "judges.judge" either way: the settings alone would count the old record's calls
    settings = settings_for(tmp_path)
    recorded_plan(tmp_path, REVERSE_MARK, settings, 40, facts=FACTS, n=20, match=compiled(JUDGE))
    again = build_spec(REVERSE_MARK, {"facts": FACTS, "n": 20, "match": compiled(JUDGE, first_line=30)})
    assert plan_probe(NODE, again, settings, [tmp_path]).cached == 40  # moved in its file: the same
    edited = build_spec(REVERSE_MARK, {"facts": FACTS, "n": 20, "match": compiled(JUDGE.replace("any", "all"))})
    assert plan_probe(NODE, edited, settings, [tmp_path]).cached is None


def test_matcher_code_follows_what_a_matcher_runs() -> None:
    judge = compiled(JUDGE)
    assert matcher_code("contains") == "" and matcher_code("regex") == ""
    assert matcher_code(judge) == matcher_code(compiled(JUDGE, first_line=9))
    assert matcher_code(judge) != matcher_code(compiled(JUDGE.replace("in answer", "in answer.lower()")))
    assert matcher_code(judge) != matcher_code(compiled(JUDGE.replace("any(", "(lambda x: any(x))(")))
    assert matcher_code(functools.partial(judge)) != matcher_code(judge)
    calls = "class Judge:\n    def __call__(self, answer, golds):\n        return {}\n"
    first, second = compiled(calls.format("True"), "Judge"), compiled(calls.format("False"), "Judge")
    assert matcher_code(first()) != matcher_code(second())
    assert matcher_code(type("Sub", (first,), {})()) != ""  # an inherited __call__ is found
    assert len(matcher_code(len)) == 16  # a builtin: by name


def test_run_wide_settings_and_edited_facts_invalidate_the_record(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    path = tmp_path / "facts.yaml"
    rows = "".join(
        f"  - forward: {{question: 'Which controller works with pump P-{i}?', answer: C-{i}}}\n"
        f"    reverse: {{question: 'Which pump works with controller C-{i}?', answer: P-{i}}}\n"
        for i in range(9)
    )
    path.write_text("facts:\n" + rows, encoding="utf-8")
    recorded_plan(tmp_path, REVERSE_MARK, settings, 18, facts="facts.yaml")
    spec = build_spec(REVERSE_MARK, {"facts": "facts.yaml"})
    assert plan_probe(NODE, spec, settings, [tmp_path]).cached == 18
    for other in (settings_for(tmp_path, seed=1), settings_for(tmp_path, samples=5),
                  settings_for(tmp_path, sequential=True), settings_for(tmp_path, confidence=0.9)):
        assert plan_probe(NODE, spec, other, [tmp_path]).cached is None
    # the same path, one question edited: other calls
    edited = path.read_text().replace("controller C-3?", "controller C-33?")
    assert edited != path.read_text()
    path.write_text(edited, encoding="utf-8")
    assert plan_probe(NODE, spec, settings, [tmp_path]).cached is None


def test_a_position_record_follows_every_document_of_the_data(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    litm_data_file(tmp_path, 25)
    again = recorded_plan(tmp_path, POSITION_MARK, settings, 50, data="qa.jsonl", n_docs=6, n=10)
    assert (again.recorded, again.cached) == (50, 50)
    spec = build_spec(POSITION_MARK, {"data": "qa.jsonl", "n_docs": 6, "n": 10})
    other = build_spec(POSITION_MARK, {"data": "qa.jsonl", "n_docs": 6, "n": 10, "positions": [0, 5]})
    assert plan_probe(NODE, other, settings, [tmp_path]).cached is None
    # a distractor text edited (the contexts borrow from every question's documents): not the same calls
    litm_data_file(tmp_path, 25, note="Memo")
    assert plan_probe(NODE, spec, settings, [tmp_path]).cached is None


def test_run_digest_matches_only_the_settings_the_plan_sampled(tmp_path: Path) -> None:
    from pytest_ragprobe.reverse_probe import sample_digest, settings_dict

    spec = build_spec(REVERSE_MARK, {"facts": FACTS, "n": 20})
    plan = plan_probe(NODE, spec, settings_for(tmp_path), [tmp_path])
    from pytest_ragprobe.facts import distinct_questions, resolve_pairs, sample

    pairs = resolve_pairs(FACTS, seed=0)
    chosen = sample(distinct_questions(pairs, 0), 20, 0, "reverse")
    probed = settings_dict(spec, 0.95, 0, n_planned=20, sample_digest=sample_digest(chosen))
    probed["sequential"] = False  # as ProbeContext.result completes it
    assert run_digest(plan, probed) == plan.digest
    assert run_digest(plan, {**probed, "sample_digest": "0" * 16}) == ""  # the data changed mid-run
    assert run_digest(ProbePlan(NODE, "reverse", error="x"), probed) == ""


# -- the lines -----------------------------------------------------------------------------------------


def rev(name: str, n: int, *, cached: int | None = None, recorded: int = 0, extra: int = 0) -> ProbePlan:
    return ProbePlan(f"t.py::{name}", "reverse", n, 2, extra, recorded=recorded, cached=cached)


def test_the_head_says_how_many_calls_are_cached() -> None:
    warm = [rev("a", 20, cached=40, recorded=40), rev("b", 20, cached=40, recorded=40)]
    assert summary_lines(warm, None, verbose=False) == [
        "ragprobe plan: 2 probes, up to 80 pipeline calls (cached answers are free: 80 of them are in the "
        "answer cache from the last run, so none if the pipelines are unchanged)"
    ]
    partly = [rev("a", 20, cached=30, recorded=40), rev("b", 20)]  # b: no record, counted at its most
    lines = summary_lines(partly, None, verbose=True)
    assert lines[0].endswith("(cached answers are free: 30 of them are in the answer cache from the last "
                             "run, so up to 50 if the pipelines are unchanged)")
    assert lines[1] == "  t.py::a [reverse] 40 calls = 20 facts x 2 (30 cached)"
    assert lines[2] == "  t.py::b [reverse] 40 calls = 20 facts x 2"
    synthetic = [rev("s", 10, cached=20, recorded=20, extra=1)]  # index() is made on every run
    assert "so 1 if the pipelines are unchanged" in summary_lines(synthetic, None, verbose=False)[0]
    # a record whose answers are all gone, or no record: the plain line
    cold = [rev("a", 20, cached=0, recorded=40), rev("b", 20)]
    assert summary_lines(cold, None, verbose=False)[0].endswith("80 pipeline calls (cached answers are free)")


def test_a_budget_smaller_than_the_plan_but_covering_the_uncached_calls() -> None:
    warm = [rev("a", 20, cached=40, recorded=40), rev("b", 20, cached=40, recorded=40)]
    (line,) = summary_lines(warm, 50, verbose=False)[1:]
    assert "covers 50 of up to 80" not in line
    assert line == (
        "ragprobe plan: --ragprobe-budget=50 covers the calls not in the answer cache (none if the pipelines "
        "are unchanged: the 80 calls the probes asked last run are all cached); a changed pipeline asks anew "
        "(up to 80 calls), and then probes that run out end INCONCLUSIVE (a FAIL already shown stays)"
    )
    # all cached: the xdist shares and the room for retries are not in question either
    assert summary_lines(warm, 100, verbose=False, workers=4)[1:] == []
    partly = [rev("a", 20, cached=30, recorded=40), rev("b", 20, cached=40, recorded=40)]
    assert summary_lines(partly, 50, verbose=False)[1] == (
        "ragprobe plan: --ragprobe-budget=50 covers the up to 10 calls not in the answer cache if the "
        "pipelines are unchanged, but only 50 of up to 80 if they changed; probes that run out end "
        "INCONCLUSIVE (a FAIL already shown stays)"
    )
    short = [rev("a", 20, cached=10, recorded=40), rev("b", 20)]
    assert summary_lines(short, 50, verbose=False)[1] == (
        "ragprobe plan: --ragprobe-budget=50 covers 50 of up to 80 calls (50 of the up to 70 not in the "
        "answer cache if the pipelines are unchanged); probes that run out end INCONCLUSIVE (a FAIL already "
        "shown stays)"
    )
    unknown = [rev("a", 20), rev("b", 20)]  # the wording without records is as before
    assert summary_lines(unknown, 50, verbose=False)[1] == (
        "ragprobe plan: --ragprobe-budget=50 covers 50 of up to 80 calls; probes that run out end "
        "INCONCLUSIVE (a FAIL already shown stays)"
    )


def test_a_reordered_facts_file_is_not_the_recorded_probe(tmp_path: Path) -> None:
    """The sample digest in a reverse probe's settings is order-free (a baseline under another seed compares),
    but the order the facts are asked in decides where a sequential probe stops: the same facts in another
    file order matched the record, and the plan counted calls the run would not ask as cached."""
    settings = settings_for(tmp_path)
    rows = [
        f"  - forward: {{question: 'Which controller works with pump P-{i}?', answer: C-{i}}}\n"
        f"    reverse: {{question: 'Which pump works with controller C-{i}?', answer: P-{i}}}\n"
        for i in range(40)
    ]
    path = tmp_path / "facts.yaml"
    path.write_text("facts:\n" + "".join(rows), encoding="utf-8")
    again = recorded_plan(tmp_path, REVERSE_MARK, settings, 80, facts="facts.yaml", sequential=True)
    assert again.cached == 80
    path.write_text("facts:\n" + "".join(reversed(rows)), encoding="utf-8")
    spec = build_spec(REVERSE_MARK, {"facts": "facts.yaml", "sequential": True})
    assert plan_probe(NODE, spec, settings, [tmp_path]).cached is None
