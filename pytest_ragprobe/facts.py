"""Facts: the pydantic models, the file loaders (YAML / JSON / JSONL / CSV) and ``synthetic:N`` facts.

A fact is one relation between a subject and an object, asked both ways. It is given either as a triple
``{subject, relation, object}`` expanded by a relation template, or as explicit ``forward`` / ``reverse``
questions with answers. Errors name the file, the row or line and the field.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import random
import re
import string
import sys
import threading
import typing
import unicodedata
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Generic, NoReturn, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pytest_ragprobe.types import closest, did_you_mean, misspelt

SYNTHETIC_RE = re.compile(r"^synthetic:(\d+)$")


LIST_SOURCE = "facts list"  # how errors name facts given as a Python list


class FactsError(ValueError):
    """A facts source is missing, unreadable or malformed. The message names file, row and field."""


class FactFieldError(FactsError):
    """A fact with a wrong field (a missing subject, a relation that is not text, an unknown key), from a
    file, a list or ``ragprobe.Fact(...)`` in code: the message names the file and line (or row / record)
    and the field, in plain words. A ValueError, as pydantic's ValidationError it replaces."""


def _read_as(value: object) -> str:
    """What a non-text value was read as, for a "quote it" hint: ``float 2.50``, ``bool True``."""
    kind = "float" if isinstance(value, float) else type(value).__name__
    return f"{kind} {value!r}"


def _aliases(value: object) -> list[str]:
    if isinstance(value, str):
        items = [value]
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        items = [str(value)]
    elif isinstance(value, Sequence) and all(
        isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value
    ):
        items = [str(v) for v in value]
    elif value is None:  # `answer:` with nothing after it: "quote it" would not help
        raise ValueError("is empty: give the accepted answer (a string or a list of aliases)")
    else:
        msg = "must be a string or a list of strings (accepted aliases)"
        if not isinstance(value, (Mapping, Sequence)):  # JSON `true`, a date in a list: say what was read
            msg += f", got {_read_as(value)}: quote it"
        elif isinstance(value, list) and any(isinstance(v, bool) for v in value):  # ["yes", true] in JSON
            msg += f", got {_read_as(next(v for v in value if isinstance(v, bool)))} in the list: quote it"
        raise ValueError(msg)
    items = [i.strip() for i in items if str(i).strip()]
    if not items:
        raise ValueError("must name at least one non-empty answer")
    return items


class Answers(list[str]):
    """A question's accepted answers, read-only. A facts file is parsed once per process and its pairs are
    shared by the cost plan, every probe on the file and ``ragprobe_fact_pairs``: an ``append`` here would
    change them for all of those. It is a ``list`` otherwise (equal to one, JSON, ``list(...)`` to copy)."""

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError(
            "a question's answers are read-only (parsed facts are shared by every probe on the file); "
            "make a new list, e.g. [*q.answers, 'alias'], or a new Question"
        )

    append = extend = insert = remove = pop = clear = sort = reverse = _refuse
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse

    def __reduce__(self) -> tuple[type[Answers], tuple[list[str]]]:  # pickle and copy: not item by item
        return (Answers, (list(self),))


class Question(BaseModel):
    """One question with its accepted answers (any alias counts as correct)."""

    # stripped: a question of blanks is "missing", not a question of spaces
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
    question: str = Field(min_length=1)
    answers: list[str]

    @model_validator(mode="before")
    @classmethod
    def _accept_both_spellings(cls, data: Any) -> Any:
        # Facts files say `answer:` (one or a list); the model field is `answers`.
        if isinstance(data, Mapping) and "answer" in data and "answers" not in data:
            data = {k: v for k, v in data.items() if k != "answer"} | {"answers": data["answer"]}
        return data

    @field_validator("answers", mode="before")
    @classmethod
    def _to_list(cls, value: object) -> list[str]:
        return _aliases(value)

    @field_validator("answers", mode="after")
    @classmethod
    def _read_only(cls, value: list[str]) -> list[str]:
        return Answers(value)


class Relation(BaseModel):
    """Question and statement templates for a relation; ``{subject}`` and ``{object}`` are filled in."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    forward: str
    reverse: str
    statement: str | None = None

    @model_validator(mode="after")
    def _placeholders(self) -> Relation:
        # checked here, where the error can name the relation's field: a stray brace or "{obj}" used to
        # surface at the first fact as "the pipeline raised KeyError: 'obj'"
        for name in ("forward", "reverse", "statement"):
            template = getattr(self, name)
            if template is not None:
                _check_template(name, template)
        if "{subject}" not in self.forward:
            raise ValueError("forward template must contain {subject}")
        if "{object}" not in self.reverse:
            raise ValueError("reverse template must contain {object}")
        # the question would hold its own answer: an answer that repeats the question scores as right
        for name, answer in (("forward", "object"), ("reverse", "subject")):
            if "{" + answer + "}" in getattr(self, name):
                raise ValueError(
                    f"{name} template contains {{{answer}}}, the answer it asks for: a pipeline that repeats "
                    "the question would score as right"
                )
        return self


def _check_template(name: str, template: str) -> None:
    """Only ``{subject}`` and ``{object}`` placeholders; ``{{`` / ``}}`` for literal braces."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:  # "Single '}' encountered in format string"
        brace = "write {{ or }} for a literal brace"
        raise ValueError(f"{name} template {template!r}: {exc} ({brace})") from None
    for field in fields:
        if field not in ("subject", "object"):
            shown = "{" + field + "}"
            raise ValueError(
                f"{name} template {template!r}: unknown placeholder {shown}"
                + did_you_mean(field, ["subject", "object"])
                + " (use {subject} and {object}; {{ or }} for a literal brace)"
            )


def _caller() -> str:
    """``tests/test_x.py:12``: the line of the user's code that is running (the first frame outside this
    package and pydantic), as a path relative to the cwd when below it; "" when there is none."""
    here = Path(__file__).resolve().parent
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_filename
        path = Path(name)
        inside = path.is_absolute() and (here in path.resolve().parents or "pydantic" in path.parts)
        if not inside and not name.startswith("<frozen"):
            try:
                shown = str(path.resolve().relative_to(Path.cwd().resolve()))
            except (ValueError, OSError):
                shown = name
            return f"{shown}:{frame.f_lineno}"
        frame = frame.f_back
    return ""


if TYPE_CHECKING:
    from pydantic._internal._model_construction import ModelMetaclass as _ModelMeta
else:
    _ModelMeta = type(BaseModel)


