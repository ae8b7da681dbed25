"""One label for two configurations of a class: reports tell them apart by their cache identity, only
where a report holds both (results.distinguish_pipelines)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from factories import report, reverse_probe

import pytest_ragprobe as ragprobe
from pytest_ragprobe.baseline import compare
from pytest_ragprobe.cache import identity_base
from pytest_ragprobe.cli import merge_reports
from pytest_ragprobe.pipeline import PipelineAdapter
from pytest_ragprobe.results import ProbeResult, distinguish_pipelines


class Rag:
    def __init__(self, top_k: int) -> None:
        self.top_k = top_k

    def answer(self, question: str) -> str:
        return "C-1" if "pump" in question else "P-1"


LABEL = f"{__name__}.Rag"


def probe(nodeid: str, identity: str, label: str = LABEL) -> ProbeResult:
    return reverse_probe(nodeid, pipeline=label, pipeline_identity=identity)


def test_two_configurations_of_a_class_share_a_label_and_differ_in_identity() -> None:
    small, large = PipelineAdapter(Rag(3)), PipelineAdapter(Rag(10))
    assert small.identity == large.identity == LABEL
    assert small.cache_identity != large.cache_identity
    assert identity_base(small.cache_identity) == LABEL  # the label is the identity without its hash
    assert PipelineAdapter(Rag(3)).cache_identity == small.cache_identity  # one configuration, one identity


def test_the_result_carries_the_label_and_the_identity() -> None:
    facts = [ragprobe.Fact(subject="P-1", relation="compatible_with", object="C-1")]
    result = ragprobe.check_reverse(Rag(3), facts, max_drop=0.5)
    assert result.pipeline == LABEL  # in the test body: the label, as before
    assert result.pipeline_identity == PipelineAdapter(Rag(3)).cache_identity
    assert result.pipeline_identity.startswith(LABEL + "#")


def test_a_shared_label_is_qualified_by_identity_and_a_unique_one_kept() -> None:
    a, b = f"{LABEL}#{'a' * 12}", f"{LABEL}#{'b' * 12}"
    probes = [
        probe("t.py::test[small]", a),
        probe("t.py::test[large]", b),
        probe("t.py::other[small]", a),
        probe("t.py::solo", "solo.Rag#" + "c" * 12, label="solo.Rag"),
        reverse_probe("t.py::unknown", pipeline="old.Rag"),  # a report written before identities
        reverse_probe("t.py::error", verdict="error"),  # no pipeline at all
    ]
    out = distinguish_pipelines(probes)
    assert [p.pipeline for p in out] == [a, b, a, "solo.Rag", "old.Rag", ""]
    assert [p.pipeline_identity for p in out] == [p.pipeline_identity for p in probes]
    assert distinguish_pipelines(out) == out  # idempotent
    assert [p.pipeline for p in probes] == [LABEL, LABEL, LABEL, "solo.Rag", "old.Rag", ""]  # copies
    # one configuration twice is one pipeline: its label stays
    same = distinguish_pipelines([probe("t.py::x", a), probe("t.py::y", a)])
    assert [p.pipeline for p in same] == [LABEL, LABEL]


def test_merged_shards_decide_labels_over_all_of_them() -> None:
    a, b = f"{LABEL}#{'a' * 12}", f"{LABEL}#{'b' * 12}"
    # shard 1 ran both configurations (qualified); shard 2 only one (plain label); shard 3 the other
    one = report(*distinguish_pipelines([probe("t.py::s1[small]", a), probe("t.py::s1[large]", b)]))
    two = report(probe("t.py::s2[small]", a))
    assert [p.pipeline for p in one.probes] == [a, b] and two.probes[0].pipeline == LABEL
    merged, _ = merge_reports([(Path("one.json"), one), (Path("two.json"), two)])
    assert {p.nodeid: p.pipeline for p in merged.probes} == {
        "t.py::s1[small]": a,
        "t.py::s1[large]": b,
        "t.py::s2[small]": a,
    }
    # two shards of one configuration each: told apart only once merged
    merged, _ = merge_reports(
        [(Path("x.json"), report(probe("t.py::x", a))), (Path("y.json"), report(probe("t.py::y", b)))]
    )
    assert [p.pipeline for p in merged.probes] == [a, b]
    only = report(probe("t.py::x", a))
    merged, _ = merge_reports([(Path("x.json"), only), (Path("x2.json"), report(probe("t.py::z", a)))])
    assert [p.pipeline for p in merged.probes] == [LABEL, LABEL]


def test_a_baseline_with_a_qualified_label_is_the_same_pipeline() -> None:
    # the saved report labels it by its identity; the new result, in its test, by its plain label
    a = f"{LABEL}#{'a' * 12}"
    old = probe("t.py::x[small]", a, label=a)
    new = probe("t.py::x[small]", a).model_copy(update={"metrics": {**old.metrics, "reverse_accuracy": 0.2}})
    new.reverse = new.reverse.model_copy(update={"accuracy": 0.2, "correct": 4}) if new.reverse else None
    got = compare(new, json.loads(old.model_dump_json()), confidence=0.95)
    assert got.status == "regression" and "pipeline" not in got.message, got.message
    # another pipeline is still named
    other = new.model_copy(update={"pipeline": "other.Rag"})
    assert compare(other, json.loads(old.model_dump_json()), confidence=0.95).message.endswith(
        f"; pipeline {LABEL} -> other.Rag"
    )


@pytest.mark.parametrize("named", [True, False])
def test_a_name_is_the_label_of_choice(named: bool) -> None:
    class Named(Rag):
        name = "rag-top3"

    adapter = PipelineAdapter(Named(3) if named else ragprobe.Pipeline(answer=Rag(3).answer, name="rag-top3"))
    assert adapter.identity == "rag-top3" and adapter.cache_identity.startswith("rag-top3#")
