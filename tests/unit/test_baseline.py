"""baseline.py: regression detection against an earlier report (hand-built ProbeResults, and real probes)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from scipy.stats import fisher_exact, norm

from pytest_ragprobe import Document, Pipeline, check_position
from pytest_ragprobe.baseline import BaselineComparison, BaselineError, compare, load_baseline, read_baseline
from pytest_ragprobe.results import DirectionSummary, ProbeResult

SETTINGS: dict[str, Any] = {
    "facts": "fixtures/parts.yaml",
    "match": "contains",
    "n": None,
    "seed": 0,
    "n_planned": 100,
    "max_drop": 0.1,
    "confidence": 0.95,
}


def direction(correct: int, n: int) -> DirectionSummary:
    return DirectionSummary(accuracy=correct / n, correct=correct, n=n, ci=(0.0, 1.0))


def reverse_result(
    fwd: int,
    rev: int,
    *,
    forward_only: int,
    reverse_only: int,
    n: int = 100,
    verdict: str = "pass",
    settings: dict[str, Any] | None = None,
) -> ProbeResult:
    assert fwd - rev == forward_only - reverse_only  # consistent paired table
    drop = (fwd - rev) / n
    return ProbeResult(
        nodeid="tests/test_catalog.py::test_both_ways",
        kind="reverse",
        verdict=verdict,  # type: ignore[arg-type]
        n=n,
        metrics={
            "forward_accuracy": fwd / n,
            "reverse_accuracy": rev / n,
            "drop": drop,
            "drop_ci": [drop - 0.05, drop + 0.05],
            "p_value": 0.5,
            "discordant": {"forward_only": forward_only, "reverse_only": reverse_only},
        },
        settings=dict(SETTINGS if settings is None else settings),
        forward=direction(fwd, n),
        reverse=direction(rev, n),
    )


def as_baseline(result: ProbeResult) -> dict[str, Any]:
    """What load_baseline hands over: the JSON form of the probe."""
    data: dict[str, Any] = json.loads(result.model_dump_json())
    return data


def holm(p_values: list[float]) -> list[float]:
    """Holm step-down adjusted p-values (reference implementation for the checks below)."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    out = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        out[i] = running
    return out


def test_reverse_accuracy_regression_is_flagged() -> None:
    old = reverse_result(97, 95, forward_only=3, reverse_only=1)
    new = reverse_result(97, 75, forward_only=23, reverse_only=1)
    got = compare(new, as_baseline(old), confidence=0.95)
    assert got.status == "regression"
    # Independent numbers: one-sided Fisher on the accuracies, z on the difference of paired drops.
    p_rev = float(fisher_exact([[75, 25], [95, 5]], alternative="less")[1])
    p_fwd = float(fisher_exact([[97, 3], [97, 3]], alternative="less")[1])
    var_new = (24 / 100 - 0.22**2) / 100
    var_old = (4 / 100 - 0.02**2) / 100
    p_drop = float(norm.sf(0.20 / math.sqrt(var_new + var_old)))
    adj_rev, adj_fwd, adj_drop = holm([p_rev, p_fwd, p_drop])
    assert adj_fwd > 0.5
    assert adj_rev < 0.001 and adj_drop < 0.001
    assert got.message == (
        "ragprobe baseline REGRESSION: "
        "reverse accuracy 0.95 -> 0.75 (p < 0.001), drop +0.02 -> +0.22 (p < 0.001); "
        "one-sided tests, Holm-adjusted; the baseline run was PASS"
    )
    assert "forward accuracy" not in got.message  # unchanged forward accuracy is not a regression
    # the message names what changed in the pipeline when the reports say which ones ran and they differ
    old.pipeline, new.pipeline = "rag@1", "rag@2"
    got = compare(new, as_baseline(old), confidence=0.95)
    assert got.message.startswith("ragprobe baseline REGRESSION: reverse accuracy 0.95 -> 0.75 (p < 0.001)")
    assert got.message.endswith("; one-sided tests, Holm-adjusted; the baseline run was PASS; pipeline version 1 -> 2")
    new.pipeline = "rag@1"
    assert "pipeline" not in compare(new, as_baseline(old), confidence=0.95).message


