from __future__ import annotations

import datetime
import json
import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from pytest_ragprobe.cache import AnswerCache, unwritable
from pytest_ragprobe.engine import Call
from pytest_ragprobe.types import Answer, Document


def _writer(root: str, worker: int) -> None:
    cache = AnswerCache(Path(root), "pipe@1", "ns")
    for _ in range(30):
        for i in range(20):
            call = Call("answer", f"q{i}")
            cache.put(cache.key(call), call, Answer(f"a{i}", (Document(f"d{i}"),)))
            cache.get(cache.key(call))


def test_concurrent_writers_never_tear_an_entry(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), w)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    cache = AnswerCache(tmp_path, "pipe@1", "ns")
    for i in range(20):
        hit = cache.get(cache.key(Call("answer", f"q{i}")))
        assert hit is not None and hit.value == Answer(f"a{i}", (Document(f"d{i}"),))
    assert cache.corrupt == 0
    assert not list(tmp_path.rglob("*.tmp"))
    assert (tmp_path / ".gitignore").exists()


def test_corrupt_and_foreign_entries_are_misses_then_rewritten(tmp_path: Path) -> None:
    cache = AnswerCache(tmp_path, "p", "")
    call = Call("retrieve", "q", k=3)
    key = cache.key(call)
    cache.put(key, call, [Document("x")])
    path = cache.path(key)
    for junk in (b"", b"{", b'{"key": "other", "value": {}}', b'{"key": "%s", "value": 3}' % key.encode()):
        path.write_bytes(junk)
        assert cache.get(key) is None
    assert cache.corrupt == 4
    assert cache.put(key, call, [Document("x")])
    hit = cache.get(key)
    assert hit is not None and hit.value == [Document("x")]


def test_an_entry_of_another_value_type_is_corrupt(tmp_path: Path) -> None:
    """An answer entry edited to hold text was a hit, and crashed the probe ("the pipeline raised
    AssertionError") on every rerun: it is a miss now, rewritten by the next call."""
    cache = AnswerCache(tmp_path, "p", "")
    call = Call("answer", "Which pump fits C-1?")
    key = cache.key(call)
    cache.put(key, call, Answer("P-1"))
    data = json.loads(cache.path(key).read_text())
    data["value"] = {"type": "text", "text": "P-999"}
    cache.path(key).write_text(json.dumps(data))
    assert cache.get(key, "answer") is None and cache.corrupt == 1
    assert cache.get(key, "generate") is not None  # text is what a generate call returns
    assert cache.put(key, call, Answer("P-1"))
    hit = cache.get(key, "answer")
    assert hit is not None and hit.value == Answer("P-1")


