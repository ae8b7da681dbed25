"""Position-probe data and contexts: lost-in-the-middle examples, the gold document placed.

Pure code (stdlib + the package's own pure modules; no pytest). A *context* is the list of documents
handed to the reader: ``n_docs - 1`` distractors, chosen and ordered once per question, with the
gold document inserted at the requested position. Everything except the gold document's index is
identical across positions, so the only thing that varies between the calls of one question is where
the gold sits. A distractor that repeats the gold passage's text (under any title) is left out.

Data sources
------------
* A JSONL file in the lost-in-the-middle layout (Liu et al. 2023; ``.jsonl`` or ``.jsonl.gz``), one
  example per line: ``{"question": str, "answers": [str, ...], "ctxs": [{"title", "text",
  "isgold"|"hasanswer"}]}``; or a ``.json`` / ``.yaml`` list of the same objects. UTF-8 (a BOM is
  fine), and a key given twice in one object is an error. Exactly one gold document per question:
  the ctx with ``isgold: true``; when no ctx carries ``isgold``, the single ctx with ``hasanswer:
  true``. Other ctxs are the question's own distractors (hard negatives), minus any that contain an
  answer.
* Facts (a facts file, a list of ``ragprobe.Fact`` or ``"synthetic:N"``): the question is the fact's
  forward question, the gold document is its statement, the distractors are other facts' statements.

Errors are :class:`DataError` (a ``ValueError``) naming the file and line (or list index) and the
field.

Length
------
``context_tokens`` pads a context with more distractors up to a target length, so a test runs at
production length. Length is *approximate*: ``ceil(characters / 4)`` of each document's ``title:
text`` (about 4 characters per token for English text with common BPE tokenisers). With padding a
context holds more than ``n_docs`` documents; positions keep their meaning relative to the ends:
position ``p`` of ``n_docs`` goes to index ``round(p * (m - 1) / (n_docs - 1))`` of ``m`` documents
(first stays first, last stays last).
"""

from __future__ import annotations

import gzip
import json
import math
import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_ragprobe.facts import (
    FactPair,
    FactsError,
    JSONContentError,
    decode_utf8,
    json_error_text,
    load_json,
    load_yaml,
    split_lines,
    yaml_error_text,
)
from pytest_ragprobe.scoring import normalize
from pytest_ragprobe.types import Document, TextMemo, did_you_mean, misspelt

CHARS_PER_TOKEN = 4


class DataError(FactsError):
    """Position data is missing, unreadable or malformed; the message names file, line and field."""


class ContextArgumentError(DataError, TypeError):
    """An argument of ``contexts_for`` / ``ragprobe_contexts`` of the wrong type (``positions=2``,
    ``pool="text"``): a TypeError naming the argument, and a DataError (a ValueError) as before."""


@dataclass(frozen=True)
class PositionExample:
    """One question with its accepted answers, its gold document and its own distractors."""

    question: str
    answers: tuple[str, ...]
    gold: Document
    distractors: tuple[Document, ...] = ()
    id: str = ""
    where: str = ""  # "file: line 3" / "data[2]": where the example came from, for messages


@dataclass(frozen=True)
class ContextPlan:
    """One question's distractors, chosen and ordered once; :meth:`at` inserts the gold document."""

    example: PositionExample
    n_docs: int
    distractors: tuple[Document, ...]
    approx_tokens: int
    hard_negatives: int = 0  # how many distractors came from the retriever
    target_tokens: int | None = None

    @property
    def size(self) -> int:
        return len(self.distractors) + 1

    def index_of(self, position: int) -> int:
        """Index of ``position`` (of ``n_docs``) in this context (differs only when padded)."""
        if not 0 <= position < self.n_docs:
            raise ValueError(f"position {position} is outside [0, n_docs={self.n_docs})")
        if self.size == self.n_docs:
            return position
        return round(position * (self.size - 1) / (self.n_docs - 1))

    def at(self, position: int) -> list[Document]:
        i = self.index_of(position)
        docs = list(self.distractors)
        docs.insert(i, self.example.gold)
        return docs


