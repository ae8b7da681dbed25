"""Pipeline adapter: turns whatever the user configured into one async interface.

Accepted shapes (DESIGN.md "The pipeline"): a callable ``question -> str | Answer``; any object with some of
``answer``, ``retrieve``, ``generate``, ``index`` (sync or async); :class:`Pipeline`; the HTTP adapters.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import dis
import enum
import functools
import hashlib
import importlib
import inspect
import os
import sys
import types
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from pytest_ragprobe._blocking import METER, Timed, stamped
from pytest_ragprobe.types import (
    REDACTED,
    Answer,
    Document,
    PipelineOutputError,
    register_basic_auth,
    register_secret,
    secret_name,
    to_answer,
    to_documents,
)

CAPABILITIES = ("answer", "retrieve", "generate", "index")
# How the adapter calls each capability (named in the error when a signature cannot take that).
_CALLED_AS = {
    "answer": "answer(question)",
    "retrieve": "retrieve(query, k)",
    "generate": "generate(question, documents)",
    "index": "index(documents)",
}


class PipelineConfigError(Exception):
    """The pipeline is missing, cannot be imported, or lacks a capability a probe needs."""


def _a(word: str) -> str:
    """``word`` with its indefinite article: "an answer", "an int", "a dict", and for an acronym by how its
    first letter is said: "an HTTPPipeline", "a URL"."""
    acronym = word[:2].isupper() and word[:2].isalpha()
    vowel_sound = word[:1].upper() in "AEFHILMNORSX" if acronym else word[:1].lower() in "aeiou"
    return f"{'an' if vowel_sound else 'a'} {word}"


@dataclass
class Pipeline:
    """Assemble a pipeline from separate functions, e.g. ``Pipeline(retrieve=search, generate=llm)``.

    Each function may be sync or async. ``answer`` defaults to ``generate(q, retrieve(q, k))``.
    ``version`` is folded into the cache key: bump it when the pipeline's behaviour changes.
    ``name`` is the label reports show; the cache key still covers the parts' code and configuration.
    """

    answer: Callable[[str], Any] | None = None
    retrieve: Callable[[str, int], Any] | None = None
    generate: Callable[[str, list[Document]], Any] | None = None
    index: Callable[[list[Document]], Any] | None = None
    name: str | None = None
    version: str = ""
    top_k: int = 5

    def __post_init__(self) -> None:
        # Was: version=3 silently left out of the identity (and so of the cache key); top_k=0 or "5"
        # passed to retrieve() as given.
        version: object = self.version  # (typed str; callers pass what they have)
        if isinstance(version, (int, float)) and not isinstance(version, bool):
            self.version = str(version)
        elif not isinstance(version, str):
            raise PipelineConfigError(f"Pipeline(version=...) must be a string, got {version!r}")
        top_k: object = self.top_k
        if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
            raise PipelineConfigError(f"Pipeline(top_k=...) must be an int >= 1, got {top_k!r}")
        # (a part may also be an object with that method, e.g. generate=OpenAIGenerator(...): checked
        # when the pipeline is adapted)


def _from_builtins(obj: object, name: str) -> bool:
    """Whether ``obj.name`` is a builtin type's method (``str.index``, a NamedTuple's ``tuple.index``):
    never a pipeline capability. Its own attributes (an instance's, a module's, a class's) and those of
    the user's classes are."""
    try:
        if name in vars(obj):
            return False
    except Exception:  # no __dict__ (slots, builtins), or an odd proxy: decided by the class
        pass
    mro = obj.__mro__ if isinstance(obj, type) else type(obj).__mro__
    owner = next((klass for klass in mro if name in vars(klass)), None)
    return owner is not None and owner.__module__ == "builtins"


def _maybe_method(obj: object, name: str) -> Callable[..., Any] | None:
    if _from_builtins(obj, name):
        return None
    fn = getattr(obj, name, None)
    return fn if callable(fn) else None


_PLAIN_SCALARS = (type(None), bool, int, float, complex, str, bytes)
# Lists, dicts and sets count as configuration (``make(cfg={"mode": "good"})``) unless the code
# changes them in place (call logs, memo tables: see :func:`_mutated`).
_MUTABLE = (list, dict, set)
# Globals a function reads that are code, not configuration (a callable object still counts).
_NOT_CONFIG = (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType, types.MethodType)
_STATE_MAX_ITEMS = 100_000  # bigger containers count by type and length only
_SETTINGS_MAX = 256  # dicts up to this size are checked for secret keys (headers, client settings)
# Methods that change a list, dict or set in place.
_MUTATORS = frozenset(
    {
        "append", "extend", "insert", "add", "update", "setdefault", "pop", "popitem", "clear", "remove",
        "discard", "sort", "reverse", "difference_update", "intersection_update",
        "symmetric_difference_update", "__setitem__", "__delitem__", "__iadd__", "__ior__",
    }
)  # fmt: skip
_LOADS = {
    "LOAD_FAST": "fast",
    "LOAD_FAST_CHECK": "fast",
    "LOAD_FAST_BORROW": "fast",
    "LOAD_DEREF": "deref",
    "LOAD_CLOSURE": "deref",
    "LOAD_GLOBAL": "global",
    "LOAD_NAME": "global",
}
_HELPER_DEPTH = 3  # helpers of helpers of helpers of the pipeline's code
_HELPER_MAX = 100  # functions and classes followed per pipeline, at most


def _keep_secret(value: object) -> None:
    """Register a value held under a secret's name (see ``types.redact``): a str or bytes, a (user,
    password) pair, or a mapping's values."""
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(v, str) for v in value):
        register_basic_auth(value[0], value[1])
    elif isinstance(value, Mapping):
        for item in value.values():
            register_secret(item)
    else:
        register_secret(value)


def _plain(value: object, budget: list[int], *, nested: bool = False) -> object:
    """``value`` as nested plain data for hashing; TypeError when it holds any other object (``nested``:
    inside a container, where records of plain fields count as data too).

    Secrets are left out (and registered for redaction): the value of a dict key named like one
    (``{"Authorization": ...}``, a requests ``headers``) and the rest of a tuple that starts with such
    a name (``(b"Authorization", b"authorization", b"Bearer ...")``, httpx's header list), so a key
    rotation keeps a pipeline's cached answers and no hash of a secret is written beside them."""
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
    if isinstance(value, tuple) and len(value) > 1 and secret_name(value[0]):
        for item in value[1:]:
            _keep_secret(item)
        return [type(value).__name__, _plain(value[0], budget), REDACTED]
    if isinstance(value, (list, tuple)):
        return [type(value).__name__, *(_plain(v, budget, nested=True) for v in value)]
    if isinstance(value, (set, frozenset)):
        return sorted(repr(_plain(v, budget, nested=True)) for v in value)
    if isinstance(value, dict):
        if len(value) > _SETTINGS_MAX:  # data (a lookup table), not settings that hold a key
            return sorted(
                (repr(_plain(k, budget)), repr(_plain(v, budget, nested=True))) for k, v in value.items()
            )
        items = value.items()
        return sorted((repr(_plain(k, budget)), repr(_secret_or_plain(k, v, budget))) for k, v in items)
    if nested:
        # A corpus held as objects (``[ragprobe.Document(...)]``, dataclasses, small records): a list of them
        # counted for nothing, so an edited corpus replayed stale answers. An item is data when its own
        # fields are (a client or a model in a list is not: TypeError, as before).
        fields = _record_fields(value)
        if fields is not None:
            return [type(value).__qualname__, _plain(fields, budget)]
    raise TypeError(type(value).__name__)


