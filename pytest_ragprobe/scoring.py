"""Deterministic answer scoring: ``contains`` (default), ``exact``, ``regex`` or a user callable."""

from __future__ import annotations

import functools
import hashlib
import inspect
import re
import string
import sys
import types
import unicodedata
from collections.abc import Callable, Iterable, Sequence

Matcher = Callable[[str, Sequence[str]], bool]
MatchSpec = str | Matcher
MATCH_MODES = ("contains", "exact", "regex")


class MatchError(ValueError):
    """The ``match=`` scorer could not score an answer: a user callable raised or returned a non-bool, or an
    accepted answer is not a valid regular expression under ``match="regex"``. The message names ``match=``,
    the question it happened on (when known), the answer and the accepted answers; it is not the pipeline's
    fault."""


# The article pattern before the fix, applied after punctuation had split "A-17" into "a 17" (so it
# removed that "a"). Unused here: bench/position_overhead.py's reference copy of the old normalize reads it.
_ARTICLES = re.compile(r"\b(a|an|the)\b")
# An article is a whole whitespace-delimited word of the original text (after opening quotes or brackets),
# so "A-17", "A." or "(A)" hold none, and it is followed by another word: articles precede a noun, so a
# last "A" is a letter ("Plan A", "Vitamin A", a gold "A" keeps its content). A capital "A" right after a
# word is a letter too ("Type A blood", "Option A is right") unless a capitalised word follows (title case:
# "Once Upon A Time"); a sentence-initial "A" is an article. Matched before case and punctuation folding,
# on " " + text: consuming the whitespace before the word (not a lookbehind) lets re skip ahead faster.
_ARTICLE = re.compile(
    r"\s[\"'(\[\u2018\u201c]*"
    r"(?:[Tt][Hh][Ee]|[Aa][Nn]|a|A(?<![^\W_]\sA)|A(?=\s+[^\s\w]*[A-Z]))"
    r"(?=\s+[^\s\w]*[^\W_])"
)
# Hyphens and slashes separate tokens ("P-200" == "P 200"); other punctuation is dropped.
_SEPARATORS = str.maketrans(dict.fromkeys("-/_", " "))
_PUNCT = str.maketrans("", "", string.punctuation + "\u2018\u2019\u201c\u201d\u2013\u2014")
# _SEPARATORS then _PUNCT in one pass (the separators are punctuation: mapped to a space first, kept);
# "+" and "#" are left to _SIGILS.
_SEPARATORS_PUNCT = {**_PUNCT, **_SEPARATORS}
del _SEPARATORS_PUNCT[ord("+")], _SEPARATORS_PUNCT[ord("#")]
# "+" and "#" ending a word that ends in a letter are kept: "C++", "C#", "F#" and "A+" are not the gold "C"
# or "A". Elsewhere dropped like other punctuation ("#1", "1+1", "C++11").
_SIGILS = re.compile(r"(?<![a-z+#])[+#]+|(?<![+#])[+#]+(?=[^\s+#])")


# A point between digits is a decimal point, not punctuation: "1.50" is not "150", "v1.10" not "v11.0".
_DECIMAL = re.compile(r"(?<=\d)\.(?=\d)")
_POINT = "\ue000"  # stands in for a decimal point while the other punctuation goes (a private-use char)
# A hyphen starting a word before a digit is a minus sign: "-20" is not "20" (a temperature, a change).
# Inside a word it still separates ("P-200", "10-20": a range holds both numbers; "5%-10%" too). A word
# starts after a space, bracket, quote, "/" or "_", also behind Markdown emphasis ("**-20 °C**", "`-3`":
# an LLM's bold answer lost its sign). ("*", "`", "~" are dropped, not separators: "x*-3" stays "x 3".)
_MINUS = re.compile(  # (the literal first: re scans for it fast)
    r"-(?=\d)(?:(?<=[\s(\[{\"'/_]-)|(?<=[\s(\[{\"'/_][*`~]-)|(?<=[\s(\[{\"'/_][*`~]{2}-))"
)
_MINUS_SIGN = "\ue001"
# A comma between digits that is not a thousands separator ("1,5" a decimal comma, "3,4" a list), and a
# colon between digits ("20:30", "1:2"), separate the numbers: dropped, they joined them into another
# ("15", "2030", "12"). A thousands separator (",000") is still dropped: "1,000" is "1000".
# (Two patterns, each led by its literal, which re finds by a fast search: one alternation tried at every
# character cost a long answer ~10 us, an eighth of its normalize.)
_DIGIT_COMMA = re.compile(r",(?=\d)(?<=\d,)(?!\d{3}(?!\d))")
_DIGIT_COLON = re.compile(r":(?=\d)(?<=\d:)")