@dataclass
class DocumentPool:
    """Documents any question may borrow as distractors (other questions' passages, other facts)."""

    documents: list[Document] = field(default_factory=list)

    @classmethod
    def from_examples(cls, examples: Sequence[PositionExample]) -> DocumentPool:
        seen: set[str] = set()
        docs: list[Document] = []
        for ex in examples:
            for d in (ex.gold, *ex.distractors):
                key = _key(d)
                if key not in seen:
                    seen.add(key)
                    docs.append(d)
        return cls(docs)


def approx_tokens(doc: Document | str) -> int:
    """Approximate token count: ``ceil(len(title: text) / 4)``."""
    if type(doc) is Document and type(doc.text) is str and type(doc.title) is str:
        n = len(doc.title) + 2 + len(doc.text) if doc.title else len(doc.text)  # len(doc.render())
        return math.ceil(n / CHARS_PER_TOKEN)
    text = doc.render() if isinstance(doc, Document) else doc
    return math.ceil(len(text) / CHARS_PER_TOKEN)


# normalize(doc.render()) per (text, title) of plain documents: the same pool documents are offered
# to every question (and to DocumentPool.from_examples at plan and at run time); normalising costs
# ~10 us per passage. Bounded by characters held; cleared when full (recomputing is always correct).
_NORMALIZED: TextMemo[tuple[str, str]] = TextMemo(1 << 25)


def _key(doc: Document) -> str:
    """``normalize(doc.render())``: a document's identity for de-duplication (memoised)."""
    text, title = doc.text, doc.title
    if type(doc) is not Document or type(text) is not str or type(title) is not str:
        return normalize(doc.render())
    memo = (text, title)
    key = _NORMALIZED.get(memo)
    if key is None:
        key = normalize(doc.render())
        _NORMALIZED.put(memo, key, len(text) + len(title) + len(key))
    return key


def _text_key(text: str) -> str:
    """``normalize(text)``: the key an untitled document with this text has (memoised alike)."""
    memo = (text, "")
    key = _NORMALIZED.get(memo)
    if key is None:
        key = normalize(text)
        _NORMALIZED.put(memo, key, len(text) + len(key))
    return key


class _Golds:
    """An example's accepted answers, normalised once each, lazily and in order (as
    ``match_contains`` would normalise them), for any number of documents."""

    def __init__(self, answers: Sequence[str]) -> None:
        self._raw = iter(answers)
        self._done: list[str] = []

    def __iter__(self) -> Iterator[str]:
        yield from self._done
        for answer in self._raw:
            gold = normalize(answer)
            self._done.append(gold)
            yield gold


def _contains(normalized: str, golds: Iterable[str]) -> bool:
    """``match_contains`` on an already normalised text and normalised answers."""
    padded = f" {normalized} "
    return any(g and f" {g} " in padded for g in golds)


def answers_in(doc: Document, answers: Sequence[str]) -> bool:
    """True when the document contains an accepted answer (the scoring normaliser, whole words)."""
    # == match_contains(doc.render(), answers), reusing the document's memoised normalised text
    return _contains(_key(doc), (normalize(x) for x in answers))


# -- building contexts -----------------------------------------------------------------------------


def _rng(seed: int, example: PositionExample, salt: str) -> random.Random:
    return random.Random(f"ragprobe-contexts:{seed}:{salt}:{example.id}:{example.question}")


