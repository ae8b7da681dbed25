"""``load_pipeline_spec``: errors name where the spec came from (the ini file or the command line), a
package that is not on the import path is looked for (``src/myapp/``) to suggest pytest's
``pythonpath``, a function without arguments is a factory, and what a spec names that cannot be a
pipeline is said as such. Also what the adapter says of a coroutine, and its articles."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import pytest_ragprobe as ragprobe
from pytest_ragprobe.pipeline import PipelineAdapter, PipelineConfigError, load_pipeline_spec
from pytest_ragprobe.types import Answer

# -- where the spec came from; a package not on the import path ------------------------------------


@pytest.fixture
def src_layout(tmp_path: Path) -> tuple[Path, str]:
    """A project with its package under src/ and an ini file without ``pythonpath``."""
    pkg = f"ragprobe_srcpkg_{abs(hash(str(tmp_path)))}"
    (tmp_path / "src" / pkg).mkdir(parents=True)
    (tmp_path / "src" / pkg / "__init__.py").write_text("")
    (tmp_path / "src" / pkg / "rag.py").write_text("def pipeline(question):\n    return 'a'\n")
    (tmp_path / "pytest.ini").write_text(f"[pytest]\nragprobe_pipeline = {pkg}.rag:pipeline\n")
    return tmp_path, pkg


def _error(spec: str, **kwargs: object) -> str:
    with pytest.raises(PipelineConfigError) as info:
        load_pipeline_spec(spec, **kwargs)  # type: ignore[arg-type]
    return str(info.value)


def test_an_ini_spec_is_named_as_the_ini_value_and_a_src_package_gets_the_pythonpath_hint(
    src_layout: tuple[Path, str],
) -> None:
    """It said "--ragprobe-pipeline='myapp.rag:MyRag'" (an option never given) and nothing of src/."""
    root, pkg = src_layout
    message = _error(f"{pkg}.rag:pipeline", ini=root / "pytest.ini")
    assert message == (
        f"ini ragprobe_pipeline='{pkg}.rag:pipeline' (pytest.ini): cannot import '{pkg}.rag': No module "
        f"named '{pkg}'. {pkg}/ is in src/, not on the import path: add `pythonpath = src` to the ini "
        "file (pytest.ini)"
    )
    assert "--ragprobe-pipeline" not in message


def test_the_other_errors_name_the_ini_value_too(tmp_path: Path) -> None:
    ini = tmp_path / "tox.ini"
    assert _error("no_colon", ini=ini).startswith("ini ragprobe_pipeline='no_colon' (tox.ini): expected ")
    assert _error("json:nope", ini=ini) == (
        "ini ragprobe_pipeline='json:nope' (tox.ini): module 'json' has no attribute 'nope'"
    )


def test_pyproject_gets_a_toml_list(src_layout: tuple[Path, str]) -> None:
    root, pkg = src_layout
    message = _error(f"{pkg}.rag:pipeline", ini=root / "pyproject.toml")
    assert message.endswith('add `pythonpath = ["src"]` to the ini file (pyproject.toml)')


def test_two_levels_down_and_a_module_file(tmp_path: Path) -> None:
    mod = f"ragprobe_deepmod_{abs(hash(str(tmp_path)))}"
    (tmp_path / "services" / "rag").mkdir(parents=True)
    (tmp_path / "services" / "rag" / f"{mod}.py").write_text("")
    (tmp_path / ".venv" / "lib").mkdir(parents=True)  # never searched
    message = _error(f"{mod}:pipeline", ini=tmp_path / "pytest.ini")
    assert message.endswith(
        f"{mod}.py is in services/rag/, not on the import path: add `pythonpath = services/rag` to the "
        "ini file (pytest.ini)"
    )


def test_next_to_the_ini_file_suggests_pythonpath_dot(tmp_path: Path) -> None:
    pkg = f"ragprobe_toppkg_{abs(hash(str(tmp_path)))}"
    (tmp_path / pkg).mkdir()
    message = _error(f"{pkg}.rag:x", ini=tmp_path / "pytest.ini")
    assert message.endswith("not on the import path: add `pythonpath = .` to the ini file (pytest.ini)")


def test_on_the_command_line_it_looks_in_the_current_directory(
    src_layout: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, pkg = src_layout
    monkeypatch.chdir(root)
    message = _error(f"{pkg}.rag:pipeline")
    assert message.startswith(f"--ragprobe-pipeline='{pkg}.rag:pipeline': cannot import ")
    assert message.endswith(
        f"{pkg}/ is in src/, not on the import path: add `pythonpath = src` to the ini file (or set "
        "PYTHONPATH=src)"
    )


def test_no_hint_when_the_package_is_nowhere_or_imports_and_fails_inside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _error("no_such_ragprobe_pkg_xyz.rag:p", ini=tmp_path / "pytest.ini").endswith(
        "No module named 'no_such_ragprobe_pkg_xyz'"
    )
    # the package imports; a module it imports is missing: not a pythonpath matter
    pkg = f"ragprobe_brokenpkg_{abs(hash(str(tmp_path)))}"
    (tmp_path / pkg).mkdir()
    (tmp_path / pkg / "__init__.py").write_text("import not_a_module_anywhere_xyz\n")
    (tmp_path / "src" / "not_a_module_anywhere_xyz").mkdir(parents=True)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        message = _error(f"{pkg}:p", ini=tmp_path / "pytest.ini")
    finally:
        sys.modules.pop(pkg, None)
    assert message.endswith("No module named 'not_a_module_anywhere_xyz'")


# -- what a spec names -------------------------------------------------------------------------------


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = f"ragprobe_spec_mod_{abs(hash(str(tmp_path)))}"
    (tmp_path / f"{name}.py").write_text(
        textwrap.dedent(
            """
            FACTS = {"P-1": "C-1"}
            NOTHING = None

            class MyRag:
                def __init__(self, tag="plain"):
                    self.tag = tag

                def answer(self, question):
                    return f"{self.tag}: {question}"

                @classmethod
                def from_env(cls):
                    return cls("env")

            made = []

            def make_pipeline():
                made.append(1)
                return MyRag("made")

            def make_with_options(*, tag="kw"):
                return MyRag(tag)

            def pipeline(question, k=5):
                return "fn"

            def forgot():
                MyRag()

            async def make_async():
                return MyRag()

            def returns_coroutine():
                return make_async()
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_a_function_without_arguments_is_a_factory(module: str) -> None:
    """`def make_pipeline(): return MyRag()` without @ragprobe.factory failed on every question:
    "its signature () cannot take that"."""
    made = load_pipeline_spec(f"{module}:make_pipeline")
    assert type(made).__name__ == "MyRag"
    assert sys.modules[module].made == [1]  # called once
    assert asyncio.run(PipelineAdapter(made).answer("q")) == Answer("made: q")
    assert asyncio.run(PipelineAdapter(load_pipeline_spec(f"{module}:make_with_options")).answer("q")) == Answer(
        "kw: q"
    )
    assert asyncio.run(PipelineAdapter(load_pipeline_spec(f"{module}:MyRag.from_env")).answer("q")) == Answer(
        "env: q"
    )
    # one that takes the question is the pipeline itself
    fn = load_pipeline_spec(f"{module}:pipeline")
    assert fn is sys.modules[module].pipeline