def test_regression_message_gives_the_figures_first_and_the_pipeline_change_once_and_short() -> None:
    """The message said the whole pipeline identity twice ("pipeline Pipeline(answer=…)@good-1.0-0.97-0.0
    then, Pipeline(answer=…)@good-1.0-0.7-0.0 now") before the figures, which the reports then clipped."""
    long_name = "Pipeline(answer=fakepipe.RevPipe.answer, generate=fakepipe.PosPipe.generate)"
    old = reverse_result(97, 95, forward_only=3, reverse_only=1)
    new = reverse_result(97, 75, forward_only=23, reverse_only=1)
    old.pipeline, new.pipeline = f"{long_name}@good-1.0-0.97-0.0", f"{long_name}@good-1.0-0.7-0.0"
    message = compare(new, as_baseline(old), confidence=0.95).message
    assert message.startswith("ragprobe baseline REGRESSION: reverse accuracy 0.95 -> 0.75 (p < 0.001)")
    assert message.count("Pipeline(") == 0 and message.count("good-1.0-0.97-0.0") == 1
    assert message.endswith("; pipeline version good-1.0-0.97-0.0 -> good-1.0-0.7-0.0")
    # another pipeline altogether: both names, each clipped
    new.pipeline = "other." + "x" * 80
    message = compare(new, as_baseline(old), confidence=0.95).message
    assert message.count(long_name[:30]) == 1 and "x" * 40 not in message
    assert message.index("reverse accuracy") < message.index("pipeline")


def test_identical_results_are_ok() -> None:
    old = reverse_result(90, 85, forward_only=8, reverse_only=3)
    new = reverse_result(90, 85, forward_only=8, reverse_only=3)
    assert compare(new, as_baseline(old), confidence=0.95) == BaselineComparison("ok", "")


def test_improvement_and_small_noise_are_ok() -> None:
    old = reverse_result(90, 80, forward_only=12, reverse_only=2)
    better = reverse_result(92, 90, forward_only=4, reverse_only=2)
    assert compare(better, as_baseline(old), confidence=0.95).status == "ok"
    noisy = reverse_result(89, 77, forward_only=14, reverse_only=2)
    assert compare(noisy, as_baseline(old), confidence=0.95).status == "ok"


def test_confidence_changes_the_threshold() -> None:
    # A moderate drop in reverse accuracy: significant at 0.80 but not at 0.99.
    old = reverse_result(90, 85, forward_only=6, reverse_only=1)
    new = reverse_result(90, 76, forward_only=15, reverse_only=1)
    p_rev = float(fisher_exact([[76, 24], [85, 15]], alternative="less")[1])
    assert p_rev > 0.01
    assert compare(new, as_baseline(old), confidence=0.99).status == "ok"
    assert compare(new, as_baseline(old), confidence=0.80).status == "regression"


def test_changed_settings_are_reported_not_compared() -> None:
    old = reverse_result(97, 95, forward_only=3, reverse_only=1)
    new = reverse_result(
        97, 75, forward_only=23, reverse_only=1, settings={**SETTINGS, "facts": "fixtures/other.yaml"}
    )
    got = compare(new, as_baseline(old), confidence=0.95)
    assert got == BaselineComparison(
        "changed",
        "baseline not compared, probe settings changed: "
        "facts: 'fixtures/parts.yaml' -> 'fixtures/other.yaml'",
    )


def test_several_changed_settings_are_all_named() -> None:
    old = reverse_result(97, 95, forward_only=3, reverse_only=1)
    new = reverse_result(
        97, 95, forward_only=3, reverse_only=1, settings={**SETTINGS, "seed": 7, "match": "exact"}
    )
    got = compare(new, as_baseline(old), confidence=0.95)
    assert got.status == "changed"
    assert got.message == (
        "baseline not compared, probe settings changed: match: 'contains' -> 'exact'; seed: 0 -> 7"
    )


