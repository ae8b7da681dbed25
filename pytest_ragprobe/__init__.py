"""pytest-ragprobe: test RAG pipelines for reversal and lost-in-the-middle failures, and gate deploys on them.

    import pytest_ragprobe as ragprobe

    @ragprobe.reverse(facts="fixtures/parts.yaml", max_drop=0.10)
    def test_catalog_answers_both_ways(ragprobe_result): ...

Light names import eagerly; pydantic-backed ones (Fact, ProbeResult, ...) load on first access (PEP 562).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pytest_ragprobe.markers import position, ragprobe, reverse
from pytest_ragprobe.pipeline import Pipeline
from pytest_ragprobe.types import Answer, Document

__version__ = "0.1.0"

if TYPE_CHECKING:
    from pytest_ragprobe.adapters import HTTPPipeline, OpenAIGenerator
    from pytest_ragprobe.contexts import DataError
    from pytest_ragprobe.facts import Fact, FactFieldError, FactPair, FactsError, Question, Relation
    from pytest_ragprobe.markers import MarkArgumentError
    from pytest_ragprobe.pipeline import PipelineConfigError
    from pytest_ragprobe.position_probe import check_position
    from pytest_ragprobe.results import ProbeFailed, ProbeResult, Report
    from pytest_ragprobe.reverse_probe import check_reverse
    from pytest_ragprobe.runner import ProbeError
    from pytest_ragprobe.scoring import MatchError
    from pytest_ragprobe.stats import required_n
    from pytest_ragprobe.types import RagprobeInconclusiveWarning, RagprobeWarning

_LAZY = {
    "Fact": "pytest_ragprobe.facts",
    "FactPair": "pytest_ragprobe.facts",
    "Question": "pytest_ragprobe.facts",
    "Relation": "pytest_ragprobe.facts",
    "ProbeResult": "pytest_ragprobe.results",
    "ProbeFailed": "pytest_ragprobe.results",
    "Report": "pytest_ragprobe.results",
    "check_reverse": "pytest_ragprobe.reverse_probe",
    "check_position": "pytest_ragprobe.position_probe",
    "required_n": "pytest_ragprobe.stats",
    "HTTPPipeline": "pytest_ragprobe.adapters",
    "OpenAIGenerator": "pytest_ragprobe.adapters",
    # for -W / filterwarnings: "error::pytest_ragprobe.RagprobeInconclusiveWarning"
    "RagprobeWarning": "pytest_ragprobe.types",
    "RagprobeInconclusiveWarning": "pytest_ragprobe.types",
    # what check_reverse / check_position (and the marks) raise, to catch by name
    "FactsError": "pytest_ragprobe.facts",  # a facts file or list that cannot be read (a ValueError)
    "FactFieldError": "pytest_ragprobe.facts",  # a wrong field of a fact (file or Fact(...)): a FactsError
    "DataError": "pytest_ragprobe.contexts",  # position data that cannot be read (a FactsError)
    "MarkArgumentError": "pytest_ragprobe.markers",  # a wrong probe argument (a TypeError)
    "PipelineConfigError": "pytest_ragprobe.pipeline",  # a pipeline the probe cannot use
    "MatchError": "pytest_ragprobe.scoring",  # a match= that cannot score (a ValueError)
    "ProbeError": "pytest_ragprobe.runner",  # too many failed pipeline calls, with the cause
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pytest_ragprobe' has no attribute {name!r}")
    # Not cached in globals(): the submodule stays the single source of truth (pytester reloads modules).
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    # the lazy names too: a notebook's tab completion lists check_reverse, Fact, required_n, ...
    return sorted({*globals(), *__all__})


__all__ = [
    "Answer",
    "DataError",
    "Document",
    "Fact",
    "FactFieldError",
    "FactPair",
    "FactsError",
    "HTTPPipeline",
    "MarkArgumentError",
    "MatchError",
    "OpenAIGenerator",
    "Pipeline",
    "PipelineConfigError",
    "ProbeError",
    "ProbeFailed",
    "ProbeResult",
    "Question",
    "RagprobeInconclusiveWarning",
    "RagprobeWarning",
    "Relation",
    "Report",
    "__version__",
    "check_position",
    "check_reverse",
    "position",
    "ragprobe",
    "required_n",
    "reverse",
]