def plan_context(
    example: PositionExample,
    n_docs: int,
    seed: int = 0,
    *,
    pool: DocumentPool | None = None,
    hard_negatives: Sequence[Document] = (),
    context_tokens: int | None = None,
    fix: Callable[[int], str] | None = None,
) -> ContextPlan:
    """Choose and order the distractors of one question once (seeded by ``seed`` and the question).

    Preference: ``hard_negatives`` (the retriever's, in rank order), then the example's own
    distractors (file order: in lost-in-the-middle data the hardest first), then documents borrowed
    from ``pool`` in a seeded random order. Anything that is the gold document or contains an
    accepted answer is skipped. The first ``n_docs - 1`` (more with ``context_tokens``) are then
    shuffled once with the same seed. ``fix``: what to do when distractors are short, given how many
    more are needed (default: :func:`_short_fix`).
    """
    if n_docs < 2:
        raise ValueError(f"n_docs must be >= 2, got {n_docs}")
    rng = _rng(seed, example, "order")
    gold_key = _key(example.gold)
    # The gold passage again under another (or no) title is still the gold: placed as a distractor it
    # would put the answer at a fixed index at every position (the title is part of _key, not of this).
    gold_text = _text_key(example.gold.text) if type(example.gold.text) is str else None
    golds = _Golds(example.answers)
    seen = {gold_key}
    chosen: list[Document] = []
    hard = 0
    tokens = approx_tokens(example.gold)
    need = n_docs - 1

    def want() -> bool:
        if len(chosen) < need:
            return True
        return context_tokens is not None and tokens < context_tokens

    def take(doc: Document) -> None:
        nonlocal tokens
        key = _key(doc)
        if key in seen or (example.gold.id is not None and doc.id == example.gold.id):
            return
        if (
            gold_text is not None
            and type(doc.text) is str
            and (_text_key(doc.text) if doc.title else key) == gold_text
        ):
            return
        seen.add(key)
        if _contains(key, golds):  # answers_in(doc, example.answers); key is the normalised text
            return
        chosen.append(doc)
        tokens += approx_tokens(doc)

    for doc in hard_negatives:
        if len(chosen) >= need:
            break
        take(doc)
    hard = len(chosen)
    for doc in example.distractors:
        if not want():
            break
        take(doc)
    if want() and pool is not None and pool.documents:
        _borrow(pool, _rng(seed, example, "pool"), want, take)
    if len(chosen) < need:
        have = f"{len(chosen)} usable distractor(s)"
        todo = _short_fix(example, len(chosen)) if fix is None else fix(need - len(chosen))
        raise DataError(
            f"{example.where or 'example'}: question {example.question!r} has only {have} "
            "(documents that contain an answer or repeat the gold passage are skipped) "
            f"but n_docs={n_docs} needs {need}; {todo}"
        )
    rng.shuffle(chosen)
    return ContextPlan(
        example=example,
        n_docs=n_docs,
        distractors=tuple(chosen),
        approx_tokens=tokens,
        hard_negatives=hard,
        target_tokens=context_tokens,
    )


def _short_fix(example: PositionExample, have: int) -> str:
    """What to do for a question with only ``have`` usable distractors: the n_docs they fill, and where more
    come from (a fact's distractors are the other facts' statements: a facts file has no distractors)."""
    lower = f"lower n_docs to {have + 1} or less, or " if have else ""
    from_facts = example.gold.id is not None and example.gold.id == f"fact-{example.id}"  # example_from_pair
    more = "add facts (the other facts' statements are the distractors)" if from_facts else "add distractors"
    return lower + more


def _borrow(pool: DocumentPool, rng: random.Random, want: Any, take: Any) -> None:
    """Offer pool documents in a seeded random order until ``want()`` is satisfied."""
    n = len(pool.documents)
    tried: set[int] = set()
    # Sparse random draws first (cheap on large pools), then a full permutation of what is left.
    for _ in range(min(n, 256)):
        if not want():
            return
        i = rng.randrange(n)
        if i not in tried:
            tried.add(i)
            take(pool.documents[i])
    rest = [i for i in range(n) if i not in tried]
    rng.shuffle(rest)
    for i in rest:
        if not want():
            return
        take(pool.documents[i])