class _FactMeta(_ModelMeta):
    """``Fact(...)`` (or a subclass's) in code: a wrong field is a FactFieldError naming the line of the call,
    the class and the field, where pydantic's ValidationError named neither the line nor the file and ended in
    "For further information visit https://errors.pydantic.dev/...". Only the call: ``model_validate`` (the
    file loaders, which name the file and line themselves) does not come through here."""

    if not TYPE_CHECKING:  # (type checkers keep the fields' own signature of Fact(...))

        def __call__(cls, *args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True  # (pytest shows the user's line, not this one)
            try:
                return super().__call__(*args, **kwargs)
            except ValidationError as exc:
                where = _caller()
                call = f"{cls.__name__}(...)"
                raise _fmt_error(where or call, call if where else "", exc, cls, python=True) from None


class Fact(BaseModel, metaclass=_FactMeta):
    """A fact: ``Fact(subject="P-200", relation="compatible_with", object="C-17")`` or explicit questions.

    A wrong field raises :class:`FactFieldError` naming the line of the call, the class and the field."""

    # stripped: a blank subject/object is missing (it made an answer of blanks, an unlocated pydantic
    # error), and "P-1, compatible_with, C-1" (spaces after CSV commas) names the known relation
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
    subject: str | None = None
    relation: str | None = None
    object: str | None = None
    subject_aliases: list[str] = Field(default_factory=list)
    object_aliases: list[str] = Field(default_factory=list)
    forward: Question | None = None
    reverse: Question | None = None
    statement: str | None = None
    id: str | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _int_id(cls, value: Any) -> Any:  # (`object` is a field name here)
        # `id: 7` in YAML / JSON is as good an id as "7" (position data takes it too)
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @model_validator(mode="after")
    def _complete(self) -> Fact:
        triple = (self.subject, self.relation, self.object)
        if self.forward is not None and self.reverse is not None:
            return self
        if all(triple):
            return self
        if self.forward is not None or self.reverse is not None:
            missing = "reverse" if self.reverse is None else "forward"
            if not all(triple):
                raise ValueError(f"'{missing}' question is missing (or give subject, relation and object)")
            return self
        missing_keys = [k for k, v in zip(("subject", "relation", "object"), triple, strict=True) if not v]
        raise ValueError(
            f"needs subject, relation and object (missing: {', '.join(missing_keys)}) "
            "or both forward and reverse questions"
        )


class FactPair(BaseModel):
    """A fact asked both ways. ``statement`` is the fact as a sentence (used as a document)."""

    model_config = ConfigDict(frozen=True)
    id: str
    forward: Question
    reverse: Question
    statement: str
    subject: str | None = None
    relation: str | None = None
    object: str | None = None
    source: str = ""
    # (forward answers, reverse answers) of this fact alone, when other facts asking the same question added
    # theirs (merge_shared_answers): a miss is attributed by this fact's own page, not by another fact's
    own_answers: tuple[tuple[str, ...], tuple[str, ...]] | None = Field(default=None, repr=False)


class FactsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    relations: dict[str, Relation] = Field(default_factory=dict)
    facts: list[Any]


# Built-in templates, used when a facts source names one of these relations without defining it.
BUILTIN_RELATIONS: dict[str, Relation] = {
    "directed": Relation(
        forward="Which film did {subject} direct?",
        reverse="Who directed the film {object}?",
        statement="{subject} directed the film {object}.",
    ),
    "compatible_with": Relation(
        forward="Which controller is compatible with pump {subject}?",
        reverse="Which pump is compatible with controller {object}?",
        statement="Pump {subject} is compatible with controller {object}.",
    ),
    "founded": Relation(
        forward="Which company did {subject} found?",
        reverse="Who founded the company {object}?",
        statement="{subject} founded the company {object}.",
    ),
    "wrote": Relation(
        forward="Which novel did {subject} write?",
        reverse="Who wrote the novel {object}?",
        statement="{subject} wrote the novel {object}.",
    ),
    "child_of": Relation(
        forward="Who is {subject}'s parent?",
        reverse="Who is {object}'s child?",
        statement="{subject} is the child of {object}.",
    ),
}


def _keys_at(model: type[BaseModel], loc: Sequence[int | str]) -> list[str]:
    """The keys allowed where ``loc`` points (``("forward", "qestion")`` -> Question's), for a "did
    you mean" on a misspelt one: walks the models' field types through lists, dicts and ``X | None``."""

    def unwrap(kind: Any) -> Any:  # `Question | None` -> Question
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        return args[0] if typing.get_origin(kind) not in (list, dict) and len(args) == 1 else kind

    kind: Any = model
    for part in loc[:-1]:
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            info = kind.model_fields.get(str(part))
            kind = unwrap(info.annotation if info is not None else None)
        elif typing.get_origin(kind) in (list, dict):
            kind = unwrap(typing.get_args(kind)[-1])  # an index or a key: the item's type
        else:
            return []
    if not (isinstance(kind, type) and issubclass(kind, BaseModel)):
        return []
    return [*kind.model_fields, *(["answer"] if kind is Question else [])]


# How a file writes a model that was given as something else (pydantic's message named the class).
_MAPPING_OF = {
    "Question": "{question: ..., answer: ...}",
    "Relation": "{forward: ..., reverse: ..., statement: ...}",
}


def _written_loc(loc: Sequence[int | str], raw: object) -> str:
    """An error's field as the record spells it: the documented ``answer:`` is the model's ``answers``, and a
    flat row's ``forward_answer`` / ``forward_question`` its ``forward.answers`` / ``forward.question``."""
    shown = [str(p) for p in loc]
    if not isinstance(raw, Mapping):
        return ".".join(shown)
    head = loc[0] if loc else None
    if len(loc) == 2 and head in ("forward", "reverse") and head not in raw and f"{head}_question" in raw:
        return f"{head}_{'answer' if loc[1] == 'answers' else loc[1]}"
    at: object = raw
    for i, part in enumerate(loc):
        if part == "answers" and isinstance(at, Mapping) and "answers" not in at and "answer" in at:
            shown[i] = "answer"
        if isinstance(at, Mapping):
            at = at.get(part)
        elif isinstance(at, list) and isinstance(part, int) and 0 <= part < len(at):
            at = at[part]
        else:
            break
    return ".".join(shown)


def _fmt_error(
    source: str,
    where: str,
    exc: ValidationError,
    model: type[BaseModel] = Fact,
    *,
    python: bool = False,
    raw: object = None,
) -> FactFieldError:
    """``source: where: field 'x': what is wrong`` for each error (``python``: of a model built in code, where
    a value that is not text was written so, not read from a file that did not quote it; ``raw``: the record
    as read, whose spelling of a field the message keeps)."""
    parts = []
    for err in exc.errors():
        loc = _written_loc(err["loc"], raw)
        msg = str(err["msg"]).removeprefix("Value error, ")
        value = err.get("input")
        model_name = str(err.get("ctx", {}).get("class_name"))
        if err["type"] == "model_type" and model_name in _MAPPING_OF:
            msg = f"must be a mapping {_MAPPING_OF[model_name]}, got {type(value).__name__} {value!r:.60}"
        elif err["type"] == "string_too_short":  # a blank question (stripped)
            msg = "is empty: write the question" if err["loc"][-1:] == ("question",) else "is empty"
        elif err["type"] == "missing" and err["loc"][-1:] == ("answers",):
            # files say `answer:` (documented; `answers:` is accepted too): the model's field name misled
            loc = ".".join(str(p) for p in (*err["loc"][:-1], "answer"))
            msg = "missing: the accepted answer (a string or a list of aliases)"
        elif err["type"] == "string_type" and python:
            got = type(value).__name__ if isinstance(value, (Mapping, list)) else _read_as(value)
            msg = f"must be a str, got {got}"
        elif err["type"] == "string_type" and not isinstance(value, (Mapping, list)):
            # `subject: 200` (or yes, 2024-01-01) in YAML/JSON is not text: say what was read and the fix
            msg += f", got {_read_as(value)}: quote it"
        elif err["type"] == "missing" and python:
            msg = "missing"
        elif err["type"] == "extra_forbidden" and err["loc"]:
            keys = _keys_at(model, err["loc"])
            msg = "unknown field" + did_you_mean(str(err["loc"][-1]), keys)
            if model is Fact and err["loc"][-1] == "aliases":
                msg += " (a fact's other names go in subject_aliases / object_aliases)"
        parts.append(f"field '{loc}': {msg}" if loc else msg)
    return FactFieldError(": ".join(x for x in (source, where, "; ".join(parts)) if x))


def _is_position_row(raw: Mapping[Any, Any]) -> bool:
    """A lost-in-the-middle row (question + ctxs, or question + gold): no fact has these keys."""
    return "question" in raw and ("ctxs" in raw or "gold" in raw)


def parse_fact(raw: object, source: str, where: str) -> Fact:
    if isinstance(raw, Fact):
        return raw
    if not isinstance(raw, Mapping):
        raise FactsError(
            f"{source}: {where}: expected a mapping of fact fields, got {type(raw).__name__} {raw!r:.60}: "
            "write a fact as {subject: ..., relation: ..., object: ...} or with forward and reverse "
            "questions ({question: ..., answer: ...} each)"
        )
    if _is_position_row(raw):
        # Otherwise "field 'question': unknown field" hides the mix-up.
        raise FactsError(
            f"{source}: {where}: this is lost-in-the-middle position data (question, answers and ctxs), "
            "not facts; use it with @ragprobe.position(data=...). facts= expects subject, relation and "
            "object (or forward and reverse questions) per fact"
        )
    data = dict(raw)
    # Flat CSV/JSONL spelling: forward_question / forward_answer / reverse_question / reverse_answer.
    for direction in ("forward", "reverse"):
        q, a = data.pop(f"{direction}_question", None), data.pop(f"{direction}_answer", None)
        if q not in (None, "") or a not in (None, ""):  # empty CSV cells: this row is a triple
            if q in (None, "") or a in (None, ""):
                missing = f"{direction}_question" if q in (None, "") else f"{direction}_answer"
                hint = misspelt(missing, data)
                raise FactsError(f"{source}: {where}: field '{missing}' is missing or empty{hint}")
            if isinstance(a, str) and "|" in a:
                a = a.split("|")
            data[direction] = {"question": q, "answer": a}
    for key in ("subject_aliases", "object_aliases"):
        if isinstance(data.get(key), str):
            data[key] = [s for s in data[key].split("|") if s]
    for key in ("subject", "object"):
        # other names of an entity have their own field: "P-200|Pump 200" was asked as one name, and a list
        # was refused as "Input should be a valid string" with no pointer
        value = data.get(key)
        if isinstance(value, list) or (isinstance(value, str) and "|" in value):
            got = "a list" if isinstance(value, list) else f"{value!r} holds '|'"
            raise FactsError(
                f"{source}: {where}: field '{key}': {got}: give one {key} here and its other names in "
                f"{key}_aliases (a list; in a CSV, a column {key}_aliases with the names separated by '|')"
            )
    data = {k: v for k, v in data.items() if v not in (None, "")}
    try:
        return Fact.model_validate(data)
    except ValidationError as exc:
        raise _fmt_error(source, where, exc, raw=raw) from None


def build_pairs(
    facts: Sequence[Fact],
    relations: Mapping[str, Relation] | None = None,
    *,
    source: str = "facts",
    wheres: Sequence[str] | None = None,
) -> list[FactPair]:
    """Expand facts into question pairs. A question asked by several facts (one-to-many relations) accepts
    every answer any of them gives."""
    rels = {**BUILTIN_RELATIONS, **(relations or {})}
    pairs: list[FactPair] = []
    keys: list[tuple[str, str]] = []  # each pair's folded questions, for merge_shared_answers
    seen: dict[str, tuple[str, bool]] = {}  # id -> (where, whether the fact gave it)
    # folded questions -> (where the fact is, its questions as written)
    first_at: dict[tuple[str, str], tuple[str, tuple[str, str]]] = {}  # (see question_key)
    for i, f in enumerate(facts):
        where = wheres[i] if wheres else f"facts[{i}]"
        relation = _relation_name(f.relation, rels) if f.relation else None
        rel = rels.get(relation) if relation else None
        if f.relation and rel is None and (f.forward is None or f.reverse is None):
            raise FactsError(
                f"{source}: {where}: field 'relation': unknown relation {f.relation!r}"
                + did_you_mean(_relation_key(f.relation), rels)
                + "; "
                + _unknown_relation_fix(source, sorted(rels))
            )
        values = {"subject": f.subject or "", "object": f.object or ""}
        try:
            forward = f.forward or _question(
                rel.forward.format(**values),  # type: ignore[union-attr]
                [f.object or "", *f.object_aliases],
            )
            reverse = f.reverse or _question(
                rel.reverse.format(**values),  # type: ignore[union-attr]
                [f.subject or "", *f.subject_aliases],
            )
        except ValidationError as exc:  # e.g. a template that fills in to a blank question
            raise _fmt_error(source, where, exc) from None
        # from this fact's own answers (before other facts' are added): it states this fact
        if f.statement:
            statement = f.statement
        elif rel is not None and rel.statement:
            statement = rel.statement.format(**values)
        else:
            statement = f"{forward.question} {forward.answers[0]}."
        ident = f.id or f"{i}"
        if ident in seen:
            first, given = seen[ident]
            # an index taken as an id can meet a given one: this fact may have no 'id' field at all
            why = "" if given and f.id else (
                "; a fact without an 'id' takes its index in the file (from 0) as its id: give every fact an "
                "id, or none"
            )
            raise FactsError(f"{source}: {where}: field 'id': duplicate id {ident!r} (first at {first}){why}")
        seen[ident] = (where, bool(f.id))
        # The same fact twice is asked twice and counted as two pairs: it overstates the evidence. Case and
        # spacing do not make another fact: scoring ignores them, so "p-200" and "P-200" are one answer.
        questions = (forward.question, reverse.question)
        key = (question_key(forward.question), question_key(reverse.question))
        if key in first_at:
            same = "the same" if first_at[key][1] == questions else "the same (apart from case and spacing)"
            raise FactsError(
                f"{source}: {where}: duplicate of {first_at[key][0]}: {same} forward and reverse "
                "questions; a fact listed twice is counted twice, so remove one"
            )
        first_at[key] = (where, questions)
        keys.append(key)
        pairs.append(
            FactPair(
                id=ident,
                forward=forward,
                reverse=reverse,
                statement=statement,
                subject=f.subject,
                relation=relation if rel is not None else f.relation,
                object=f.object,
                source=source,
            )
        )
    return _merge_shared_answers(pairs, keys)


def _question(question: str, answers: list[str]) -> Question:
    """``Question(question=..., answers=...)``, built without validating when nothing could change or fail:
    every text non-empty and without surrounding blanks (``str.strip`` removes all that pydantic's
    stripping does, and more). A templated fact's questions are, almost always."""
    if question and question == question.strip() and answers and all(
        type(a) is str and a and a == a.strip() for a in answers
    ):
        return Question.model_construct(question=question, answers=Answers(answers))
    return Question(question=question, answers=answers)


def merge_shared_answers(pairs: Sequence[FactPair]) -> list[FactPair]:
    """"Which pump fits C-17?" asked by the facts of P-200 and of P-300 is one question: either pump is right
    for both (templated or explicit alike; an explicit fact scored the other pump's answer wrong). One
    question is one :func:`question_key`, as for :func:`distinct_questions`, so that whichever fact keeps it
    accepts the answers of all."""
    keys = [(question_key(p.forward.question), question_key(p.reverse.question)) for p in pairs]
    return _merge_shared_answers(pairs, keys)


def _merge_shared_answers(pairs: Sequence[FactPair], keys: Sequence[tuple[str, str]]) -> list[FactPair]:
    """:func:`merge_shared_answers` with each pair's (forward, reverse) question keys already folded."""
    accepted: dict[str, list[str]] = defaultdict(list)
    for p, (fkey, rkey) in zip(pairs, keys, strict=True):
        accepted[fkey].extend(p.forward.answers)
        accepted[rkey].extend(p.reverse.answers)
    if len(accepted) == 2 * len(pairs) and all(
        len(set(q.answers)) == len(q.answers) for p in pairs for q in (p.forward, p.reverse)
    ):
        return list(pairs)  # no question asked twice, nor an answer given twice: nothing to merge

    merged: dict[str, Question] = {}  # one Question per text (10,000 facts: no re-validation)
    for p, pair_keys in zip(pairs, keys, strict=True):
        for q, key in zip((p.forward, p.reverse), pair_keys, strict=True):
            answers = list(dict.fromkeys(accepted[key]))
            if answers != q.answers and q.question not in merged:
                merged[q.question] = Question.model_construct(question=q.question, answers=Answers(answers))
    out: list[FactPair] = []
    for p in pairs:
        fwd, rev = merged.get(p.forward.question, p.forward), merged.get(p.reverse.question, p.reverse)
        if fwd is p.forward and rev is p.reverse:
            out.append(p)
            continue
        own = p.own_answers or (tuple(p.forward.answers), tuple(p.reverse.answers))
        out.append(p.model_copy(update={"forward": fwd, "reverse": rev, "own_answers": own}))
    return out


def _relation_key(name: str) -> str:
    return re.sub(r"[\s_-]+", "_", name.strip().lower())


def _relation_name(name: str, relations: Mapping[str, Relation]) -> str:
    """The defined relation ``name`` means: itself, else the one it spells in other case or with spaces or
    hyphens for underscores (a spreadsheet's "Compatible With" is ``compatible_with``), if only one."""
    if name in relations:
        return name
    key = _relation_key(name)
    found = [known for known in relations if _relation_key(known) == key]
    return found[0] if len(found) == 1 else name


def _unknown_relation_fix(source: str, known_names: Sequence[str]) -> str:
    known = ", ".join(known_names)
    if source == LIST_SOURCE:  # a list has no 'relations:' section to define one in
        return (
            f"in a list, use a built-in relation ({known}), or give the questions: "
            "Fact(forward={'question': ..., 'answer': ...}, reverse={...}); "
            "own templates go under 'relations:' in a facts file"
        )
    if Path(source).suffix.lower() == ".csv":  # nor has a CSV file
        return (
            f"a CSV file has no 'relations:' section: use a built-in relation (known: {known}), give the "
            "questions in forward_question, forward_answer, reverse_question, reverse_answer columns, or "
            'move the facts to a YAML / JSON file (or a JSONL file with a {"relations": ...} first line)'
        )
    return f"define it under 'relations:' with forward/reverse/statement templates (known: {known})"


def load_yaml(text: str) -> tuple[object, Lines]:
    """The document and the line numbers of its facts, from one parse with libyaml when PyYAML has it
    (the pure-Python parser took ~3 s for 2,000 facts, and the text was parsed twice)."""
    import yaml

    # libyaml's binding keeps the PyYAML it was first imported with: after an in-process pytester run
    # unloaded and re-imported PyYAML, its nodes and errors are not this module's: parse in pure Python.
    binding = sys.modules.get("yaml._yaml")
    fast = getattr(yaml, "CSafeLoader", None) if getattr(binding, "yaml", None) is yaml else None
    loader = (fast or yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        _yaml_unique_keys(node)
        _yaml_answers_as_text(node)
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return data, _yaml_lines(node)


def yaml_error_text(exc: BaseException, source_text: str | None = None) -> str:
    """A PyYAML error in one line that names lines of the file: "line 3, column 5: did not find
    expected ',' or '}' (while parsing a flow mapping at line 2, column 5)". PyYAML's own text took four
    lines and called the file "<unicode string>" (it is given the text, not the path). Given the file's
    ``source_text``, the two slips of hand-written YAML get their fix: a tab indent, an unquoted ': '."""
    problem = getattr(exc, "problem", None)
    mark = getattr(exc, "problem_mark", None)
    position, character = getattr(exc, "position", None), getattr(exc, "character", None)
    if isinstance(position, int) and isinstance(character, int) and source_text is not None:
        # PyYAML's reader error (a character YAML refuses) said 'in "<unicode string>", position 24'
        line = source_text.count("\n", 0, position) + 1
        column = position - (source_text.rfind("\n", 0, position) + 1) + 1
        kind = "control character" if unicodedata.category(chr(character)) == "Cc" else "character"
        return f"line {line}, column {column}: {kind} U+{character:04X} (YAML allows none): remove it"
    if not isinstance(problem, str) or not problem:
        return str(exc)

    def at(m: Any) -> str:
        return f"line {m.line + 1}, column {m.column + 1}"

    text = f"{at(mark)}: {problem}" if mark is not None else problem
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if isinstance(context, str) and context:
        where = f" at {at(context_mark)}" if context_mark is not None else ""
        text += f" ({context}{where})"
    at_mark = ""  # the character the error points at
    if mark is not None and source_text is not None:
        lines = source_text.splitlines()
        if mark.line < len(lines):
            at_mark = lines[mark.line][mark.column : mark.column + 1]
    if problem.startswith("mapping values are not allowed"):  # question: Which team owns x: the main one?
        text += "; a value holding ': ' must be quoted (question: \"Which pump fits C-17: the small one?\")"
    elif "cannot start any token" in problem and at_mark == "\t":
        text += "; that is a tab: indent YAML with spaces"
    return text


def json_error_text(exc: json.JSONDecodeError, jsonl: bool = False) -> str:
    """A JSON syntax error with its column and, for the slips hand-written JSON makes, the fix:
    "Expecting property name enclosed in double quotes" was all a trailing comma (``{"a": 1,}``) or
    single quotes got. ``jsonl``: ``exc`` is of one line of a JSONL file (whose own slips differ)."""
    text = f"{exc.msg} (column {exc.colno})"
    if exc.msg.startswith("Invalid control character") and exc.pos < len(exc.doc):  # a pasted tab, an ESC
        char = exc.doc[exc.pos]
        escaped = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}.get(char, f"\\u{ord(char):04x}")
        return (
            f"{exc.msg.removesuffix(' at')} U+{ord(char):04X} (column {exc.colno}); inside a JSON string "
            f"write it escaped ({escaped}) or remove it"
        )
    head = exc.doc.strip()
    before, at = exc.doc[: exc.pos].rstrip(), exc.doc[exc.pos : exc.pos + 1]
    if jsonl and (head == "{" or head.startswith("[")):
        return text + (
            "; a JSONL file holds one whole JSON object per line (a pretty-printed object or a JSON "
            "list goes in a .json file)"
        )
    if jsonl and head.endswith(","):
        return text + "; JSONL lines are not separated by commas: remove the one at the end of the line"
    if at in ("}", "]") and before.endswith(","):  # Python < 3.13: the error points past the comma
        return text + f"; JSON allows no comma before '{at}': remove it"
    if exc.msg.startswith("Illegal trailing comma before end of"):  # 3.13+: it points at the comma
        closer = "}" if exc.msg.endswith("object") else "]"
        return text + f"; JSON allows no comma before '{closer}': remove it"
    if at == "'":
        return text + "; JSON strings and keys take double quotes, not single ones"
    if not jsonl and exc.msg == "Extra data" and exc.colno == 1 and at in ("{", "["):
        # a value ended a line and another starts the next: JSONL saved as .json
        return text + (
            "; the file holds more than one JSON value: one object per line is JSONL (name the file .jsonl), "
            "a .json file holds one value (a list of them)"
        )
    return text


def _yaml_unique_keys(node: object) -> None:
    """Refuse a key given twice in one mapping (invalid YAML, but PyYAML silently keeps the last:
    a pasted ``{subject: P-1, subject: P-9, ...}`` lost P-1 without a word)."""
    import yaml

    dups: list[tuple[int, str, int, Any]] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, yaml.MappingNode):
            first: dict[tuple[str, str], int] = {}
            for k, v in n.value:
                if isinstance(k, yaml.ScalarNode) and k.value != "<<":  # "<<" merges are allowed
                    line = k.start_mark.line + 1
                    if (k.tag, k.value) in first:
                        dups.append((line, k.value, first[(k.tag, k.value)], k.start_mark))
                    first.setdefault((k.tag, k.value), line)
                stack.append(v)
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
    if dups:
        _, key, line, mark = min(dups, key=lambda d: d[0])
        raise yaml.constructor.ConstructorError(
            None, None, f"found duplicate key {key!r} (first given on line {line})", mark
        )


