# Two commands matter: `make demo` and `make test`. Both build the virtual environment first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
BENCH_SIZE ?= small
BENCH_BACKEND ?= both
BENCH_EVENTS ?=
DEMO_HOME ?= .kringloop-demo

.PHONY: demo test lint bench clean catalogues

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

# Both cores: a test file runs whole on one worker (its module fixtures, Redis and ports kept
# to itself); PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= 2
test: lint
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile

bench: $(STAMP)
	@$(BIN)/python bench/run.py --size $(BENCH_SIZE) --backend $(BENCH_BACKEND) $(if $(BENCH_EVENTS),--events $(BENCH_EVENTS))

# The translations: extract the message ids (Python and templates), update the Dutch and English
# catalogues (adapters/i18n/locale), compile them. Fill in new Dutch texts in nl/.../messages.po.
CATALOGUES := adapters/i18n/locale
catalogues: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k N_ -k _ -k gettext -k ngettext:1,2 \
		--add-location=file --sort-output --no-wrap --omit-header \
		-o $(CATALOGUES)/messages.pot .
	for lang in nl en; do \
		test -f $(CATALOGUES)/$$lang/LC_MESSAGES/messages.po || \
			$(BIN)/pybabel -q init -i $(CATALOGUES)/messages.pot -d $(CATALOGUES) -l $$lang; \
	done
	$(BIN)/pybabel -q update -i $(CATALOGUES)/messages.pot -d $(CATALOGUES) \
		--no-fuzzy-matching --ignore-obsolete --no-wrap
	$(BIN)/python -c "from adapters.i18n import compile_all; compile_all()"

clean:
	rm -rf $(VENV) $(DEMO_HOME) .pytest_cache .mypy_cache .ruff_cache
