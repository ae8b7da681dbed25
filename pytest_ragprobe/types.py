"""Plain value types shared by every layer: documents and answers.

Stdlib only, so the plugin's import path stays light.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import inspect
import itertools
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar


class PipelineOutputError(TypeError):
    """The pipeline returned something that is not a documented answer or document shape.

    ``cause``, when set, is the message without the per-call value (the returned repr differs from
    question to question): the engine groups failed calls by it and fail-fast compares it."""

    cause: str | None = None

    def __init__(self, message: str, cause: str | None = None) -> None:
        super().__init__(message)
        if cause is not None:
            self.cause = cause


@dataclass(frozen=True)
class Document:
    """One retrievable passage. ``metadata`` is free-form; ``id`` is optional but helps attribution."""

    text: str
    title: str = ""
    id: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Checked here, at the user's line: a None text otherwise fails much later, in scoring, as
        # "normalize() argument 2 must be str", or renders as "title: None" to the reader. A
        # PipelineOutputError (a TypeError), as Answer's: built inside a pipeline (a retriever's hit with
        # no text) it is a failed call, not a bug ending the whole probe.
        if not isinstance(self.text, str):
            raise _wrong_type(
                "ragprobe.Document", "text must be a str", self.text, _DOCUMENT_TEXT_HINTS, "pass that"
            )

    def render(self) -> str:
        """The passage as a reader sees it: ``title: text`` (or just text)."""
        return f"{self.title}: {self.text}" if self.title else self.text

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "title": self.title, "id": self.id, "metadata": dict(self.metadata)}

    def __hash__(self) -> int:
        return hash((self.text, self.title, self.id))


class _Unreported(tuple):  # type: ignore[type-arg]
    """Answer.documents when the pipeline did not say what it retrieved: empty like (), but told apart
    from an explicit ``documents=[]`` (it retrieved nothing: a retrieval miss)."""

    __slots__ = ()

    def __repr__(self) -> str:  # Answer('x') and Answer('x', documents=[]) printed the same
        return "<not reported>"


NOT_REPORTED: Sequence[Document] = _Unreported()


@dataclass(frozen=True)
class Answer:
    """A pipeline's answer, optionally with the documents it retrieved (enables miss attribution)."""

    text: str
    documents: Sequence[Document] = NOT_REPORTED

    def __post_init__(self) -> None:
        # Checked here, at the user's line: Answer(None) (an LLM client's content is None on a refusal or
        # a tool call) was built fine and refused only when the probe read the answer. A
        # PipelineOutputError (a TypeError): inside a pipeline it stays a failed call, as it was.
        if not isinstance(self.text, str):
            raise _wrong_type(
                "ragprobe.Answer", "text must be a str", self.text, _ANSWER_TEXT_HINTS, "pass that"
            )
        docs: object = self.documents
        if docs is None or isinstance(docs, _Unreported):
            return
        if isinstance(docs, (str, bytes)) or not isinstance(docs, Sequence):
            expected = (
                "documents must be a list of ragprobe.Document, dicts with 'text' or str "
                "(or None: not reported)"
            )
            raise _wrong_type("ragprobe.Answer", expected, docs, _DOCUMENTS_HINTS)
        for i, doc in enumerate(docs):  # (coerced to Documents by to_answer, as a dict answer's are)
            to_document(doc, where=f"ragprobe.Answer documents[{i}]")

    @property
    def reports_documents(self) -> bool:
        """True when the pipeline said what it retrieved, even nothing (``documents=[]``)."""
        return not isinstance(self.documents, _Unreported)

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "documents": [d.to_dict() for d in self.documents]}


