# Quick start: `make demo` (the main job) and `make test` (the whole suite).
# Both create .venv on first use and install what they need into it.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.dagrad-dev

.PHONY: install system-deps demo pictures test lint oracle oracle-freeze bench notebooks notebook clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) system-deps

# Graphviz's `dot` renders the graph drawings. Installed where we can (root with apt-get);
# elsewhere the drawing tests skip and the demo says how to install it.
system-deps:
	@command -v dot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && apt-get install -y -qq graphviz >/dev/null) || echo "note: could not install graphviz"; \
	  else echo "note: install Graphviz (apt-get install graphviz / brew install graphviz) to render graphs"; fi; }

demo: install
	$(BIN)/python demo.py

# The committed pictures (docs/circuit.svg, shown in the README): `make demo` writes only to out/.
# And the generated pages: docs/DERIVATIVES.md, every op's derivative read from autograd/ops.
pictures: install
	$(BIN)/python demo.py --pictures
	$(BIN)/python docs/derivatives.py --write

test: install
	$(BIN)/python -m ruff check .
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-ci} $(BIN)/python -m pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .

# PyTorch's numbers are frozen into tests/frozen/*.npz, so `make test` compares with them without
# torch. `make oracle` installs PyTorch 2.13.0 (CPU; pinned, never an unpinned torch): then the same
# tests also compare live, a stale fixture fails, and the random-program (hypothesis) tier runs.
oracle: $(STAMP)
	$(BIN)/python -m pip install --quiet 'torch==2.13.0'

# Recompute the frozen PyTorch values (after changing a comparison test's inputs or PyTorch side).
oracle-freeze: oracle
	DAGRAD_ORACLE=freeze $(BIN)/python -m pytest -q -p no:xdist tests

# Each script times every library in its own gated child processes (benchmarks/harness.py):
# about 5 minutes on a quiet 2-core machine, up to 20 when every run is loaded and repeated
# (pass flags to a script for less: `python benchmarks/bench_train.py --retries 0`).
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/bench_scalar.py
	$(BIN)/python benchmarks/bench_overhead.py
	$(BIN)/python benchmarks/bench_conv.py
	$(BIN)/python benchmarks/bench_train.py
	$(BIN)/python benchmarks/bench_random.py

# Execute the notebooks (notebooks/*.py are the sources) into notebooks/*.ipynb with outputs.
notebooks: install
	$(BIN)/python notebooks/build.py

# Open your own copies of the notebooks (notebooks/yours/, made on first use, ignored by git) in
# JupyterLab: run and edit them freely; delete a copy to get the original back.
notebook: install
	$(BIN)/python -m pip install --quiet 'jupyterlab>=4'
	$(BIN)/python notebooks/build.py --copy-to notebooks/yours
	$(BIN)/python -m jupyter lab notebooks/yours $(if $(filter 0,$(shell id -u)),--allow-root)

clean:
	rm -rf $(VENV) .venv-hips out .pytest_cache .hypothesis notebooks/.hypothesis .ruff_cache