def _record_fields(value: object) -> dict[str, Any] | None:
    """The fields of a record-like object (a ragprobe Document, a dataclass, a pydantic model, an object of
    plain attributes), or None."""
    if isinstance(value, Document):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    dump = getattr(value, "model_dump", None)
    if callable(dump) and hasattr(type(value), "model_fields"):  # a pydantic model
        try:
            dumped = dump()
        except Exception:  # a model whose fields cannot be dumped: not data
            return None
        return dumped if isinstance(dumped, dict) else None
    if hasattr(value, "__dict__") and not callable(value) and not isinstance(value, (type, types.ModuleType)):
        return dict(vars(value))
    return None


def _big_digest(value: object) -> str:
    """A container beyond the item budget (a corpus of 20,000 passages): type, length and a digest of its
    repr, so an edited item changes the key (it was type and length alone: stale answers replayed). A repr
    holding memory addresses says nothing stable: type and length then."""
    size = f"{type(value).__name__}[{len(value)}]" if hasattr(value, "__len__") else "?"
    try:
        text = repr(sorted(map(repr, value)) if isinstance(value, (set, frozenset)) else value)
    except Exception:  # a repr that raises
        return size
    if " at 0x" in text:
        return size
    return f"{size}#{hashlib.sha256(text.encode('utf-8', 'replace')).hexdigest()[:16]}"


def _secret_or_plain(name: object, value: object, budget: list[int]) -> object:
    if secret_name(name):
        _keep_secret(value)
        return REDACTED
    return _plain(value, budget, nested=True)


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


@functools.lru_cache(maxsize=512)
def _mutated(code: types.CodeType) -> frozenset[tuple[str, str]]:
    """The containers ``code`` changes in place, as (scope, name): ``("deref", "memo")`` for
    ``memo[q] = a``, ``("fast", "log")`` for ``log.append(q)``, ``("attr", "seen")`` for
    ``self.seen.add(q)``, ``("global", "CACHE")``: their contents are running state.

    A symbolic stack over straight-line bytecode; an instruction it does not model empties it, so
    it can only miss a mutation (the container then counts as configuration: at worst a cache
    miss, never two configurations sharing answers).
    """
    found: set[tuple[str, str]] = set()
    for c in _codes(code):
        _scan_mutations(c, found)
    return frozenset(found)


def _scan_mutations(code: types.CodeType, found: set[tuple[str, str]]) -> None:
    stack: list[tuple[str, str] | None] = []

    def peek(n: int) -> tuple[str, str] | None:
        return stack[-n] if len(stack) >= n else None

    def pop(n: int) -> None:
        del stack[max(0, len(stack) - n) :]

    for ins in dis.get_instructions(code):
        op = ins.opname
        if ins.is_jump_target:
            stack.clear()
        if op in _LOADS and not (op == "LOAD_GLOBAL" and dis.stack_effect(ins.opcode, ins.arg) != 1):
            stack.append((_LOADS[op], str(ins.argval)))
        elif op == "LOAD_FAST_LOAD_FAST" and isinstance(ins.argval, tuple):
            stack += [("fast", str(n)) for n in ins.argval]
        elif op in ("LOAD_CONST", "LOAD_SMALL_INT"):
            stack.append(None)
        elif op == "COPY" and isinstance(ins.arg, int):
            stack.append(peek(ins.arg))
        elif op == "SWAP" and isinstance(ins.arg, int) and len(stack) >= ins.arg:
            stack[-1], stack[-ins.arg] = stack[-ins.arg], stack[-1]
        elif op in ("LOAD_ATTR", "LOAD_METHOD"):
            target = peek(1)
            if target is not None and ins.argval in _MUTATORS:
                found.add(target)
            pop(1)
            if op == "LOAD_METHOD" or (sys.version_info >= (3, 12) and (ins.arg or 0) & 1):
                stack.clear()  # a method load pushes two items, in an order that varies by version
            else:
                stack.append(("attr", str(ins.argval)))
        elif op in ("BUILD_LIST", "BUILD_SET", "BUILD_TUPLE") and isinstance(ins.arg, int):
            pop(ins.arg)
            stack.append(None)
        elif op in ("STORE_SUBSCR", "DELETE_SUBSCR", "STORE_SLICE"):
            target = peek(3 if op == "STORE_SLICE" else 2)
            if target is not None:
                found.add(target)
            stack.clear()
        elif op == "BINARY_OP" or op == "BINARY_SUBSCR" or op == "BUILD_SLICE":
            target = peek(2)
            if op == "BINARY_OP" and ins.argrepr.endswith("=") and target is not None:
                found.add(target)  # log += [q], seen |= {q}
            pop(ins.arg if op == "BUILD_SLICE" and isinstance(ins.arg, int) else 2)
            stack.append(None)
        elif op == "POP_TOP":
            pop(1)
        elif op not in ("PRECALL", "KW_NAMES", "NOP", "RESUME", "CACHE", "EXTENDED_ARG"):
            stack.clear()


def _keeps(value: object, scope: str, name: str, mutated: frozenset[tuple[str, str]]) -> bool:
    """Whether a value a function holds counts as configuration: not a list, dict or set the code
    changes in place."""
    return not (isinstance(value, _MUTABLE) and (scope, name) in mutated)


def _globals_read(fns: Sequence[types.FunctionType]) -> list[tuple[str, object]]:
    """The module globals these functions read and do not assign or change in place themselves
    (counters, call logs, memo tables), sorted; not modules, classes or functions (code). Of a module of
    the user's own that they name (``prompts.PROMPT``), the plain values they may read through it, as
    ``prompts.PROMPT``: a prompt kept there changes answers as one imported by name does."""
    found: dict[str, object] = {}
    for fn in fns:
        code = fn.__code__
        written, mutated = _written(code), _mutated(code)
        names = {n for c in _codes(code) for n in c.co_names}
        stored = {  # prompts.COUNT = n, prompts.COUNT += 1: running state
            str(i.argval) for c in _codes(code) for i in dis.get_instructions(c) if i.opname == "STORE_ATTR"
        }
        for name in sorted(names - written):
            if name in fn.__globals__ and name not in found:
                value = fn.__globals__[name]
                if isinstance(value, types.ModuleType) and _user_module(value.__name__):
                    members = vars(value)
                    for attr in sorted(names - stored - {name}):
                        member = members.get(attr, _NOT_CONFIG)
                        if (
                            member is not _NOT_CONFIG
                            and not (attr.startswith("__") and attr.endswith("__"))
                            and not isinstance(member, _NOT_CONFIG)
                            and _keeps(member, "attr", attr, mutated)
                        ):
                            found.setdefault(f"{name}.{attr}", member)
                elif not isinstance(value, _NOT_CONFIG) and _keeps(value, "global", name, mutated):
                    found[name] = value
    return sorted(found.items())