def test_a_sample_size_change_alone_says_what_can_cause_it() -> None:
    # the same facts file, another number of facts probed (edited in place, or facts sharing a question)
    old = reverse_result(97, 95, forward_only=3, reverse_only=1)
    new = reverse_result(97, 95, forward_only=3, reverse_only=1, settings={**SETTINGS, "n_planned": 80})
    assert compare(new, as_baseline(old), confidence=0.95).message == (
        "baseline not compared, probe settings changed: n_planned: 100 -> 80 (the facts or data changed, or "
        "fewer of them have questions of their own: facts that share a question are probed one per question)"
    )


def test_a_sample_size_capped_by_another_ragprobe_samples_names_the_option() -> None:
    """It blamed the facts or data when the cause was the command line."""
    old = reverse_result(97, 95, forward_only=3, reverse_only=1)
    new = reverse_result(97, 95, forward_only=3, reverse_only=1, settings={**SETTINGS, "n_planned": 30})
    got = compare(new, as_baseline(old), confidence=0.95, samples=(None, 30))
    assert got.message == (
        "baseline not compared, probe settings changed: n_planned: 100 -> 30 (no --ragprobe-samples in the "
        "baseline's run, --ragprobe-samples=30 in this one: compare runs with the same cap)"
    )
    got = compare(new, as_baseline(old), confidence=0.95, samples=(50, 30))
    assert "(--ragprobe-samples=50 in the baseline's run, --ragprobe-samples=30 in this one" in got.message
    # the same cap both times, or caps that cut neither run: the sample size changed for another reason
    got = compare(new, as_baseline(old), confidence=0.95, samples=(30, 30))
    assert got.message.endswith("(the facts or data changed, or fewer of them have questions of their "
                                "own: facts that share a question are probed one per question)")
    got = compare(new, as_baseline(old), confidence=0.95, samples=(None, 500))
    assert got.message.endswith("(the facts or data changed, or fewer of them have questions of their "
                                "own: facts that share a question are probed one per question)")
    got = compare(new, as_baseline(old), confidence=0.95, samples=([10, 20], 40))  # a merged baseline
    assert got.message.endswith("(the facts or data changed, or fewer of them have questions of their "
                                "own: facts that share a question are probed one per question)")


def test_non_compared_settings_do_not_count_as_changes() -> None:
    old = reverse_result(97, 95, forward_only=3, reverse_only=1)
    new = reverse_result(97, 95, forward_only=3, reverse_only=1, settings={**SETTINGS, "max_drop": 0.3})
    assert compare(new, as_baseline(old), confidence=0.95).status == "ok"


def test_kind_change_is_reported() -> None:
    old = ProbeResult(kind="position", verdict="pass", n=10, settings=SETTINGS)
    new = reverse_result(97, 95, forward_only=3, reverse_only=1)
    got = compare(new, as_baseline(old), confidence=0.95)
    assert got == BaselineComparison("changed", "baseline probe was a position probe; not compared")


def test_error_verdicts_are_not_compared_and_say_so() -> None:
    """Was recorded as baseline "ok" although nothing was compared."""
    old = reverse_result(97, 95, forward_only=3, reverse_only=1)
    new = reverse_result(97, 75, forward_only=23, reverse_only=1, verdict="error")
    assert compare(new, as_baseline(old), confidence=0.95) == BaselineComparison(
        "changed", "baseline not compared: this run's probe is an ERROR"
    )
    assert compare(old, as_baseline(new), confidence=0.95) == BaselineComparison(
        "changed", "baseline not compared: the baseline's probe was an ERROR"
    )


