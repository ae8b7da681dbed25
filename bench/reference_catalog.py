# ruff: noqa: C408
"""Forward/reverse accuracy of the reference pipeline on fixtures/catalog, per configuration.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/reference_catalog.py [config ...]

Prints accuracy and splits each miss into a retrieval miss (no retrieved page states the fact,
i.e. none contains both part numbers) or a reading miss (such a page was retrieved).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import yaml

from pytest_ragprobe.reference import ReferencePipeline

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = {
    "as_written": dict(index_mode="as_written"),
    "as_written+1shot": dict(index_mode="as_written", one_shot=True),
    "as_written+entity+1shot": dict(index_mode="as_written", entity_index=True, one_shot=True),
    "symmetric+1shot": dict(index_mode="symmetric", one_shot=True),
    "symmetric+entity": dict(index_mode="symmetric", entity_index=True),
    "symmetric+entity+1shot": dict(index_mode="symmetric", entity_index=True, one_shot=True),
    "as_written+entity+1shot+k1": dict(index_mode="as_written", entity_index=True, one_shot=True,
                                       k=1),
    "symmetric+entity+1shot+k1": dict(index_mode="symmetric", entity_index=True, one_shot=True,
                                      k=1),
}


def main(names: list[str]) -> None:
    docs = [json.loads(line) for line in (ROOT / "fixtures/catalog/documents.jsonl").open()]
    spec = yaml.safe_load((ROOT / "fixtures/catalog/facts.yaml").read_text())
    rel = spec["relations"]["compatible_with"]
    facts = spec["facts"]
    for name in names or list(CONFIGS):
        pipe = ReferencePipeline(docs, **CONFIGS[name])  # type: ignore[arg-type]
        t0 = time.perf_counter()
        stats = {d: {"ok": 0, "retrieval": 0, "reading": 0} for d in ("forward", "reverse")}
        examples: dict[str, list[str]] = {"forward": [], "reverse": []}
        for f in facts:
            s, o = f["subject"], f["object"]
            for direction, question, gold in (
                ("forward", rel["forward"].format(subject=s, object=o), o),
                ("reverse", rel["reverse"].format(subject=s, object=o), s),
            ):
                ans = pipe.answer(question)
                if gold in ans.text:
                    stats[direction]["ok"] += 1
                    continue
                found = any(s in d.text and o in d.text for d in ans.documents)
                stats[direction]["reading" if found else "retrieval"] += 1
                if len(examples[direction]) < 4:
                    examples[direction].append(f"{question!r} -> {ans.text!r} (gold {gold})")
        dt = time.perf_counter() - t0
        n = len(facts)
        print(f"== {name}  ({2 * n} calls, {dt:.0f}s, {dt / (2 * n):.2f}s/call)  {pipe.version}")
        for d, st in stats.items():
            print(f"  {d:8s} acc {st['ok'] / n:.2f} ({st['ok']}/{n})  "
                  f"misses: retrieval {st['retrieval']}, reading {st['reading']}")
            for e in examples[d]:
                print("     ", e)
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