def to_document(value: object, *, where: str = "pipeline") -> Document:
    """Accept a Document, a dict with Document's keys, or a plain string."""
    if isinstance(value, Document):
        if not isinstance(value.text, str):  # a subclass that skips the check in __post_init__
            raise PipelineOutputError(
                f"{where}: ragprobe.Document needs a string text, got {type(value.text).__name__}"
            )
        return value
    if isinstance(value, str):
        return Document(text=value)
    if isinstance(value, Mapping):
        text = value.get("text", value.get("page_content", value.get("content")))
        key = next((k for k in ("text", "page_content", "content") if k in value), None)
        if key is not None and not isinstance(text, str):
            # ("needs a string 'text' field, got keys ['text']" of {"text": None} hid what was wrong)
            expected = f"its {key!r} must be a str"
            raise _wrong_type(f"{where}: document dict", expected, text, _DOCUMENT_TEXT_HINTS)
        if not isinstance(text, str):
            raise PipelineOutputError(
                f"{where}: document dict needs a string 'text' field, got keys {sorted(value)}"
            )
        raw_id = value.get("id")
        meta = value.get("metadata") or {}
        if not isinstance(meta, Mapping):
            raise PipelineOutputError(f"{where}: document 'metadata' must be a mapping")
        return Document(
            text=text,
            title=str(value.get("title") or ""),
            id=None if raw_id is None else str(raw_id),
            metadata=dict(meta),
        )
    expected = "expected a ragprobe.Document, a dict with 'text' or a str"
    raise _wrong_type(where, expected, value, _DOCUMENT_HINTS, "give ragprobe.Document(that) or a dict")


def to_documents(values: object, *, where: str = "pipeline") -> list[Document]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise _wrong_type(where, "expected a list of documents", values, _DOCUMENTS_HINTS)
    return [to_document(v, where=f"{where}[{i}]") for i, v in enumerate(values)]


def to_answer(value: object, *, where: str = "pipeline") -> Answer:
    """Accept an Answer, a str, or a dict ``{"text"|"answer": str, "documents": [...]}``."""
    if isinstance(value, Answer):
        if not isinstance(value.text, str):
            raise PipelineOutputError(
                f"{where}: ragprobe.Answer.text must be a str, got {type(value.text).__name__}"
            )
        given: object = value.documents
        if given is None:  # Answer(text, documents=None): not said, like a dict's "documents": null
            return Answer(text=value.text)
        if isinstance(value.documents, tuple) and all(
            isinstance(d, Document) and isinstance(d.text, str) for d in value.documents
        ):
            return value
        # Answer(text, documents=[...]) may carry dicts or strings too; coerce them like any documents.
        docs = to_documents(value.documents, where=f"{where}.documents")
        return Answer(text=value.text, documents=tuple(docs))
    if isinstance(value, str):
        return Answer(text=value)
    if isinstance(value, Mapping):
        error = reported_error(value)
        if error is not None:  # {"answer": "", "error": "..."} is a failed call, not an empty answer to score
            raise PipelineOutputError(
                f"{where}: the answer dict reports an error: {error[:300]!r}",
                f"{where}: the answer dict reports an error: {one_line(error)!r}",
            )
        text = value.get("text", value.get("answer"))
        if not isinstance(text, str):
            key = "text" if "text" in value else "answer" if "answer" in value else None
            wrong = "" if key is None else f" ({key!r} is {type(value[key]).__name__})"
            raise PipelineOutputError(
                f"{where}: answer dict needs a string 'text' or 'answer', got keys {sorted(value)}{wrong}"
            )
        key = "documents" if "documents" in value else "contexts" if "contexts" in value else None
        if key is None:
            return Answer(text=text)
        if value[key] is None:
            return Answer(text=text)
        docs = value[key]
        return Answer(text=text, documents=tuple(to_documents(docs, where=f"{where}.{key}")))
    raise _wrong_type(where, "expected str or ragprobe.Answer", value, _ANSWER_HINTS)


def reported_error(value: Mapping[Any, Any]) -> str | None:
    """The text of a non-empty ``error`` field (a string, or an object/list such as OpenAI's
    ``{"error": {"message": ...}}``) in a pipeline's or service's reply, else None."""
    error = value.get("error")
    if isinstance(error, str) and error.strip():
        return error.strip()
    if isinstance(error, Mapping) and error:
        message = error.get("message")
        return message if isinstance(message, str) and message else repr(dict(error))
    if isinstance(error, list) and error:
        return repr(error)
    return None