def test_a_baseline_probe_without_answers_or_figures_is_not_compared() -> None:
    new = reverse_result(97, 75, forward_only=23, reverse_only=1)
    empty = ProbeResult(nodeid=new.nodeid, kind="reverse", verdict="pass", settings=SETTINGS)
    assert compare(new, as_baseline(empty), confidence=0.95) == BaselineComparison(
        "changed", "baseline not compared: the baseline's probe has no answers (n = 0)"
    )
    no_metrics = ProbeResult(nodeid=new.nodeid, kind="reverse", verdict="pass", n=100, settings=SETTINGS)
    assert compare(new, as_baseline(no_metrics), confidence=0.95) == BaselineComparison(
        "changed", "baseline not compared: the baseline's probe has no figures to compare (no accuracies or drop in it)"
    )


def test_position_regression_names_the_position() -> None:
    def pos_result(acc: dict[int, int], drop: float, edge_only: int) -> ProbeResult:
        return ProbeResult(
            nodeid="t.py::test_mid",
            kind="position",
            verdict="pass",
            n=100,
            metrics={"drop": drop, "discordant": {"edge_only": edge_only, "worst_only": 0}},
            settings={**SETTINGS, "data": "qa.jsonl", "n_docs": 10, "positions": [0, 4, 9]},
            positions={p: direction(c, 100) for p, c in acc.items()},
        )

    old = pos_result({0: 95, 4: 93, 9: 94}, 0.02, 2)
    new = pos_result({0: 95, 4: 70, 9: 94}, 0.25, 25)
    got = compare(new, as_baseline(old), confidence=0.95)
    assert got.status == "regression"
    assert "accuracy at position 4 0.93 -> 0.70" in got.message
    assert "position 0 " not in got.message
    assert "position 9 " not in got.message
    assert compare(old, as_baseline(old), confidence=0.95).status == "ok"


def _table_pipeline(right: dict[int, set[int]]) -> Pipeline:
    """A reader that answers question i right when its gold document sits at a position p with
    i in right[p]: the per-position outcomes are exactly as given."""

    def generate(question: str, documents: list[Document]) -> str:
        i = int(question.split()[-1].rstrip("?"))
        gold = next(k for k, d in enumerate(documents) if d.text.startswith("Code"))
        return f"Z{i:03d}" if i in right[gold] else "no idea"

    return Pipeline(generate=generate, name="table")


def test_position_drop_is_compared_with_the_probes_own_discordant_pairs() -> None:
    # The drop's variance came from `forward_only` / `reverse_only`, which position probes do not
    # write (they say `edge_only` / `worst_only`): it fell to its floor 0.25 / n and a noisy rerun
    # of the same pipeline read "drop +0.10 -> +0.28 (one-sided p = 1e-6)": a false regression.
    examples = [
        {
            "question": f"Which code is item {i}?",
            "answers": [f"Z{i:03d}"],
            "ctxs": [{"text": f"Code Z{i:03d} is item {i}.", "isgold": True}]
            + [{"text": f"Filler text number {j}."} for j in range(4)],
        }
        for i in range(40)
    ]
    everything = set(range(40))
    edge = set(range(32))  # 0.80 at both edges
    old_right = {0: edge, 2: set(range(8, 36)), 4: edge}  # middle 0.70: drop 0.10
    new_right = {0: edge, 2: set(range(7, 24)) | {38, 39}, 4: edge}  # middle 0.475: drop 0.325
    kwargs: dict[str, Any] = {"n_docs": 5, "positions": [0, 2, 4], "max_drop": 0.5}
    old = check_position(_table_pipeline({**old_right, 1: everything, 3: everything}), examples, **kwargs)
    new = check_position(_table_pipeline({**new_right, 1: everything, 3: everything}), examples, **kwargs)
    assert (old.drop, new.drop) == (pytest.approx(0.1), pytest.approx(0.325))
    got = compare(new, as_baseline(old), confidence=0.95)

    def var(r: ProbeResult) -> float:
        d = r.metrics["discordant"]
        n10, n01 = d["edge_only"], d["worst_only"]
        assert n10 + n01 >= 10  # a noisy pair of positions, far from the floor
        return ((n10 + n01) / r.n - ((n10 - n01) / r.n) ** 2) / r.n

    p_drop = float(norm.sf((new.drop - old.drop) / math.sqrt(var(new) + var(old))))  # type: ignore[operator]
    assert 0.02 < p_drop < 0.05  # significant alone, not after Holm over 3 positions + the drop
    assert got.status == "ok", got.message


