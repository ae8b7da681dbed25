"""Pipeline adapter: turns whatever the user configured into one async interface.

Accepted shapes (DESIGN.md "The pipeline"): a callable ``question -> str | Answer``; any object with some of
``answer``, ``retrieve``, ``generate``, ``index`` (sync or async); :class:`Pipeline`; the HTTP adapters.
"""

from __future__ import annotations

import asyncio
import contextlib
import dis
import enum
import functools
import importlib
import inspect
import types
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import PurePath
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


_PLAIN_SCALARS = (type(None), bool, int, float, complex, str, bytes)
# A function's lists, dicts and sets (closure variables, defaults) are usually state it keeps
# (call logs, memo tables), not configuration: they are left out.
_MUTABLE = (list, dict, set)
# Globals a function reads that are code, not configuration (a callable object still counts).
_NOT_CONFIG = (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType, types.MethodType)
_STATE_MAX_ITEMS = 100_000  # bigger containers count by type and length only


def _plain(value: object, budget: list[int]) -> object:
    """``value`` as nested plain data for hashing; TypeError when it holds any other object."""
    budget[0] -= 1
    if budget[0] < 0:
        raise OverflowError
    if isinstance(value, _PLAIN_SCALARS):
        return value
    if isinstance(value, enum.Enum):
        return f"{type(value).__qualname__}.{value.name}"
    if isinstance(value, PurePath):
        return str(value)
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        return _plain(value.item(), budget)  # type: ignore[attr-defined]  # a numpy scalar
    if isinstance(value, (list, tuple)):
        return [type(value).__name__, *(_plain(v, budget) for v in value)]
    if isinstance(value, (set, frozenset)):
        return sorted(repr(_plain(v, budget)) for v in value)
    if isinstance(value, dict):
        return sorted((repr(_plain(k, budget)), repr(_plain(v, budget))) for k, v in value.items())
    raise TypeError(type(value).__name__)


def _codes(code: types.CodeType) -> Iterator[types.CodeType]:
    """A function's code and the code of the functions nested in it."""
    yield code
    for const in code.co_consts:
        if inspect.iscode(const):
            yield from _codes(const)


def _written(code: types.CodeType) -> set[str]:
    """Closure variables and globals the function assigns itself (``nonlocal calls; calls += 1``):
    state it keeps as it runs, not configuration."""
    ops = {"STORE_DEREF", "DELETE_DEREF", "STORE_GLOBAL", "DELETE_GLOBAL"}
    return {str(ins.argval) for c in _codes(code) for ins in dis.get_instructions(c) if ins.opname in ops}


def _state(obj: object, depth: int = 0) -> list[tuple[str, str]]:
    """The configuration an object or function carries, as (name, repr) pairs.

    Two pipelines of one class built with other constructor arguments (``SimReader(0.9)`` and
    ``SimReader(0.8)``) must not share cached answers. Read: an instance's attributes, except
    those its methods other than ``__init__`` assign (``self.calls += 1``: state that changes as
    it runs, so repeats keep hitting) and lists, dicts and sets not named like an ``__init__``
    parameter (``self.log = []``; ``self.docs = docs`` counts), a bound method's instance,
    ``functools.partial`` arguments, a function's defaults, closure variables and the module
    globals it reads (not those it assigns itself, nor lists, dicts or sets there: those are
    usually counters, call logs and memo tables; not modules, classes or functions). Only plain data
    counts (numbers, strings, paths, enums, and containers of them); other objects (clients,
    models) are left out, but their own configuration is read the same way, two levels deep
    (``lambda q: reader.answer(q)`` sees ``reader``'s): settings beyond that belong in
    ``version``. Not read for a pipeline that sets ``version`` (it owns its identity, see
    :func:`describe`) nor for our own adapters, which spell theirs out.
    """
    out: list[tuple[str, str]] = []

    def add(label: str, value: object) -> None:
        budget = [_STATE_MAX_ITEMS]
        try:
            out.append((label, repr(_plain(value, budget))))
        except OverflowError:
            out.append((label, f"{type(value).__name__}[{len(value)}]" if hasattr(value, "__len__") else "?"))
        except TypeError:  # not plain data: an object's or function's own configuration
            if depth < 2:
                out.extend((f"{label}.{k}", v) for k, v in _state(value, depth + 1))

    if isinstance(obj, functools.partial):
        for i, arg in enumerate(obj.args):
            add(f"partial[{i}]", arg)
        for key, arg in sorted(obj.keywords.items()):
            add(f"partial.{key}", arg)
        return out + _state(obj.func, depth)
    if inspect.ismethod(obj):
        return _state(obj.__self__, depth)
    if inspect.isfunction(obj):
        fn = inspect.unwrap(obj)
        written = _written(fn.__code__)
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or (), strict=True):
            with contextlib.suppress(ValueError):  # ValueError: an empty cell, assigned later
                if name not in written and not isinstance(cell.cell_contents, _MUTABLE):
                    add(f"closure.{name}", cell.cell_contents)
        names = {n for c in _codes(fn.__code__) for n in c.co_names} - written
        for name in sorted(names & fn.__globals__.keys()):
            value = fn.__globals__[name]
            if not isinstance(value, (*_MUTABLE, *_NOT_CONFIG)):
                add(f"global.{name}", value)
        for i, value in enumerate(fn.__defaults__ or ()):
            if not isinstance(value, _MUTABLE):
                add(f"default[{i}]", value)
        for key, value in sorted((fn.__kwdefaults__ or {}).items()):
            if not isinstance(value, _MUTABLE):
                add(f"default.{key}", value)
        return out
    if inspect.isclass(obj) or inspect.ismodule(obj) or not hasattr(obj, "__dict__"):
        return out
    if type(obj).__module__.split(".")[0] == "pytest_ragprobe":
        return out
    if type(obj).__module__ == "unittest.mock":  # a test double: configured by what it returns
        from unittest import mock

        if isinstance(obj, mock.NonCallableMock):
            value = obj._mock_return_value
            if value is not mock.DEFAULT and not isinstance(value, mock.NonCallableMock):
                add("return_value", value)  # (a child mock is made on the first call)
            if obj.side_effect is not None:
                out.append(("side_effect", describe(obj.side_effect, fingerprint=True)))
            return out
    try:
        params = set(inspect.signature(type(obj).__init__).parameters) - {"self"}
    except (TypeError, ValueError):  # builtins without a signature
        params = set()
    running = _running_attributes(type(obj))
    attrs = vars(obj)
    for name in sorted(attrs):
        if name in running or name.lstrip("_") in running:
            continue
        value = attrs[name]
        if name in params or name.lstrip("_") in params or not isinstance(value, _MUTABLE):
            add(name, value)
    return out