def one_line(text: str, limit: int = 60) -> str:
    """``text`` on one line, clipped: short enough that calls failing with the same text group together."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


_Hints = tuple[tuple[Callable[[object], bool], str], ...]


def _answer_hints(verb: str, nothing: str) -> _Hints:
    """What a common wrong value most likely is, and what to ``verb`` instead: (test, hint)."""
    return (
        (
            lambda v: isinstance(v, tuple) and len(v) == 2,
            f"an (answer, documents) pair? {verb} ragprobe.Answer(answer, documents=docs)",
        ),
        (lambda v: inspect.isgenerator(v) or inspect.isasyncgen(v), f"a token stream? {verb} the joined str"),
        (lambda v: isinstance(v, (bytes, bytearray)), "decode it to a str"),
        (lambda v: v is None, nothing),
    )


# a pipeline's return value; ragprobe.Answer's text argument
_ANSWER_HINTS = _answer_hints(
    "return", "did it return nothing? a function that ends without `return` gives None"
)
_ANSWER_TEXT_HINTS = _answer_hints("give", "did the model or a function return nothing?")

_DOCUMENT_HINTS: _Hints = (
    (lambda v: isinstance(v, tuple) and len(v) == 2, "a (document, score) pair? give the document only"),
)
_DOCUMENT_TEXT_HINTS: _Hints = (
    (lambda v: isinstance(v, (bytes, bytearray)), "decode it to a str"),
    (lambda v: v is None, "a search hit without its text? leave it out, or fetch its text"),
)
_DOCUMENTS_HINTS: _Hints = (
    (lambda v: getattr(v, "ndim", None) == 1 and hasattr(v, "tolist"), "an array? give its .tolist()"),
    (lambda v: inspect.isgenerator(v) or inspect.isasyncgen(v), "a generator? give a list"),
)
# Text-holding attributes of other frameworks' objects (LangChain's AIMessage.content and
# Document.page_content, LlamaIndex's Response.response, pydantic models with an answer field).
_TEXT_ATTRIBUTES = ("content", "text", "page_content", "response", "answer", "result", "output")


def _wrong_type(
    where: str,
    expected: str,
    value: object,
    hints: _Hints,
    use_text: str = "return that",
) -> PipelineOutputError:
    """The error for a value of the wrong type. Its ``cause`` names the type (and what to do) but
    not the value, so calls that all return, say, a tuple group as one cause and trip fail-fast."""
    hint = next((text for test, text in hints if test(value)), "")
    if not hint and not isinstance(value, (str, bytes, Mapping, Sequence)) and value is not None:
        for attr in _TEXT_ATTRIBUTES:
            try:
                held = getattr(value, attr, None)
            except Exception:  # an odd property: no hint, never a crash
                held = None
            if isinstance(held, str):
                hint = f"its .{attr} is a str: {use_text}"
                break
    hint = f" ({hint})" if hint else ""
    if value is None:  # "got NoneType: None" said it twice, and an error citing its cause said it four times
        text = f"{where}: {expected}, got None{hint}"
        return PipelineOutputError(text, text)
    kind = type(value).__name__
    return PipelineOutputError(
        f"{where}: {expected}, got {kind}: {value!r:.80}{hint}", f"{where}: {expected}, got {kind}{hint}"
    )


# -- secrets: kept out of what the plugin writes (reports, cache files) and prints -----------------------
# A team runs probes in CI against a paid API and publishes the reports: an API key in a URL, a header
# or a pipeline attribute must not reach report.json / .html / .md, JUnit XML, the terminal or the
# answer cache. The adapters register the secrets they are given (header values, auth, a URL's
# password or key parameters, OPENAI_API_KEY), ``pipeline._state`` those it sees in attributes named
# like secrets; :func:`redact` replaces them, and a URL's password and secret query values, by "***".

REDACTED = "***"
# Words that make a name (an attribute, a header, a dict key, a query parameter) hold a secret.
_SECRET_WORDS = frozenset(
    {
        "secret", "secrets", "password", "passwd", "passphrase", "pwd", "authorization", "credential",
        "credentials", "cookie", "cookies", "apikey", "signature", "bearer",
    }
)  # fmt: skip
# "<word>_key" and "<word>_token" are secrets after these words (not eos_token, max_tokens, cache_key).
_KEY_PREFIXES = frozenset(
    {"api", "access", "secret", "private", "subscription", "account", "client", "signing", "master",
     "encryption", "auth", "session", "service", "admin", "app", "x"}
)  # fmt: skip
_TOKEN_PREFIXES = frozenset(
    {"access", "auth", "bearer", "refresh", "session", "id", "api", "oauth", "csrf", "xsrf", "security",
     "github", "gh", "hf", "slack", "x", "personal", "user", "service", "app", "secret"}
)  # fmt: skip
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


class RagprobeWarning(UserWarning):
    """Something a ragprobe user should know about, shown in pytest's warnings summary."""


