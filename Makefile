# kehu: the two commands of the README.
#   make demo   create .venv, install the core and every plugin, load demo data into ./kehu.db
#   make test   the same install, the lint step, then the whole suite on SQLite and on a throwaway PostgreSQL
#   make lint   ruff (style), mypy (types) and import-linter (the import contracts in pyproject.toml)
#   make i18n   update every package's translation catalogs (.po) from the source and compile them (.mo)
#   make mutation [MODULE=kehu_core/privacy.py]   mutation testing (cosmic-ray) of the business modules
#               listed in [tool.cosmic-ray.modules], on SQLite; slow, not part of `make test`

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
# Every plugin and example that has a pyproject.toml is installed; new ones need no edit here.
PLUGINS  := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))
EXAMPLES := $(sort $(dir $(wildcard examples/*/pyproject.toml)))
STAMP  := $(VENV)/.installed
DEMO_DB ?= kehu.db

.PHONY: install demo lint test test-sqlite test-postgresql mutation i18n clean

PACKAGES := kehu_core $(foreach p,$(PLUGINS) $(EXAMPLES),$(notdir $(patsubst %/,%,$(dir $(wildcard $(p)kehu_*/__init__.py)))))

# System packages some tests use: a CJK font, so that plots get Chinese labels (the test that
# checks them skips without one). Installed with apt when running as root; otherwise skipped
# with a note, never a failure.
SYSTEM_PACKAGES := fonts-wqy-zenhei

$(STAMP): pyproject.toml $(wildcard plugins/*/pyproject.toml) $(wildcard examples/*/pyproject.toml)
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done 2>/dev/null); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get install -y -q $$missing >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $$missing >/dev/null 2>&1)) \
	      || echo "note: could not install $$missing with apt; the tests that need it will skip"; \
	  else echo "note: $$missing not installed (needs root and apt); the tests that need it will skip"; fi; \
	fi
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

# Two pytest workers (pytest-xdist), one per core of a CI machine, each with its own throwaway
# PostgreSQL cluster; a test file stays on one worker, so a module's shared database is built once.
TEST_WORKERS ?= 2

# The tree is compiled first: where PYTHONDONTWRITEBYTECODE is set (as on CI), every worker
# would otherwise compile kehu and its tests again, and Alembic every migration file on every
# plugin install (half of a test's install time).
test: $(STAMP) lint
	$(BIN)/python -m compileall -q -j 0 kehu_core plugins examples tests > /dev/null
	$(BIN)/python -m pytest -q --kehu-db=both -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

test-sqlite: $(STAMP)
	$(BIN)/python -m pytest -q --kehu-db=sqlite $(PYTEST_ARGS)

test-postgresql: $(STAMP)
	$(BIN)/python -m pytest -q --kehu-db=postgresql $(PYTEST_ARGS)

# Translation catalogs: the core's (with click's own messages) and every plugin's and example's.
CATALOG_PACKAGES := kehu_core $(sort $(dir $(wildcard plugins/*/kehu_*/__init__.py examples/*/kehu_*/__init__.py)))

i18n: $(STAMP)
	$(BIN)/kehu plugin catalog $(CATALOG_PACKAGES)

# Mutation testing. cosmic-ray mutates a module in place, so it works on a copy of the work tree
# (build/mutation/tree, committed and uncommitted files alike), put first on PYTHONPATH ahead of
# the editable installs; the real files are never touched. One session database per module in
# build/mutation; the summary (mutants, killed, survived, score, each survivor) is printed and
# written to build/mutation/summary.txt.
MUTATION_DIR := build/mutation
MODULE ?=

# Installs only when there is no venv yet: editing the [tool.cosmic-ray] test lists in
# pyproject.toml must not reinstall every package (an order-only $(STAMP) would, as make still
# remakes a stale order-only prerequisite).
mutation:
	test -f $(STAMP) || $(MAKE) install
	test -x $(BIN)/cosmic-ray || $(PIP) install --quiet -e '.[mutation]'
	rm -rf $(MUTATION_DIR)/tree && mkdir -p $(MUTATION_DIR)/tree
	git ls-files -z --cached --others --exclude-standard \
		| tar --null --ignore-failed-read -T - -cf - | tar -xf - -C $(MUTATION_DIR)/tree
	cd $(MUTATION_DIR)/tree && MODULE='$(MODULE)' \
		PYTHONPATH="$$PWD:$$PWD/plugins/tiering:$$PWD/plugins/loyalty:$$PWD/plugins/complaints:$$PWD/plugins/forecast:$$PWD/examples/acme-rules" \
		PATH="$(CURDIR)/$(BIN):$$PATH" $(CURDIR)/$(BIN)/python tools/mutation.py

clean:
	rm -rf $(VENV) build *.egg-info