# -- load_baseline ---------------------------------------------------------------------------------


def test_load_baseline_by_nodeid(tmp_path: Path) -> None:
    probe = reverse_result(97, 95, forward_only=3, reverse_only=1)
    path = tmp_path / "report.json"
    path.write_text(
        json.dumps(
            {
                "schema_version": 1,
                "probes": [as_baseline(probe)],
            }
        )
    )
    loaded = load_baseline(path)
    assert list(loaded) == ["tests/test_catalog.py::test_both_ways"]
    assert loaded["tests/test_catalog.py::test_both_ways"]["reverse"]["correct"] == 95
    assert compare(probe, loaded["tests/test_catalog.py::test_both_ways"], confidence=0.95).status == "ok"


@pytest.mark.parametrize(
    ("junk", "where"), [({"no": "nodeid"}, "kind: Field required"), ("junk", "probe: Input should be")]
)
def test_load_baseline_refuses_a_probe_it_could_not_compare(tmp_path: Path, junk: object, where: str) -> None:
    # Skipping it would leave that test silently uncompared: the gate would pass without checking it.
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"schema_version": 1, "probes": [as_baseline(reverse_result(97, 95, forward_only=3, reverse_only=1)), junk]}))
    with pytest.raises(BaselineError) as info:
        load_baseline(path)
    assert str(info.value).startswith(f"--ragprobe-baseline: {path}: probes[1] is not a ragprobe probe ({where}")


def test_load_baseline_reads_a_report_directory(tmp_path: Path) -> None:
    """`ragprobe merge OUT ...` writes a directory, which `ragprobe show` reads: --ragprobe-baseline=OUT
    was "not readable JSON: [Errno 21] Is a directory"."""
    probe = reverse_result(97, 95, forward_only=3, reverse_only=1)
    (tmp_path / "merged").mkdir()
    report = {"schema_version": 1, "probes": [as_baseline(probe)]}
    (tmp_path / "merged" / "report.json").write_text(json.dumps(report))
    assert list(load_baseline(tmp_path / "merged")) == ["tests/test_catalog.py::test_both_ways"]
    with pytest.raises(BaselineError) as info:
        load_baseline(tmp_path)
    assert str(info.value) == f"--ragprobe-baseline: {tmp_path} is a directory without a report.json"


def test_load_baseline_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BaselineError) as info:
        load_baseline(tmp_path / "nope.json")
    assert str(info.value) == (
        f"--ragprobe-baseline: file not found: {tmp_path / 'nope.json'} (a first run writes one with "
        "--ragprobe-save-baseline=PATH)"
    )


def test_load_baseline_bad_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(BaselineError, match=r"--ragprobe-baseline: .*bad\.json is not readable JSON: "):
        load_baseline(path)


@pytest.mark.parametrize(
    "content",
    [[], {"probes": []}, {"schema_version": 0, "probes": []}, {"schema_version": 1, "probes": {}}],
)
def test_load_baseline_not_a_report(tmp_path: Path, content: object) -> None:
    path = tmp_path / "other.json"
    path.write_text(json.dumps(content))
    with pytest.raises(BaselineError) as info:
        load_baseline(path)
    assert str(info.value) == f"--ragprobe-baseline: {path} is not a ragprobe report (schema_version 1)"


@pytest.mark.parametrize("version", [2, 7])
def test_load_baseline_of_a_newer_schema_says_it_is_unsupported(tmp_path: Path, version: int) -> None:
    """Was "is not a ragprobe report (schema_version 1)" for a report a newer pytest-ragprobe wrote."""
    path = tmp_path / "v2.json"
    path.write_text(json.dumps({"schema_version": version, "probes": []}))
    with pytest.raises(BaselineError) as info:
        load_baseline(path)
    assert str(info.value) == (
        f"--ragprobe-baseline: {path} is a ragprobe report of schema_version {version}, newer than this "
        "pytest-ragprobe reads (schema_version 1): upgrade pytest-ragprobe, or save a new baseline with "
        "this version (--ragprobe-save-baseline)"
    )