def contexts_for(
    example: Any,
    n_docs: int,
    positions: Iterable[int],
    seed: int | None = None,
    *,
    pool: DocumentPool | Sequence[Any] | None = None,
    hard_negatives: Iterable[Any] | None = (),
    context_tokens: int | None = None,
) -> Iterator[tuple[int, list[Document]]]:
    """``(position, documents)`` pairs: gold document moved to each position, the rest unchanged.

    ``example`` is a :class:`PositionExample`, a dict in the lost-in-the-middle layout
    (``question``, ``answers``, ``ctxs``), a dict ``{question, answers, gold, distractors}``, or a
    ``ragprobe.FactPair``. The ``n_docs - 1`` distractors are chosen and ordered once (seeded by
    ``seed`` and the question) and are identical at every position. ``pool`` supplies extra
    distractors (documents or strings), ``hard_negatives`` preferred ones (e.g. from a retriever; None:
    none); ``context_tokens`` pads to an approximate length (see the module docstring). ``positions`` is
    any iterable of ints (a list, tuple, range or generator). An argument of the wrong type is a
    :class:`ContextArgumentError` (a TypeError) naming it; a value out of range a ValueError.
    """
    ex = to_example(example)
    if not isinstance(pool, DocumentPool) and pool is not None:
        pool = DocumentPool([_doc(d, "pool", i) for i, d in enumerate(_documents(pool, "pool"))])
    negatives = () if hard_negatives is None else hard_negatives
    hard = [_doc(d, "hard_negatives", i) for i, d in enumerate(_documents(negatives, "hard_negatives"))]
    checked: Any = n_docs  # (typed int, but fixtures and notebooks pass anything)
    if isinstance(checked, bool) or not isinstance(checked, int):
        raise ContextArgumentError(f"n_docs must be an int >= 2, got {_typed(n_docs)}")
    if checked < 2:
        raise ValueError(f"n_docs must be an int >= 2, got {n_docs!r}")
    if isinstance(positions, (str, bytes, Mapping)) or not isinstance(positions, Iterable):
        raise ContextArgumentError(
            f"positions must be an iterable of ints in [0, n_docs={n_docs}) (a list, tuple or range), got "
            f"{_typed(positions)}"
        )
    tokens: Any = context_tokens
    if tokens is not None and (isinstance(tokens, bool) or not isinstance(tokens, int)):
        raise ContextArgumentError(
            f"context_tokens must be an int >= 1 (or None: no padding), got {_typed(tokens)}"
        )
    if tokens is not None and tokens < 1:
        raise ValueError(f"context_tokens must be an int >= 1 (or None: no padding), got {tokens!r}")
    given: list[Any] = list(positions)  # (once: a generator is read here, not at each use)
    typed = [p for p in given if not isinstance(p, int) or isinstance(p, bool)]
    if typed:
        raise ContextArgumentError(
            f"positions must be ints in [0, n_docs={n_docs}), got {', '.join(_typed(p) for p in typed)}"
        )
    bad = [p for p in given if not 0 <= p < n_docs]
    if bad:
        raise ValueError(f"positions must be ints in [0, n_docs={n_docs}), got {bad!r}")
    held = 0 if pool is None else len(pool.documents)

    def fix(more: int) -> str:
        # (the mark borrows other questions' passages by itself; one example here has only its own)
        if held:
            return (
                f"lower n_docs, or pass more documents to borrow in pool= (it held {held}): "
                f"{more} more needed"
            )
        return (
            "lower n_docs, or pass documents to borrow as distractors with pool=[...] (other questions' "
            f"passages, for one): {more} more needed"
        )

    plan = plan_context(
        ex,
        n_docs,
        0 if seed is None else seed,
        pool=pool,
        hard_negatives=hard,
        context_tokens=context_tokens,
        fix=fix,
    )
    # planned here, not in a generator: a bad argument or too few distractors is an error at the call
    return ((p, plan.at(p)) for p in given)


def _typed(value: object) -> str:
    """``str '100'``, ``float 1.5``: a value named with its type, for the errors of a wrong one."""
    return f"{type(value).__name__} {value!r:.60}"


def _documents(value: object, arg: str) -> Sequence[Any]:
    """``pool`` / ``hard_negatives`` as given: a list of documents. A str was read character by character
    (each letter a distractor), and an int failed with "'int' object is not iterable"."""
    if isinstance(value, (str, bytes, Mapping, Document)) or not isinstance(value, Iterable):
        one = " (one document? give a list: [it])" if isinstance(value, (str, Mapping, Document)) else ""
        raise ContextArgumentError(
            f"{arg} must be a list of documents (ragprobe.Document, dicts with 'text' or str), got "
            f"{_typed(value)}{one}"
        )
    return list(value)


# -- loading ---------------------------------------------------------------------------------------


def _doc(value: Any, where: str, i: int | None = None) -> Document:
    """``value`` as a Document; ``where`` (with ``[i]`` of a list) names it in errors."""
    at = where if i is None else f"{where}[{i}]"
    text = value.text if isinstance(value, Document) else value
    if isinstance(text, str) and not text.strip():  # a passage of nothing: moved around, it tests nothing
        raise DataError(f"{at}: the document's text is empty")
    if isinstance(value, Document):
        return value
    if isinstance(value, str):
        return Document(text=value)
    if isinstance(value, Mapping):
        text = value.get("text")
        if not isinstance(text, str) or not text.strip():
            raise DataError(
                f"{at}: field 'text' is missing or not a non-empty string{misspelt('text', value)}"
            )
        title = value.get("title") or ""
        if not isinstance(title, str):
            kind = "float" if isinstance(title, float) else type(title).__name__  # (JSONNumber: a float)
            fix = ": quote it" if isinstance(title, (int, float)) else ""  # (a bool is an int)
            raise DataError(f"{at}: field 'title' must be a string, got {kind} {title!r:.60}{fix}")
        raw_id = value.get("id")
        return Document(text=text, title=title, id=None if raw_id is None else str(raw_id))
    raise DataError(f"{at}: expected a document (dict with 'text', str or ragprobe.Document)")