# Keys whose values are answers (or ids): text as written, whatever YAML 1.1 would make of it.
_TEXT_KEYS = frozenset(
    {"answer", "answers", "forward_answer", "reverse_answer", "subject_aliases", "object_aliases", "id"}
)
_NON_TEXT_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in ("int", "float", "bool", "timestamp"))


def _yaml_answers_as_text(node: object) -> None:
    """Re-tag plain scalars under answer keys as strings: YAML 1.1 reads ``0012`` as 10 (octal), ``1.50`` as
    1.5, ``12:30`` as 750 and ``yes`` as True, answers no pipeline gives (``2024-01-01`` was refused)."""
    import yaml

    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                if isinstance(k, yaml.ScalarNode) and k.value in _TEXT_KEYS:
                    for item in v.value if isinstance(v, yaml.SequenceNode) else [v]:
                        # plain (style None, or "" from libyaml): a quoted scalar is text already
                        plain = isinstance(item, yaml.ScalarNode) and not item.style
                        if plain and item.tag in _NON_TEXT_TAGS:
                            item.tag = "tag:yaml.org,2002:str"
                stack.append(v)
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)


class Lines(list[int]):
    """1-based line numbers of the items of the top-level ``facts`` list (or of a top-level list), and in
    ``relations`` those of the relations defined under ``relations:``, by name."""

    relations: dict[str, int]


