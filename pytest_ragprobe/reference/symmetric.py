"""Index-time derivation of reverse pages ("symmetric" index), stdlib only.

A catalog page usually states a relation from one side: the page of pump P-204 says
"Compatible controller: C-38." while the page of C-38 never mentions P-204. The reverse
question ("Which pump is compatible with controller C-38?") then depends on the reader
inverting a sentence written about another subject, which small readers do badly.

``derive_reverse_pages`` writes, for every entity mentioned on another entity's page, one page
keyed by the mentioned entity that states the relation from its own side:

    title: Controller C-38 (Lumen) - reverse references
    text:  Controller C-38: compatible pump: P-204.

Entities are found with a pattern (default: part numbers like ``P-204``, ``C-38``); a page's
subject is the first entity in its title (else in its id). "Label: value" lines are mirrored
by swapping the kind words ("compatible controller" -> "compatible pump"); any other sentence
is kept verbatim with its source named ("RS-485 is mentioned on the page of Controller C-70:
..."). The wording was picked by measurement (bench/reference_catalog.py): gemma-3-270m reads
"Controller C-38: compatible pump: P-204." best when the page repeats the entity in its text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pytest_ragprobe.types import Document

DEFAULT_ENTITY_PATTERN = r"\b[A-Z][A-Z0-9]{0,3}-\d{1,5}[A-Z0-9]*\b"
REVERSE_ID_SUFFIX = "#reverse"

_SENTENCE_RE = re.compile(r"(?<=[.;!?])\s+")
_LABEL_RE = re.compile(r"^(?P<label>[A-Za-z][^:]{0,60}):\s*(?P<value>.+?)\.?$")


@dataclass(frozen=True)
class _Subject:
    entity: str
    kind: str  # "pump", "controller", or "" when the title has no word before the entity
    doc: Document


def _subject_of(doc: Document, pattern: re.Pattern[str]) -> _Subject | None:
    for source in (doc.title, doc.id or ""):
        match = pattern.search(source)
        if match:
            before = source[: match.start()].strip().split()
            kind = before[-1].lower() if before and source is doc.title else ""
            return _Subject(entity=match.group(0), kind=kind, doc=doc)
    return None


def _mirror_label(label: str, object_kind: str, subject_kind: str) -> str | None:
    """"Compatible controller" seen from the controller -> "compatible pump".

    None when the label does not name the object's kind.
    """
    if not object_kind or not subject_kind:
        return None
    swapped, n = re.subn(rf"\b{re.escape(object_kind)}s?\b", subject_kind, label, flags=re.I)
    return swapped.strip().lower() if n else None


def entities_in(text: str, pattern: str = DEFAULT_ENTITY_PATTERN) -> list[str]:
    """Distinct entity mentions in ``text``, in order of appearance."""
    return list(dict.fromkeys(re.findall(pattern, text)))


def subject_of(doc: Document, pattern: str = DEFAULT_ENTITY_PATTERN) -> str | None:
    """The entity a page is about: the first entity in its title, else in its id."""
    subj = _subject_of(doc, re.compile(pattern))
    return subj.entity if subj else None


def derive_reverse_pages(
    documents: Sequence[Document], entity_pattern: str = DEFAULT_ENTITY_PATTERN
) -> list[Document]:
    """Reverse pages for ``documents`` (the originals are not included nor changed)."""
    pattern = re.compile(entity_pattern)
    subjects = [_subject_of(d, pattern) for d in documents]
    own: dict[str, _Subject] = {}
    for s in subjects:
        if s is not None:
            own.setdefault(s.entity, s)

    lines: dict[str, list[str]] = {}
    for doc, subj in zip(documents, subjects, strict=True):
        if subj is None:
            continue
        subj_name = f"{subj.kind.capitalize()} {subj.entity}".strip()
        for sentence in _SENTENCE_RE.split(doc.text.strip()):
            mentioned = [m for m in dict.fromkeys(pattern.findall(sentence)) if m != subj.entity]
            for entity in mentioned:
                target = own.get(entity)
                target_kind = target.kind if target else ""
                target_name = f"{target_kind.capitalize()} {entity}".strip()
                match = _LABEL_RE.match(sentence.strip())
                mirrored = (
                    _mirror_label(match.group("label"), target_kind, subj.kind) if match else None
                )
                if mirrored is not None:
                    line = f"{target_name}: {mirrored}: {subj.entity}."
                else:
                    line = (f"{target_name} is mentioned on the page of {subj_name}: "
                            f"{sentence.strip()}")
                bucket = lines.setdefault(entity, [])
                if line not in bucket:
                    bucket.append(line)

    pages = []
    for entity, entity_lines in lines.items():
        target = own.get(entity)
        title = target.doc.title if target and target.doc.title else entity
        pages.append(
            Document(
                text=" ".join(entity_lines),
                title=f"{title} - reverse references",
                id=f"{entity}{REVERSE_ID_SUFFIX}",
                metadata={"derived": "reverse", "entity": entity},
            )
        )
    return pages
