# Quick start: `make demo` (the main job) and `make test` (the whole suite).
# Both create .venv on first use and install what they need into it.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.dagrad-dev

.PHONY: install demo test lint oracle bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python demo.py

test: $(STAMP)
	$(BIN)/python -m ruff check .
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-ci} $(BIN)/python -m pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .

# PyTorch for the oracle tests (they skip without it). Pinned: never an unpinned torch.
oracle: $(STAMP)
	$(BIN)/python -m pip install --quiet 'torch==2.13.0'

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/bench_scalar.py
	$(BIN)/python benchmarks/bench_overhead.py

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis .ruff_cache