def _yaml_lines(node: object, key: str = "facts") -> Lines:
    import yaml

    seq = None
    out = Lines()
    out.relations = {}
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if getattr(k, "value", None) == key and isinstance(v, yaml.SequenceNode):
                seq = v
            elif getattr(k, "value", None) == "relations" and isinstance(v, yaml.MappingNode):
                out.relations = {str(name.value): name.start_mark.line + 1 for name, _ in v.value}
    elif isinstance(node, yaml.SequenceNode):
        seq = node
    if seq is not None:
        out.extend(item.start_mark.line + 1 for item in seq.value)
    return out


def _relation_line(exc: ValidationError, lines: list[int]) -> str | None:
    """"line N" when every error is in one relation defined on line N (YAML), else None."""
    known = getattr(lines, "relations", {})
    at = {known.get(str(e["loc"][1])) if e["loc"][:1] == ("relations",) and len(e["loc"]) > 1 else None
          for e in exc.errors()}
    return f"line {at.pop()}" if len(at) == 1 and None not in at else None


def _load_structured(data: object, source: str, lines: list[int]) -> list[FactPair]:
    if isinstance(data, list):
        data = {"facts": data}
    if data is None:  # JSON null, YAML null or "---"
        raise FactsError(f"{source}: the file holds null, not facts")
    if not isinstance(data, Mapping):
        raise FactsError(f"{source}: expected a mapping with 'facts:' (and optional 'relations:') or a list")
    try:
        parsed = FactsFile.model_validate(data)
    except ValidationError as exc:
        # a relation's template error: the line of its definition (YAML), not just "top level"
        raise _fmt_error(source, _relation_line(exc, lines) or "top level", exc, FactsFile) from None
    wheres = [
        f"facts[{i}]" + (f" (line {lines[i]})" if i < len(lines) else "") for i in range(len(parsed.facts))
    ]
    facts = [parse_fact(raw, source, wheres[i]) for i, raw in enumerate(parsed.facts)]
    if not facts:
        raise FactsError(f"{source}: no facts found")
    return build_pairs(facts, parsed.relations, source=source, wheres=wheres)


