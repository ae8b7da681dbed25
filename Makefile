# Two entry points, each self-installing into a local venv (.venv):
#   make examples   run the examples/ suite against the reference pipeline, write ragprobe-report/
#   make test       lint, type-check and run the test suite (unit tests plain; everything under pytest-xdist -n 2)
# Re-running is fast: installs are keyed on pyproject.toml and pip caches the llama-cpp-python wheel.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
REPORT ?= ragprobe-report
# The default native llama.cpp build crashes on CPUs without AVX-512 support detection; pin the ISA.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_AVX512=OFF -DGGML_AMX_INT8=OFF -DGGML_OPENMP=OFF

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: examples test test-lowest test-newest lint typecheck unit browser clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# torch first and pinned: an unpinned torch (pulled in by sentence-transformers) would fetch a CUDA build.
$(VENV)/.stamp-reference: pyproject.toml | $(PY)
	$(PIP) install -q torch==2.13.0
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) install -q "llama-cpp-python>=0.3.8"
	$(PIP) install -q -e ".[reference]"
	touch $@

$(VENV)/.stamp-dev: pyproject.toml $(VENV)/.stamp-reference
	$(PIP) install -q -e ".[reference,dev]"
	touch $@

examples: $(VENV)/.stamp-reference
	$(PY) -m pytest examples --ragprobe-report=$(REPORT) -p no:cacheprovider

browser:
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || bash scripts/install-browser.sh

lint: $(VENV)/.stamp-dev
	$(VENV)/bin/ruff check .

typecheck: $(VENV)/.stamp-dev
	$(VENV)/bin/mypy --strict pytest_ragprobe

# The unit tests run twice, plain and under -n 2 (the slow ones, pure computation or model loading that does
# not depend on how pytest runs them, only in the -n 2 pass); the pytester integration tests (each starts its
# own pytest sessions, with and without their own -n 2 workers) run once, in the -n 2 pass: running them
# plain as well doubled their ~12 minutes and took CI past its 25-minute target (35 min on 2 cores).
unit: $(VENV)/.stamp-dev
	$(PY) -m pytest tests/unit -q -m "not slow"
	$(PY) -m pytest tests -q -n 2 -p no:randomly

test: $(VENV)/.stamp-dev browser lint typecheck unit

# The floors pyproject.toml declares for the core dependencies, installed exactly (no reference extra, whose
# tests skip): the unit tests prove a user's older pins still work. CI runs it after `make test`.
LOWEST := pytest==8.4.0 pydantic==2.6.0 httpx==0.28.0 aiohttp==3.10.0 pyyaml==6.0 numpy==1.26.0 scipy==1.11.1 jinja2==3.1.0
LOWEST_VENV := $(VENV)-lowest

$(LOWEST_VENV)/.stamp: pyproject.toml Makefile  # (the pins above live here)
	$(PYTHON) -m venv $(LOWEST_VENV)
	$(LOWEST_VENV)/bin/python -m pip install -q $(LOWEST)
	$(LOWEST_VENV)/bin/python -m pip install -q --no-deps -e .
	touch $@

test-lowest: $(LOWEST_VENV)/.stamp
	$(LOWEST_VENV)/bin/python -m pytest tests/unit -q -m "not slow" -p no:cacheprovider

# The newest CPython pyproject.toml claims (3.13) with the newest releases of the core dependencies: the unit
# tests (not the slow ones, not the reference extra's). CI runs it after test-lowest; on a machine without
# CPython 3.13 (neither python3.13 nor a pyenv 3.13.x) it says so and passes.
NEWEST_VENV := $(VENV)-py313
find_py313 = for c in python3.13 $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13*/bin/python3 2>/dev/null); do \
	$$c -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1 && { echo $$c; break; }; done

$(NEWEST_VENV)/.stamp: pyproject.toml
	@py=$$($(find_py313)); \
	if [ -z "$$py" ]; then echo "test-newest: no CPython 3.13 on this machine: skipped"; exit 0; fi; \
	$$py -m venv $(NEWEST_VENV) && $(NEWEST_VENV)/bin/python -m pip install -q --upgrade pip && \
	$(NEWEST_VENV)/bin/python -m pip install -q --upgrade -e . && touch $@

test-newest: $(NEWEST_VENV)/.stamp
	@if [ -x $(NEWEST_VENV)/bin/python ]; then \
	  $(NEWEST_VENV)/bin/python -c 'import sys, pytest; print("test-newest: CPython", sys.version.split()[0], "pytest", pytest.__version__)' && \
	  $(NEWEST_VENV)/bin/python -m pytest tests/unit -q -m "not slow" -p no:cacheprovider; fi

clean:
	rm -rf $(VENV) $(LOWEST_VENV) $(NEWEST_VENV) .ragprobe_cache $(REPORT)