def test_read_baseline_says_whether_the_baseline_is_partial(tmp_path: Path) -> None:
    probe = as_baseline(reverse_result(97, 95, forward_only=3, reverse_only=1))
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"schema_version": 1, "partial": True, "probes": [probe]}))
    assert read_baseline(path).partial and read_baseline(tmp_path).partial
    path.write_text(json.dumps({"schema_version": 1, "probes": [probe]}))
    assert not read_baseline(path).partial


def test_a_changed_sample_under_the_same_settings_is_not_compared() -> None:
    """A facts file edited under the same path (every object renamed) was compared: "REGRESSION: forward
    accuracy 1.00 -> 0.00"."""
    old = reverse_result(97, 95, forward_only=3, reverse_only=1, settings={**SETTINGS, "sample_digest": "aa"})
    new = reverse_result(97, 75, forward_only=23, reverse_only=1, settings={**SETTINGS, "sample_digest": "bb"})
    assert compare(new, as_baseline(old), confidence=0.95) == BaselineComparison(
        "changed",
        "baseline not compared, probe settings changed: the sampled facts changed (same settings, other "
        "questions, answers or documents)",
    )
    # a baseline written before the digest was recorded compares as before
    older = reverse_result(97, 95, forward_only=3, reverse_only=1)
    assert compare(new, as_baseline(older), confidence=0.95).status == "regression"


def test_a_reverse_probe_with_the_same_sample_under_another_seed_is_compared() -> None:
    """Every fact probed under seed 0 and seed 7: the same sample, yet "settings changed: seed 0 -> 7"."""
    digest = {"sample_digest": "aa"}
    old = reverse_result(97, 95, forward_only=3, reverse_only=1, settings={**SETTINGS, **digest})
    new = reverse_result(97, 75, forward_only=23, reverse_only=1, settings={**SETTINGS, **digest, "seed": 7})
    assert compare(new, as_baseline(old), confidence=0.95).status == "regression"
    other = reverse_result(97, 75, forward_only=23, reverse_only=1, settings={**SETTINGS, "seed": 7, "sample_digest": "bb"})
    assert compare(other, as_baseline(old), confidence=0.95).message.endswith("seed: 0 -> 7")


def test_every_fact_probed_under_another_seed_is_the_same_sample_end_to_end() -> None:
    """The digest was of the facts in ask order, which the seed shuffles: seed 0 -> 7 over the same 12 facts
    read "settings changed: seed 0 -> 7" and the baseline was never compared."""
    from pytest_ragprobe import Fact, check_reverse

    facts = [Fact(subject=f"P-{i}", relation="compatible_with", object=f"C-{i}") for i in range(12)]

    def forward_only(question: str) -> str:  # right forward, wrong reverse
        return next((f"C-{i}" for i in range(12) if f"P-{i}?" in question or f"P-{i} " in question), "none")

    def run(seed: int, n: int | None = None) -> ProbeResult:
        return check_reverse(forward_only, facts, seed=seed, n=n, max_drop=0.5)

    base, other = run(0), run(7)
    assert base.settings["sample_digest"] == other.settings["sample_digest"]
    assert compare(other, as_baseline(base), confidence=0.95).status == "ok"
    # a subset is another sample under another seed: not compared
    assert compare(run(7, n=6), as_baseline(run(0, n=6)), confidence=0.95).message.endswith("seed: 0 -> 7")
    # a baseline of an older version (its digest in ask order) compares as one without a digest did
    older = base.model_copy(update={"settings": {**base.settings, "sample_digest": "0123456789abcdef"}})
    assert compare(other, as_baseline(older), confidence=0.95).message.endswith("seed: 0 -> 7")
    assert compare(run(0), as_baseline(older), confidence=0.95).status == "ok"