def load_facts_file(path: str | Path) -> list[FactPair]:
    p = Path(path)
    source = str(path)
    if p.is_dir():  # "not found" sent users looking for a typo in a path that exists
        raise FactsError(f"{source}: is a directory, not a facts file (resolved to {p.resolve()})")
    if not p.is_file():
        raise FactsError(f"{source}: facts file not found (resolved to {p.resolve()})")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise FactsError(f"{source}: cannot read: {exc}") from None
    text = decode_utf8(data, source, FactsError)  # a BOM is fine (CSV saved by Excel)
    return list(_parse_facts(source, p.suffix.lower(), text))


_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")


class ParseMemo(Generic[_K, _V]):
    """Parses kept by what they were parsed from, least recently used out first: at most ``entries`` of
    them, holding at most ``chars`` characters of source text. The values are shared by every caller, so
    they must be immutable (tuples of frozen models); callers hand out fresh lists of them."""

    def __init__(self, entries: int, chars: int) -> None:
        self.entries = entries
        self.chars = chars
        self._data: OrderedDict[_K, tuple[_V, int]] = OrderedDict()
        self._held = 0
        self.hits = 0
        self.misses = 0
        # check_reverse / check_position may run in several threads: a lookup's move_to_end raced another
        # thread's eviction (KeyError). Held for the bookkeeping only, not while ``make`` parses.
        self._lock = threading.Lock()

    def get(self, key: _K, make: Callable[[], _V], size: int = 0) -> _V:
        """The value kept for ``key``, else ``make()`` (kept unless ``size`` alone exceeds ``chars``).
        An exception from ``make`` is not kept: a broken file is read again, and reports again."""
        with self._lock:
            found = self._data.get(key)
            if found is not None:
                self._data.move_to_end(key)
                self.hits += 1
                return found[0]
            self.misses += 1
        value = make()
        if size <= self.chars:
            with self._lock:
                old = self._data.pop(key, None)  # (made meanwhile by another thread)
                self._held += size - (old[1] if old is not None else 0)
                self._data[key] = (value, size)
                while len(self._data) > self.entries or self._held > self.chars:
                    _, (_, dropped) = self._data.popitem(last=False)
                    self._held -= dropped
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._held = 0

    def __len__(self) -> int:
        return len(self._data)


