# kehu: the two commands of the README.
#   make demo   create .venv, install the core and every plugin, load demo data into ./kehu.db
#   make test   the same install, the lint step, then the whole suite on SQLite and on a throwaway PostgreSQL
#   make lint   ruff (style), mypy (types) and import-linter (the import contracts in pyproject.toml)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
# Every plugin and example that has a pyproject.toml is installed; new ones need no edit here.
PLUGINS  := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))
EXAMPLES := $(sort $(dir $(wildcard examples/*/pyproject.toml)))
STAMP  := $(VENV)/.installed
DEMO_DB ?= kehu.db

.PHONY: install demo lint test test-sqlite test-postgresql clean

PACKAGES := kehu_core $(foreach p,$(PLUGINS) $(EXAMPLES),$(notdir $(patsubst %/,%,$(dir $(wildcard $(p)kehu_*/__init__.py)))))

$(STAMP): pyproject.toml $(wildcard plugins/*/pyproject.toml) $(wildcard examples/*/pyproject.toml)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[test]' $(foreach p,$(PLUGINS),-e '$(p)[test]') $(foreach e,$(EXAMPLES),-e '$(e)')
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	$(BIN)/kehu --db $(DEMO_DB) init
	$(BIN)/kehu --db $(DEMO_DB) plugins install --all
	$(BIN)/kehu --db $(DEMO_DB) demo
	@echo
	@echo "Try: $(BIN)/kehu customer list --sort name | head; $(BIN)/kehu customer show C0001"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(foreach p,$(PACKAGES),-p $(p))
	$(BIN)/lint-imports

test: $(STAMP) lint
	$(BIN)/python -m pytest -q --kehu-db=both $(PYTEST_ARGS)

test-sqlite: $(STAMP)
	$(BIN)/python -m pytest -q --kehu-db=sqlite $(PYTEST_ARGS)

test-postgresql: $(STAMP)
	$(BIN)/python -m pytest -q --kehu-db=postgresql $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