class RagprobeInconclusiveWarning(RagprobeWarning):
    """A probe could not decide PASS or FAIL with the data it had (fails under --ragprobe-strict)."""


def secret_name(name: object, *, query: bool = False) -> bool:
    """Whether ``name`` (an attribute, header, dict key; with ``query``, a URL query parameter) names
    a secret: ``api_key``, ``apiKey``, ``X-Api-Key``, ``Authorization``, ``password``, ``access_token``,
    ``auth``, ``AWS_SECRET_ACCESS_KEY``; not ``max_tokens``, ``eos_token``, ``tokenizer``, ``key``. In a
    query, ``key``, ``token``, ``sig`` and ``code`` are secrets too (``?key=AIza...``, signed URLs)."""
    if isinstance(name, bytes):
        name = name.decode("latin-1")
    if not isinstance(name, str) or not name or len(name) > 64:
        return False
    # (cheap first: _plain asks this of every key of a pipeline's configuration dicts)
    low = name.lower()
    return any(hint in low for hint in _HINTS) and _secret_name(name, query)


# Every name secret_name accepts contains one of these.
_HINTS = ("key", "token", "secret", "pass", "pwd", "auth", "cred", "cookie", "sig", "bearer", "code")


@functools.lru_cache(maxsize=4096)
def _secret_name(name: str, query: bool) -> bool:
    words = [w for w in re.split(r"[^a-z0-9]+", _CAMEL.sub("_", name).lower()) if w]
    if not words:
        return False
    if query and len(words) == 1 and words[0] in {"key", "token", "sig", "code", "auth"}:
        return True
    if words == ["token"] or words[-1] == "auth" or any(w in _SECRET_WORDS for w in words):
        return True
    for before, word in itertools.pairwise(words):
        if (word == "key" and before in _KEY_PREFIXES) or (word == "token" and before in _TOKEN_PREFIXES):
            return True
    return False


_SECRETS: set[str] = set()
_MIN_SECRET = 6  # shorter values would mangle ordinary text; such a secret is weak anyway


def register_secret(value: object) -> None:
    """Remember ``value`` (a str or bytes of at least 6 characters; others ignored) as a secret that
    :func:`redact` removes from any text. ``Bearer``/``Basic`` prefixes are dropped, so the token
    itself is found wherever a server echoes it."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return
    value = value.strip()
    scheme, _, rest = value.partition(" ")
    if rest and scheme.lower() in ("bearer", "basic", "token", "apikey"):
        value = rest.strip()
    if len(value) >= _MIN_SECRET:
        _SECRETS.add(value)


def register_basic_auth(user: object, password: object) -> None:
    """Register a user/password pair: the password, and the ``Basic`` header value made of both."""
    if isinstance(user, str) and isinstance(password, str) and password:
        register_secret(password)
        register_secret(base64.b64encode(f"{user}:{password}".encode()).decode("ascii"))


# (not ending in punctuation: "from http://h/x?key=K: bad" keeps its colon, and redact stays idempotent)
_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>`]*[^\s'\"<>`.,:;!?)\]]")
_QUERY_PARAM = re.compile(r"(?<=[?&;])([^=&;#]+)=([^&;#]*)")
_BEARER = re.compile(r"(?i)\b(bearer|basic)(\s+)(?=[A-Za-z0-9._~+/=-]*[0-9._~+/=-])[A-Za-z0-9._~+/=-]{12,}")


def redact_url(url: str) -> str:
    """``url`` without its secrets: the password of ``user:password@`` (a lone user name, often a
    token, entirely) and the values of query parameters named like secrets (``?api_key=``,
    ``?token=``, ``?key=``) become "***"; everything else (scheme, host, port, path, other
    parameters) is kept, so the endpoint still shows and still tells services apart."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    end = len(rest)
    for stop in "/?#":
        at = rest.find(stop)
        if at != -1:
            end = min(end, at)
    authority, tail = rest[:end], rest[end:]
    if "@" in authority:
        userinfo, _, host = authority.rpartition("@")
        user, colon, _password = userinfo.partition(":")
        authority = f"{user}:{REDACTED}@{host}" if colon and user else f"{REDACTED}@{host}"
    path, hash_, fragment = tail.partition("#")
    path = _QUERY_PARAM.sub(
        lambda m: f"{m[1]}={REDACTED}" if m[2] and secret_name(m[1], query=True) else m[0], path
    )
    return f"{scheme}://{authority}{path}{hash_}{fragment}"