def _user_functions(cls: type) -> list[types.FunctionType]:
    """Functions defined on the user's own classes in ``cls``'s MRO (properties, static and class
    methods unwrapped), in a stable order."""
    out: list[types.FunctionType] = []
    for klass in cls.__mro__:
        if _is_user(klass):
            out += [fn for _, v in sorted(vars(klass).items()) if (fn := _function_of(v)) is not None]
    return out


def _function_of(value: object) -> types.FunctionType | None:
    if isinstance(value, (staticmethod, classmethod)):
        value = value.__func__
    elif isinstance(value, property):
        value = value.fget
    value = inspect.unwrap(value) if inspect.isfunction(value) else value
    return value if isinstance(value, types.FunctionType) else None


_USER_MODULES: dict[str, bool] = {}


@functools.lru_cache(maxsize=1)
def _library_dirs() -> tuple[str, ...]:
    import site
    import sysconfig

    dirs = {sysconfig.get_path(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    with contextlib.suppress(Exception):
        dirs |= {*site.getsitepackages(), site.getusersitepackages()}
    return tuple(os.path.join(os.path.realpath(d), "") for d in dirs if d)


def _user_module(name: str) -> bool:
    """Whether module ``name`` is the user's own code (a change there can change answers, so it
    keys the cache), not the standard library, an installed package, or pytest-ragprobe."""
    known = _USER_MODULES.get(name)
    if known is not None:
        return known
    top = name.partition(".")[0]
    module = sys.modules.get(name)
    file = getattr(module, "__file__", None)
    if top in ("pytest_ragprobe", "builtins") or top in getattr(sys, "stdlib_module_names", ()):
        user = False
    elif not isinstance(file, str):
        return name == "__main__"  # not cached: the module may not be imported yet
    else:
        path = os.path.realpath(file)
        parts = set(PurePath(path).parts)
        user = not path.startswith(_library_dirs()) and not parts & {"site-packages", "dist-packages"}
    _USER_MODULES[name] = user
    return user


def _is_user(obj: object) -> bool:
    module = getattr(obj, "__module__", None)
    return isinstance(module, str) and _user_module(module)


def _plain_class_attributes(cls: type) -> list[tuple[str, str]]:
    """Plain-data class attributes of the user's classes in ``cls``'s MRO (``PROMPT = "..."``,
    read as ``self.PROMPT``), except those its methods change as it runs."""
    running = _running_attributes(cls)
    out: list[tuple[str, str]] = []
    for klass in cls.__mro__:
        if not _is_user(klass):
            continue
        for name, value in sorted(vars(klass).items()):
            if (name.startswith("__") and name.endswith("__")) or name in running:
                continue
            if secret_name(name):  # API_KEY = "...": not configuration that keys answers
                _keep_secret(value)
                continue
            with contextlib.suppress(TypeError, OverflowError):  # code, descriptors, objects
                out.append((f"class.{klass.__qualname__}.{name}", repr(_plain(value, [_STATE_MAX_ITEMS]))))
    return out


def _const_repr(const: object) -> str:
    """A code constant's repr, the same in every process: a set literal (``{"the", "a"}``) compiles
    to a frozenset whose repr order depends on PYTHONHASHSEED."""
    if isinstance(const, frozenset):
        return "frozenset({" + ", ".join(sorted(_const_repr(c) for c in const)) + "})"
    if isinstance(const, tuple):
        inner = ", ".join(_const_repr(c) for c in const)
        return f"({inner},)" if len(const) == 1 else f"({inner})"
    return repr(const)


def _hash_code(digest: Any, code: types.CodeType) -> None:
    stack = [code]
    while stack:  # nested functions and lambdas live in co_consts
        c = stack.pop()
        digest.update(c.co_code)
        digest.update(repr(c.co_names).encode())  # the globals and attributes it uses
        for const in c.co_consts:
            if inspect.iscode(const):
                stack.append(const)
            else:
                digest.update(_const_repr(const).encode())


def _referenced(fn: types.FunctionType, owner: type | None) -> list[tuple[object, type | None]]:
    """The user's functions and classes that ``fn``'s code names, each with the class it is a method
    of: module-level ones (``fmt(x)``, ``helpers.fmt(x)``) and, for a method, the methods of its
    class it calls (``self.build(q)``)."""
    names = sorted({n for c in _codes(fn.__code__) for n in c.co_names})
    found: list[tuple[object, type | None]] = []
    for name in names:
        value = fn.__globals__.get(name)
        if isinstance(value, types.ModuleType):
            if _user_module(value.__name__):
                members = vars(value)
                for n in names:
                    member = members.get(n)
                    if (isinstance(member, types.FunctionType) or inspect.isclass(member)) and getattr(
                        member, "__module__", None
                    ) == value.__name__:
                        found.append((member, None))
        elif (isinstance(value, types.FunctionType) or inspect.isclass(value)) and _is_user(value):
            found.append((value, None))
        if owner is not None:
            with contextlib.suppress(AttributeError):
                method = _function_of(inspect.getattr_static(owner, name))
                if method is not None and _is_user(method):
                    found.append((method, owner))
    return found


def _helpers_state(
    roots: Sequence[types.FunctionType], owner: type | None, state: bool
) -> list[tuple[str, str]]:
    """What the pipeline's own code (``roots``, methods of ``owner``) relies on in the user's
    modules, as (label, value) pairs: its classes' plain-data attributes (``PROMPT = "..."`` read
    as ``self.PROMPT``) and the code (and, with ``state``, configuration) of the functions and
    classes it names, a few levels deep, cycle-safe. Editing a prompt template or a helper then
    keys answers apart by itself. The standard library, installed packages and pytest-ragprobe are
    not followed (fast, and our own pipelines keep their identities)."""
    import hashlib

    out = _plain_class_attributes(owner) if owner is not None else []
    seen: set[int] = {id(fn) for fn in roots}
    queue = [(fn, owner, 0) for fn in roots if _is_user(fn)]
    while queue:
        fn, cls, depth = queue.pop(0)
        if depth >= _HELPER_DEPTH:
            continue
        for ref, ref_owner in _referenced(fn, cls):
            if id(ref) in seen or len(seen) >= _HELPER_MAX:
                continue
            seen.add(id(ref))
            label = f"ref.{getattr(ref, '__module__', '?')}.{getattr(ref, '__qualname__', '?')}"
            digest = hashlib.sha256()
            if isinstance(ref, type):
                methods = [m for m in _user_functions(ref) if id(m) not in seen]
                seen |= {id(m) for m in methods}
                for method in methods:
                    _hash_code(digest, method.__code__)
                out += [(f"{label}.{k}", v) for k, v in _plain_class_attributes(ref)]
                queue += [(m, ref, depth + 1) for m in methods]
            elif isinstance(ref, types.FunctionType):
                _hash_code(digest, ref.__code__)
                if state:
                    out += [(f"{label}.{k}", v) for k, v in _state(ref, 1)]
                queue.append((ref, ref_owner, depth + 1))
            out.append((label, digest.hexdigest()[:16]))
    return out


def _state(obj: object, depth: int = 0) -> list[tuple[str, str]]:
    """The configuration an object or function carries, as (name, repr) pairs.

    Two pipelines of one class built with other constructor arguments (``SimReader(0.9)`` and
    ``SimReader(0.8)``) must not share cached answers. Read: an instance's attributes (those named
    like an ``__init__`` parameter always, as they are when the adapter is made; others unless its
    methods other than ``__init__`` reassign them or change them in place: ``self.calls += 1``,
    ``self.log.append(q)`` are state that changes as it runs, so repeats keep hitting) and the
    module globals its methods read, a bound method's instance, ``functools.partial`` arguments,
    a function's defaults, closure variables and the module globals it reads (not those it assigns
    or changes in place itself: counters, call logs, memo tables; not modules, classes or
    functions). Only plain data counts (numbers, strings, paths, enums, and lists, dicts and sets
    of them, canonically ordered); other objects (clients, models) are left out, but their own
    configuration is read the same way, two levels deep (``lambda q: reader.answer(q)`` sees
    ``reader``'s): settings beyond that belong in ``version``. Not read for a pipeline that sets
    ``version`` (it owns its identity, see :func:`describe`) nor for our own adapters, which spell
    theirs out.
    """
    out: list[tuple[str, str]] = []

    def add(label: str, value: object, name: str | None = None) -> None:
        if secret_name(label.rpartition(".")[2] if name is None else name):
            # api_key, password, token: a key rotation must not invalidate cached answers, and no
            # hash of a secret belongs in the cache's identity sidecars; its value is redacted
            # wherever the plugin prints or writes text.
            _keep_secret(value)
            return
        budget = [_STATE_MAX_ITEMS]
        try:
            out.append((label, repr(_plain(value, budget))))
        except (OverflowError, RecursionError):  # (RecursionError: records that refer to each other)
            out.append((label, _big_digest(value)))
        except TypeError:  # not plain data: an object's or function's own configuration
            if depth < 2:
                out.extend((f"{label}.{k}", v) for k, v in _state(value, depth + 1))

    if isinstance(obj, functools.partial):
        for i, arg in enumerate(obj.args):
            add(f"partial[{i}]", arg, "")
        for key, arg in sorted(obj.keywords.items()):
            add(f"partial.{key}", arg)
        return out + _state(obj.func, depth)
    if inspect.ismethod(obj):
        owner = obj.__self__
        if _own_object(owner):  # Pipeline(generate=gen.generate): the method's object is one of ours
            return [("self", describe(owner))]
        return _state(owner, depth)
    if inspect.isfunction(obj):
        fn = inspect.unwrap(obj)
        code = fn.__code__
        written, mutated = _written(code), _mutated(code)
        for name, cell in zip(code.co_freevars, fn.__closure__ or (), strict=True):
            with contextlib.suppress(ValueError):  # ValueError: an empty cell, assigned later
                if name not in written and _keeps(cell.cell_contents, "deref", name, mutated):
                    add(f"closure.{name}", cell.cell_contents)
        for name, value in _globals_read([fn]):
            add(f"global.{name}", value)
        defaults = fn.__defaults__ or ()
        params = code.co_varnames[code.co_argcount - len(defaults) : code.co_argcount]
        for i, (param, value) in enumerate(zip(params, defaults, strict=True)):
            if _keeps(value, "fast", param, mutated):  # def f(q, memo={}): memo[q] = ... is state
                add(f"default[{i}]", value, param)
        for key, value in sorted((fn.__kwdefaults__ or {}).items()):
            if _keeps(value, "fast", key, mutated):
                add(f"default.{key}", value)
        return out
    if inspect.isclass(obj) or inspect.ismodule(obj) or not hasattr(obj, "__dict__"):
        return out
    if _own_object(obj):
        # Our adapters spell their configuration out in name and version (an HTTPPipeline's URL, an
        # OpenAIGenerator's model), which describe() keys them by. Held by the user's pipeline
        # (self.gen = OpenAIGenerator(...), a closure), that identity is part of the configuration:
        # without it another model or URL reused the cached answers.
        return [("identity", describe(obj))] if depth else out
    if type(obj).__module__ == "unittest.mock":  # a test double: configured by what it returns
        from unittest import mock

        if isinstance(obj, mock.NonCallableMock):
            value = obj._mock_return_value
            if value is not mock.DEFAULT and not isinstance(value, mock.NonCallableMock):
                add("return_value", value, "")  # (a child mock is made on the first call)
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
        # MyRag(top_k=3) and MyRag(top_k=10) differ even if set_top_k() reassigns it later
        param = name in params or name.lstrip("_") in params
        if param or not (name in running or name.lstrip("_") in running):
            add(name, attrs[name])
    for name, value in _globals_read(_user_functions(type(obj))):
        add(f"global.{name}", value)
    return out


def _own_object(obj: object) -> bool:
    """One of this package's objects (HTTPPipeline, OpenAIGenerator, Pipeline, ReferencePipeline)."""
    return type(obj).__module__.split(".")[0] == "pytest_ragprobe"


def _running_attributes(cls: type) -> frozenset[str]:
    """Attributes the class's methods other than ``__init__`` assign or change in place
    (``self.calls += 1``, ``self.index_built = True``, ``self.seen.append(q)``): state that
    changes as the pipeline runs, not configuration."""
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
            names |= {name for scope, name in _mutated(code) if scope == "attr"}
    return frozenset(names)


def _code_fingerprint(obj: object, *, state: bool = True, parts: dict[str, str] | None = None) -> str:
    """A short hash of the pipeline's own code and configuration, so editing its code or building it
    with other arguments keys cached answers apart by itself.

    Covers a function's bytecode and constants, or the methods defined on an object's class, plus,
    for the user's own code, its classes' plain-data attributes and the helpers it names (see
    :func:`_helpers_state`), plus the plain-data configuration :func:`_state` reads. Changes in
    libraries, models or data it calls are not seen: bump ``version`` for those.

    ``parts`` (filled in when given) receives what went into the hash, each as a short hash of its
    own: ``code`` for the code, and one entry per configuration label (see :func:`identity_parts`).
    """
    import hashlib

    target = obj.func if isinstance(obj, functools.partial) else obj
    fns: list[Any] = []
    owner: type | None = None
    if inspect.isroutine(target):
        fns.append(target)
        if inspect.ismethod(target):
            this = target.__self__
            owner = this if inspect.isclass(this) else type(this)
    elif type(target).__module__ == "unittest.mock":
        pass  # a mock's class gains methods as it is used: its state says what it is
    else:
        owner = type(target)
        for cls in type(target).__mro__:
            if cls.__module__ in ("builtins", __name__):
                continue
            fns += [v for _, v in sorted(vars(cls).items()) if inspect.isfunction(v)]
    digest = hashlib.sha256()
    code_digest = hashlib.sha256() if parts is not None else None
    roots: list[types.FunctionType] = []
    for fn in fns:
        plain = inspect.unwrap(fn.__func__ if inspect.ismethod(fn) else fn)
        code = getattr(plain, "__code__", None)
        if code is not None:
            _hash_code(digest, code)
            if code_digest is not None:
                _hash_code(code_digest, code)
        if isinstance(plain, types.FunctionType):
            roots.append(plain)
    try:
        extra = _helpers_state(roots, owner, state)
        config = _state(obj) if state else []
    except Exception:  # an object that misbehaves when inspected (a lazy proxy): code only, never a crash
        extra, config = [], []
    for label, value in [*extra, *config]:
        digest.update(f"\0{label}={value}".encode())
    if parts is not None and code_digest is not None and (fns or config or extra):
        parts["code"] = code_digest.hexdigest()[:12]
        for label, value in [*extra, *config]:
            parts[label] = hashlib.sha256(value.encode()).hexdigest()[:12]
    return digest.hexdigest()[:12] if fns or config or extra else ""


def describe(
    obj: object, *, fingerprint: bool = False, state: bool = True, parts: dict[str, str] | None = None
) -> str:
    """A stable, human-readable identity for cache keys and reports (optionally with a hash of the
    code and, unless the pipeline sets ``version`` and so owns its identity, of its configuration).
    With ``fingerprint``, ``parts`` (when given) receives what went into the hash (see
    :func:`identity_parts`).

    A ``name`` only replaces the readable label: with ``fingerprint``, a named ``Pipeline(...)``
    still carries its parts' code and configuration, folded into one hash (``my-rag#1a2b3c4d5e6f``),
    so building it around other code or settings keys its answers apart as for an unnamed one."""
    version = getattr(obj, "version", "")
    versioned = isinstance(version, str) and bool(version)
    state = state and not versioned
    explicit = getattr(obj, "name", None)
    named = isinstance(explicit, str) and bool(explicit)
    composed = ""  # a Pipeline(...) by its parts, each with its own hash when fingerprinted
    if isinstance(obj, Pipeline) and (fingerprint or not named):
        # Two Pipeline(...) compositions must not share a cache identity: name them by their parts.
        # With fingerprint, each part carries its own code hash (the Pipeline class itself has none).
        described = []
        for c in CAPABILITIES:
            if (fn := getattr(obj, c)) is None:
                continue
            own: dict[str, str] | None = {} if parts is not None else None
            # Pipeline(answer=http.answer): one of our adapters' own method reads as the adapter (its URL or
            # model), not as "pytest_ragprobe.adapters.HTTPPipeline.answer", which named no service
            if inspect.ismethod(fn) and _own_object(fn.__self__) and fn.__name__ == c:
                fn = fn.__self__
            described.append(f"{c}={describe(fn, fingerprint=fingerprint, state=state, parts=own)}")
            if parts is not None and own is not None:
                parts.update({f"{c}:{label}": h for label, h in own.items()})
        composed = f"Pipeline({', '.join(described)})"
    if named:
        base = str(explicit)
    elif composed:
        base = composed
    elif isinstance(obj, functools.partial):
        base = f"partial({describe(obj.func)})"
    else:
        target = obj if inspect.isroutine(obj) or inspect.isclass(obj) else type(obj)
        base = f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', repr(target))}"
    ident = f"{base}@{version}" if versioned else base
    code = _code_fingerprint(obj, state=state, parts=parts) if fingerprint else ""
    if named and composed:
        # The name is only the label: the parts' identities (their code and configuration hashes)
        # and the Pipeline subclass's own fingerprint (if any) go into one hash after it.
        import hashlib

        code = hashlib.sha256(f"{composed}#{code}".encode()).hexdigest()[:12]
    return f"{ident}#{code}" if code else ident


def _register_held_secrets(obj: object) -> None:
    """Register the secrets a pipeline holds (``self.api_key``, a client's ``Authorization`` header:
    see :func:`_state`) when :func:`describe` did not read its configuration because it sets
    ``version``: an error that quotes them is then redacted all the same. Never raises."""

    def versioned(target: object) -> bool:
        version = getattr(target, "version", "")
        return isinstance(version, str) and bool(version)

    targets = [getattr(obj, c) for c in CAPABILITIES] if isinstance(obj, Pipeline) else [obj]
    for target in targets:
        # a Pipeline(version=...) reads none of its parts' configuration; otherwise a part (or the
        # object) with its own version is the one left unread
        if target is not None and (versioned(target) or versioned(obj)):
            with contextlib.suppress(Exception):  # (an odd object: nothing registered)
                _state(target)


def identity_parts(obj: object) -> dict[str, str]:
    """What went into the pipeline's cache identity (``describe(obj, fingerprint=True)``), each as a
    short hash: ``code`` for its own code, and one entry per configuration label (``workdir`` for
    ``self.workdir``, ``global.CONFIG``, ``closure.x``, ``class.Rag.PROMPT``, ``ref.mod.helper``
    for a helper's code, ...; ``answer:`` etc. before those of a ``Pipeline(...)`` composition's
    parts). Two identities of one pipeline differ where these do: the answer cache keeps them to
    say what changed when a run finds nothing cached (see ``cache.identity_notices``)."""
    parts: dict[str, str] = {}
    describe(obj, fingerprint=True, parts=parts)
    return parts


# identity_parts per cache identity of the adapters made in this process, for the answer cache to
# record beside an identity's first entry (a few small dicts: one per pipeline configuration).
_PARTS: dict[str, dict[str, str]] = {}


def parts_of(cache_identity: str) -> dict[str, str] | None:
    """The :func:`identity_parts` of a pipeline adapted in this process, by its cache identity."""
    return _PARTS.get(cache_identity)


class PipelineAdapter:
    """Uniform async access to a user pipeline; sync callables run on ``executor`` (a bounded pool)."""

    def __init__(self, obj: object, *, top_k: int = 5, source: str = "", hooked: str = "") -> None:
        """``source``: the API call that handed the pipeline over (``"check_reverse"``), named in the
        errors; empty for the ``ragprobe_pipeline`` fixture (or ``--ragprobe-pipeline``). ``hooked``: what
        a ``pytest_ragprobe_make_pipeline`` hook was given when ``obj`` is its result, for the errors
        (they blamed the fixture, whose object was fine)."""
        label = f"the pipeline given to {source}" if source else "ragprobe_pipeline"
        if hooked:
            label = f"what pytest_ragprobe_make_pipeline returned for {hooked}"
        if isinstance(obj, (str, bytes, bytearray)):
            # Most likely the 'module:attr' form of --ragprobe-pipeline; never a pipeline (its .index
            # method read as an index capability: "needs `answer` but builtins.str only offers: index").
            named = "--ragprobe-pipeline / ini ragprobe_pipeline"
            fix = (
                f" (the ragprobe_pipeline fixture holds the one named by {named})"
                if source
                else f", or name it with {named}"
            )
            raise PipelineConfigError(
                f"{label} is {_a(type(obj).__name__)} ({obj!r:.80}): pass the pipeline object itself{fix}"
            )
        if inspect.iscoroutine(obj) or inspect.isasyncgen(obj):
            # An async function called without await (an async factory, an async fixture no plugin ran):
            # it has none of the capabilities, and "neither callable nor has any of ..." hides why.
            called = f" ({obj.__qualname__}(...) not awaited)" if getattr(obj, "__qualname__", "") else ""
            if inspect.iscoroutine(obj):
                what, fix = "a coroutine", "await it"
                obj.close()  # it will never run: no "never awaited" warning on top of this error
            else:
                what, fix = "an async generator", "iterate it with `async for`"
            hint = (
                ""
                if source
                else " (an async fixture needs pytest-asyncio; or return the pipeline from a sync fixture)"
            )
            raise PipelineConfigError(f"{label} is {what}{called}: {fix}{hint}")
        static = (staticmethod, classmethod)
        if inspect.isclass(obj) and not any(
            isinstance(inspect.getattr_static(obj, c, None), static) for c in CAPABILITIES
        ):
            # A class with instance methods: calling MyRag.answer(q) binds q to self, and calling a
            # callable class builds an instance per question. (A class of static/class methods works.)
            fix = (
                f"pass {obj.__name__}(...)"
                if source
                else f"return {obj.__name__}(...) from the fixture "
                f"(--ragprobe-pipeline=module:{obj.__name__} instantiates a class itself)"
            )
            raise PipelineConfigError(
                f"{label} is the class {obj.__module__}.{obj.__qualname__}, not an instance of it: {fix}"
            )
        self.obj = obj
        self._signature_ok: set[str] = set()
        self.identity = describe(obj)
        parts: dict[str, str] = {}
        self.cache_identity = describe(obj, fingerprint=True, parts=parts)
        _register_held_secrets(obj)
        if len(_PARTS) < 1000:
            _PARTS[self.cache_identity] = parts
        self.executor: Executor | None = None
        fns: dict[str, Callable[..., Any] | None]
        if isinstance(obj, Pipeline):
            fns = {}
            for c in CAPABILITIES:
                given = getattr(obj, c)
                fn = given if given is None or callable(given) else _maybe_method(given, c)
                if given is not None and fn is None:
                    raise PipelineConfigError(
                        f"ragprobe.Pipeline({c}=...) got {_a(type(given).__name__)}, which is neither "
                        f"callable nor has {_a(c)}() method"
                    )
                # generate=OpenAIGenerator(...) (an object with the method) means its .generate
                fns[c] = fn
            top_k = obj.top_k
        elif any(_maybe_method(obj, c) for c in CAPABILITIES):
            fns = {c: _maybe_method(obj, c) for c in CAPABILITIES}
            # Its own retrieval depth, when it keeps one: answering through retrieve + generate with the
            # default 5 would probe a different k than it runs with.
            depths = (getattr(obj, name, None) for name in ("top_k", "k"))
            own = next((v for v in depths if type(v) is int and v >= 1), None)
            top_k = top_k if own is None else own
            if fns["answer"] is None and not (fns["retrieve"] and fns["generate"]) and callable(obj):
                # A callable object with e.g. only generate(): calling it is its end-to-end answer (reverse
                # probes need one); with retrieve + generate, answering goes through those (it tells
                # retrieval misses from reading misses).
                fns["answer"] = obj
        elif callable(obj):
            fns = {"answer": obj, "retrieve": None, "generate": None, "index": None}
        elif obj is None and not source:  # the usual cause: a fixture body without its `return`
            raise PipelineConfigError(
                f"{label} is None: did the ragprobe_pipeline fixture forget to return (or yield) the "
                "pipeline?"
            )
        else:
            where = (
                " from the hook, or None to leave the object as it is."
                if hooked
                else f"; or adapt {_a(type(obj).__name__)} in a pytest_ragprobe_make_pipeline hook "
                "(conftest.py)."
            )
            raise PipelineConfigError(
                f"{label} is {_a(type(obj).__name__)}, which is neither callable nor has any of "
                f"{', '.join(CAPABILITIES)}. Return a function question -> str, an object with those "
                f"methods, or ragprobe.Pipeline(answer=..., retrieve=..., generate=..., index=...){where}"
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
            own = sorted(c for c, fn in self._fns.items() if fn is not None)
            have = ", ".join(own) or "nothing"
            if "answer" in self.capabilities and "answer" not in own:
                # ("offers: answer, generate, retrieve" named an answer the pipeline does not have)
                have += " (ragprobe answers with retrieve, then generate)"
            named = getattr(self.obj, "_ragprobe_missing", None)
            if callable(named):  # e.g. HTTPPipeline: name the *_path= argument instead of "add a method"
                hint = named(capability)
            raise PipelineConfigError(
                f"{why} needs the pipeline's `{capability}` but {self.identity} only offers: {have}."
                + (f" {hint}" if hint else "")
            )

    def _check_signature(self, capability: str, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        """Before the first call of a capability: can ``fn`` take the arguments the adapter passes?
        A ``retrieve(query)`` without ``k`` is a wiring error, named once with the signature expected
        (otherwise a bare TypeError from inside the call)."""
        if capability in self._signature_ok:
            return
        try:
            signature = inspect.signature(fn)
        except (TypeError, ValueError):  # no signature to read (some builtins): the call itself will tell
            self._signature_ok.add(capability)
            return
        try:
            signature.bind(*args)
        except TypeError as exc:
            what, called = f"its {capability}", _CALLED_AS[capability]
            if fn is self.obj:  # a callable pipeline: calling it is its answer
                what, called = "it", "pipeline(question)"
            empty = inspect.Parameter.empty
            signature = signature.replace(  # names only: annotations may be strings, and are noise here
                parameters=[p.replace(annotation=empty) for p in signature.parameters.values()],
                return_annotation=inspect.Signature.empty,
            )
            raise PipelineConfigError(
                f"{self.identity}: {what} is called as {called}, but its signature "
                f"{signature} cannot take that ({exc}). Give it that signature, or adapt it, e.g. "
                f"ragprobe.Pipeline({capability}=lambda ...: ...)"
            ) from None
        self._signature_ok.add(capability)

    async def _call(self, capability: str, fn: Callable[..., Any], *args: Any) -> Any:
        self._check_signature(capability, fn, args)
        try:
            if inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(type(fn).__call__):
                return await _timed(fn(*args), capability)
            loop = asyncio.get_running_loop()
            meter = METER.get()  # (a pool thread does not see the context: it is given the meter)
            run = functools.partial(_in_thread, fn, *args)
            if meter is not None:
                run = functools.partial(stamped, meter, _in_thread, fn, *args)
            try:
                result = await loop.run_in_executor(self.executor, run)
            except _Carried as carried:  # raised here, in this task: a GeneratorExit thrown in closes it
                raise carried.exc from None
            if isinstance(result, _Raised):
                raise result.exc
            if inspect.isawaitable(result):  # a sync wrapper that hands back a coroutine
                return await _timed(result, capability)
            return result
        except (TypeError, AttributeError) as exc:
            # (only where the Documents are ragprobe's: an answer() over its own retriever's LangChain
            # Documents, "'Document' object is not subscriptable" too, was told ragprobe had handed them)
            named = str(exc).startswith("'Document' object")
            if named and (capability in ("generate", "index") or _failed_on_a_document(exc)):
                _note_document_type(exc)
            raise

    async def answer(self, question: str) -> Answer:
        fn = self._fns["answer"]
        if fn is not None:
            return to_answer(await self._call("answer", fn, question), where=f"{self.identity}.answer")
        self.require("answer", "Asking a question")
        docs = await self.retrieve(question, self.top_k)
        text = await self.generate(question, docs)
        return Answer(text=text, documents=tuple(docs))

    async def retrieve(self, query: str, k: int) -> list[Document]:
        fn = self._fns["retrieve"]
        if fn is None:
            raise PipelineConfigError(f"{self.identity} has no retrieve")
        return to_documents(await self._call("retrieve", fn, query, k), where=f"{self.identity}.retrieve")

    async def generate(self, question: str, documents: Sequence[Document]) -> str:
        fn = self._fns["generate"]
        if fn is None:
            raise PipelineConfigError(f"{self.identity} has no generate")
        out = await self._call("generate", fn, question, _own_copies(documents))
        return to_answer(out, where=f"{self.identity}.generate").text

    async def index(self, documents: Sequence[Document]) -> None:
        fn = self._fns["index"]
        if fn is None:
            raise PipelineConfigError(f"{self.identity} has no index")
        await self._call("index", fn, _own_copies(documents))


def _in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in a pool thread. Its StopIteration (``next()`` on an iterator with nothing left) is
    raised as a RuntimeError, with its traceback, as Python does for a coroutine (PEP 479): asyncio's future
    refuses a StopIteration, so the call hung until its timeout, said as one, and was retried. Its
    GeneratorExit is carried (:class:`_Carried`)."""
    try:
        return fn(*args)
    except StopIteration as exc:
        error = RuntimeError("the pipeline raised StopIteration (a next() with nothing left?)")
        raise error.with_traceback(exc.__traceback__) from None
    except GeneratorExit as exc:
        raise _Carried(exc) from None
    except TimeoutError as exc:
        if type(exc) is not TimeoutError:
            raise
        return _Raised(exc)  # (asyncio's future re-creates a bare TimeoutError without its traceback)


class _Raised:
    """A pool thread's TimeoutError, handed back as a value and raised by the caller: passed through
    asyncio's future, it lost its traceback (the pipeline's line, in its cause and traceback)."""

    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class _Carried(Exception):
    """A GeneratorExit a sync pipeline method raised in its thread, carried to the awaiting task, which raises
    it again (``PipelineAdapter._call``): thrown into the task from the thread's future, it closed the task's
    coroutines (a close(), not an error: "coroutine ignored GeneratorExit" where one awaits in a handler)."""

    def __init__(self, exc: GeneratorExit) -> None:
        super().__init__()
        self.exc = exc


_DOCUMENT_NOTE = (
    "ragprobe hands index() and generate() their documents as ragprobe.Document objects, whatever "
    "retrieve returns (dicts, strings): read doc.text, doc.title, doc.id and doc.metadata, or convert them "
    "with doc.to_dict()"
)


def _note_document_type(exc: BaseException) -> None:
    """A pipeline written for its own retriever's dicts (``doc["text"]``, ``doc.get("text")``,
    ``doc.page_content``) fails on the Documents ragprobe hands its generate() (or its index(), whose
    pages its retrieve() then reads) with "'Document' object is not subscriptable", which does not say
    where the Documents came from: a note on the exception (shown under its traceback, in pytest's
    ERROR and where ``check_reverse`` raises it) says."""
    if str(exc).startswith("'Document' object") and _DOCUMENT_NOTE not in getattr(exc, "__notes__", ()):
        exc.add_note(_DOCUMENT_NOTE)


def _failed_on_a_document(exc: BaseException) -> bool:
    """Whether the frame that raised ``exc`` holds a ragprobe Document (or a list of them): one an index()
    kept and its retrieve() or answer() read back, maybe in a later probe, not another library's Document."""
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    try:
        values = list(tb.tb_frame.f_locals.values())
    except Exception:  # (an odd frame: no note, never a crash)
        return False
    firsts = [v[0] if isinstance(v, (list, tuple)) and v else v for v in values]  # (of a list, its first)
    return any(isinstance(v, Document) for v in firsts)


def _own_copies(documents: Sequence[Document]) -> list[Document]:
    """The documents with a metadata dict of their own: a data file's documents are parsed once per process
    and shared by every probe on it (and keyed into the answer cache), so a pipeline that notes something in
    ``doc.metadata`` (a score, a flag) must not change them for the calls and probes after it."""
    return [dataclasses.replace(d, metadata=dict(d.metadata)) for d in documents]


def _timed(awaitable: Awaitable[Any], capability: str) -> Awaitable[Any]:
    """``awaitable``, with the time each step of it holds the event loop measured when an engine attempt
    asks for it (``_blocking.METER``): an async method that blocks defeats the timeout and the concurrency."""
    meter = METER.get()
    if meter is None:
        return awaitable
    if not inspect.iscoroutine(awaitable):
        meter.returned = None  # not timed: when it returns is unknown (the engine judges by when it got it)
        return awaitable
    return Timed(awaitable, meter, capability)


def make_adapter(obj: object, *, source: str = "", hooked: str = "") -> PipelineAdapter:
    if isinstance(obj, PipelineAdapter):
        return obj
    return PipelineAdapter(obj, source=source, hooked=hooked)


# Directories never searched for the package an ini ``ragprobe_pipeline`` names.
_NOT_SOURCE_DIRS = frozenset(
    {"node_modules", "site-packages", "dist-packages", "build", "dist", "venv", "env", "__pycache__"}
)


def _package_dirs(base: Path, top: str) -> list[Path]:
    """Where under ``base`` (itself, one or two directory levels down) a package or module ``top``
    lives (``src/myapp/``, ``src/myapp.py``): the directories to put on the import path, nearest
    first. Hidden directories, virtual environments and build output are skipped; never raises."""

    def holds(d: Path) -> bool:
        return (d / top).is_dir() or (d / f"{top}.py").is_file()

    def children(d: Path) -> list[Path]:
        try:
            entries = sorted(d.iterdir())[:500]
        except OSError:
            return []
        out = []
        for c in entries:
            with contextlib.suppress(OSError):
                if (
                    c.is_dir()
                    and not c.name.startswith((".", "_"))
                    and c.name not in _NOT_SOURCE_DIRS
                    and not (c / "pyvenv.cfg").exists()
                ):
                    out.append(c)
        return out

    found: list[Path] = []
    with contextlib.suppress(OSError):
        if holds(base):
            return [base]
        level1 = children(base)
        found = [d for d in level1 if holds(d)]
        if not found:
            found = [d for d1 in level1 for d in children(d1) if holds(d)]
    return found


def _pythonpath_hint(top: str, base: Path, ini: Path | None) -> str:
    """What to add so ``top`` (the package an import could not find) imports: pytest's own
    ``pythonpath`` ini option (relative to the ini file), when ``top`` is found under ``base``."""
    found = _package_dirs(base, top)
    if not found:
        return ""
    rel = os.path.relpath(found[0], base).replace(os.sep, "/")
    kind = "package" if (found[0] / top).is_dir() else "module"
    shown = f"{top}/" if kind == "package" else f"{top}.py"
    where = f"{shown} is in {rel}/" if rel != "." else f"{shown} is in {base.as_posix()}/"
    if len(found) > 1:
        others = ", ".join(os.path.relpath(d, base).replace(os.sep, "/") + "/" for d in found[1:3])
        where += f" (and {others})"
    ini_file = f"the ini file ({ini.name})" if ini is not None else "the ini file"
    toml = ini is not None and ini.suffix == ".toml"  # pyproject.toml: a TOML string list
    setting = f'pythonpath = ["{rel}"]' if toml else f"pythonpath = {rel}"
    also = "" if ini is not None else f" (or set PYTHONPATH={rel})"
    return f". {where}, not on the import path: add `{setting}` to {ini_file}{also}"


def _takes_no_question(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` can be called with no arguments and not with one (a question): then it cannot
    be a pipeline, and a spec naming it means a factory."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    try:
        signature.bind()
    except TypeError:
        return False
    try:
        signature.bind("question")
    except TypeError:
        return True
    return False


def _spec_source(spec: str, ini: str | os.PathLike[str] | None) -> str:
    if ini is not None:
        return f"ini ragprobe_pipeline={spec!r} ({Path(ini).name})"
    return f"--ragprobe-pipeline={spec!r}"


def split_pipeline_spec(spec: str, *, ini: str | os.PathLike[str] | None = None) -> tuple[str, str]:
    """``(module, attribute)`` of a ``package.module:attribute`` spec, or a PipelineConfigError saying how to
    write it (checked when pytest starts: a malformed spec is a usage error, not an error in every test)."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        hint = ""
        if spec.endswith(".py") or "/" in spec or "\\" in spec:  # a file, not a module
            stem = Path(spec.replace("\\", "/")).name.removesuffix(".py") or "rag"
            hint = f" (a file path? name its module and the pipeline in it: '{stem}:<attribute>')"
        elif not sep and _is_module(spec):  # a module: the pipeline in it is not named
            hint = f" ({spec!r} is a module: name the pipeline in it, '{spec}:<attribute>')"
        elif not sep and "." in spec.strip("."):  # a dotted path, as an import statement spells it
            module, _, name = spec.rpartition(".")
            hint = f" (did you mean '{module}:{name}'?)"
        raise PipelineConfigError(
            f"{_spec_source(spec, ini)}: expected 'package.module:attribute', e.g. 'myapp.rag:pipeline'{hint}"
        )
    return module_name, attr


def _is_module(name: str) -> bool:
    """Whether ``name`` is an importable module (only asked on the error path: it imports the parents)."""
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except Exception:  # (a parent that fails to import, a name that is not a module path)
        return False


def load_pipeline_spec(spec: str, *, ini: str | os.PathLike[str] | None = None) -> object:
    """Import ``package.module:attr`` (``attr`` may be dotted), as ``--ragprobe-pipeline`` or the ini
    ``ragprobe_pipeline`` names it. A class is instantiated (``MyRag()``); a function or method that
    takes no arguments (``def make_pipeline(): return MyRag()``: it cannot be a pipeline, which takes a
    question) is a factory, called once, as is one marked with :func:`factory`; anything else is the
    pipeline itself. What this returns is then checked like a fixture's pipeline (and may be adapted
    by a ``pytest_ragprobe_make_pipeline`` hook); plain data (``FACTS = {...}``), ``None`` and an
    async factory are refused here, naming the spec.

    ``ini``: the ini file the spec was read from (``config.inipath``), ``None`` when it was given on
    the command line: errors name that source, and a package that cannot be imported is looked for
    under the ini file's directory (else the current one) to suggest pytest's ``pythonpath``."""
    ini_path = Path(ini) if ini is not None else None
    named = _spec_source(spec, ini)
    module_name, attr = split_pipeline_spec(spec, ini=ini)
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        top = module_name.partition(".")[0]
        hint = ""
        if isinstance(exc, ModuleNotFoundError) and exc.name == top:
            base = ini_path.parent if ini_path is not None else Path.cwd()
            hint = _pythonpath_hint(top, base, ini_path)
        raise PipelineConfigError(f"{named}: cannot import {module_name!r}: {exc}{hint}") from exc
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise PipelineConfigError(f"{named}: module {module_name!r} has no attribute {attr!r}") from None
    expected = (
        "name a function question -> answer, an object with answer/retrieve/generate/index methods, a "
        "class (instantiated with no arguments) or a function without arguments that returns the pipeline"
    )
    if isinstance(target, (*_PLAIN_SCALARS, list, tuple, dict, set, frozenset)):
        what = "None" if target is None else f"{_a(type(target).__name__)} ({target!r:.60})"
        raise PipelineConfigError(f"{named} names {what}, not a pipeline: {expected}")
    if inspect.isclass(target):
        needed = _required_parameters(target)
        if needed:  # (its own TypeError came from inside ragprobe's frame: no word of the spec)
            raise PipelineConfigError(
                f"{named} names the class {target.__qualname__}, which needs arguments to be built "
                f"({', '.join(needed)}); ragprobe builds a class with none: name an instance of it, or a "
                "function without arguments that returns one"
            )
        return target()
    routine = inspect.isfunction(target) or inspect.ismethod(target)
    if routine and (getattr(target, "__ragprobe_factory__", False) or _takes_no_question(target)):
        if inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target):
            raise PipelineConfigError(
                f"{named} names the async function {target.__qualname__}(), a factory (it takes no "
                "question) whose result would need awaiting: make it a plain `def` that returns the pipeline"
            )
        made = target()
        if made is None:
            raise PipelineConfigError(
                f"{named}: the factory {target.__qualname__}() (called once, with no arguments) returned "
                "None: return the pipeline from it"
            )
        if inspect.iscoroutine(made):
            made.close()
            raise PipelineConfigError(
                f"{named}: the factory {target.__qualname__}() returned a coroutine, which nothing "
                "awaits: return the pipeline itself"
            )
        return made
    return target


def _required_parameters(cls: type) -> list[str]:
    """The parameters ``cls(...)`` cannot be called without (none when its signature cannot be read)."""
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        return []
    rest = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    params = signature.parameters.values()
    return [p.name for p in params if p.default is inspect.Parameter.empty and p.kind not in rest]


def factory(fn: Callable[[], Any]) -> Callable[[], Any]:
    """Mark a function named by ``--ragprobe-pipeline`` as a factory to call once, with no arguments
    (a function that takes none is called so anyway: see :func:`load_pipeline_spec`)."""
    fn.__ragprobe_factory__ = True  # type: ignore[attr-defined]
    return fn


__all__ = [
    "Pipeline",
    "PipelineAdapter",
    "PipelineConfigError",
    "PipelineOutputError",
    "describe",
    "factory",
    "identity_parts",
    "load_pipeline_spec",
    "make_adapter",
]