def test_unwritable_cache_dir_does_not_fail(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a dir")
    cache = AnswerCache(blocker / "cache", "p")
    call = Call("answer", "q")
    assert cache.put(cache.key(call), call, "text") is False
    assert cache.get(cache.key(call)) is None


def test_unserialisable_metadata_is_just_not_cached(tmp_path: Path) -> None:
    cache = AnswerCache(tmp_path, "p")
    call = Call("answer", "q")
    value = Answer("a", (Document("d", metadata={"obj": object()}),))
    assert cache.put(cache.key(call), call, value) is False


def test_hits_refresh_last_used_and_prune_removes_only_stale_entries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import os
    import time

    from pytest_ragprobe.cache import scan
    from pytest_ragprobe.cli import main

    old = AnswerCache(tmp_path, "old-pipeline@1")
    new = AnswerCache(tmp_path, "new-pipeline@2")
    calls = [Call("answer", f"q{i}") for i in range(3)]
    for c in calls:
        old.put(old.key(c), c, Answer("a"))
        new.put(new.key(c), c, Answer("b"))
    month_ago = time.time() - 30 * 86400
    for c in calls:  # every entry untouched for a month ...
        for cache in (old, new):
            os.utime(cache.path(cache.key(c)), (month_ago, month_ago))
    assert new.get(new.key(calls[0])) is not None  # ... but a hit marks this one as used now

    tables = tmp_path / "tables"
    tables.mkdir()
    for name, when in (("fresh", time.time()), ("stale", month_ago)):
        (tables / f"exact_thresholds-{name}.json").write_text("{}")
        os.utime(tables / f"exact_thresholds-{name}.json", (when, when))

    assert main(["cache", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    today = datetime.datetime.now().strftime("%Y-%m-%d")
    then = datetime.datetime.fromtimestamp(month_ago).strftime("%Y-%m-%d")
    assert "6 entries" in out
    rows = {line.split()[-1]: line.split()[:4] for line in out.splitlines() if line.startswith("   ")}
    assert rows["new-pipeline@2"] == ["3", "last", "used", today]  # a hit refreshed it
    assert rows["old-pipeline@1"] == ["3", "last", "used", then]
    assert "and 2 statistics tables" in out

    assert main(["cache", str(tmp_path), "--prune", "7"]) == 0
    out = capsys.readouterr().out
    assert "removed 5 entries" in out and "and 1 statistics table not used" in out and ": 1 entry, " in out
    assert [p.name for p in tables.iterdir()] == ["exact_thresholds-fresh.json"]
    left = scan(tmp_path)
    assert left.entries == 1 and left.by_pipeline == {"new-pipeline@2": 1}
    assert new.get(new.key(calls[0])) is not None and old.get(old.key(calls[0])) is None


def test_cache_command_on_an_empty_cache(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Was: "0 entries, 0 B; last used - .. -"
    from pytest_ragprobe.cli import main

    assert main(["cache", str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"ragprobe cache: {tmp_path}: 0 entries, 0 B; empty\n"


def test_cache_command_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_ragprobe.cli import main

    assert main(["cache", str(tmp_path / "missing")]) == 2
    assert capsys.readouterr().err.endswith("missing: no answer cache here (pytest writes one on the first run)\n")
    for days in ("-1", "nan", "inf"):  # nan was taken: "not used in the last nan days"
        assert main(["cache", str(tmp_path), "--prune", days]) == 2
        assert "--prune takes a number of days >= 0" in capsys.readouterr().err


def test_answer_documents_reported_or_not_survive_the_cache() -> None:
    from pytest_ragprobe.cache import decode_value, encode_value

    for value in (Answer("t"), Answer("t", documents=())):
        back = decode_value(json.loads(json.dumps(encode_value(value))))
        assert isinstance(back, Answer) and back.reports_documents == value.reports_documents
    # an entry written before "reported" was stored: an empty list meant "not reported" then
    old = decode_value({"type": "answer", "text": "t", "documents": []})
    assert isinstance(old, Answer) and not old.reports_documents
    old_with_docs = decode_value({"type": "answer", "text": "t", "documents": [{"text": "d"}]})
    assert isinstance(old_with_docs, Answer) and old_with_docs.reports_documents


def test_documents_with_mixed_metadata_keys_never_fail_and_never_change_when_cached(tmp_path: Path) -> None:
    """{1: "one", "src": "x"} made the key crash (sort_keys on int and str) and came back from the
    cache as {"1": "one", ...}: a warm run saw other metadata than a cold run."""
    cache = AnswerCache(tmp_path, "p", "")
    mixed = Document("d", metadata={1: "one", "src": "x"})  # type: ignore[dict-item]
    generate = Call("generate", "q", documents=(mixed,))
    key = cache.key(generate)  # keyed canonically: the call runs cached
    assert len(key) == 64 and key == cache.key(Call("generate", "q", documents=(mixed,)))
    assert key != cache.key(Call("generate", "q", documents=(Document("d", metadata={"1": "one", "src": "x"}),)))
    assert cache.put(key, generate, "answer") is True  # the answer itself stores exactly
    hit = cache.get(key)
    assert hit is not None and hit.value == "answer"

    retrieve = Call("retrieve", "q", k=3)
    metas: list[dict[Any, Any]] = [{1: "one", "src": "x"}, {"tags": ("a", "b")}, {"tags": {"a", "b"}}, {"x": float("nan")}]
    for meta in metas:
        assert cache.put(cache.key(retrieve), retrieve, [Document("d", metadata=meta)]) is False
        assert cache.get(cache.key(retrieve)) is None  # JSON would have changed it: not stored
    assert cache.uncacheable == 4
    assert cache.put(cache.key(retrieve), retrieve, [Document("d", metadata={"n": [1, 2.5, None, True]})])


def test_inputs_that_cannot_be_keyed_canonically_are_not_cached(tmp_path: Path) -> None:
    """An object in a document's metadata has a repr with a memory address: such a call runs
    uncached (never looked up, never stored) instead of under a key no other run could hit."""
    from pytest_ragprobe.cache import UNCACHEABLE

    cache = AnswerCache(tmp_path, "p", "")
    call = Call("generate", "q", documents=(Document("d", metadata={"o": object()}),))
    assert cache.key(call) == UNCACHEABLE
    assert cache.put(UNCACHEABLE, call, "a") is False
    assert cache.get(UNCACHEABLE) is None
    assert not (tmp_path / "answers").exists()


def test_set_metadata_keys_the_same_in_every_process(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    script = (
        "from pytest_ragprobe.cache import AnswerCache\n"
        "from pytest_ragprobe.engine import Call\n"
        "from pytest_ragprobe.types import Document\n"
        "doc = Document('d', metadata={'tags': {'alpha', 'beta', 'gamma', 'delta', 'epsilon'}})\n"
        "print(AnswerCache('.', 'p').key(Call('generate', 'q', documents=(doc,))))\n"
    )
    keys = {
        subprocess.run(
            [sys.executable, "-c", script], env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=tmp_path, capture_output=True, text=True, check=True,
        ).stdout.strip()
        for seed in ("0", "1", "2", "3")
    }
    assert len(keys) == 1 and len(next(iter(keys))) == 64


# -- key values are pinned: existing caches must keep hitting -------------------------------------


def _pinned_calls() -> list[Call]:
    plain = [Document(f"Passage {i} about the harbour.", title=f"Doc {i}") for i in range(3)]
    odd = [
        Document("Caf\u00e9 \"quoted\" \\ line\nbreak \u2028 \U0001f600", id="d-1"),
        Document("with metadata", id="", metadata={"src": "x", "n": [1, 2.5, None, True]}),
        Document("mixed keys", metadata={1: "one", "src": ("a", "b"), "s": {"b", "a"}, "b": b"\x00"}),  # type: ignore[dict-item]
        Document("", title="Empty text"),
    ]
    return [
        Call("answer", "Who directed Film 7?"),
        Call("retrieve", "Who directed Film 7?", k=24),
        Call("generate", "Who directed Film 7?", documents=tuple(plain)),
        Call("generate", "Who directed Film 7?", documents=tuple(reversed(plain))),
        Call("generate", "Qu\u00e9 \"q\"?", documents=tuple(odd + plain + odd)),
        Call("generate", "q", documents=()),
    ]


# hex digests computed with the code before document keys were memoised (any change here is a new
# cache format: every existing entry would miss)
PINNED_KEYS = {
    ("p", ""): [
        "4824cdbe0f1c223234a388fb685e8fb354f07524c186efbefa94a8be9a68ec17",
        "703361f5954ba017952766960024c02731d2fdf57dbe8eece5c36aa23ddd244e",
        "0d17d69a58d683379e97690d1cca5aae94fb58fa26d1fe6f4b6773d7e3f7a914",
        "4df8ae321789a404119235428820c089c29e01b566c490a01e6429e3af065f7d",
        "1c4d192acbce5c385eb7b17001c094146adbf396ae23e76835ed17876681e53a",
        "bb237aaf99dc665a291e5b37a791b0573b496928f8d22eb4db5a7655666ed5f6",
    ],
    ("pkg.Reader@2", "ns:facts"): [
        "fcb52de82829f1809e871164b110cd62df2348c5ab03c9b2f7e8b9ea6e0fdf02",
        "8784cc585c2fc3f4d20f4476bd0ab58f1aca5718a62d9bab26a0bc76fe25217e",
        "6301416b818882a680ef070b3b870f626f97029784ad2b37952cf8fc025c92cc",
        "42a5628ebc1a768ec23be35362d543fa4e4d077fc6e441fd3eaac5818b2a068a",
        "febde767e01cdf29d69daabe873fd66c4bc0936258aba99d15a104dfdeb2def9",
        "27d27c79ae33f493e3407c7405f15576c81f580f1f4883d9bd225ed66488034c",
    ],
}


@pytest.mark.parametrize(("identity", "namespace"), sorted(PINNED_KEYS))
def test_keys_are_pinned_and_stable_when_memoised(tmp_path: Path, identity: str, namespace: str) -> None:
    cache = AnswerCache(tmp_path, identity, namespace)
    calls = _pinned_calls()
    for _ in range(2):  # the second pass reads each document's memoised key part
        assert [cache.key(c) for c in calls] == PINNED_KEYS[(identity, namespace)]
    # equal documents built anew (a decoded cache entry, another process) key the same
    again = [
        Call(c.kind, c.question, tuple(Document(d.text, d.title, d.id, dict(d.metadata)) for d in c.documents), c.k)
        for c in calls
    ]
    assert [cache.key(c) for c in again] == PINNED_KEYS[(identity, namespace)]


def test_memoised_document_keys_follow_metadata_and_types(tmp_path: Path) -> None:
    """The per-document memo covers only plain documents (str fields, no metadata): metadata added
    later, values JSON would merge (1 / 1.0 / True) and str subclasses (not canonical) key as before."""
    from pytest_ragprobe import cache as cache_mod

    class Text(str):
        pass

    cache = AnswerCache(tmp_path, "p")
    doc = Document("d")
    first = cache.key(Call("generate", "q", documents=(doc,)))
    doc.metadata["n"] = 1  # type: ignore[index]  # a mutable dict: the key must see the change
    changed = cache.key(Call("generate", "q", documents=(doc,)))
    assert changed != first
    assert changed == cache.key(Call("generate", "q", documents=(Document("d", metadata={"n": 1}),)))
    keys = {
        cache.key(Call("generate", "q", documents=(Document("d", metadata={"n": v}),))) for v in (1, 1.0, True)
    }
    assert len(keys) == 3
    assert cache.key(Call("generate", "q", documents=(Document(Text("d")),))) == cache_mod.UNCACHEABLE
    assert cache.key(Call("generate", "q", documents=(Document("d", id=""),))) != first
    # a full memo is emptied, never wrong
    cache_mod._DOC_JSON.clear()
    saved = cache_mod._DOC_JSON.limit
    cache_mod._DOC_JSON.limit = 64
    try:
        calls = _pinned_calls()
        assert [cache.key(c) for c in calls] == [cache.key(c) for c in calls] == PINNED_KEYS[("p", "")]
        assert len(cache_mod._DOC_JSON) <= 2
    finally:
        cache_mod._DOC_JSON.limit = saved


def test_unwritable_says_why_without_creating_anything(tmp_path: Path) -> None:
    assert unwritable(tmp_path / "not" / "yet") is None  # created on the first write
    assert not (tmp_path / "not").exists()
    assert unwritable(tmp_path) is None
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    assert unwritable(blocker) == f"{blocker} is not a directory"
    assert unwritable(blocker / "below") == f"{blocker} is not a directory"
