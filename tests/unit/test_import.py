"""Import weight: the package and the plugin module stay light (DESIGN.md: heavy deps load lazily)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = ("torch", "faiss", "sentence_transformers", "llama_cpp")
PLUGIN_FORBIDDEN = ("numpy", "scipy", "pydantic", "httpx", "torch")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONSTARTUP", None)
    env["HF_HUB_OFFLINE"] = "1"
    return env


def imported_by_importtime(code: str) -> set[str]:
    """Top-level names of every module imported while running ``code`` (from ``-X importtime``)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    modules: set[str] = set()
    lines = [line for line in proc.stderr.splitlines() if line.startswith("import time:")]
    assert lines, "no -X importtime output"
    for line in lines:
        # "import time: self [us] | cumulative | imported package" then rows "import time:  12 |  34 |   name"
        parts = line.split("|")
        if len(parts) != 3:
            continue
        name = parts[2].strip()
        if name == "imported package":
            continue
        modules.add(name)
    return modules


def loaded_modules(code: str) -> set[str]:
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=_env(), timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    names: list[str] = json.loads(proc.stdout.strip().splitlines()[-1])
    return set(names)


def top_level(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_importtime_parser_sees_real_imports() -> None:
    mods = imported_by_importtime("import pytest_ragprobe")
    assert "pytest_ragprobe" in mods
    assert "pytest_ragprobe.markers" in mods
    assert "pytest" in top_level(mods)
    # and it reports a module imported by the code under test (json is not loaded at interpreter start)
    assert "json" in imported_by_importtime("import json")


def test_package_import_does_not_import_heavy_dependencies() -> None:
    mods = top_level(imported_by_importtime("import pytest_ragprobe"))
    assert not mods & set(HEAVY), sorted(mods & set(HEAVY))


def test_public_light_names_do_not_import_heavy_dependencies() -> None:
    mods = top_level(
        imported_by_importtime(
            "import pytest_ragprobe as r\n"
            "r.reverse(facts='synthetic:3')\nr.Pipeline(answer=str)\nr.Document('x')"
        )
    )
    assert not mods & set(HEAVY), sorted(mods & set(HEAVY))


def test_plugin_import_stays_light() -> None:
    mods = top_level(loaded_modules("import pytest_ragprobe.plugin"))
    assert "pytest_ragprobe" in mods
    assert "_pytest" in mods
    assert not mods & set(PLUGIN_FORBIDDEN), sorted(mods & set(PLUGIN_FORBIDDEN))


def test_check_catches_a_forbidden_import() -> None:
    # The sys.modules check itself works: a module that pulls in json shows it.
    assert "json" in loaded_modules("import json")
    assert "pydantic" in top_level(loaded_modules("import pytest_ragprobe.facts"))


@pytest.mark.parametrize("name", ["Fact", "ProbeResult"])
def test_lazy_names_load_on_first_access(name: str) -> None:
    code = (
        "import sys, pytest_ragprobe as r\n"
        "before = 'pydantic' in sys.modules\n"
        f"obj = getattr(r, {name!r})\n"
        "assert obj.__name__ == " + repr(name) + "\n"
        "assert not before, 'pydantic imported eagerly'\n"
    )
    mods = loaded_modules(code)
    assert "pydantic" in top_level(mods)


def test_unknown_attribute_is_attribute_error() -> None:
    import pytest_ragprobe

    with pytest.raises(AttributeError, match="module 'pytest_ragprobe' has no attribute 'Nope'"):
        pytest_ragprobe.Nope  # noqa: B018


def test_the_api_errors_can_be_caught_by_their_public_names() -> None:
    """check_reverse / check_position raised MarkArgumentError, FactsError, ... that had no public name."""
    import pytest_ragprobe as ragprobe

    with pytest.raises(ragprobe.MarkArgumentError, match="unknown argument 'maxdrop'"):
        ragprobe.check_reverse(lambda q: "x", "synthetic:3", maxdrop=0.1)
    with pytest.raises(ragprobe.FactsError):
        ragprobe.check_reverse(lambda q: "x", "no/such/file.yaml")
    with pytest.raises(ragprobe.PipelineConfigError, match="generate"):
        ragprobe.check_position(lambda q: "x", "synthetic:3", n_docs=3)
    assert issubclass(ragprobe.DataError, ragprobe.FactsError) and issubclass(ragprobe.MatchError, ValueError)
    assert issubclass(ragprobe.ProbeError, Exception)
    assert {"FactsError", "DataError", "MarkArgumentError", "PipelineConfigError", "MatchError", "ProbeError"} <= set(
        ragprobe.__all__
    )
