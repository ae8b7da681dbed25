"""What went into a pipeline's cache identity, recorded beside its first cached answer, and the
notice naming what changed when a run finds nothing cached for it."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from factories import run_starts

from pytest_ragprobe.cache import (
    AnswerCache,
    identities,
    identity_base,
    identity_notices,
    parts_differ,
    scan,
)
from pytest_ragprobe.engine import Call
from pytest_ragprobe.pipeline import Pipeline, describe, identity_parts, make_adapter

CONFIG = {"model": "m1"}


class Rag:
    PROMPT = "Q: {q}"

    def __init__(self, top_k: int = 3) -> None:
        self.top_k = top_k
        self.workdir = "/tmp/a"

    def answer(self, question: str) -> str:
        return self.PROMPT.format(q=question) + CONFIG["model"]


class Versioned(Rag):
    version = "1"


def _gen(question: str, documents: object) -> str:
    return question


def test_identity_parts_name_each_configuration_value_and_leave_identities_unchanged() -> None:
    a, b = Rag(), Rag()
    b.workdir = "/tmp/b"
    pa, pb = identity_parts(a), identity_parts(b)
    assert {"code", "workdir", "top_k", "global.CONFIG", "class.Rag.PROMPT"} <= set(pa)
    assert all(len(h) == 12 for h in pa.values())
    assert [k for k in pa if pa[k] != pb[k]] == ["workdir"]
    # the identity strings themselves are what they were (existing caches stay valid)
    parts: dict[str, str] = {}
    assert describe(a, fingerprint=True, parts=parts) == describe(a, fingerprint=True)
    assert parts == pa
    assert make_adapter(a).cache_identity == describe(a, fingerprint=True)
    # a versioned pipeline owns its identity: its configuration is not part of it
    assert not {"workdir", "top_k", "global.CONFIG"} & set(identity_parts(Versioned()))
    composed = identity_parts(Pipeline(answer=a.answer, generate=_gen))
    assert "answer:workdir" in composed and "generate:code" in composed


def test_identity_base_strips_the_hashes() -> None:
    assert identity_base("conftest.Pipe#1a2b3c4d5e6f") == "conftest.Pipe"
    assert identity_base("rag@2#1a2b3c4d5e6f") == "rag@2"
    assert identity_base("Pipeline(answer=m.f#1a2b3c4d5e6f, generate=m.g#abcdefabcdef)") == (
        "Pipeline(answer=m.f, generate=m.g)"
    )
    assert identity_base("http:http://x:1") == "http:http://x:1"


def _store(root: Path, obj: object, question: str = "q") -> AnswerCache:
    adapter = make_adapter(obj)
    cache = AnswerCache(root, adapter.cache_identity, "ns")
    call = Call("answer", question)
    assert cache.put(cache.key(call), call, "a")
    return cache


def test_first_entry_writes_a_sidecar_and_diffing_names_workdir(tmp_path: Path) -> None:
    old, new = Rag(), Rag()
    new.workdir = "/tmp/other"
    cache = _store(tmp_path, old)
    _store(tmp_path, old, "q2")  # a second entry: still one sidecar
    sidecars = list((tmp_path / "identities").glob("*.json"))
    assert len(sidecars) == 1
    data = json.loads(sidecars[0].read_text())
    assert data["identity"] == cache.identity and data["base"] == describe(old)
    assert data["parts"] == identity_parts(old) and data["time"] <= time.time()
    assert not list((tmp_path / "identities").glob("*.tmp"))
    assert scan(tmp_path).entries == 2  # the sidecar is not an entry
    since = run_starts()
    _store(tmp_path, new)
    base = describe(new)
    assert identity_notices(tmp_path, {base: (24, 0)}, since) == []  # one change may be on purpose
    newer = Rag()
    newer.workdir = "/tmp/third"
    since = run_starts()
    _store(tmp_path, newer)
    notices = identity_notices(tmp_path, {base: (24, 0)}, since)
    assert len(notices) == 1
    assert notices[0].startswith(f"ragprobe: the answer cache had no answers for {base}#")
    assert f"(24 calls); it holds 2 other configurations of {base}, last used " in notices[0]
    assert (
        "what differs from the latest: attribute 'workdir'. If you changed it on purpose, nothing to do. "
        "A value that changes every run"
    ) in notices[0]
    # hits (or no calls) this run: nothing to say; nor for a pipeline the run did not use
    assert identity_notices(tmp_path, {base: (24, 1)}, since) == []
    assert identity_notices(tmp_path, {base: (0, 0)}, since) == []
    assert identity_notices(tmp_path, {"other.Pipe": (24, 0)}, since) == []
    # a first run: no earlier configuration
    assert identity_notices(tmp_path, {base: (24, 0)}, 0.0) == []


def test_parts_differ_in_words() -> None:
    a = {"code": "1", "workdir": "1", "global.SEED": "1"}
    assert parts_differ(a, {**a, "workdir": "2"}) == "attribute 'workdir'"
    assert parts_differ(a, {**a, "code": "2"}) == "its code"
    assert parts_differ(a, a) == ""
    both = parts_differ(a, {"code": "2", "workdir": "2", "global.SEED": "2"})
    assert both == "global 'SEED' and attribute 'workdir' (and its code)"
    assert parts_differ({"answer:port": "1"}, {"answer:port": "2"}) == "answer's attribute 'port'"


def test_hits_refresh_and_prune_drops_sidecars_without_entries(tmp_path: Path) -> None:
    cache = _store(tmp_path, Rag())
    (sidecar,) = (tmp_path / "identities").glob("*.json")
    os.utime(sidecar, (1000.0, 1000.0))
    fresh = AnswerCache(tmp_path, cache.identity, "ns")
    assert fresh.get(fresh.key(Call("answer", "q"))) is not None
    assert sidecar.stat().st_mtime > 1000.0  # "last used"
    (entry,) = (tmp_path / "answers").glob("v*/*/*.json")
    os.utime(entry, (1000.0, 1000.0))
    os.utime(sidecar, (1000.0, 1000.0))
    stats = scan(tmp_path, prune_before=time.time() - 86400)
    assert stats.removed == 1 and stats.entries == 0
    assert not sidecar.exists()
    assert identities(tmp_path) == []


def test_sidecar_trouble_never_raises(tmp_path: Path) -> None:
    (tmp_path / "identities").write_text("not a directory")
    cache = _store(tmp_path, Rag())  # the entry is stored, the sidecar quietly not
    assert cache.get(cache.key(Call("answer", "q"))) is not None
    assert identities(tmp_path) == []
    assert identity_notices(tmp_path, {describe(Rag()): (3, 0)}, 0.0) == []


def test_a_code_edit_is_not_taken_for_a_value_that_changes_every_run(tmp_path: Path) -> None:
    # Three configurations of one pipeline that differ only in code: edits, said nowhere.
    (tmp_path / "identities").mkdir()
    for i, created in enumerate((1.0, 2.0, 10.0)):
        sidecar = {"identity": f"m.Rag#{i:012x}", "parts": {"code": f"c{i}", "top_k": "k"}, "time": created}
        (tmp_path / "identities" / f"{i}.json").write_text(json.dumps(sidecar))
        os.utime(tmp_path / "identities" / f"{i}.json", (created, created))  # last used: in this order
    assert identity_notices(tmp_path, {"m.Rag": (10, 0)}, since=5.0) == []
    # the same with a value that changed too: named
    sidecar = {"identity": "m.Rag#00000000000f", "parts": {"code": "c2", "top_k": "other"}, "time": 11.0}
    (tmp_path / "identities" / "3.json").write_text(json.dumps(sidecar))
    (notice,) = identity_notices(tmp_path, {"m.Rag": (10, 0)}, since=10.5)
    assert "it holds 3 other configurations of m.Rag" in notice
    assert "what differs from the latest: attribute 'top_k'." in notice


def _configs(workdir: str) -> list[Rag]:
    """Two configurations of one pipeline used side by side (top_k 3 and 5), in ``workdir``."""
    out = [Rag(top_k=3), Rag(top_k=5)]
    for rag in out:
        rag.workdir = workdir
    return out


def _run(root: Path, rags: list[Rag], *, hits: int = 0) -> list[str]:
    """One run storing an answer for each pipeline, then its end-of-run notices."""
    since = run_starts()
    for rag in rags:
        _store(root, rag)
    return identity_notices(root, {describe(Rag()): (2 * len(rags), hits)}, since)


def test_configurations_used_side_by_side_are_one_run_not_a_value_that_changes(tmp_path: Path) -> None:
    assert _run(tmp_path, _configs("/tmp/a")) == []
    # the second run changes both: two other configurations exist, but both from one run
    assert _run(tmp_path, _configs("/tmp/b")) == []
    # the end of each run records which run made each identity
    made = {i.identity: i.run for i in identities(tmp_path)}
    assert len(made) == 4 and len(set(made.values())) == 2 and None not in made.values()
    # a third run that changes them again: from the third such run, named, each against its own
    # configuration of the latest run (its top_k is the same)
    notices = _run(tmp_path, _configs("/tmp/c"))
    assert len(notices) == 2
    for notice in notices:
        assert "it holds 4 other configurations" in notice
        assert "what differs from the latest: attribute 'workdir'. If you changed it on purpose" in notice


def test_configurations_a_later_run_hits_are_stable(tmp_path: Path) -> None:
    assert _run(tmp_path, _configs("/tmp/a")) == []
    assert _run(tmp_path, _configs("/tmp/b")) == []
    # a run that hits the "b" configurations (an answer each), as a stable suite does
    since = run_starts()
    for rag in _configs("/tmp/b"):
        cache = AnswerCache(tmp_path, make_adapter(rag).cache_identity, "ns")
        assert cache.get(cache.key(Call("answer", "q"))) is not None
    assert identity_notices(tmp_path, {describe(Rag()): (0, 2)}, since) == []
    reused = {i.identity for i in identities(tmp_path) if i.reused}
    assert reused == {make_adapter(rag).cache_identity for rag in _configs("/tmp/b")}
    # one more change: the runs made one-off configurations are 1 ("a") and this one: ordinary
    assert _run(tmp_path, _configs("/tmp/c")) == []
    assert len(_run(tmp_path, _configs("/tmp/d"))) == 2  # "c" and "d" were never hit again: named


def test_recording_the_run_keeps_the_last_used_time(tmp_path: Path) -> None:
    _store(tmp_path, Rag())
    (sidecar,) = (tmp_path / "identities").glob("*.json")
    before = sidecar.stat().st_mtime
    assert identity_notices(tmp_path, {}, since=before - 1) == []  # not even a pipeline used: recorded
    assert json.loads(sidecar.read_text())["run"] == before - 1
    assert sidecar.stat().st_mtime == before
    assert not list((tmp_path / "identities").glob("*.tmp")) and not list((tmp_path / "identities").glob(".*"))


def test_configurations_used_side_by_side_do_not_each_claim_all_the_calls(tmp_path: Path) -> None:
    # Was: two configurations of one class (a parametrized fixture), 60 calls each, each noticed with
    # "(120 calls)": the probes count calls per base name, so that was the run's total for both.
    base = describe(Rag())
    for run in range(3):
        since = run_starts()
        for top_k in (1, 2):
            rag = Rag(top_k)
            rag.workdir = f"/tmp/run{run}"  # a value that changes every run
            _store(tmp_path, rag)
    notices = identity_notices(tmp_path, {base: (120, 0)}, since)
    assert len(notices) == 2
    assert all("(120 calls of its 2 configurations this run); it holds 4 other" in n for n in notices), notices


def test_back_to_back_runs_do_not_take_the_last_runs_configuration_for_a_hit(tmp_path: Path) -> None:
    # Runs in one process (pytester) can start within the 50 ms clock slack of the last one's sidecar
    # writes: the last run's sidecar then looked touched by this run, was marked reused (stable) and
    # the third run's notice was never given. Each run here starts right after the last one ended.
    base = describe(Rag())
    notices: list[str] = []
    for workdir in ("/tmp/a", "/tmp/b", "/tmp/c"):
        rag = Rag()
        rag.workdir = workdir
        since = time.time()
        _store(tmp_path, rag)
        notices = identity_notices(tmp_path, {base: (24, 0)}, since)
    assert not any(i.reused for i in identities(tmp_path))
    assert len(notices) == 1 and "it holds 2 other configurations" in notices[0]
    # a real hit of an earlier configuration still counts as one
    since = time.time()
    cache = AnswerCache(tmp_path, make_adapter(Rag()).cache_identity, "ns")  # workdir /tmp/a: the first run's
    assert cache.get(cache.key(Call("answer", "q"))) is not None
    identity_notices(tmp_path, {base: (24, 1)}, since)
    assert [i.identity for i in identities(tmp_path) if i.reused] == [cache.identity]
