"""The ``ragprobe.reverse`` / ``ragprobe.position`` marks and their validation (stdlib + pytest only).

``ragprobe.reverse(...)`` checks the arguments it is given when the decorator is evaluated (so a typo
fails the module's collection); raw ``pytest.mark.ragprobe_reverse(...)`` marks are checked by the plugin at
collection with the same code, so both spellings give the same message. Required arguments (``facts`` /
``data``) may come from a class or module mark, so they are checked on each test's merged marks.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal, ParamSpec

import pytest

from pytest_ragprobe.types import did_you_mean, one_line

REVERSE_MARK = "ragprobe_reverse"
POSITION_MARK = "ragprobe_position"
COMMON_MARK = "ragprobe"
PROBE_MARKS = (REVERSE_MARK, POSITION_MARK)

MatchArg = str | Callable[[str, Sequence[str]], bool]
FactsArg = str | Path | Sequence[Any]


class MarkArgumentError(TypeError):
    """A probe mark got an unknown or ill-typed argument; the message names it."""


@dataclass(frozen=True)
class CommonSpec:
    max_drop: float = 0.10
    min_accuracy: float | None = None
    n: int | None = None
    seed: int | None = None
    confidence: float | None = None
    match: MatchArg = "contains"
    sequential: bool | None = None


@dataclass(frozen=True)
class ReverseSpec(CommonSpec):
    facts: FactsArg = ""

    kind = "reverse"


@dataclass(frozen=True)
class PositionSpec(CommonSpec):
    data: str | Path | Sequence[Any] | None = None
    facts: FactsArg | None = None
    n_docs: int = 10
    positions: tuple[int, ...] | None = None
    distractors: Literal["given", "retriever"] = "given"
    context_tokens: int | None = None

    kind = "position"


ProbeSpec = ReverseSpec | PositionSpec


def _fail(mark: str, arg: str, problem: str) -> MarkArgumentError:
    """The error about argument ``arg`` of a mark (``@ragprobe.reverse: argument ...``) or of a function
    or fixture, named as written (``check_reverse: ...``, ``ragprobe_fact_pairs: ...``)."""
    name = f"@ragprobe.{mark.removeprefix('ragprobe_')}" if mark in (REVERSE_MARK, POSITION_MARK) else mark
    return MarkArgumentError(f"{name}: argument '{arg}' {problem}")


def number_arg(
    mark: str, arg: str, value: object, lo: float, hi: float, *, open_lo: bool = False, open_hi: bool = False
) -> float:
    """``value`` of argument ``arg`` (of ``mark`` or a function) as a float in [lo, hi] (open ends as
    asked), else MarkArgumentError naming both."""
    __tracebackhide__ = True  # the message names the argument
    # numbers.Real: NumPy scalars too (np.float32(0.1) from a config array)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise _fail(mark, arg, f"must be a number, got {type(value).__name__} {value!r}")
    number = _as_float(value)
    if number < lo or number > hi or (open_lo and number == lo) or (open_hi and number == hi):
        bound = f"{'(' if open_lo else '['}{lo}, {hi}{')' if open_hi else ']'}"
        # max_drop=10 or confidence=95: a percentage where a fraction is meant
        pct = f" (a fraction: {number / 100:g} for {number:g}%)" if hi <= 1 < number <= 100 else ""
        raise _fail(mark, arg, f"must be in {bound}, got {value!r}{pct}")
    return number


def _takes_two(fn: Callable[..., Any]) -> bool:
    """Whether ``fn(answer, golds)`` binds (True when there is no signature to read)."""
    try:
        inspect.signature(fn).bind("answer", ["gold"])
    except TypeError:
        return False
    except ValueError:  # no signature (some builtins): the first call will tell
        return True
    return True


def _as_float(value: object) -> float:
    """A real number as a float, as written: np.float32(0.1) is 0.1, not 0.10000000149011612."""
    if type(value) in (int, float):
        return float(value)  # type: ignore[arg-type]
    try:
        return float(str(value))
    except ValueError:  # e.g. Fraction(1, 10)
        return float(value)  # type: ignore[arg-type]


def int_arg(mark: str, arg: str, value: object, lo: int) -> int:
    """``value`` of argument ``arg`` as an int >= ``lo``, else MarkArgumentError naming both."""
    __tracebackhide__ = True  # the message names the argument
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):  # np.int64(30) too
        raise _fail(mark, arg, f"must be an int, got {type(value).__name__} {value!r}")
    value = int(value)
    if value < lo:
        raise _fail(mark, arg, f"must be >= {lo}, got {value!r}")
    return value


def positions_arg(name: str, value: object, n_docs: int) -> list[int]:
    """``positions`` of the ``ragprobe_contexts`` fixture (``name``) as ints in [0, n_docs), in the order
    given, worded as the mark's check (contexts_for's own errors lacked the fixture's name, and a repeated
    position gave the same context twice)."""
    __tracebackhide__ = True  # the message names the argument
    bound = f"ints in [0, n_docs={n_docs})"
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise _fail(name, "positions", f"must be a list of {bound}, got {type(value).__name__} {value!r:.60}")
    checked: list[int] = []
    for p in value:  # (once: a generator is read here)
        if isinstance(p, bool) or not isinstance(p, numbers.Integral) or not 0 <= int(p) < n_docs:
            raise _fail(name, "positions", f"entries must be {bound}, got {p!r:.60}")
        if int(p) in checked:
            raise _fail(
                name,
                "positions",
                f"has {int(p)} more than once: each position gives one context; give each once",
            )
        checked.append(int(p))  # np.int64(3) as 3, as the mark takes it
    return checked


#: Arguments of the ``ragprobe_contexts`` fixture (``contexts.contexts_for``) that a probe does not take: what
#: to write instead, for a position probe and for a reverse probe (or fact pairs). "unknown argument 'pool'"
#: named the argument but not that the probe borrows its distractors itself.
CONTEXT_ONLY_ARGS = {
    "pool": (
        "a position probe borrows its distractors itself, from the other questions' passages (data=) or the "
        "other facts' statements (facts=): drop pool=; to have the pipeline's retriever pick them, pass "
        "distractors='retriever'; pool= is for contexts built by hand with the ragprobe_contexts fixture"
    ),
    "hard_negatives": (
        "a position probe gets hard negatives from the pipeline's own retriever with distractors='retriever' "
        "(one retrieve() per question): pass that instead; hard_negatives= is for contexts built by hand "
        "with the ragprobe_contexts fixture"
    ),
}


def context_only_arg(name: str, key: str, *, position: bool) -> MarkArgumentError | None:
    """The error for ``pool=`` / ``hard_negatives=`` given to a probe, ``check_*`` or ``ragprobe_fact_pairs``
    (``name``), saying what to do instead; None for any other argument."""
    if key not in CONTEXT_ONLY_ARGS:
        return None
    if position:
        fix = CONTEXT_ONLY_ARGS[key]
        return MarkArgumentError(f"{name}: argument '{key}' does not apply to a position probe: {fix}")
    return MarkArgumentError(
        f"{name}: argument '{key}' does not apply to reverse questions, which are asked without contexts: "
        f"drop it; {key}= is for position contexts built by hand with the ragprobe_contexts fixture"
    )


def unknown_args(name: str, given: Iterable[str], allowed: Sequence[str]) -> None:
    """MarkArgumentError for the first of ``given`` not ``allowed`` (a fixture factory's keyword arguments:
    Python's own error named its inner function, ``make()``), with the likely spelling."""
    __tracebackhide__ = True
    for key in given:
        if key not in allowed:
            if (misplaced := context_only_arg(name, key, position=False)) is not None:
                raise misplaced
            hint = did_you_mean(key, allowed, cutoff=0.6)
            raise MarkArgumentError(f"{name}: unknown argument '{key}'{hint}; allowed: {', '.join(allowed)}")


def source_arg(mark: str, arg: str, value: object) -> Any:
    """A ``facts=`` / ``data=`` value checked as the marks check it (for fixtures and ``check_*``)."""
    __tracebackhide__ = True
    return _source(mark, arg, value)


def _source(mark: str, arg: str, value: object) -> Any:
    __tracebackhide__ = True  # the message names the argument
    if isinstance(value, (str, Path)):
        if not str(value):
            raise _fail(mark, arg, "must not be empty")
        text = str(value)
        # 'synthetic5', 'synthetic 5', 'Synthetic:5': taken for a file, "not found" only at the probe's setup
        if (typo := re.fullmatch(r"synthetic\s*[-_=: ]?\s*(\d+)", text.strip(), re.IGNORECASE)) and not (
            text.startswith("synthetic:")
        ):
            raise _fail(mark, arg, f"{text!r} is not a file name: did you mean 'synthetic:{typo.group(1)}'?")
        if text.startswith("synthetic:") and not (text[10:].isdigit() and int(text[10:]) >= 1):
            raise _fail(mark, arg, f"'synthetic:N' needs a whole number N >= 1, got {text!r}")
        return value
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        if len(value) == 0:
            raise _fail(mark, arg, "must not be an empty list")
        for i, item in enumerate(value):  # records, not scalars: caught here rather than mid-run
            if item is None or isinstance(item, (str, bytes, int, float, Path)):
                what = "ragprobe.Fact objects or dicts" if arg == "facts" else "dicts (one example each)"
                got = f"{type(item).__name__} {item!r}"
                raise _fail(mark, arg, f"entries must be {what}, got {got} at index {i}")
        return tuple(value)
    hint = ""
    if isinstance(value, Mapping) and arg == "facts" and "facts" in value:
        # a facts file loaded by hand ({relations, facts}): not one fact, and its relations go with it
        hint = " (a facts file's contents? give the file's path)"
    elif isinstance(value, Mapping) or type(value).__name__ in ("Fact", "FactPair", "PositionExample"):
        hint = f" (one {'fact' if arg == 'facts' else 'example'}? give a list of them: [it])"
    elif isinstance(value, Iterator):  # a generator: a list is read more than once (plan, run, report)
        hint = " (an iterator? give a list)"
    # (clipped: a whole file's facts printed 18 kB into the message)
    got = f"{type(value).__name__} {one_line(repr(value), 120)}"
    raise _fail(mark, arg, f"must be a file path, 'synthetic:N' or a list, got {got}{hint}")


def build_spec(
    mark: str, kwargs: Mapping[str, Any], args: Sequence[Any] = (), *, also_allowed: Sequence[str] = ()
) -> ProbeSpec:
    """Validate mark arguments into a frozen spec; raises MarkArgumentError naming the argument.
    ``also_allowed``: names the caller takes itself, listed (and suggested) beside the mark's."""
    cls, out = _validated(mark, kwargs, args, partial=False, also_allowed=also_allowed)
    return cls(**out)


#: check_reverse / check_position's own keyword arguments beside the mark's: how calls are made.
CALL_OPTIONS = ("timeout", "retries", "concurrency", "max_error_rate")


def build_call_spec(mark: str, kwargs: Mapping[str, Any], caller: str) -> ProbeSpec:
    """:func:`build_spec` for ``check_reverse`` / ``check_position``: their errors name the function
    that was called (``check_reverse: argument 'n' ...``), not a mark the user never wrote."""
    try:
        return build_spec(mark, kwargs, also_allowed=CALL_OPTIONS)  # (the options are its own parameters)
    except MarkArgumentError as exc:
        prefix = f"@ragprobe.{mark.removeprefix('ragprobe_')}:"
        text = str(exc)
        named = f"{caller}:{text.removeprefix(prefix)}" if text.startswith(prefix) else text
        raise MarkArgumentError(named) from None


def check_mark_args(mark: str, kwargs: Mapping[str, Any], args: Sequence[Any] = ()) -> None:
    """Validate the arguments one mark carries, as the sugar spelling does when it is evaluated.

    Arguments another mark may supply (``facts`` / ``data``, and the ``n_docs`` that bounds
    ``positions``) are not required here: a class or module mark can give them, and
    :func:`spec_for_item` checks the merged arguments of every item at collection."""
    __tracebackhide__ = True
    _validated(mark, kwargs, args, partial=True)


def _validated(
    mark: str,
    kwargs: Mapping[str, Any],
    args: Sequence[Any],
    *,
    partial: bool,
    also_allowed: Sequence[str] = (),
) -> tuple[type[ReverseSpec] | type[PositionSpec], dict[str, Any]]:
    __tracebackhide__ = True
    cls: type[ReverseSpec] | type[PositionSpec] = ReverseSpec if mark == REVERSE_MARK else PositionSpec
    name = f"@ragprobe.{cls.kind}"
    if len(args) == 1 and (inspect.isfunction(args[0]) or inspect.isclass(args[0])):
        # `@ragprobe.reverse` without parentheses (as `@pytest.mark.x` may be written): it got the test
        call = f"{name}(facts=...)" if cls is ReverseSpec else f"{name}(data=...) or {name}(facts=...)"
        raise MarkArgumentError(
            f"{name}: written without its arguments on {args[0].__name__}: write {call}, with the parentheses"
        )
    if args:
        raise MarkArgumentError(f"{name}: takes keyword arguments only, got positional {list(args)!r}")
    allowed = [f.name for f in fields(cls)] + list(also_allowed)
    for key in kwargs:
        if key not in allowed:
            if (misplaced := context_only_arg(name, key, position=cls is PositionSpec)) is not None:
                raise misplaced
            hint = did_you_mean(key, allowed, cutoff=0.6)
            raise MarkArgumentError(
                f"{name}: unknown argument '{key}'{hint}; allowed: {', '.join(sorted(allowed))}"
            )
    # None is "not given", as in the sugar spelling (which drops it): the raw
    # `pytest.mark.ragprobe_reverse(match=None)` was refused where `ragprobe.reverse(match=None)`
    # took the default
    kw = {key: value for key, value in kwargs.items() if value is not None}
    out: dict[str, Any] = {}
    if "max_drop" in kw:
        # a drop of 1 cannot be exceeded: the statistics need max_drop below 1
        out["max_drop"] = number_arg(mark, "max_drop", kw["max_drop"], 0.0, 1.0, open_hi=True)
    if kw.get("min_accuracy") is not None:
        out["min_accuracy"] = number_arg(mark, "min_accuracy", kw["min_accuracy"], 0.0, 1.0)
    if kw.get("n") is not None:
        out["n"] = int_arg(mark, "n", kw["n"], 1)
    if kw.get("seed") is not None:
        out["seed"] = int_arg(mark, "seed", kw["seed"], 0)
    if kw.get("confidence") is not None:
        c = kw["confidence"]
        out["confidence"] = number_arg(mark, "confidence", c, 0.5, 1.0, open_lo=True, open_hi=True)
    if "match" in kw:
        m = kw["match"]
        if not (callable(m) or m in ("contains", "exact", "regex")):
            raise _fail(mark, "match", f"must be 'contains', 'exact', 'regex' or a callable, got {m!r}")
        if callable(m) and not _takes_two(m):  # said now, not after every pipeline call was paid for
            raise _fail(mark, "match", f"must take (answer, golds) and return a bool; {m!r:.80} cannot")
        out["match"] = m
    if kw.get("sequential") is not None:
        if not isinstance(kw["sequential"], bool):
            raise _fail(mark, "sequential", f"must be True or False, got {kw['sequential']!r}")
        out["sequential"] = kw["sequential"]

    if cls is ReverseSpec:
        if "facts" in kw:
            out["facts"] = _source(mark, "facts", kw["facts"])
        elif not partial:
            raise _fail(mark, "facts", "is required: a facts file, a list of ragprobe.Fact or 'synthetic:N'")
        return cls, out

    data, facts = kw.get("data"), kw.get("facts")
    if data is not None and facts is not None:
        raise MarkArgumentError(
            f"{name}: give either data= (lost-in-the-middle data) or facts= (a facts file, a list of "
            "ragprobe.Fact or 'synthetic:N'), not both"
        )
    if data is None and facts is None and not partial:
        raise _fail(
            mark,
            "data",
            "or 'facts' is required (exactly one): a lost-in-the-middle JSONL file, "
            "'synthetic:N', or facts=...",
        )
    if data is not None:
        out["data"] = _source(mark, "data", data)
    if facts is not None:
        out["facts"] = _source(mark, "facts", facts)
    # Partial: n_docs may come from another mark, so positions are checked against it at collection.
    n_docs: int | None = None
    if "n_docs" in kw or not partial:
        n_docs = out["n_docs"] = int_arg(mark, "n_docs", kw.get("n_docs", 10), 2)
    if kw.get("positions") is not None:
        pos = kw["positions"]
        # Any re-iterable collection of integers: np.linspace(0, 9, 4, dtype=int) or range(10) as well
        # as a list (a NumPy integer was refused with "got np.int64(3)", which names no reason). Not a
        # one-shot iterator: checking the sugar's mark would use it up before the run reads it.
        if (
            isinstance(pos, (str, bytes, Mapping, Iterator))
            or not isinstance(pos, Iterable)
            or not (pos := list(pos))
        ):
            raise _fail(mark, "positions", f"must be a non-empty list of ints, got {kw['positions']!r}")
        checked = []
        for p in pos:
            ok = not isinstance(p, bool) and isinstance(p, numbers.Integral)
            if not ok or int(p) < 0 or (n_docs is not None and int(p) >= n_docs):
                bound = "ints >= 0" if n_docs is None else f"ints in [0, n_docs={n_docs})"
                raise _fail(mark, "positions", f"entries must be {bound}, got {p!r}")
            checked.append(int(p))
        if len(set(checked)) < 2:
            raise _fail(mark, "positions", "needs at least two distinct positions to compare")
        out["positions"] = tuple(sorted(set(checked)))
    if "distractors" in kw:
        if kw["distractors"] not in ("given", "retriever"):
            raise _fail(mark, "distractors", f"must be 'given' or 'retriever', got {kw['distractors']!r}")
        out["distractors"] = kw["distractors"]
    if kw.get("context_tokens") is not None:
        out["context_tokens"] = int_arg(mark, "context_tokens", kw["context_tokens"], 1)
    return cls, out


def default_positions(n_docs: int) -> tuple[int, ...]:
    """First, quartiles and last: for 10 documents (0, 2, 4, 7, 9)."""
    last = n_docs - 1
    return tuple(sorted({0, round(last / 4), round(last / 2), round(3 * last / 4), last}))


def spec_for_item(item: pytest.Item) -> ProbeSpec | None:
    """Merge probe marks on an item (closest wins per key); error if both probe kinds are present."""
    found = [m for m in PROBE_MARKS if item.get_closest_marker(m) is not None]
    if not found:
        return None
    if len(found) > 1:
        raise MarkArgumentError(
            "a test can carry only one of @ragprobe.reverse and @ragprobe.position; split it into two tests"
        )
    _refuse_stacked(item, found[0])
    merged: dict[str, Any] = {}
    args: tuple[Any, ...] = ()
    for mark in _closest_first(item, found[0]):
        args = args or tuple(mark.args)
        for key, value in mark.kwargs.items():
            if value is not None:  # not given: a class or module mark's value (or the default) applies
                merged.setdefault(key, value)
    return build_spec(found[0], merged, args)


def _closest_first(item: pytest.Item, mark: str) -> list[Any]:
    """The item's marks of ``mark``, closest first. As ``item.iter_markers`` lists them, but for two cases
    where its order is not the closest first: a ``pytest.param(..., marks=...)`` mark (the case's own) comes
    before the function's decorators, and a class's own mark before its base classes' (``iter_markers`` has
    them base first, so a base class's value won)."""
    out: list[Any] = []
    for node in reversed(item.listchain()):
        own = [m for m in node.own_markers if m.name == mark]
        if node is item:
            case = getattr(getattr(item, "callspec", None), "marks", ())
            own.sort(key=lambda m: not any(m is c for c in case))  # (stable: otherwise as they were)
        elif isinstance(node, pytest.Class) and isinstance(node.obj, type):
            mro = node.obj.__mro__
            declared = [_as_list(cls.__dict__.get("pytestmark", [])) for cls in mro]

            def depth(m: Any, declared: list[list[Any]] = declared) -> int:
                return next(
                    (i for i, marks in enumerate(declared) if any(m is d for d in marks)), len(declared)
                )

            own.sort(key=depth)
        out.extend(own)
    return out


def _as_list(declared: object) -> list[Any]:
    """A ``pytestmark`` (one mark or a list; MarkDecorators or Marks) as a list of Marks."""
    return [getattr(m, "mark", m) for m in (declared if isinstance(declared, list) else [declared])]


def _written_marks(node: object, mark: str) -> tuple[str, list[Any]]:
    """Where ``node``'s own marks of ``mark`` are written (for an error) and those marks, top to bottom: a
    test function's decorators, a class's own (not its bases': those are meant to combine), a module's
    ``pytestmark``. Marks added by a hook are not counted (they combine), nor a ``pytest.param``'s (another
    place: they combine with these)."""
    obj = getattr(node, "obj", None)
    top_down = True  # a decorator's mark is appended as the decorator is applied, bottom up
    if isinstance(node, pytest.Function):
        where, declared = f"on {node.originalname}", getattr(obj, "pytestmark", [])
    elif isinstance(node, pytest.Class) and isinstance(obj, type):
        where, declared = f"on class {node.name}", obj.__dict__.get("pytestmark", [])
    elif isinstance(node, pytest.Module):
        where, declared = f"in the pytestmark of module {node.nodeid}", getattr(obj, "pytestmark", [])
        top_down = False
    else:
        return "", []
    own = [m for m in _as_list(declared) if getattr(m, "name", None) == mark]
    return where, own[::-1] if top_down else own


def _refuse_stacked(item: pytest.Item, mark: str) -> None:
    """Two marks of one kind written in one place that give the same argument (``@ragprobe.reverse(facts=a)``
    over ``@ragprobe.reverse(facts=b)``) were merged into one probe, the nearest winning: the other facts
    were never probed. Marks giving different arguments (a shared ``strict = ragprobe.reverse(max_drop=0.05)``
    over a ``facts=`` one) lose nothing and still combine."""
    places = [_written_marks(node, mark) for node in item.listchain()]
    case = getattr(item, "callspec", None)
    if case is not None:  # (stacked parametrize: each case's marks together)
        places.append(
            (f"in the pytest.param marks of {item.name}", [m for m in case.marks if m.name == mark])
        )
    for where, own in places:
        given = [key for m in own for key, value in m.kwargs.items() if value is not None]
        repeated = sorted({key for key in given if given.count(key) > 1})
        if not repeated:
            continue
        clashing = [m for m in own if any(m.kwargs.get(key) is not None for key in repeated)]
        kind = mark.removeprefix("ragprobe_")
        source = "data" if kind == "position" and not any("facts" in m.kwargs for m in own) else "facts"
        each = " and ".join(
            one_line(", ".join(f"{k}={v!r}" for k, v in m.kwargs.items()), 80) for m in clashing
        )
        names = ", ".join(f"'{key}'" for key in repeated)
        count = "two" if len(clashing) == 2 else str(len(clashing))
        raise MarkArgumentError(
            f"@ragprobe.{kind}: argument{'s' if len(repeated) > 1 else ''} {names} given by {count} marks "
            f"{where} ({each}); a test runs one probe, with one value per argument: write one test function "
            f"per probe, or parametrize the test with a mark per case: "
            f"pytest.param(..., marks=ragprobe.{kind}({source}=...))"
        )


# The sugar's marks come from a MarkGenerator bound to no config (pytest.mark is bound to the run's): the
# same MarkDecorator, without the unknown-mark check. Under `-p no:ragprobe` nothing registers the marks, so
# that check warned of a typo at a line of this module, and under --strict-markers made every module that
# uses the sugar a collection error; a mark made by this API is no typo. (pytest.mark.ragprobe_reverse
# written by hand is still checked by pytest, as any mark typed by hand.)
try:
    _MARKS = pytest.MarkGenerator(_ispytest=True)
except TypeError:  # a pytest without the private argument: fall back to the checked generator
    _MARKS = pytest.mark

_P = ParamSpec("_P")
_Sugar = Callable[_P, pytest.MarkDecorator]


def _mark_errors(mark: str) -> Callable[[_Sugar[_P]], _Sugar[_P]]:
    """Give the sugar spelling the raw mark's message for an unknown or positional argument (with
    "did you mean"), instead of Python's bare "unexpected keyword argument"; signatures stay typed."""

    def wrap(fn: _Sugar[_P]) -> _Sugar[_P]:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def checked(*args: _P.args, **kwargs: _P.kwargs) -> pytest.MarkDecorator:
            __tracebackhide__ = True  # the error names the argument: the plugin's frames add nothing
            try:
                signature.bind(*args, **kwargs)
            except TypeError:
                try:
                    check_mark_args(mark, kwargs, args)  # raises MarkArgumentError naming the argument
                except MarkArgumentError as exc:
                    # without the chained "unexpected keyword argument" traceback, which only adds noise
                    raise exc from None
                raise
            return fn(*args, **kwargs)

        return checked

    return wrap


class _Ragprobe:
    """Namespace behind ``ragprobe.reverse`` / ``ragprobe.position``."""

    @staticmethod
    @_mark_errors(REVERSE_MARK)
    def reverse(
        *,
        facts: FactsArg | None = None,
        max_drop: float | None = None,
        min_accuracy: float | None = None,
        n: int | None = None,
        seed: int | None = None,
        confidence: float | None = None,
        match: MatchArg | None = None,
        sequential: bool | None = None,
    ) -> pytest.MarkDecorator:
        """Probe forward vs reverse questions on the same facts; FAIL when the reverse drop > max_drop.

        Only the arguments given go into the mark, so this is the same mark as
        ``pytest.mark.ragprobe_reverse(...)`` and a class or module mark supplies what a closer mark leaves
        out, ``facts`` included (it is required of the merged marks, checked at collection). Omitted
        arguments take their defaults when the probe runs: ``max_drop=0.10``, ``match="contains"``,
        ``n`` all facts (capped by ``--ragprobe-samples``), ``seed`` / ``confidence`` /
        ``sequential`` from the command line.
        """
        kwargs = {k: v for k, v in locals().items() if v is not None}
        __tracebackhide__ = True  # (after locals()) the error names the argument; this frame adds nothing
        check_mark_args(REVERSE_MARK, kwargs)
        mark: pytest.MarkDecorator = _MARKS.ragprobe_reverse(**kwargs)
        return mark

    @staticmethod
    @_mark_errors(POSITION_MARK)
    def position(
        *,
        data: str | Path | Sequence[Any] | None = None,
        facts: FactsArg | None = None,
        n_docs: int | None = None,
        positions: Sequence[int] | None = None,
        distractors: Literal["given", "retriever"] | None = None,
        context_tokens: int | None = None,
        max_drop: float | None = None,
        min_accuracy: float | None = None,
        n: int | None = None,
        seed: int | None = None,
        confidence: float | None = None,
        match: MatchArg | None = None,
        sequential: bool | None = None,
    ) -> pytest.MarkDecorator:
        """Probe accuracy by gold-document position; FAIL when best edge minus worst position > max_drop.

        Only the arguments given go into the mark, so this is the same mark as
        ``pytest.mark.ragprobe_position(...)`` and a class or module mark supplies what a closer mark leaves
        out. Omitted arguments take their defaults when the probe runs: ``n_docs=10``, ``positions``
        first, quartiles and last, ``distractors="given"``, no ``context_tokens`` padding,
        ``max_drop=0.10``, ``match="contains"``, ``n`` all questions (capped by ``--ragprobe-samples``),
        ``seed`` / ``confidence`` / ``sequential`` from the command line.
        """
        kwargs = {k: v for k, v in locals().items() if v is not None}
        __tracebackhide__ = True  # (after locals()) the error names the argument; this frame adds nothing
        check_mark_args(POSITION_MARK, kwargs)
        mark: pytest.MarkDecorator = _MARKS.ragprobe_position(**kwargs)
        return mark


ragprobe = _Ragprobe()
reverse = ragprobe.reverse
position = ragprobe.position

MARKER_LINES = (
    f"{COMMON_MARK}: a pytest-ragprobe probe (added automatically to reverse/position probes)",
    f"{REVERSE_MARK}(*, facts, max_drop=0.1, min_accuracy=None, n=None, seed=None, confidence=None, "
    "match='contains', sequential=None): reversal probe, see @ragprobe.reverse",
    f"{POSITION_MARK}(*, data=None, facts=None, n_docs=10, positions=None, distractors='given', "
    "context_tokens=None, max_drop=0.1, ...): lost-in-the-middle probe, see @ragprobe.position",
)