def _answers(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if (
        isinstance(value, (list, tuple))
        and value
        and all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value)
    ):
        out = tuple(str(v).strip() for v in value if str(v).strip())
        if out:
            return out
    raise DataError(f"{where}: field 'answers' must be a non-empty list of strings, got {value!r:.80}")


def _flag(ctx: Mapping[str, Any], key: str, where: str) -> bool | None:
    if key not in ctx or ctx[key] is None:
        return None
    value = ctx[key]
    if isinstance(value, bool):
        return value
    if value in (0, 1, "true", "false", "True", "False"):
        return value in (1, "true", "True")
    raise DataError(f"{where}: field '{key}' must be true or false, got {value!r}")


def _flag_hint(ctxs: Sequence[Mapping[str, Any]]) -> str:
    """"; found 'is_gold' (did you mean 'isgold'?)": a misspelt flag is otherwise just an unknown key."""
    keys = dict.fromkeys(str(k) for c in ctxs for k in c)
    for key in keys:
        if key in ("isgold", "hasanswer"):  # spelt right (on another ctx): not the misspelling
            continue
        hint = did_you_mean(key.lower(), ("isgold", "hasanswer"))
        if hint:
            return f"; found '{key}'{hint}"
    return ""


def parse_litm(raw: object, where: str, ident: str = "") -> PositionExample:
    """One lost-in-the-middle example (``question``, ``answers``, ``ctxs``) -> PositionExample."""
    if not isinstance(raw, Mapping):
        raise DataError(
            f"{where}: expected a JSON object with question, answers and ctxs, got {type(raw).__name__}"
        )
    question = raw.get("question")
    if not isinstance(question, str) or not question.strip():
        raise DataError(
            f"{where}: field 'question' is missing or not a non-empty string{misspelt('question', raw)}"
        )
    if "answers" not in raw and "answer" not in raw:
        raise DataError(
            f"{where}: field 'answers' is missing (a list of accepted answers){misspelt('answers', raw)}"
        )
    answers = _answers(raw.get("answers", raw.get("answer")), where)
    ctxs = raw.get("ctxs")
    if ctxs is None:
        raise DataError(
            f"{where}: field 'ctxs' is missing (a list of {{title, text, isgold}} documents)"
            f"{misspelt('ctxs', raw)}"
        )
    if not isinstance(ctxs, list) or not ctxs:
        raise DataError(
            f"{where}: field 'ctxs' must be a non-empty list of {{title, text, isgold}} documents"
        )
    docs: list[Document] = []
    isgold: list[bool | None] = []
    hasanswer: list[bool | None] = []
    for i, c in enumerate(ctxs):
        cw = f"{where}: ctxs[{i}]"
        if not isinstance(c, Mapping):
            raise DataError(f"{cw}: expected an object with title and text, got {type(c).__name__}")
        docs.append(_doc(c, f"{where}: ctxs", i))
        isgold.append(_flag(c, "isgold", cw))
        hasanswer.append(_flag(c, "hasanswer", cw))
    if any(g is not None for g in isgold):
        golds = [i for i, g in enumerate(isgold) if g]
        if not golds:
            raise DataError(
                f"{where}: no gold document: no ctx has isgold: true; "
                f"mark exactly one ctx as the gold passage{_flag_hint(ctxs)}"
            )
        if len(golds) > 1:
            raise DataError(
                f"{where}: {len(golds)} gold documents (ctxs {golds} have isgold: true); "
                "the position probe moves exactly one gold document, so mark only one"
            )
    elif any(h is not None for h in hasanswer):
        golds = [i for i, h in enumerate(hasanswer) if h]
        if not golds:
            raise DataError(f"{where}: no gold document: no ctx has isgold: true or hasanswer: true")
        if len(golds) > 1:
            raise DataError(
                f"{where}: cannot tell the gold document: the ctxs carry only 'hasanswer' and "
                f"{len(golds)} of them have it (ctxs {golds}); add isgold: true to the one gold "
                "passage (the others are then "
                "left out as distractors because they contain an answer)"
            )
    else:
        raise DataError(
            f"{where}: no gold document: mark the gold ctx with isgold: true "
            "(or hasanswer: true when it is "
            f"the only ctx that contains an answer){_flag_hint(ctxs)}"
        )
    g = golds[0]
    distractors = tuple(d for i, d in enumerate(docs) if i != g and not hasanswer[i] and not isgold[i])
    raw_id = raw.get("id")
    return PositionExample(
        question=question.strip(),
        answers=answers,
        gold=docs[g],
        distractors=distractors,
        id=str(raw_id) if raw_id is not None else ident,
        where=where,
    )


