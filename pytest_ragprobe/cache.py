"""Answer cache: one small JSON file per pipeline call, so a rerun with unchanged inputs calls
nothing.

Location: ``.ragprobe_cache/`` in the rootdir by default (``--ragprobe-cache=DIR`` / ini
``ragprobe_cache``), laid out as ``DIR/answers/v1/ab/abcdef….json``; ``DIR/identities/`` records what
each pipeline identity was made of (see :func:`record_identity`), so a run that finds nothing cached
for its pipeline can say what changed since the last run (:func:`identity_notices`);
``DIR/plans/v1/<hash of the test id>.json`` records, per probe, the keys of the calls it asked on its last
run and a digest of the settings and data that fix them (:func:`write_plan_record`), so the cost plan of
the next run can say how many of its calls are cached (:func:`plan_record`); ``DIR/tables/`` holds the
exact statistics tables (``stats.set_table_dir``).

Key: a SHA-256 of the pipeline identity (``PipelineAdapter.cache_identity``: the pipeline's ``name``
or its qualified class/function name, its ``version`` string, and a hash of its own code and
plain-data configuration, see ``pipeline._state``: ``SimReader(0.9)`` and ``SimReader(0.8)`` never
share entries, while counters a pipeline updates as it runs do not change its key), the probe
namespace (probe state that changes answers without showing in the call, e.g. the fictitious facts
indexed for ``synthetic:N``; not how answers are scored), the call kind (answer / generate /
retrieve) and its inputs (question, documents with their metadata, k).

Invalidation:
* bump the pipeline's ``version`` (``ragprobe.Pipeline(..., version="2")``, a ``version`` attribute
  on your object, ``HTTPPipeline(..., version=...)``): every key changes;
* run with ``--ragprobe-no-cache`` (nothing read or written);
* delete the directory (``rm -rf .ragprobe_cache``), or prune what no run has used for a while:
  ``ragprobe cache --prune DAYS`` (an entry's modification time is refreshed on every hit; a plan record
  is rewritten each time its probe runs to the end).
The cache cannot see changes inside your pipeline's dependencies (a new model, a re-built index, a
client configured differently) unless ``version`` says so.

Canonical or not cached: a call whose inputs cannot be keyed the same way in every process (document
metadata holding arbitrary objects) is neither looked up nor stored, and a result is stored only if
reading it back gives exactly the same value (JSON would turn ``{1: "a"}`` into ``{"1": "a"}`` and a
tuple into a list; a set cannot be stored at all), so a warm run always sees what a cold run saw.
Cache trouble never fails a run.

Safety: only successful results are stored (errors never are). Each entry is written to a temp file
in the same directory and moved into place with ``os.replace``, so concurrent writers (xdist
workers, parallel CI jobs on a shared disk) never produce a torn file; at worst two writers store
the same answer twice. An entry that cannot be read or parsed is treated as a miss and rewritten
(a truncated identity sidecar too); cache I/O errors never fail a run. ``ragprobe cache --prune``
also deletes temp files that interrupted writes left behind.

Secrets: an identity holds none (``HTTPPipeline`` / ``OpenAIGenerator`` name their URL without its
password or key parameters; ``pipeline._state`` leaves out values named like secrets, so rotating a
key keeps the cached answers), and what the files show of it is passed through ``types.redact``.
Files and directories get the umask's permissions, like pytest's own ``.pytest_cache``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import math
import os
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_ragprobe.types import Answer, Document, TextMemo, atomic_write, redact

if TYPE_CHECKING:
    from pytest_ragprobe.engine import Call, Value

FORMAT = 1
_README = (
    "pytest-ragprobe answer cache. Safe to delete at any time "
    "(or run pytest with --ragprobe-no-cache).\n"
    "Entries are keyed by pipeline identity + version and call inputs.\n"
)


@dataclass(frozen=True)
class Hit:
    value: Value


UNCACHEABLE = ""  # the key of a call that cannot be keyed canonically: never looked up nor stored


class _NotCanonical(Exception):
    pass


def _key_data(value: object, depth: int = 0) -> Any:
    """``value`` as JSON data that is the same in every process and tells apart what JSON would merge
    (a tuple from a list, ``{1: ..}`` from ``{"1": ..}``, sets in sorted order); _NotCanonical for
    anything else (an object's repr may hold a memory address)."""
    if depth > 50 or (type(value) not in _KEYABLE and not isinstance(value, Mapping)):
        raise _NotCanonical
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"\0float": repr(value)}
    if isinstance(value, bytes):
        return {"\0bytes": value.hex()}
    if isinstance(value, list):
        return [_key_data(v, depth + 1) for v in value]
    if isinstance(value, tuple):
        return {"\0tuple": [_key_data(v, depth + 1) for v in value]}
    if isinstance(value, (set, frozenset)):
        return {"\0set": sorted((_key_data(v, depth + 1) for v in value), key=_dump)}
    assert isinstance(value, Mapping)
    if all(type(k) is str for k in value):
        return {k: _key_data(v, depth + 1) for k, v in value.items()}
    pairs = [[_key_data(k, depth + 1), _key_data(v, depth + 1)] for k, v in value.items()]
    return {"\0map": sorted(pairs, key=_dump)}