def _env_secrets() -> list[str]:
    """Values of environment variables named like secrets (``OPENAI_API_KEY``, ``GITHUB_TOKEN``,
    ``AWS_SECRET_ACCESS_KEY``): an SDK's error message may quote them. Not a value that is an existing
    path (``PWD``, ``PASSWORD_STORE_DIR``, ``GOOGLE_APPLICATION_CREDENTIALS``): where a file lives is
    no secret, and hiding the working directory made every path in messages and reports read
    ``***/...``."""
    return [
        v
        for k, v in os.environ.items()
        if len(v) >= 8 and secret_name(k) and not (os.path.isabs(v) and os.path.exists(v))
    ]


def redact(text: str) -> str:
    """``text`` with the secrets the plugin knows of replaced by "***": URLs as :func:`redact_url`
    leaves them, registered secrets (:func:`register_secret`), values of secret-named environment
    variables, and a token after ``Bearer`` / ``Basic``. For every message, report field and cache
    file that may quote a pipeline's configuration or a server's reply."""
    if not text:
        return text
    if "://" in text:
        text = _URL_IN_TEXT.sub(lambda m: redact_url(m[0]), text)
    # longest first: a secret that contains another is replaced whole
    for secret in sorted({*_SECRETS, *_env_secrets()}, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    if "earer" in text or "asic" in text:
        text = _BEARER.sub(lambda m: f"{m[1]}{m[2]}{REDACTED}", text)
    return text


def closest(word: str, choices: Iterable[str], cutoff: float = 0.75) -> str | None:
    """The choice ``word`` most likely misspells (``difflib`` ratio >= ``cutoff``), else the only one it
    abbreviates (``obj`` for ``object``, ``conf`` for ``confidence``: too short for the ratio), if any."""
    import difflib  # only on an error path

    choices = list(choices)
    close = difflib.get_close_matches(word, choices, n=1, cutoff=cutoff)
    if close:
        return close[0]
    prefix = word.lower() if len(word) >= 3 else None
    starts = sorted({c for c in choices if prefix and c.lower().startswith(prefix) and c != word})
    shortest = min(starts, key=len, default=None)  # `object` over `object_aliases`, which it begins
    return shortest if shortest is not None and all(c.startswith(shortest) for c in starts) else None


def did_you_mean(word: str, choices: Iterable[str], cutoff: float = 0.75) -> str:
    """`` (did you mean 'x'?)`` for an unknown ``word`` close to a known choice; else ""."""
    close = closest(word, choices, cutoff)
    return f" (did you mean '{close}'?)" if close else ""


def misspelt(missing: str, present: Iterable[object]) -> str:
    """`` (found 'qustion': a misspelling?)`` when a key ``present`` is close to the ``missing`` one."""
    close = closest(missing, (str(k) for k in present if str(k) != missing))
    return f" (found '{close}': a misspelling?)" if close else ""


_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once at import: os.umask can only be read by setting it


def atomic_write(path: Path, text: str) -> None:
    """Write via a temp file + rename, so a crash or a concurrent reader never sees a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:16]}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; reports are meant to be shared like any file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_K = TypeVar("_K")


class TextMemo(Generic[_K]):
    """Strings derived from hashable keys (a document's normalised text, its key JSON), kept until they
    hold ``limit`` characters (keys and values), then emptied: recomputing is always correct."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._data: dict[_K, str] = {}
        self._chars = 0

    def get(self, key: _K) -> str | None:
        return self._data.get(key)

    def put(self, key: _K, value: str, size: int) -> None:
        """Keep ``value`` for ``key``; ``size``: the characters it holds, key included."""
        if self._chars + size > self.limit:
            self.clear()
        self._data[key] = value
        self._chars += size

    def clear(self) -> None:
        self._data.clear()
        self._chars = 0

    def __len__(self) -> int:
        return len(self._data)

    @property
    def chars(self) -> int:
        return self._chars



def content_digest(items: Iterable[Any]) -> str:
    """A short digest of JSON-able content (a probe's sample: its questions, answers and documents), for
    baselines to tell a changed facts file from the same path with the same contents."""
    text = json.dumps(list(items), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