def example_from_pair(pair: FactPair) -> PositionExample:
    """A fact as a position example: forward question, the statement as the gold document."""
    return PositionExample(
        question=pair.forward.question,
        answers=tuple(pair.forward.answers),
        gold=Document(text=pair.statement, id=f"fact-{pair.id}"),
        id=pair.id,
        where=f"{pair.source or 'facts'}: fact {pair.id!r}",
    )


def to_example(value: Any, where: str = "example", ident: str = "") -> PositionExample:
    """Coerce a PositionExample, FactPair, lost-in-the-middle dict or {question, answers, gold}."""
    if isinstance(value, PositionExample):
        return value
    if isinstance(value, FactPair):
        return example_from_pair(value)
    if isinstance(value, (list, tuple)):  # ragprobe_contexts(examples, ...): it said "expected a JSON object"
        raise DataError(
            f"{where}: expected one example (a dict with question, answers and ctxs, or a FactPair), got a "
            f"{type(value).__name__} of {len(value)} item{'' if len(value) == 1 else 's'}: "
            "one example at a time"
        )
    if isinstance(value, Mapping) and "ctxs" not in value and "gold" not in value and "distractors" in value:
        raise DataError(
            f"{where}: the gold document is missing: give 'gold' (the passage that answers the question) "
            "beside 'distractors', or 'ctxs' with the gold passage marked isgold: true"
        )
    if isinstance(value, Mapping) and "ctxs" not in value and "gold" in value:
        question = value.get("question")
        if not isinstance(question, str) or not question.strip():
            hint = misspelt("question", value)
            raise DataError(f"{where}: field 'question' is missing or not a non-empty string{hint}")
        answers = _answers(value.get("answers", value.get("answer")), where)
        gold = _doc(value["gold"], f"{where}: gold")
        raw = value.get("distractors") or []
        if isinstance(raw, (str, bytes)) or not isinstance(raw, Sequence):
            raise DataError(f"{where}: field 'distractors' must be a list of documents")
        distractors = tuple(_doc(d, f"{where}: distractors", i) for i, d in enumerate(raw))
        raw_id = value.get("id")
        return PositionExample(
            question=question.strip(),
            answers=answers,
            gold=gold,
            distractors=distractors,
            id=str(raw_id) if raw_id is not None else ident,
            where=where,
        )
    return parse_litm(value, where, ident)


def _read_text(path: Path, source: str) -> str:
    if path.is_dir():
        raise DataError(f"{source}: is a directory, not a data file (resolved to {path.resolve()})")
    if not path.is_file():
        raise DataError(f"{source}: data file not found (resolved to {path.resolve()})")
    try:
        if path.name.lower().endswith(".gz"):  # (QA.JSONL.GZ: names are matched in lower case)
            with gzip.open(path, "rb") as fh:
                data = fh.read()
        else:
            data = path.read_bytes()
    except (OSError, EOFError) as exc:
        raise DataError(f"{source}: cannot read: {exc}") from None
    text = decode_utf8(data, source, DataError)
    if not text.strip():
        raise DataError(f"{source}: the file is empty: it holds no questions")
    return text


_JSONL_LIST_HINT = (
    "; a JSONL file holds one whole JSON object per line (a pretty-printed object or a JSON list goes in a "
    ".json file)"
)