_KEYABLE = (type(None), bool, int, float, str, bytes, list, tuple, set, frozenset, dict)
_STORABLE = (type(None), bool, int, float, str, list, dict)


_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False)  # == json.dumps(.., same options)


def _dump(data: Any) -> str:
    return _ENCODER.encode(data)


# _dump(_key_data(_encode_doc(doc))) per plain document (str text and title, str or None id, no
# metadata), keyed by those values: the documents of a position probe recur in every call of a
# question (and across questions); encoding one costs ~6 us. Bounded by characters held; cleared when
# full (recomputing is always correct).
_DOC_JSON: TextMemo[tuple[str, str, str | None]] = TextMemo(1 << 25)


def _doc_json(doc: Document) -> str:
    """A document's part of the key blob, exactly as ``_dump`` writes it inside the payload."""
    text, title, ident, meta = doc.text, doc.title, doc.id, doc.metadata
    if not (
        type(text) is str
        and type(title) is str
        and (ident is None or type(ident) is str)
        and type(meta) is dict
        and not meta
    ):
        return _dump(_key_data(_encode_doc(doc)))
    memo = (text, title, ident)
    blob = _DOC_JSON.get(memo)
    if blob is None:
        blob = _dump(_key_data(_encode_doc(doc)))
        _DOC_JSON.put(memo, blob, 2 * len(blob))
    return blob


