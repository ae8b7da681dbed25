"""Pipeline adapter: turns whatever the user configured into one async interface.

Accepted shapes (DESIGN.md "The pipeline"): a callable ``question -> str | Answer``; any object with some of
``answer``, ``retrieve``, ``generate``, ``index`` (sync or async); :class:`Pipeline`; the HTTP adapters.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from pytest_ragprobe.types import Answer, Document, PipelineOutputError, to_answer, to_documents

CAPABILITIES = ("answer", "retrieve", "generate", "index")


class PipelineConfigError(Exception):
    """The pipeline is missing, cannot be imported, or lacks a capability a probe needs."""


@dataclass
class Pipeline:
    """Assemble a pipeline from separate functions, e.g. ``Pipeline(retrieve=search, generate=llm)``.

    Each function may be sync or async. ``answer`` defaults to ``generate(q, retrieve(q, k))``.
    ``version`` is folded into the cache key: bump it when the pipeline's behaviour changes.
    """

    answer: Callable[[str], Any] | None = None
    retrieve: Callable[[str, int], Any] | None = None
    generate: Callable[[str, list[Document]], Any] | None = None
    index: Callable[[list[Document]], Any] | None = None
    name: str | None = None
    version: str = ""
    top_k: int = 5


def _maybe_method(obj: object, name: str) -> Callable[..., Any] | None:
    fn = getattr(obj, name, None)
    return fn if callable(fn) else None


def _code_fingerprint(obj: object) -> str:
    """A short hash of the pipeline's own code, so editing it invalidates cached answers by itself.

    Covers a function's bytecode and constants, or the methods defined on an object's class. Changes in
    libraries, models or data it calls are not seen: bump ``version`` for those.
    """
    import hashlib

    fns: list[Any] = []
    if inspect.isroutine(obj):
        fns.append(obj)
    else:
        for cls in type(obj).__mro__:
            if cls.__module__ in ("builtins", __name__):
                continue
            fns += [v for _, v in sorted(vars(cls).items()) if inspect.isfunction(v)]
    digest = hashlib.sha256()
    for fn in fns:
        code = getattr(inspect.unwrap(fn), "__code__", None)
        stack = [code] if code is not None else []
        while stack:  # nested functions and lambdas live in co_consts
            c = stack.pop()
            digest.update(c.co_code)
            for const in c.co_consts:
                if inspect.iscode(const):
                    stack.append(const)
                else:
                    digest.update(repr(const).encode())
    return digest.hexdigest()[:12] if fns else ""


def describe(obj: object, *, fingerprint: bool = False) -> str:
    """A stable, human-readable identity for cache keys and reports (optionally with a code hash)."""
    explicit = getattr(obj, "name", None)
    if isinstance(explicit, str) and explicit:
        base = explicit
    elif isinstance(obj, Pipeline):
        # Two Pipeline(...) compositions must not share a cache identity: name them by their parts.
        # With fingerprint, each part carries its own code hash (the Pipeline class itself has none).
        parts = [
            f"{c}={describe(fn, fingerprint=fingerprint)}"
            for c in CAPABILITIES
            if (fn := getattr(obj, c)) is not None
        ]
        base = f"Pipeline({', '.join(parts)})"
    else:
        target = obj if inspect.isroutine(obj) or inspect.isclass(obj) else type(obj)
        base = f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', repr(target))}"
    version = getattr(obj, "version", "")
    ident = f"{base}@{version}" if isinstance(version, str) and version else base
    code = _code_fingerprint(obj) if fingerprint else ""
    return f"{ident}#{code}" if code else ident


class PipelineAdapter:
    """Uniform async access to a user pipeline; sync callables run on ``executor`` (a bounded pool)."""

    def __init__(self, obj: object, *, top_k: int = 5) -> None:
        self.obj = obj
        self.identity = describe(obj)
        self.cache_identity = describe(obj, fingerprint=True)
        self.executor: Executor | None = None
        fns: dict[str, Callable[..., Any] | None]
        if isinstance(obj, Pipeline):
            fns = {c: getattr(obj, c) for c in CAPABILITIES}
            top_k = obj.top_k
        elif any(_maybe_method(obj, c) for c in CAPABILITIES):
            fns = {c: _maybe_method(obj, c) for c in CAPABILITIES}
        elif callable(obj):
            fns = {"answer": obj, "retrieve": None, "generate": None, "index": None}
        else:
            raise PipelineConfigError(
                f"ragprobe_pipeline is a {type(obj).__name__}, which is neither callable nor has any of "
                f"{', '.join(CAPABILITIES)}. Return a function question -> str, an object with those "
                "methods, or ragprobe.Pipeline(answer=..., retrieve=..., generate=..., index=...)."
            )
        self._fns = fns
        self.top_k = top_k

    @property
    def capabilities(self) -> frozenset[str]:
        caps = {c for c, fn in self._fns.items() if fn is not None}
        if "retrieve" in caps and "generate" in caps:
            caps.add("answer")
        return frozenset(caps)

    def require(self, capability: str, why: str, hint: str = "") -> None:
        if capability not in self.capabilities:
            have = ", ".join(sorted(self.capabilities)) or "nothing"
            raise PipelineConfigError(
                f"{why} needs the pipeline's `{capability}` but {self.identity} only offers: {have}."
                + (f" {hint}" if hint else "")
            )

    async def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        if inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(type(fn).__call__):
            return await fn(*args)
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(self.executor, functools.partial(fn, *args))
        if inspect.isawaitable(result):  # a sync wrapper that hands back a coroutine
            return await result
        return result

    async def answer(self, question: str) -> Answer:
        fn = self._fns["answer"]
        if fn is not None:
            return to_answer(await self._call(fn, question), where=f"{self.identity}.answer")
        self.require("answer", "Asking a question")
        docs = await self.retrieve(question, self.top_k)
        text = await self.generate(question, docs)
        return Answer(text=text, documents=tuple(docs))

    async def retrieve(self, query: str, k: int) -> list[Document]:
        fn = self._fns["retrieve"]
        if fn is None:
            raise PipelineConfigError(f"{self.identity} has no retrieve")
        return to_documents(await self._call(fn, query, k), where=f"{self.identity}.retrieve")

    async def generate(self, question: str, documents: Sequence[Document]) -> str:
        fn = self._fns["generate"]
        if fn is None:
            raise PipelineConfigError(f"{self.identity} has no generate")
        out = await self._call(fn, question, list(documents))
        return to_answer(out, where=f"{self.identity}.generate").text

    async def index(self, documents: Sequence[Document]) -> None:
        fn = self._fns["index"]
        if fn is None:
            raise PipelineConfigError(f"{self.identity} has no index")
        await self._call(fn, list(documents))


def make_adapter(obj: object) -> PipelineAdapter:
    if isinstance(obj, PipelineAdapter):
        return obj
    return PipelineAdapter(obj)


def load_pipeline_spec(spec: str) -> object:
    """Import ``package.module:attr`` (``attr`` may be dotted); call it if it is a zero-argument factory."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise PipelineConfigError(
            f"--ragprobe-pipeline={spec!r}: expected 'package.module:attribute', e.g. 'myapp.rag:pipeline'"
        )
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise PipelineConfigError(
            f"--ragprobe-pipeline={spec!r}: cannot import {module_name!r}: {exc}"
        ) from exc
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise PipelineConfigError(
                f"--ragprobe-pipeline={spec!r}: module {module_name!r} has no attribute {attr!r}"
            ) from None
    if inspect.isclass(target) or (
        inspect.isfunction(target) and getattr(target, "__ragprobe_factory__", False)
    ):
        target = target()
    return target


def factory(fn: Callable[[], Any]) -> Callable[[], Any]:
    """Mark a zero-argument function named by ``--ragprobe-pipeline`` as a factory to call once."""
    fn.__ragprobe_factory__ = True  # type: ignore[attr-defined]
    return fn


__all__ = [
    "Pipeline",
    "PipelineAdapter",
    "PipelineConfigError",
    "PipelineOutputError",
    "describe",
    "factory",
    "load_pipeline_spec",
    "make_adapter",
]
