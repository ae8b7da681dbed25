"""An answer holding a lone surrogate (bytes decoded with errors="surrogateescape"): AnswerCache.put, which
"never raises", raised UnicodeEncodeError writing it, and the probe was an ERROR ("pytest-ragprobe: 'utf-8'
codec can't encode character '\\udce9' ...") where --ragprobe-no-cache ran it. It is stored escaped in the
JSON file and read back as it was."""

from __future__ import annotations

from pathlib import Path

from pytest_ragprobe.cache import AnswerCache
from pytest_ragprobe.engine import Call
from pytest_ragprobe.types import Answer, Document

ODD = b"caf\xe9 \xff".decode("utf-8", "surrogateescape")


def test_an_answer_with_lone_surrogates_is_cached_exactly(tmp_path: Path) -> None:
    cache = AnswerCache(tmp_path, "p@1")
    call = Call("answer", f"who? {ODD}")
    value = Answer(ODD, (Document(f"doc {ODD}", title="t\ud800"),))
    assert cache.put(cache.key(call), call, value) is True
    hit = AnswerCache(tmp_path, "p@1").get(cache.key(call))
    assert hit is not None and hit.value == value
    plain = Call("answer", "plain")
    assert cache.put(cache.key(plain), plain, "café") is True  # (other answers stay as UTF-8 text)
    assert "café" in cache.path(cache.key(plain)).read_text(encoding="utf-8")