@functools.lru_cache(maxsize=4096)
def _fold(c: str) -> str:
    """One non-ASCII character after NFKD: every Unicode dash or hyphen (a model's "P\u2011200", "P\u2013200")
    separates like "-"; other punctuation ("«»", "。") and invisible format characters (a zero-width space)
    are dropped, as ASCII punctuation is; combining marks (accents) are dropped."""
    if c.isascii():
        return c
    category = unicodedata.category(c)
    if category == "Pd" or c == "\u2212":  # (U+2212 is the minus sign, a math symbol)
        return "-"
    if c == "\u00b0":  # a degree sign separates like a space: "20°C" is "20 °C" ("℃" is "°C" after NFKD)
        return " "
    if category[0] == "P" or category == "Cf" or unicodedata.combining(c):
        return ""
    return c


def normalize(text: str) -> str:
    """SQuAD-style normalisation: case, accents, punctuation, articles and whitespace. Numbers keep what tells
    them apart: a decimal point, a leading minus sign, and a separator (comma, colon) between digits that is
    no thousands separator ("1,5" is "1 5", "1,000" is "1000"); symbols ("%", "$", "°") are dropped."""
    if type(text) is not str or not text.isascii():  # NFKD and folding non-ASCII: no-ops in ASCII
        text = "".join(_fold(c) for c in unicodedata.normalize("NFKD", text))
    text = _ARTICLE.sub(" ", f" {text}").casefold()  # (as question_key folds: "ß" is "ss")
    if "." in text:
        text = _DECIMAL.sub(_POINT, text)
    if "-" in text:
        text = _MINUS.sub(_MINUS_SIGN, text)
    if "," in text:
        text = _DIGIT_COMMA.sub(" ", text)
    if ":" in text:
        text = _DIGIT_COLON.sub(" ", text)
    text = text.translate(_SEPARATORS_PUNCT)
    if "+" in text or "#" in text:
        text = _SIGILS.sub("", text)
    return " ".join(text.split()).replace(_POINT, ".").replace(_MINUS_SIGN, "-")


def match_contains(answer: str, golds: Sequence[str]) -> bool:
    """Correct when any accepted alias occurs in the answer as whole words."""
    padded = f" {normalize(answer)} "
    return any(g and f" {g} " in padded for g in (normalize(x) for x in golds))


def match_exact(answer: str, golds: Sequence[str]) -> bool:
    norm = normalize(answer)
    return any(norm == normalize(g) for g in golds)


def match_regex(answer: str, golds: Sequence[str]) -> bool:
    """Each gold is a regular expression searched in the raw answer (case-insensitive)."""
    return any(re.search(g, answer, flags=re.IGNORECASE) for g in golds)


def get_matcher(spec: MatchSpec) -> Matcher:
    if callable(spec):
        return spec
    table: dict[str, Matcher] = {
        "contains": match_contains,
        "exact": match_exact,
        "regex": match_regex,
    }
    try:
        return table[spec]
    except KeyError:
        raise ValueError(
            f"match={spec!r}: expected one of {', '.join(MATCH_MODES)} or a callable (answer, golds) -> bool"
        ) from None


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _arg_name(value: object) -> str:
    """A partial's argument as shown in a matcher name: its repr unless that holds a memory address."""
    if callable(value) and not isinstance(value, type):
        return matcher_name(value)
    shown = repr(value)
    return f"<{type(value).__qualname__}>" if _ADDRESS.search(shown) else _clip(shown, 60)


def matcher_name(spec: MatchSpec) -> str:
    """A readable name for ``match=``, the same in every run (reports and baselines compare it):
    ``contains``, ``mymod.my_match``, ``partial(mymod.m, strict=True)``, ``mymod.Matcher()``; never
    a memory address."""
    if isinstance(spec, str):
        return spec
    if isinstance(spec, functools.partial):
        args = [_arg_name(a) for a in spec.args]
        args += [f"{k}={_arg_name(v)}" for k, v in sorted(spec.keywords.items())]
        return f"partial({', '.join([matcher_name(spec.func), *args])})"
    qualname = getattr(spec, "__qualname__", None)
    if isinstance(qualname, str):  # a function, a method, a class
        return f"{getattr(spec, '__module__', '?')}.{qualname}"
    kind = type(spec)  # a callable instance
    return f"{kind.__module__}.{kind.__qualname__}()"


def _code_parts(code: types.CodeType, out: list[bytes]) -> None:
    out += [code.co_code, repr(code.co_names).encode(), repr(code.co_varnames).encode()]
    for const in code.co_consts:  # nested functions, lambdas and comprehensions: their code too
        if isinstance(const, types.CodeType):
            _code_parts(const, out)
        else:
            out.append(repr(const).encode())