# The cost plan (at collection), every probe on a file and ragprobe_fact_pairs read the same facts: each
# content is parsed once per process. Keyed by the text itself (and its name), not by the file's size
# and times: an edit of the same size within the file system's time granularity is still seen.
_FACTS_MEMO: ParseMemo[tuple[object, ...], tuple[FactPair, ...]] = ParseMemo(entries=8, chars=64_000_000)


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a file is parsed: 20,000 facts keep ~20 new objects each, and
    the collector made five full passes over the growing heap during a 20,000-row CSV's parse, finding
    nothing to free. Paused, the new objects are walked by the first collections after it instead: one
    pass of the middle generation and one full pass (bench/facts_load.py counts those in its times)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _parse_facts(source: str, suffix: str, text: str) -> tuple[FactPair, ...]:
    def parse() -> tuple[FactPair, ...]:
        with gc_paused():
            return tuple(_parse_facts_text(source, suffix, text))

    return _FACTS_MEMO.get(("file", source, suffix, text), parse, len(source) + len(text))


_FACTS_SUFFIXES = (".yaml", ".yml", ".json", ".jsonl", ".csv")


def _parse_facts_text(source: str, suffix: str, text: str) -> list[FactPair]:
    if suffix not in _FACTS_SUFFIXES:
        formats = ", ".join(_FACTS_SUFFIXES[:-1]) + " or " + _FACTS_SUFFIXES[-1]
        raise FactsError(f"{source}: unsupported facts format {suffix!r}; use {formats}")
    if not text.strip():
        raise FactsError(f"{source}: the file is empty: it holds no facts")
    if suffix in (".yaml", ".yml"):
        import yaml

        try:
            data, lines = load_yaml(text)
        except yaml.YAMLError as exc:
            raise FactsError(f"{source}: invalid YAML: {yaml_error_text(exc, text)}") from None
        if data is None and all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
            raise FactsError(f"{source}: the file holds only comments: it holds no facts")
        return _load_structured(data, source, lines)
    if suffix == ".json":
        try:
            data = load_json(text)
        except json.JSONDecodeError as exc:
            raise FactsError(f"{source}: invalid JSON at line {exc.lineno}: {json_error_text(exc)}") from None
        except JSONContentError as exc:
            at = f" at line {exc.line}" if exc.line else ""
            raise FactsError(f"{source}: invalid JSON{at}: {exc}") from None
        return _load_structured(data, source, [])
    if suffix == ".jsonl":
        return _load_rows(_jsonl_rows(text, source), source, "line")
    return _load_rows(_csv_rows(text, source), source, "row")


# Columns a spreadsheet header may spell "Subject" or "Forward Question".
_CSV_COLUMNS = frozenset(Fact.model_fields) | {
    f"{d}_{k}" for d in ("forward", "reverse") for k in ("question", "answer")
}


def _csv_column(name: str) -> str:
    key = "_".join(name.strip().lower().split())
    return key if key in _CSV_COLUMNS else name.strip()