def test_a_factory_that_returns_none_or_a_coroutine_or_is_async_is_said(module: str) -> None:
    assert _error(f"{module}:forgot") == (
        f"--ragprobe-pipeline='{module}:forgot': the factory forgot() (called once, with no arguments) "
        "returned None: return the pipeline from it"
    )
    assert "make it a plain `def` that returns the pipeline" in _error(f"{module}:make_async")
    assert "returned a coroutine, which nothing awaits" in _error(f"{module}:returns_coroutine")


def test_plain_data_is_not_a_pipeline_and_the_message_names_the_spec(module: str) -> None:
    """It said "ragprobe_pipeline is a dict, which is neither callable nor ..."."""
    message = _error(f"{module}:FACTS")
    assert message.startswith(
        f"--ragprobe-pipeline='{module}:FACTS' names a dict ({{'P-1': 'C-1'}}), not a pipeline: name a "
        "function question -> answer, an object with answer/retrieve/generate/index methods, a class"
    )
    assert "ragprobe_pipeline is a dict" not in message
    assert _error(f"{module}:NOTHING").startswith(f"--ragprobe-pipeline='{module}:NOTHING' names None, not ")


# -- the adapter ------------------------------------------------------------------------------------


async def _make_rag() -> object:
    return ragprobe.Pipeline(answer=lambda q: "a")


def test_a_coroutine_is_said_to_need_awaiting() -> None:
    with pytest.raises(PipelineConfigError) as info:
        PipelineAdapter(_make_rag())
    assert str(info.value) == (
        "ragprobe_pipeline is a coroutine (_make_rag(...) not awaited): await it (an async fixture needs "
        "pytest-asyncio; or return the pipeline from a sync fixture)"
    )
    with pytest.raises(PipelineConfigError) as info:
        PipelineAdapter(_make_rag(), source="check_reverse")
    assert str(info.value) == (
        "the pipeline given to check_reverse is a coroutine (_make_rag(...) not awaited): await it"
    )


def test_an_async_generator_is_said_too() -> None:
    async def gen() -> object:
        yield ragprobe.Pipeline(answer=lambda q: "a")

    with pytest.raises(PipelineConfigError, match=r"^ragprobe_pipeline is an async generator \("):
        PipelineAdapter(gen())


def test_articles_before_vowels() -> None:
    with pytest.raises(PipelineConfigError) as info:
        PipelineAdapter(ragprobe.Pipeline(answer="str"))  # type: ignore[arg-type]
    assert str(info.value) == (
        "ragprobe.Pipeline(answer=...) got a str, which is neither callable nor has an answer() method"
    )
    with pytest.raises(PipelineConfigError) as info:
        PipelineAdapter(ragprobe.Pipeline(index=3))  # type: ignore[arg-type]
    assert str(info.value).startswith("ragprobe.Pipeline(index=...) got an int, which is neither callable nor has an index()")
    with pytest.raises(PipelineConfigError, match=r"^ragprobe_pipeline is an int, which is neither callable"):
        PipelineAdapter(3)