def load_litm(path: str | Path, source: str | None = None, text: str | None = None) -> list[PositionExample]:
    """Read a lost-in-the-middle JSONL file (.jsonl or .jsonl.gz); errors name file and line. ``text``: the
    file's text, already read."""
    p = Path(path)
    src = source or str(path)
    text = _read_text(p, src) if text is None else text
    examples: list[PositionExample] = []
    for lineno, raw_line in enumerate(split_lines(text), start=1):
        # a BOM starts a later line of files joined with `cat` (each saved with one): an encoding mark still
        line = raw_line.removeprefix("\ufeff")
        if not line.strip():
            continue
        where = f"{src}: line {lineno}"
        try:
            raw = load_json(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}: invalid JSON: {json_error_text(exc, jsonl=True)}") from None
        except JSONContentError as exc:  # a key twice (json would keep the last silently), NaN
            raise DataError(f"{where}: invalid JSON: {exc}") from None
        if isinstance(raw, list):
            raise DataError(
                f"{where}: expected a JSON object with question, answers and ctxs, got list{_JSONL_LIST_HINT}"
            )
        examples.append(parse_litm(raw, where, ident=f"line{lineno}"))
    if not examples:
        raise DataError(f"{src}: no examples found (expected one JSON object per line)")
    return check_unique(examples, src)


def check_unique(examples: list[PositionExample], source: str) -> list[PositionExample]:
    """Refuse a repeated id, or the same question with the same gold document twice: a question listed
    twice is asked twice and counted as two, which overstates the evidence (facts refuse it too)."""
    ids: dict[str, str] = {}
    seen: dict[tuple[str, str], str] = {}
    for ex in examples:
        here = ex.where.removeprefix(f"{source}: ")
        if ex.id in ids:
            # in a list, a record without an id takes its index as one: it can meet an explicit id
            at_index = f"[{ex.id}]"
            indexed = ex.where.endswith(at_index) or ids[ex.id].endswith(at_index)
            why = "; a record without an 'id' takes its list index as its id" if indexed else ""
            raise DataError(f"{ex.where}: field 'id': duplicate id {ex.id!r} (first at {ids[ex.id]}){why}")
        ids[ex.id] = here
        key = (ex.question, _key(ex.gold))
        if key in seen:
            raise DataError(
                f"{ex.where}: duplicate of {seen[key]}: the same question and gold document; "
                "a question listed twice is counted twice, so remove one"
            )
        seen[key] = here
    return examples


def load_litm_json(
    path: str | Path, source: str | None = None, text: str | None = None
) -> list[PositionExample]:
    """A .json file holding a list of lost-in-the-middle examples; errors name file and index."""
    src = source or str(path)
    text = _read_text(Path(path), src) if text is None else text
    try:
        data = load_json(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{src}: line {exc.lineno}: invalid JSON: {json_error_text(exc)}") from None
    except JSONContentError as exc:
        raise DataError(f"{src}: {f'line {exc.line}: ' if exc.line else ''}invalid JSON: {exc}") from None
    if not isinstance(data, list) or not data:
        raise DataError(f"{src}: expected a non-empty JSON list of {{question, answers, ctxs}} objects")
    return check_unique([parse_litm(raw, f"{src}: [{i}]", ident=str(i)) for i, raw in enumerate(data)], src)


def load_litm_yaml(
    path: str | Path, source: str | None = None, text: str | None = None
) -> list[PositionExample]:
    """A .yaml / .yml file holding a list of lost-in-the-middle examples (loaded safely); errors name
    the file and the line each example starts on."""
    import yaml

    src = source or str(path)
    text = _read_text(Path(path), src) if text is None else text
    try:
        data, lines = load_yaml(text)
    except yaml.YAMLError as exc:
        raise DataError(f"{src}: invalid YAML: {yaml_error_text(exc, text)}") from None
    if not isinstance(data, list) or not data:
        raise DataError(
            f"{src}: expected a non-empty YAML list of examples "
            "(- question: ..., answers: [...], ctxs: [...])"
        )
    examples = []
    for i, raw in enumerate(data):
        line = lines[i] if i < len(lines) else None
        where = f"{src}: line {line}" if line is not None else f"{src}: [{i}]"
        examples.append(parse_litm(raw, where, ident=f"line{line}" if line is not None else str(i)))
    return check_unique(examples, src)