def _csv_rows(text: str, source: str) -> list[tuple[int, object]]:
    """Rows with the line each starts on (a quoted cell may span lines; line 1 is the header). Rows of empty
    cells (a spreadsheet's blank rows) are skipped, like blank lines."""
    first = text.split("\n", 1)[0]
    # Excel writes ';' between cells where the decimal mark is a comma; some exports use tabs.
    delimiter = "," if "," in first else next((d for d in ";\t" if d in first), ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [_csv_column(h) for h in next(reader, [])]
    if any(header) and not _CSV_COLUMNS.intersection(header):  # else every row is "unknown field" x3
        raise FactsError(
            f"{source}: row 1: the first line must be a header naming the columns (subject, relation, "
            "object or forward_question, forward_answer, reverse_question, reverse_answer); "
            f"found {', '.join(h for h in header if h)}"
        )
    column: dict[str, int] = {}
    for i, name in enumerate(header):
        if name in column:  # one would silently win over the other
            raise FactsError(
                f"{source}: row 1: column {name!r} is given twice (columns {column[name] + 1} and {i + 1}); "
                "remove or rename one"
            )
        if name:  # spreadsheets add unnamed trailing columns
            column[name] = i
    rows: list[tuple[int, object]] = []
    end = reader.line_num
    for cells in reader:
        start, end = end + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if any(c.strip() for c in cells[len(header):]):
            named = ", ".join(h for h in header if h)
            sep = {",": "a comma", ";": "a ';'"}.get(delimiter, "a tab")
            raise FactsError(
                f"{source}: row {start}: {len(cells)} cells but the header has {len(header)} columns "
                f"({named}); quote a cell that contains {sep}"
            )
        for i, cell in enumerate(cells[: len(header)]):
            if not header[i] and cell.strip():  # dropped silently, a shifted row would lose a value
                raise FactsError(
                    f"{source}: row {start}: {cell!r} in column {i + 1}, which has no header; "
                    "name the column or delete the cell"
                )
        rows.append((start, {header[i]: c for i, c in enumerate(cells[: len(header)]) if header[i]}))
    return rows


def decode_utf8(data: bytes, source: str, error: type[FactsError]) -> str:
    """UTF-8 text (a BOM is fine: Windows editors write one); otherwise an error naming the line of the
    first bad byte and the fix (the codec's "position 180" named neither a line nor what to do)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise error(
            f"{source}: the file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise error(
            f"{source}: line {line}: not UTF-8 (byte 0x{data[exc.start]:02x} at byte {column} of the line); "
            "save the file as UTF-8 (it is probably Windows-1252 / Latin-1)"
        ) from None
    nul = text.find("\0")
    if nul >= 0:  # no format here holds one; UTF-16 without a BOM decodes as UTF-8 with one in every other
        line, column = text.count("\n", 0, nul) + 1, nul - (text.rfind("\n", 0, nul) + 1) + 1
        if text.count("\0") * 4 >= len(text):
            fix = "the file holds NUL bytes: it is probably UTF-16 (saved without a byte-order mark)"
            raise error(f"{source}: line {line}: {fix}; save it as UTF-8")
        raise error(f"{source}: line {line}: a NUL character (character {column} of the line); remove it")
    return text


def split_lines(text: str) -> list[str]:
    """Lines split at \\n only (a \\r before it is dropped): ``str.splitlines`` also splits at U+2028,
    U+0085 and other separators that ``json.dumps(..., ensure_ascii=False)`` leaves inside strings.
    A file with bare \\r line ends (classic Mac) is split at those."""
    sep = "\n" if "\n" in text or "\r" not in text else "\r"
    return [line.removesuffix("\r") for line in text.split(sep)]


def _jsonl_rows(text: str, source: str) -> list[tuple[int, object]]:
    rows: list[tuple[int, object]] = []
    for lineno, raw_line in enumerate(split_lines(text), start=1):
        # a BOM starts a later line of files joined with `cat` (each saved with one): an encoding mark still
        line = raw_line.removeprefix("\ufeff")
        if not line.strip():
            continue
        try:
            rows.append((lineno, load_json(line)))
        except json.JSONDecodeError as exc:
            error = json_error_text(exc, jsonl=True)
            raise FactsError(f"{source}: line {lineno}: invalid JSON: {error}") from None
        except JSONContentError as exc:
            raise FactsError(f"{source}: line {lineno}: invalid JSON: {exc}") from None
    return rows


class JSONContentError(ValueError):
    """JSON that parses but is refused: a key given twice in one object, NaN or Infinity. ``line``: the
    line of the text given to :func:`load_json` it is on, when known."""

    line: int | None = None


class DuplicateKeyError(JSONContentError):
    """A key given twice in one JSON object (json would keep the last silently)."""


# A JSON string (skipped) or one of the constants Python's json reads and JSON has not.
_CONSTANT = re.compile(r'"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)')


def _no_constant(name: str) -> NoReturn:
    """``parse_constant``: NaN / Infinity are no JSON values. Read, a missing answer became "nan"."""
    raise JSONContentError(
        f"{name} is not a JSON value (json.dumps writes a missing pandas / NumPy value so): give the value, "
        "null, or leave the record out"
    )


class JSONNumber(float):
    """A JSON number with a fraction or exponent that shows as written: ``"answer": 1.50`` is the
    answer "1.50" (a float would make it "1.5"). It is still a float wherever a number is wanted."""

    text: str

    def __new__(cls, text: str) -> JSONNumber:
        number = super().__new__(cls, text)
        number.text = text
        return number

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKeyError(f"key {key!r} given twice in one object")
        out[key] = value
    return out


def load_json(text: str) -> Any:
    """``json.loads`` for user data: a key given twice in one object raises :class:`DuplicateKeyError`, NaN
    or Infinity a :class:`JSONContentError` (with the line of the first); numbers with a fraction keep their
    text (:class:`JSONNumber`)."""
    try:
        return json.loads(
            text, object_pairs_hook=_unique_keys, parse_float=JSONNumber, parse_constant=_no_constant
        )
    except JSONContentError as exc:
        if not isinstance(exc, DuplicateKeyError):
            found = next((m for m in _CONSTANT.finditer(text) if m.group(1)), None)
            exc.line = text.count("\n", 0, found.start()) + 1 if found else None
        raise


def _load_rows(rows: Iterable[tuple[int, object]], source: str, unit: str) -> list[FactPair]:
    relations: dict[str, Relation] = {}
    facts: list[Fact] = []
    wheres: list[str] = []
    for lineno, raw in rows:
        where = f"{unit} {lineno}"
        if isinstance(raw, Mapping) and set(raw) == {"relations"}:  # a JSONL header line with templates
            try:
                relations.update(FactsFile.model_validate({"facts": [], **raw}).relations)
            except ValidationError as exc:
                raise _fmt_error(source, where, exc, FactsFile) from None
            continue
        if isinstance(raw, Mapping) and isinstance(raw.get("facts"), list):  # a .json facts file's layout
            raise FactsError(
                f"{source}: {where}: a 'facts' list is the layout of a .json or .yaml facts file; a JSONL "
                'file holds one fact per line (after an optional first line {"relations": {...}}): rename '
                "the file to .json, or write one fact per line"
            )
        facts.append(parse_fact(raw, source, where))
        wheres.append(where)
    if not facts:
        raise FactsError(f"{source}: no facts found")
    return build_pairs(facts, relations, source=source, wheres=wheres)


# -- synthetic facts --------------------------------------------------------------------------------

_SYLLABLES = (
    "ka ren to mi sa lo vi dra nel qu ar bel cor dun fa gor hal isk jor kel mar nov pel ros tam"
    " ul var wen yst zan bri cla dov eth fin gal hob"
).split()
_FIRST = (
    "Alder Brisa Corin Dalia Evren Faro Galen Hedda Ilan Jora Kestrel Liora Maren Nilo Orsa Pell"
    " Quill Rhea Soren Tamsin Ulric Vela Wren Xan Yara Zeno"
).split()


def _word(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(syllables)).capitalize()


def synthetic_facts(n: int, seed: int = 0) -> list[Fact]:
    """``n`` fictitious one-to-one facts over several relation kinds; names never collide."""
    if n < 1:
        raise FactsError(f"synthetic:{n}: N must be at least 1")
    rng = random.Random(f"ragprobe-synthetic-{seed}")
    used: set[str] = set()
    # Every name so far, "\0"-separated (no name holds one): a new name inside an old one is a search of
    # this, in C. Testing each old name in Python made synthetic:4000 take 12 s and 20000 take 400 s.
    joined = bytearray(b"\0")

    def clashes(name: str) -> bool:
        """Whether ``name`` holds or is held by a name already used (or is one)."""
        if name.encode() in joined:
            return True
        size = len(name)  # an old name inside this one is one of its substrings
        return any(name[i:j] in used for i in range(size) for j in range(i + 1, size + 1))

    def fresh(make: Any) -> str:
        for _ in range(10_000):
            name = str(make())
            if not clashes(name):
                used.add(name)
                joined.extend(name.encode() + b"\0")
                return name
        raise FactsError(f"synthetic:{n}: could not make {n} distinct names; use a smaller N")

    kinds = ("directed", "compatible_with", "founded", "wrote")
    facts: list[Fact] = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        if kind == "compatible_with":
            subj = fresh(lambda: f"P-{rng.randint(100, 9999)}")
            obj = fresh(lambda: f"C-{rng.randint(10, 9999)}")
        else:
            subj = fresh(lambda: f"{rng.choice(_FIRST)} {_word(rng, 3)}")
            if kind == "founded":
                obj = fresh(lambda: f"{_word(rng, 3)} {rng.choice(['Works', 'Labs', 'Systems', 'Foundry'])}")
            else:
                obj = fresh(lambda: f"The {_word(rng, 2)} {_word(rng, 2)}")
        facts.append(Fact(subject=subj, relation=kind, object=obj, id=f"synthetic-{i}"))
    return facts


def resolve_pairs(
    facts: str | Path | Sequence[Fact] | Sequence[FactPair],
    *,
    seed: int = 0,
    base_dirs: Sequence[Path] = (),
) -> list[FactPair]:
    """Facts from a path, ``synthetic:N``, or a list of Fact / FactPair."""
    if isinstance(facts, (str, Path)):
        m = SYNTHETIC_RE.match(str(facts))
        if m:
            source, n = str(facts), int(m.group(1))

            def make() -> tuple[FactPair, ...]:
                with gc_paused():
                    return tuple(build_pairs(synthetic_facts(n, seed), source=source))

            # (the names are drawn one by one, each checked against all drawn: worth keeping too)
            return list(_FACTS_MEMO.get(("synthetic", source, seed), make, 100 * n))
        return load_facts_file(find_file(facts, base_dirs))
    items = list(facts)
    if not items:
        raise FactsError(f"{LIST_SOURCE}: no facts given")
    if all(isinstance(f, FactPair) for f in items):
        return merge_shared_answers(_joined([f for f in items if isinstance(f, FactPair)]))
    parsed = [parse_fact(f, LIST_SOURCE, f"facts[{i}]") for i, f in enumerate(items)]
    return build_pairs(parsed, source=LIST_SOURCE)


def _joined(pairs: list[FactPair]) -> list[FactPair]:
    """Pairs given as a list, often two files' joined: the same fact twice is refused, as in one file; ids
    that collide (each file numbers its facts from 0) are qualified by their file's name, so that report rows
    and miss lists name one fact each."""
    first: dict[tuple[str, str], int] = {}
    for i, p in enumerate(pairs):
        key = (question_key(p.forward.question), question_key(p.reverse.question))
        if key in first:
            j = first[key]
            # as in one file: case and spacing do not make another fact (scoring folds them); each pair is
            # named with its file, since joined files all number their facts from 0
            written = (p.forward.question, p.reverse.question)
            same = "the same" if written == (pairs[j].forward.question, pairs[j].reverse.question) else (
                "the same (apart from case and spacing)"
            )
            raise FactsError(
                f"{LIST_SOURCE}: pairs[{i}] ({_pair_origin(p)}) is a duplicate of pairs[{j}] "
                f"({_pair_origin(pairs[j])}): {same} forward and reverse questions; a fact listed twice is "
                "counted twice, so remove one"
            )
        first[key] = i
    counts = Counter(p.id for p in pairs)
    if len(counts) == len(pairs):
        return pairs
    used = {ident for ident, c in counts.items() if c == 1}
    out: list[FactPair] = []
    for p in pairs:
        if counts[p.id] == 1:
            out.append(p)
            continue
        base = f"{Path(p.source).name}:{p.id}" if p.source else p.id
        ident, k = base, 2
        while ident in used:  # the same file name twice, or pairs without a source
            ident, k = f"{base}#{k}", k + 1
        used.add(ident)
        out.append(p.model_copy(update={"id": ident}))
    return out


def _pair_origin(pair: FactPair) -> str:
    """``id '0' of a.csv``: a pair by its id and the source it was read from (when it has one)."""
    return f"id {pair.id!r} of {pair.source}" if pair.source else f"id {pair.id!r}"


def find_file(
    path: str | Path,
    base_dirs: Sequence[Path],
    what: str = "facts file",
    error: type[FactsError] = FactsError,
) -> Path:
    """A relative path is looked up beside the test file first, then in the rootdir, then the cwd.
    Found nowhere: ``error`` naming every place looked (one "resolved to" the cwd hid the others)."""
    p = Path(path)
    if not p.is_absolute():
        for base in base_dirs:
            if (base / p).exists():
                return base / p
    if p.exists():
        return p
    if p.is_absolute() or not base_dirs:
        # not there: the loader's own "not found (resolved to ...)", with the file it likely misspells
        near = _near_name(str(path), p, [])
        if near:
            raise error(f"{path}: {what} not found (resolved to {p.resolve()}){near}")
        return p
    looked = dict.fromkeys(str((base / p).resolve()) for base in [*base_dirs, Path.cwd()])
    near = _near_name(str(path), p, base_dirs)
    raise error(f"{path}: {what} not found; looked for {', '.join(looked)}{near}")


def as_typed(typed: str, name: str, other: str) -> str:
    """``typed`` (a path as the user wrote it) with its last part ``name`` replaced by ``other``: a
    suggestion keeps what they typed, ``./`` and the separators included (``fixtures\\owner.yaml`` gives
    ``fixtures\\owners.yaml``, ``./fixtures/owner.yaml`` ``./fixtures/owners.yaml``; a Path would have
    dropped the ``./`` and written the platform's separator)."""
    return typed[: len(typed) - len(name)] + other if name and typed.endswith(name) else other


def _near_name(typed: str, path: Path, base_dirs: Sequence[Path]) -> str:
    """`` (did you mean 'fixtures/owners.yaml'?)`` for a file beside where ``path`` was looked for whose
    name it likely misspells (``owner.yaml``, ``qa.json`` for ``qa.jsonl``), written as ``typed`` was (a
    relative path stays relative); else ""."""
    for base in [*base_dirs, Path.cwd()]:
        try:
            names = [f.name for f in islice((base / path).parent.iterdir(), 1000) if f.is_file()]
        except OSError:  # no such directory, or not readable: nothing to suggest there
            continue
        close = closest(path.name, names)
        if close is not None:
            return f" (did you mean {as_typed(typed, path.name, close)!r}?)"
    return ""


def question_key(question: str) -> str:
    """Questions that differ only in case or spacing are one question (their answers move together)."""
    return " ".join(question.split()).casefold()


def distinct_questions(pairs: Sequence[FactPair], seed: int) -> list[FactPair]:
    """At most one pair per question, in file order: the pairs a paired test may count as independent.

    Facts of a one-to-many relation share a question ("Which pump fits controller C-7?" for P-1 and P-2):
    its one answer would count once per fact, and McNemar / Tango read those copies as independent
    evidence (simulated: 0.087 false FAIL at the boundary with questions shared by 2 facts, 0.195 by 5,
    against 0.05; bench/shared_questions.py). Each fact joins its forward and its reverse question, so the
    largest such set is a maximum matching (Hopcroft-Karp, scipy), taken over a seeded random order so
    that the fact keeping a shared question is a fair draw. A greedy pass kept a maximal set only: 15-20
    of a 40-fact chain of many-to-many facts, depending on the seed, where 20 fit. A question asked
    forward by one kept fact and in reverse by another (a symmetric relation) then keeps the first.
    """
    keys = [(question_key(p.forward.question), question_key(p.reverse.question)) for p in pairs]
    if len({k for ks in keys for k in ks}) == sum(len(set(ks)) for ks in keys):
        return list(pairs)  # no question asked twice: nothing to choose (the sample is unchanged)
    import numpy as np
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_bipartite_matching

    order = list(range(len(pairs)))
    random.Random(f"{seed}:distinct").shuffle(order)
    rows: dict[str, int] = {}
    cols: dict[str, int] = {}
    fact_at: dict[tuple[int, int], int] = {}  # one fact per (forward, reverse): exact repeats are one edge
    for i in order:
        edge = (rows.setdefault(keys[i][0], len(rows)), cols.setdefault(keys[i][1], len(cols)))
        fact_at.setdefault(edge, i)
    r, c = zip(*fact_at, strict=True)
    graph = csr_matrix((np.ones(len(r)), (r, c)), shape=(len(rows), len(cols)))
    match = maximum_bipartite_matching(graph, perm_type="column")
    matched = {fact_at[(row, int(col))] for row, col in enumerate(match) if col >= 0}
    used: set[str] = set()
    kept: list[int] = []
    for i in order:
        if i in matched and used.isdisjoint(keys[i]):
            used.update(keys[i])
            kept.append(i)
    return [pairs[i] for i in sorted(kept)]


def sample(items: Sequence[Any], n: int | None, seed: int, salt: str = "") -> list[Any]:
    """A seeded subsample in a seeded random order (reruns and -n 2 runs pick and order the same items).

    The order matters: sequential looks and a call budget see the first part of the sample, and a file
    sorted by kind (or by what the pipeline gets right) made its first half pass a probe whose second half
    fails, with the error rates promised for a random sample broken. The subset is as before (the same
    ``n`` and seed pick the same items); only their order is shuffled."""
    chosen = list(range(len(items)))
    if n is not None and n < len(items):
        chosen = sorted(random.Random(f"{seed}:{salt}").sample(chosen, n))
    random.Random(f"{seed}:{salt}:order").shuffle(chosen)
    return [items[i] for i in chosen]


class SampledPairs(list[FactPair]):
    """What the ``ragprobe_fact_pairs`` fixture returns: a list of the pairs it sampled that remembers
    what it sampled them from (all the facts, ``n`` and the seed). ``check_reverse`` given it unchanged,
    with that seed and no ``n`` of its own, probes as the mark with those facts and ``n`` does: the same
    sample (it is this list), and the same notes (what ``--ragprobe-samples`` cut, what the data holds
    besides). Any change to the list (or a slice, or another list made of it) makes it a plain list."""

    def __init__(
        self, picked: Iterable[FactPair], *, source: Sequence[FactPair], n: int | None, seed: int
    ) -> None:
        super().__init__(picked)
        self._picked = tuple(self)
        self._source = tuple(source)
        self._n = n
        self._seed = seed

    def origin(self, seed: int) -> tuple[list[FactPair], int | None] | None:
        """(all the facts, ``n``) this list was sampled from with ``seed``, or None when it was changed
        since (or ``seed`` is another: it would sample other facts than those this list holds)."""
        unchanged = len(self) == len(self._picked) and all(
            a is b for a, b in zip(self, self._picked, strict=True)
        )
        return (list(self._source), self._n) if unchanged and seed == self._seed else None