def matcher_code(spec: MatchSpec) -> str:
    """A digest of what a ``match=`` callable runs (its bytecode, names and constants; a partial's function
    and arguments; a callable instance's ``__call__``), "" for a built-in mode. :func:`matcher_name` is the
    same when a function's body is edited; this is not, so the cost plan does not count a sequential
    probe's recorded calls as the calls of a probe whose matcher now scores differently (and may stop at
    another look). Line numbers and file paths are left out: moving a function changes nothing."""
    if isinstance(spec, str):
        return ""
    parts = [matcher_name(spec).encode()]  # (a partial's arguments are in its name)
    target: object = spec
    while isinstance(target, functools.partial):
        target = target.func
    func = target if inspect.isfunction(target) or inspect.ismethod(target) else None
    if func is None and not isinstance(target, type):
        func = inspect.getattr_static(type(target), "__call__", None)  # (a callable instance)
    code = getattr(getattr(func, "__func__", func), "__code__", None)
    if isinstance(code, types.CodeType):  # (else a builtin or C-implemented callable: its name is all)
        _code_parts(code, parts)
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:16]


def _clip(shown: str, limit: int = 200) -> str:
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def _bad_pattern(golds: Sequence[str]) -> str | None:
    for gold in golds:
        try:
            re.compile(gold)
        except re.error:
            return gold
    return None


def _punctuation_only(spec: str, gold: str, where: str) -> str:
    """The MatchError text for an accepted answer that normalises to nothing under ``spec``."""
    would = "any answer of punctuation only (an empty one too)" if spec == "exact" else "no answer"
    return (
        f"match={spec!r}: accepted answer {gold!r} of {where} is punctuation only: scoring drops "
        f"punctuation, so it would match {would}; write it in words, or score it with match='regex' or a "
        "callable"
    )


def check_patterns(spec: MatchSpec, questions: Iterable[tuple[Sequence[str], str]]) -> None:
    """Under ``match="regex"``, every accepted answer must compile; under "exact" none may be punctuation
    only (nothing is left of it normalised), under "contains" not all of a question's. A MatchError naming
    the first that fails, before any pipeline call (scoring would meet it only after every call was made,
    or score it silently)."""
    if spec in ("contains", "exact"):
        for golds, where in questions:
            blank = [gold for gold in golds if not normalize(gold)]  # "%", "?": nothing left of them
            # "exact" matched an empty answer to one; "contains" never matches one (harmless beside others)
            if blank and (spec == "exact" or len(blank) == len(golds)):
                raise MatchError(_punctuation_only(spec, blank[0], where))
        return
    if spec != "regex":
        return
    for golds, where in questions:
        for gold in golds:
            try:
                re.compile(gold)
            except re.error as exc:
                problem = f"is not a valid regular expression ({exc})"
                raise MatchError(f"match='regex': accepted answer {gold!r} of {where} {problem}") from None


def score(spec: MatchSpec, answer: str, golds: Sequence[str], where: str = "") -> bool:
    """Score one answer; ``where`` says which question it answers (for the MatchError message)."""
    matcher = get_matcher(spec)

    def failed(problem: str) -> MatchError:
        place = f" on {where}" if where else ""
        shown = repr(spec) if isinstance(spec, str) else matcher_name(spec)
        involved = f"answer {_clip(repr(answer))}, accepted answers {list(golds)!r}"
        return MatchError(f"match={shown} failed{place}: {problem} ({involved})")

    try:
        result: object = matcher(answer, golds)  # user callables may return anything
    except Exception as exc:
        if callable(spec):
            raise failed(f"the match callable raised {type(exc).__name__}: {exc}") from exc
        if isinstance(exc, re.error):
            bad = _bad_pattern(golds)
            raise failed(f"accepted answer {bad!r} is not a valid regular expression ({exc})") from exc
        raise
    except BaseException as exc:
        # sys.exit() or a custom BaseException of a match callable: its error too. Let through, the probe's
        # error blamed the pipeline ("the pipeline raised Abort"). Not Ctrl-C, nor pytest's outcomes (skip).
        outcomes = sys.modules.get("_pytest.outcomes")  # (only where pytest is loaded: never imported here)
        if not callable(spec) or isinstance(exc, KeyboardInterrupt) or (
            outcomes is not None and isinstance(exc, outcomes.OutcomeException)
        ):
            raise
        said = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise failed(f"the match callable raised {said}") from exc
    if type(result).__module__ == "numpy" and type(result).__name__ in ("bool", "bool_"):  # np.bool_: a bool
        result = bool(result)
    if not isinstance(result, bool):
        kind = type(result).__name__
        raise failed(f"the match callable returned {kind} {_clip(repr(result), 80)}, expected bool")
    return result