def _stores_exactly(value: object, depth: int = 0) -> bool:
    """Whether JSON gives ``value`` back unchanged: plain str/int/float/bool/None, lists and
    str-keyed dicts of them (not tuples, sets, non-str keys, subclasses, NaN)."""
    if depth > 50 or type(value) not in _STORABLE:
        return False
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_stores_exactly(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(type(k) is str and _stores_exactly(v, depth + 1) for k, v in value.items())
    return True


def _doc_stores_exactly(doc: object) -> bool:
    return (
        isinstance(doc, Document)
        and type(doc.text) is str
        and type(doc.title) is str
        and (doc.id is None or type(doc.id) is str)
        and _stores_exactly(dict(doc.metadata))
    )


def _value_stores_exactly(value: object) -> bool:
    if isinstance(value, Answer):
        return type(value.text) is str and all(_doc_stores_exactly(d) for d in value.documents)
    if isinstance(value, list):
        return all(_doc_stores_exactly(d) for d in value)
    return type(value) is str


def _encode_doc(doc: Document) -> dict[str, Any]:
    return {"text": doc.text, "title": doc.title, "id": doc.id, "metadata": dict(doc.metadata)}


def _decode_doc(data: Any) -> Document:
    if not isinstance(data, Mapping) or not isinstance(data.get("text"), str):
        raise ValueError("bad document")
    meta = data.get("metadata") or {}
    if not isinstance(meta, Mapping):
        raise ValueError("bad metadata")
    raw_id = data.get("id")
    return Document(
        text=data["text"],
        title=str(data.get("title") or ""),
        id=None if raw_id is None else str(raw_id),
        metadata=dict(meta),
    )


def encode_value(value: Value) -> dict[str, Any]:
    if isinstance(value, Answer):
        return {
            "type": "answer",
            "text": value.text,
            "documents": [_encode_doc(d) for d in value.documents],
            "reported": value.reports_documents,
        }
    if isinstance(value, str):
        return {"type": "text", "text": value}
    return {"type": "documents", "documents": [_encode_doc(d) for d in value]}


# the type of value each call kind returns (pipeline.PipelineAdapter: answer, retrieve, generate)
_VALUE_TYPES: dict[str, type] = {"answer": Answer, "generate": str, "retrieve": list}


# what reading a corrupt entry raises (binascii and JSON errors are ValueErrors)
_CORRUPT = (ValueError, KeyError, TypeError, RecursionError)
_ITS_KIND = "\0its own"  # _entry_value's kind: the one the entry records


def _entry_value(raw: bytes, key: str, kind: str | None) -> Value:
    """The value an entry's bytes hold, checked as a hit must be: it records ``key`` and a value that
    decodes, of the type a ``kind`` call returns (None: any type; ``_ITS_KIND``: the type of the kind the
    entry records, for the plan, whose records keep only keys; the key hashes the call's kind, so only an
    edited entry records another one). Raises one of ``_CORRUPT`` when it is not a hit: the
    engine's lookup (``AnswerCache.get``) and the plan's count (:func:`plan_record`) both read entries
    with this, so the plan counts as cached exactly what the engine will read as a hit."""
    data = json.loads(raw)
    if not isinstance(data, dict) or data.get("key") != key:
        raise ValueError("key mismatch")
    value = decode_value(data["value"])
    if kind == _ITS_KIND:
        kind = data.get("kind") if isinstance(data.get("kind"), str) else None
    if kind is not None and not isinstance(value, _VALUE_TYPES.get(kind, object)):
        raise TypeError(f"a {type(value).__name__} for a {kind} call")
    return value


def decode_value(data: Any) -> Value:
    if not isinstance(data, Mapping):
        raise ValueError("bad value")
    kind = data.get("type")
    if (
        kind == "answer"
        and isinstance(data.get("text"), str)
        and isinstance(data.get("documents"), list)
    ):
        docs = tuple(_decode_doc(d) for d in data["documents"])
        # entries from before "reported" was stored: an empty list meant "not reported" then
        if not data.get("reported", bool(docs)):
            return Answer(text=data["text"])
        return Answer(text=data["text"], documents=docs)
    if kind == "text" and isinstance(data.get("text"), str):
        return str(data["text"])
    if kind == "documents" and isinstance(data.get("documents"), list):
        return [_decode_doc(d) for d in data["documents"]]
    raise ValueError(f"unknown cached value type {kind!r}")


class AnswerCache:
    """File-per-key cache for one (pipeline identity, namespace). Never raises on I/O trouble."""

    def __init__(self, root: Path, identity: str, namespace: str = "") -> None:
        self.root = Path(root)
        self.dir = self.root / "answers" / f"v{FORMAT}"
        self.identity = identity
        self.namespace = namespace
        self.writable = True
        self._marked = False
        self.hits = 0
        self.misses = 0
        self.corrupt = 0
        self.uncacheable = 0  # calls or results that could not be keyed or stored canonically
        self._noted = False  # this identity's sidecar (see record_identity) written or refreshed
        self._shown: str | None = None  # the identity as entries show it (redacted), made once

    def key(self, call: Call) -> str:
        """The entry's key, or UNCACHEABLE when the call's inputs cannot be keyed canonically (never
        raises: the call then simply runs uncached)."""
        try:
            # == _dump({"format": FORMAT, "pipeline": self.identity, "namespace": self.namespace,
            #   "kind": call.kind, "question": _key_data(call.question), "documents":
            #   [_key_data(_encode_doc(d)) for d in call.documents], "k": _key_data(call.k)}),
            # written piece by piece (sorted keys, each document's part memoised): keys never change.
            question = _key_data(call.question)
            documents = [_doc_json(d) for d in call.documents]
            k = _key_data(call.k)
            blob = (
                f'{{"documents": [{", ".join(documents)}], "format": {_dump(FORMAT)}, '
                f'"k": {_dump(k)}, "kind": {_dump(call.kind)}, '
                f'"namespace": {_dump(self.namespace)}, "pipeline": {_dump(self.identity)}, '
                f'"question": {_dump(question)}}}'
            )
        except (_NotCanonical, TypeError, ValueError, RecursionError):
            self.uncacheable += 1
            return UNCACHEABLE
        # (surrogatepass: the same bytes as UTF-8 for any text, and a key for a lone surrogate too)
        return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()

    def path(self, key: str) -> Path:
        return self.dir / key[:2] / f"{key}.json"  # (== answer_path(self.root, key))

    def get(self, key: str, kind: str | None = None) -> Hit | None:
        """The cached value of ``key``; ``kind``: the call's (answer, generate, retrieve), whose value type
        an entry must hold (an edited or foreign entry of another type is corrupt: it crashed the probe)."""
        if key == UNCACHEABLE:
            self.misses += 1
            return None
        try:
            raw = self.path(key).read_bytes()
        except OSError:
            self.misses += 1
            return None
        try:
            hit = Hit(_entry_value(raw, key, kind))
        except _CORRUPT:
            self.corrupt += 1  # ignored now, overwritten by the next successful call
            self.misses += 1
            return None
        self.hits += 1
        with contextlib.suppress(OSError):  # "last used", for `ragprobe cache --prune DAYS`
            os.utime(self.path(key))
        if not self._noted:
            self._noted = True
            record_identity(self.root, self.identity, touch=True)
        return hit

    def _shown_identity(self) -> str:
        """The identity as the entries record it (``ragprobe cache`` lists it): without secrets."""
        if self._shown is None:
            self._shown = redact(self.identity)
        return self._shown

    def put(self, key: str, call: Call, value: Value) -> bool:
        """Store a successful result atomically; False when it could not be stored (never
        raises)."""
        if not self.writable or key == UNCACHEABLE:
            return False
        try:
            if not _value_stores_exactly(value):
                # reading it back would give another value (a warm run must see what a cold run saw)
                self.uncacheable += 1
                return False
            entry = {
                "key": key,
                "pipeline": self._shown_identity(),
                "kind": call.kind,
                "question": call.question,
                "value": encode_value(value),
            }
            text = json.dumps(entry, ensure_ascii=False)
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate (surrogateescape): as its escape, read back exactly
                text = json.dumps(entry)
        except (TypeError, ValueError, RecursionError):  # metadata that JSON cannot hold: do not cache it
            return False
        target = self.path(key)
        try:
            if not self._marked:
                self.root.mkdir(parents=True, exist_ok=True)
                if not (self.root / ".gitignore").exists():
                    _write_markers(self.root)
                self._marked = True
            atomic_write(target, text)
        except OSError:
            self.writable = False  # read-only or full disk: carry on uncached
            return False
        if not self._noted:
            self._noted = True
            record_identity(self.root, self.identity)
        return True


# -- identities: what each pipeline identity was made of, to say why a run found nothing cached ------
# ``DIR/identities/<sha256 of the identity>.json`` holds {"identity", "base", "parts", "time"}: written
# with the identity's first entry (``parts``: pipeline.identity_parts, when the pipeline was adapted in
# this process; ``time``: when written), its modification time refreshed by the first hit of a run.
# At the end of each run (:func:`identity_notices`, on the xdist controller) the sidecars it wrote get
# ``"run"`` (when that run started: identities made in one run belong together) and those of earlier
# runs it hit get ``"reused": true`` (a stable configuration), their modification times kept.

_HASH_SUFFIX = re.compile(r"#[0-9a-f]{12}(?=[,)]|$)")


def identity_base(identity: str) -> str:
    """The identity without its code/configuration hashes: the pipeline's name, @version when set
    (``conftest.Pipe#1a2b3c4d5e6f`` -> ``conftest.Pipe``; as ``ProbeResult.pipeline`` names it)."""
    return _HASH_SUFFIX.sub("", identity)


def _identity_path(root: Path, identity: str) -> Path:
    return root / "identities" / f"{hashlib.sha256(identity.encode('utf-8')).hexdigest()[:32]}.json"


def record_identity(root: Path, identity: str, *, touch: bool = False) -> None:
    """Write ``identity``'s sidecar unless it exists (with ``touch``: refresh its last-used time if it
    does). Never raises."""
    path = _identity_path(Path(root), identity)
    try:
        if path.exists() and _readable_sidecar(path):
            if touch:
                os.utime(path)
            return
        from pytest_ragprobe.pipeline import parts_of

        text = json.dumps(
            {  # (the file's name is the identity's hash; its text is redacted like any output)
                "identity": redact(identity),
                "base": redact(identity_base(identity)),
                "parts": parts_of(identity),
                "time": time.time(),
            },
            ensure_ascii=False,
        )
        atomic_write(path, text)
    except (OSError, ValueError, TypeError):
        pass


def _readable_sidecar(path: Path) -> bool:
    """Whether a sidecar parses (one a crash or a full disk truncated is written anew, not kept)."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and isinstance(data.get("identity"), str)


@dataclass(frozen=True)
class Identity:
    identity: str
    base: str
    parts: dict[str, str] | None
    created: float  # when its first entry was written
    last_used: float  # the sidecar's modification time: its first entry, or a run's first hit
    run: float | None = None  # when the run that made it started (None: not recorded, an older cache)
    reused: bool = False  # a later run hit it: a configuration kept, not one made anew every run

    @property
    def made_in(self) -> float:
        """The run that made it (its own first entry's time when that was not recorded)."""
        return self.created if self.run is None else self.run


def _identity(data: Any, mtime: float) -> Identity | None:
    ident, parts, run = data["identity"], data.get("parts"), data.get("run")
    if not isinstance(ident, str):
        return None
    if not (isinstance(parts, dict) and all(isinstance(v, str) for v in parts.values())):
        parts = None
    run = float(run) if isinstance(run, (int, float)) and not isinstance(run, bool) else None
    created = float(data.get("time", 0.0))
    return Identity(ident, identity_base(ident), parts, created, mtime, run, data.get("reused") is True)


def identities(root: Path) -> list[Identity]:
    """The sidecars under ``root`` (unreadable ones skipped)."""
    out: list[Identity] = []
    for path in sorted((Path(root) / "identities").glob("*.json")):
        try:
            found = _identity(json.loads(path.read_bytes()), path.stat().st_mtime)
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            continue
        if found is not None:
            out.append(found)
    return out


_CLOCK_SLACK = 0.05  # seconds; runs closer than this (in-process pytester) are told apart by "noted_ns"


def _note_run(root: Path, since: float) -> None:
    """Mark the sidecars the run that started at ``since`` touched: ``run`` on those it made, ``reused``
    on earlier ones it hit, keeping their modification (last-used) times. Only sidecars modified since
    it started are read. Never raises."""
    try:
        paths = sorted((Path(root) / "identities").glob("*.json"))
    except OSError:
        return
    for path in paths:
        try:
            st = path.stat()
            # (a file's time is the kernel's coarse clock, which can be a tick behind time.time():
            # measured here, 3 of 2,000 touches right after reading time.time() were dated before it)
            if st.st_mtime < since - _CLOCK_SLACK:
                continue  # neither made nor hit by this run
            data = json.loads(path.read_bytes())
            if not isinstance(data, dict):
                continue
            if float(data.get("time", 0.0)) >= since:
                if "run" in data:
                    continue
                data["run"] = since
            elif data.get("reused") is True or data.get("run") == since:
                continue
            elif data.get("noted_ns") == st.st_mtime_ns:
                # untouched since the run that made it noted it: that run ended within the clock slack
                # of this one's start (back-to-back in-process runs), it was not hit now
                continue
            else:
                data["reused"] = True
            data["noted_ns"] = st.st_mtime_ns  # the time kept below: a later hit changes it
            atomic_write(path, json.dumps(data, ensure_ascii=False))
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        except (OSError, ValueError, TypeError):
            continue


def _distance(current: Identity, other: Identity) -> int:
    """How many recorded parts differ between two identities (unknown: more than any)."""
    if current.parts is None or other.parts is None:
        return 1 << 30
    a, b = current.parts, other.parts
    return sum(a.get(k) != b.get(k) for k in set(a) | set(b))


_LABEL_KINDS = (
    ("global.", "global"),
    ("closure.", "closure variable"),
    ("default", "default"),
    ("partial", "argument"),
    ("class.", "class attribute"),
    ("ref.", "helper"),
)


def _label_text(label: str) -> str:
    part, sep, rest = label.partition(":")
    if sep and part and ":" not in rest and part.isidentifier():
        return f"{part}'s {_label_text(rest)}"
    if label == "self":  # a method of one of our adapters (Pipeline(generate=gen.generate))
        return "service (its name, URL, model or version)"
    for prefix, kind in _LABEL_KINDS:
        if label.startswith(prefix):
            shown = label[len(prefix) :] if prefix.endswith(".") else label
            return f"{kind} '{shown}'"
    return f"attribute '{label}'"


def parts_differ(current: Mapping[str, str], other: Mapping[str, str]) -> str:
    """What differs between two identity_parts, in words ("attribute 'workdir'", "its code"); empty
    when nothing recorded differs."""
    labels = sorted(k for k in set(current) | set(other) if k != "code" and current.get(k) != other.get(k))
    code = current.get("code") != other.get("code")
    if not labels:
        return "its code" if code else ""
    shown = [_label_text(k) for k in labels[:4]]
    if len(labels) > 4:
        shown.append(f"{len(labels) - 4} more")
    text = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"
    return f"{text} (and its code)" if code else text


# An HTTP service's identity is its URL unless it is given a ``name`` (``http:http://127.0.0.1:41877``,
# ``openai:m@http://localhost:8000/v1@…``): a test server on a random port makes a new one every run.
# For the notices, URLs that differ only in their port (or, on this machine, in host and port:
# localhost, 127.0.0.1, ::1) are one service.
_URL = re.compile(r"(https?://)(\[[0-9A-Fa-f:.]*\]|[^\s/:@,()\[\]]+)(?::(\d+))?")
_LOCAL_HOSTS = frozenset({"localhost", "0.0.0.0", "[::1]", "[::]"})


def _local(host: str) -> bool:
    return host.lower() in _LOCAL_HOSTS or host.startswith("127.")


def service_group(base: str) -> str:
    """``base`` (an identity's base name) with the port of each URL in it, and the host of a local
    one, left out: the identities of one HTTP service reached at another address each run group
    together (``http:http://127.0.0.1:41877`` -> ``http:http://<local>:<port>``). Other base names
    are returned unchanged."""
    return _URL.sub(lambda m: f"{m[1]}{'<local>' if _local(m[2]) else m[2]}:<port>", base)


def _urls(base: str) -> list[str]:
    return [m[0] for m in _URL.finditer(base)]


def _miss_notice(current: Identity, calls: str, n: int, of: str, when: str, what: str, advice: str) -> str:
    """The notice for an identity the cache never hits (``calls``: "40 calls"): ``n`` other identities of
    ``of`` (a pipeline's configurations, or a service's addresses), what differs from the latest, and what
    to do."""
    return (
        f"ragprobe: the answer cache had no answers for {current.identity} ({calls}); it holds {n} other "
        f"{of}, last used {when}"
        + (f"; what differs from the latest: {what}" if what else "")
        + f". {advice}"
    )


# A service whose URL (its identity) changes every run: ``name=`` fixes it.
_SERVICE_ADVICE = (
    "Without a `name`, a service's URL is its cache identity, and one that changes every run (a "
    'test server on a random port) keeps the cache from ever hitting: give it `name="my-rag"` '
    '(ragprobe.HTTPPipeline(url, name="my-rag")), and bump its `version` when the service\'s '
    "behaviour changes"
)
_VERSION_ADVICE = (
    "If you changed it on purpose, nothing to do. A value that changes every run (a temporary "
    "directory, a random port, a timestamp) keeps the cache from ever hitting: set a `version` "
    "attribute on the pipeline to own its identity (bump it when its behaviour changes)"
)


def identity_notices(root: Path, used: Mapping[str, tuple[int, int]], since: float) -> list[str]:
    """One notice per pipeline identity that this run (started at ``since``) stored answers for but
    found none cached, while the cache at ``root`` holds identities of the same pipeline made in two
    or more earlier runs that no later run used again, the closest of the latest such run differing
    from it in more than code: something in its configuration changes every run. Configurations used
    side by side (several fixtures or params) count as one run; those a later run hit are stable, not
    evidence. ``used``: per pipeline base name (``ProbeResult.pipeline``), the run's (pipeline calls,
    cached calls). Identities of an HTTP service whose URLs differ only in the port (on this machine,
    host and port: a test server on a random port) are those of one pipeline (:func:`service_group`),
    and their notice suggests a ``name``. Called once at the end of each run: it also records the run
    in the sidecars (see :func:`_note_run`). Never raises."""
    _note_run(root, since)
    missed = {base for base, (calls, hits) in used.items() if calls > 0 and hits == 0}
    if not missed:
        return []
    groups = {service_group(base) for base in missed}
    try:
        known = [i for i in identities(root) if service_group(i.base) in groups]
    except OSError:
        return []
    notices: list[str] = []
    made_now = sorted((i for i in known if i.created >= since and i.base in missed), key=lambda i: i.identity)
    for current in made_now:
        group = service_group(current.base)
        others = [i for i in known if service_group(i.base) == group and i.created < since]
        # One earlier run's configurations are an ordinary change (a new prompt, another top_k, for
        # each configuration the suite uses); a value that changes every run shows from the third run
        # on, as configurations no later run hits, made anew each run.
        one_off = [i for i in others if not i.reused]
        runs = {i.made_in for i in one_off}
        if len(runs) < 2:
            continue
        last_run = max(runs)
        latest = min(
            (i for i in one_off if i.made_in == last_run),
            key=lambda i: (_distance(current, i), -i.last_used),
        )
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(latest.last_used))
        what = (
            parts_differ(current.parts, latest.parts)
            if current.parts is not None and latest.parts is not None
            else ""
        )
        total, side_by_side = used[current.base][0], sum(i.base == current.base for i in made_now)
        # (the probes count calls per base name: configurations used side by side share one count)
        calls = f"{total} call{'s' if total != 1 else ''}" + (
            f" of its {side_by_side} configurations this run" if side_by_side > 1 else ""
        )
        n = len(others)
        moved = [u for u, now in zip(_urls(latest.base), _urls(current.base), strict=False) if u != now]
        if moved:  # a service at another address each run (its URL is its identity)
            shown = _URL.sub(lambda m: f"{m[1]}{m[2]}:<port>", current.base)
            of = f"identit{'ies' if n != 1 else 'y'} of {shown} (the same service at another port)"
            what = f"the URL ({', '.join(moved)} then)"
            notices.append(_miss_notice(current, calls, n, of, when, what, _SERVICE_ADVICE))
            continue
        if what == "its code":  # an edit of the pipeline's code, not a value of the run
            continue
        of = f"configuration{'s' if n != 1 else ''} of {current.base}"
        notices.append(_miss_notice(current, calls, n, of, when, what, _VERSION_ADVICE))
    return notices


# -- plan records: what each probe asked on its last run, for the next run's cost plan ---------------
# ``DIR/plans/v1/<sha256 of the nodeid, 32 hex>.json`` holds {"nodeid", "digest", "answers", "calls",
# "keys", "time"}: ``digest`` (plan.probe_digest) of the settings and data that fix the probe's calls,
# ``calls`` the calls it asked (uncacheable ones included), ``keys`` the answer-cache keys of those that
# could be keyed, as raw SHA-256 digests concatenated and base64-encoded (43 characters a call instead of
# 67 as a JSON list of hex strings: a 20,000-fact reverse probe asks 40,000). Written by the process that
# ran the probe (each xdist worker its own probes: one file per test id, no clash), atomically; read by
# the cost plan, which reads the answer files the keys name (each checked as a run reads it).

PLAN_FORMAT = 1
_KEY_BYTES = 32  # a key is the hex of a SHA-256 digest


def answer_path(root: Path, key: str) -> Path:
    """Where the answer cache at ``root`` keeps the entry of ``key`` (``AnswerCache.path``)."""
    return Path(root) / "answers" / f"v{FORMAT}" / key[:2] / f"{key}.json"


def plan_record_path(root: Path, nodeid: str, scope: str = "") -> Path:
    """``scope``: the rootdir of the test id (test ids are relative to it: two projects sharing a cache dir
    may have the same ones, with other pipelines)."""
    ident = f"{scope}\0{nodeid}" if scope else nodeid
    name = hashlib.sha256(ident.encode("utf-8")).hexdigest()[:32]
    return Path(root) / "plans" / f"v{PLAN_FORMAT}" / f"{name}.json"


def pack_key(key: str) -> bytes | None:
    """``key`` as the raw bytes a plan record stores (None: UNCACHEABLE, or not a key)."""
    if len(key) != 2 * _KEY_BYTES:
        return None
    try:
        return bytes.fromhex(key)
    except ValueError:
        return None


def write_plan_record(
    root: Path, nodeid: str, digest: str, keys: bytes, calls: int, *, scope: str = ""
) -> bool:
    """Record that the probe ``nodeid``, run with what ``digest`` stands for, asked ``calls`` calls, of
    which those that could be keyed have the keys ``keys`` (:func:`pack_key` of each, concatenated).
    Replaces the probe's earlier record. False when it could not be written (never raises)."""
    if not digest or len(keys) % _KEY_BYTES or calls < len(keys) // _KEY_BYTES:
        return False
    try:
        text = json.dumps(
            {
                "nodeid": redact(nodeid),  # (a parametrized id may quote a URL: as every file, redacted)
                "digest": digest,
                "answers": FORMAT,
                "calls": calls,
                "keys": base64.b64encode(keys).decode("ascii"),
                "time": time.time(),
            },
            ensure_ascii=False,
        )
        atomic_write(plan_record_path(Path(root), nodeid, scope), text)
    except (OSError, ValueError, TypeError):
        return False
    return True


@dataclass(frozen=True)
class PlanRecord:
    calls: int  # the calls the probe asked on its last run (those that could not be keyed included)
    cached: int  # how many of them have an answer in the cache now

    @property
    def all_cached(self) -> bool:
        return self.calls > 0 and self.cached == self.calls


def plan_record(root: Path, nodeid: str, digest: str, *, scope: str = "") -> PlanRecord | None:
    """What the last run of ``nodeid`` asked, and how many of those answers the cache at ``root`` holds
    now (each entry's file is read and checked as the engine's lookup checks it: a truncated or edited
    entry is a miss there, so it is not counted); None without a record made with the same ``digest``
    (other settings or data), or with an unreadable one. Never raises."""
    if not digest:
        return None
    try:
        data = json.loads(plan_record_path(Path(root), nodeid, scope).read_bytes())
        if not (
            isinstance(data, dict)
            and data.get("nodeid") == redact(nodeid)
            and data.get("digest") == digest
            and data.get("answers") == FORMAT
        ):
            return None
        calls, packed = data.get("calls"), data.get("keys")
        if type(calls) is not int or not isinstance(packed, str):
            return None
        keys = base64.b64decode(packed.encode("ascii"), validate=True)
    except (OSError, ValueError, TypeError, RecursionError):  # (binascii.Error is a ValueError)
        return None
    if len(keys) % _KEY_BYTES or calls < len(keys) // _KEY_BYTES:
        return None
    base = os.path.join(os.fspath(root), "answers", f"v{FORMAT}", "")
    cached = 0
    for i in range(0, len(keys), _KEY_BYTES):  # (string paths: pathlib took 3/4 of the time at 40,000)
        key = keys[i : i + _KEY_BYTES].hex()
        try:
            with open(f"{base}{key[:2]}/{key}.json", "rb", buffering=0) as fh:  # (one read, no buffer)
                _entry_value(fh.readall(), key, _ITS_KIND)  # (a stat counted truncated entries: misses)
        except (OSError, *_CORRUPT):
            continue
        cached += 1
    return PlanRecord(calls, cached)


def unwritable(root: Path) -> str | None:
    """Why new answers cannot be stored under ``root`` (None: they can). Checked once at the start
    of a run, without creating anything: ``put`` itself gives up quietly on the first failed write."""
    entries = root / "answers" / f"v{FORMAT}"
    path = entries if entries.exists() else root
    while not path.exists() and path != path.parent:
        path = path.parent
    if not path.is_dir():
        return f"{path} is not a directory"
    if not os.access(path, os.W_OK | os.X_OK):  # also EROFS: a read-only mount
        return f"{path} is not writable"
    return None


def _write_markers(root: Path) -> None:
    for name, text in (
        (".gitignore", "# created by pytest-ragprobe\n*\n"),
        ("README.md", _README),
        (
            "CACHEDIR.TAG",
            "Signature: 8a477f597d28d172789f06886806bc55\n# pytest-ragprobe answer cache\n",
        ),
    ):
        with contextlib.suppress(OSError):
            (root / name).write_text(text, encoding="utf-8")


@dataclass
class CacheStats:
    entries: int = 0
    bytes: int = 0
    oldest: float | None = None  # last-used times (mtime), epoch seconds
    newest: float | None = None
    by_pipeline: dict[str, int] | None = None
    last_used: dict[str, float] | None = None  # per pipeline identity: its newest entry's mtime
    removed: int = 0
    removed_bytes: int = 0
    tables: int = 0  # stored critical-value tables (tables/, see stats.set_table_dir)
    tables_bytes: int = 0
    removed_tables: int = 0
    plans: int = 0  # probes' plan records (plans/, see write_plan_record): not answers
    removed_plans: int = 0


def _files(
    paths: Iterable[Path], prune_before: float | None
) -> Iterator[tuple[Path, os.stat_result, bool]]:
    """(path, stat, removed) per file, in name order: a file last used before ``prune_before`` is
    deleted (removed=True). Files that vanish meanwhile, or cannot be deleted, are skipped."""
    for path in sorted(paths):
        try:
            st = path.stat()
        except OSError:
            continue
        if prune_before is not None and st.st_mtime < prune_before:
            try:
                path.unlink()
            except OSError:
                continue
            yield path, st, True
        else:
            yield path, st, False


def scan(root: Path, *, prune_before: float | None = None) -> CacheStats:
    """Count the entries of the cache at ``root`` (per pipeline identity), its statistics tables and
    the probes' plan records; with ``prune_before`` (epoch seconds), delete the entries, tables and plan
    records last used (written) before it. Unreadable entries count as pipeline "?"; files that vanish
    meanwhile (a concurrent run) are skipped."""
    stats = CacheStats(by_pipeline={}, last_used={})
    assert stats.by_pipeline is not None and stats.last_used is not None
    for path, st, removed in _files((Path(root) / "answers").glob("v*/*/*.json"), prune_before):
        if removed:
            stats.removed += 1
            stats.removed_bytes += st.st_size
            continue
        try:
            pipeline = str(json.loads(path.read_bytes()).get("pipeline", "?"))
        except (OSError, ValueError, AttributeError):
            pipeline = "?"
        stats.entries += 1
        stats.bytes += st.st_size
        stats.by_pipeline[pipeline] = stats.by_pipeline.get(pipeline, 0) + 1
        stats.last_used[pipeline] = max(stats.last_used.get(pipeline, 0.0), st.st_mtime)
        stats.oldest = st.st_mtime if stats.oldest is None else min(stats.oldest, st.st_mtime)
        stats.newest = st.st_mtime if stats.newest is None else max(stats.newest, st.st_mtime)
    for _path, st, removed in _files((Path(root) / "tables").glob("*.json"), prune_before):
        if removed:
            stats.removed_tables += 1
        else:
            stats.tables += 1
            stats.tables_bytes += st.st_size
    # a probe's record is rewritten each time it runs to the end: one not rewritten since is stale
    for _path, _st, removed in _files((Path(root) / "plans").glob("v*/*.json"), prune_before):
        if removed:
            stats.removed_plans += 1
        else:
            stats.plans += 1
    if prune_before is not None:  # drop emptied shard directories, and sidecars of identities now gone
        # Temp files of writes a crash or kill interrupted (types.atomic_write: ".<name>.<random>.tmp"):
        # never read, but they kept their shard from being removed. Only old ones: a concurrent run
        # may be writing one now.
        stale = min(prune_before, time.time() - 3600)
        for pattern in ("answers/v*/*/.*.tmp", "identities/.*.tmp", "tables/.*.tmp", "plans/v*/.*.tmp"):
            for _ in _files(Path(root).glob(pattern), stale):  # (deletes each one older than that)
                pass
        for shard in sorted((Path(root) / "answers").glob("v*/*")):
            with contextlib.suppress(OSError):
                shard.rmdir()
        for path in sorted((Path(root) / "identities").glob("*.json")):
            try:
                ident = json.loads(path.read_bytes()).get("identity")
            except (OSError, ValueError, AttributeError):
                ident = None
            # (one written in the last minute may belong to a run storing its first entries now)
            with contextlib.suppress(OSError):
                if ident not in stats.by_pipeline and path.stat().st_mtime < time.time() - 60:
                    path.unlink()
    return stats


def days_ago(days: float, now: float | None = None) -> float:
    return (time.time() if now is None else now) - days * 86400.0
