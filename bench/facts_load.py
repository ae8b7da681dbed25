"""Loading a large facts file: 20,000 facts as CSV (flat forward/reverse columns), YAML (triples under a
relation template) and JSONL (explicit questions, some one-to-many answers merged).

For each file it prints the uncached parse (the memo emptied before each; the garbage collections that
follow it are in the time), a memo hit (what the cost plan's second probe, every probe at run time and
``ragprobe_fact_pairs`` pay for the same file) and rows/s; and, when git can show it, the same uncached
parse by the facts module of ``--reference`` (the commit before the parse got cheaper) with the
before/after ratio, after checking that both give the same pairs (ids, order, questions, merged answers).
Best of ``--repeat`` runs, reference and current taking turns, so that a busy machine slows both alike.

    python bench/facts_load.py [--facts 20000] [--repeat 3] [--reference 6f9c237]
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_ragprobe import facts as current  # noqa: E402


def write_files(d: Path, n: int) -> dict[str, Path]:
    csv = ["forward_question,forward_answer,reverse_question,reverse_answer"]
    csv += [
        f"Which controller fits pump P-{i}?,C-{i},Which pump fits controller C-{i}?,P-{i}" for i in range(n)
    ]
    yaml = [
        "relations:",
        "  fits:",
        '    forward: "Which controller fits pump {subject}?"',
        '    reverse: "Which pump fits controller {object}?"',
        "facts:",
    ]
    yaml += [
        f"  - {{subject: P-{i}, relation: fits, object: C-{i}, object_aliases: [c{i}]}}" for i in range(n)
    ]
    jsonl = [
        json.dumps(
            {
                "forward": {"question": f"Which controller fits pump P-{i}?", "answer": [f"C-{i // 2}"]},
                # two pumps per controller: its reverse question accepts both (merge_shared_answers)
                "reverse": {"question": f"Which pump fits controller C-{i // 2}?", "answer": f"P-{i}"},
                "id": f"f{i}",
            }
        )
        for i in range(n)
    ]
    files = {"csv": d / "facts.csv", "yaml": d / "facts.yaml", "jsonl": d / "facts.jsonl"}
    for kind, lines in (("csv", csv), ("yaml", yaml), ("jsonl", jsonl)):
        files[kind].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return files


def reference_module(commit: str) -> ModuleType | None:
    """The facts module as it was at ``commit`` (None without git or the commit)."""
    try:
        source = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{commit}:pytest_ragprobe/facts.py"],
            capture_output=True, text=True, check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    name = "_ragprobe_facts_reference"
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # pydantic resolves the models' annotations through it
    exec(compile(source, f"{commit}:pytest_ragprobe/facts.py", "exec"), module.__dict__)
    return module


def uncached(module: ModuleType) -> Callable[[Path], list[Any]]:
    """An uncached load, timed with the collections that follow it: the current module pauses the cyclic
    GC while it parses, and the next automatic collections walk the new objects (youngest generation,
    then the middle one, then all): that work is paid here, as the reference pays its own."""

    def load(path: Path) -> list[Any]:
        if hasattr(module, "_FACTS_MEMO"):
            module._FACTS_MEMO.clear()
        else:
            module._parse_facts.cache_clear()
        pairs = list(module.load_facts_file(path))
        for generation in (0, 1, 2):
            gc.collect(generation)
        return pairs

    return load


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--facts", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reference", default="6f9c237", help="commit whose facts.py is 'before'")
    args = parser.parse_args()
    ref = reference_module(args.reference)
    if ref is None:
        print(f"(no reference: git cannot show {args.reference}:pytest_ragprobe/facts.py)")
    load = uncached(current)
    with tempfile.TemporaryDirectory() as tmp:
        files = write_files(Path(tmp), args.facts)
        for kind, path in files.items():
            new_pairs = load(path)  # warm-up (imports, pydantic schemas), and the pairs to compare
            if ref is not None:
                old_pairs = uncached(ref)(path)
                same = [p.model_dump() for p in old_pairs] == [p.model_dump() for p in new_pairs]
                assert same, f"{kind}: the reference and current facts modules give different pairs"
            del new_pairs
            cold_new = cold_old = float("inf")
            for _ in range(args.repeat):  # taking turns: a busy machine slows both alike
                if ref is not None:
                    cold_old = min(cold_old, best(lambda: uncached(ref)(path), 1))  # noqa: B023
                cold_new = min(cold_new, best(lambda: load(path), 1))  # noqa: B023
            current.load_facts_file(path)
            hit = best(lambda: current.load_facts_file(path), args.repeat)  # noqa: B023
            line = (
                f"{kind:5} {args.facts} facts: uncached {cold_new:.3f} s "
                f"({args.facts / cold_new:,.0f} rows/s), "
                f"memo hit {hit * 1000:.1f} ms ({cold_new / hit:,.0f}x)"
            )
            if ref is not None:
                line += (
                    f"; reference {args.reference} uncached {cold_old:.3f} s: "
                    f"{cold_old / cold_new:.2f}x faster"
                )
            print(line)


if __name__ == "__main__":
    main()
