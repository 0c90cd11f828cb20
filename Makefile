# Two commands matter: `make demo` and `make test`. Both build the virtual environment first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
BENCH_SIZE ?= small
BENCH_BACKEND ?= both
BENCH_EVENTS ?=
DEMO_HOME ?= .kringloop-demo

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/kringloop --home $(DEMO_HOME) demo --fresh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy domain projections adapters flows
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

bench: $(STAMP)
	@$(BIN)/python bench/run.py --size $(BENCH_SIZE) --backend $(BENCH_BACKEND) $(if $(BENCH_EVENTS),--events $(BENCH_EVENTS))

clean:
	rm -rf $(VENV) $(DEMO_HOME) .pytest_cache .mypy_cache .ruff_cache
