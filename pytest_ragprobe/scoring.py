"""Deterministic answer scoring: ``contains`` (default), ``exact``, ``regex`` or a user callable."""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Callable, Sequence

Matcher = Callable[[str, Sequence[str]], bool]
MatchSpec = str | Matcher
MATCH_MODES = ("contains", "exact", "regex")

_ARTICLES = re.compile(r"\b(a|an|the)\b")
# Hyphens and slashes separate tokens ("P-200" == "P 200"); other punctuation is dropped.
_SEPARATORS = str.maketrans(dict.fromkeys("-/_", " "))
_PUNCT = str.maketrans("", "", string.punctuation + "\u2018\u2019\u201c\u201d\u2013\u2014")


def normalize(text: str) -> str:
    """SQuAD-style normalisation: case, accents, punctuation, articles and whitespace."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = text.translate(_SEPARATORS).translate(_PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


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


def matcher_name(spec: MatchSpec) -> str:
    if isinstance(spec, str):
        return spec
    return f"{getattr(spec, '__module__', '?')}.{getattr(spec, '__qualname__', repr(spec))}"


def score(spec: MatchSpec, answer: str, golds: Sequence[str]) -> bool:
    result: object = get_matcher(spec)(answer, golds)  # user callables may return anything
    if not isinstance(result, bool):
        name = matcher_name(spec)
        raise TypeError(f"match callable {name} returned {type(result).__name__}, expected bool")
    return result