def _running_attributes(cls: type) -> frozenset[str]:
    """Attributes the class's methods other than ``__init__`` assign (``self.calls += 1``,
    ``self.index_built = True``): state that changes as the pipeline runs, not configuration."""
    ops = {"STORE_ATTR", "DELETE_ATTR"}
    names: set[str] = set()
    for klass in cls.__mro__:
        if klass.__module__ == "builtins":
            continue
        for attr, fn in vars(klass).items():
            code = getattr(inspect.unwrap(fn), "__code__", None) if inspect.isfunction(fn) else None
            if code is None or attr == "__init__":
                continue
            names |= {str(i.argval) for c in _codes(code) for i in dis.get_instructions(c) if i.opname in ops}
    return frozenset(names)


def _code_fingerprint(obj: object, *, state: bool = True) -> str:
    """A short hash of the pipeline's own code and configuration, so editing its code or building it
    with other arguments keys cached answers apart by itself.

    Covers a function's bytecode and constants, or the methods defined on an object's class, plus
    the plain-data configuration :func:`_state` reads. Changes in libraries, models or data it calls
    are not seen: bump ``version`` for those.
    """
    import hashlib

    target = obj.func if isinstance(obj, functools.partial) else obj
    fns: list[Any] = []
    if inspect.isroutine(target):
        fns.append(target)
    elif type(target).__module__ == "unittest.mock":
        pass  # a mock's class gains methods as it is used: its state says what it is
    else:
        for cls in type(target).__mro__:
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
            digest.update(repr(c.co_names).encode())  # the globals and attributes it uses
            for const in c.co_consts:
                if inspect.iscode(const):
                    stack.append(const)
                else:
                    digest.update(repr(const).encode())
    try:
        config = _state(obj) if state else []
    except Exception:  # an object that misbehaves when inspected (a lazy proxy): code only, never a crash
        config = []
    for label, value in config:
        digest.update(f"\0{label}={value}".encode())
    return digest.hexdigest()[:12] if fns or config else ""


def describe(obj: object, *, fingerprint: bool = False, state: bool = True) -> str:
    """A stable, human-readable identity for cache keys and reports (optionally with a hash of the
    code and, unless the pipeline sets ``version`` and so owns its identity, of its configuration)."""
    version = getattr(obj, "version", "")
    versioned = isinstance(version, str) and bool(version)
    state = state and not versioned
    explicit = getattr(obj, "name", None)
    if isinstance(explicit, str) and explicit:
        base = explicit
    elif isinstance(obj, Pipeline):
        # Two Pipeline(...) compositions must not share a cache identity: name them by their parts.
        # With fingerprint, each part carries its own code hash (the Pipeline class itself has none).
        parts = [
            f"{c}={describe(fn, fingerprint=fingerprint, state=state)}"
            for c in CAPABILITIES
            if (fn := getattr(obj, c)) is not None
        ]
        base = f"Pipeline({', '.join(parts)})"
    elif isinstance(obj, functools.partial):
        base = f"partial({describe(obj.func)})"
    else:
        target = obj if inspect.isroutine(obj) or inspect.isclass(obj) else type(obj)
        base = f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', repr(target))}"
    ident = f"{base}@{version}" if versioned else base
    code = _code_fingerprint(obj, state=state) if fingerprint else ""
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
            fns = {}
            for c in CAPABILITIES:
                given = getattr(obj, c)
                fn = given if given is None or callable(given) else _maybe_method(given, c)
                if given is not None and fn is None:
                    raise PipelineConfigError(
                        f"ragprobe.Pipeline({c}=...) got a {type(given).__name__}, which is neither callable "
                        f"nor has a {c}() method"
                    )
                # generate=OpenAIGenerator(...) (an object with the method) means its .generate
                fns[c] = fn
            top_k = obj.top_k
        elif any(_maybe_method(obj, c) for c in CAPABILITIES):
            fns = {c: _maybe_method(obj, c) for c in CAPABILITIES}
            if fns["answer"] is None and not (fns["retrieve"] and fns["generate"]) and callable(obj):
                # A callable object with e.g. only generate(): calling it is its end-to-end answer (reverse
                # probes need one); with retrieve + generate, answering goes through those (it tells
                # retrieval misses from reading misses).
                fns["answer"] = obj
        elif callable(obj):
            fns = {"answer": obj, "retrieve": None, "generate": None, "index": None}
        else:
            raise PipelineConfigError(
                f"ragprobe_pipeline is a {type(obj).__name__}, which is neither callable nor has any of "
                f"{', '.join(CAPABILITIES)}. Return a function question -> str, an object with those "
                "methods, or ragprobe.Pipeline(answer=..., retrieve=..., generate=..., index=...); or adapt "
                f"a {type(obj).__name__} in a pytest_ragprobe_make_pipeline hook (conftest.py)."
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
