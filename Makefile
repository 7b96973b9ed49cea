# tthc-warehouse: the two commands of the README, and the set-up they share.
#   make demo   set up, then run the whole pipeline end to end on the embedded warehouse
#   make test   set up, then run the whole test suite
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
# This machine's pip config points at local mirrors that lack most packages; hide that noise only.
QUIET_PIP := 2>&1 | { grep -v "is ignored: it is neither" || true; }
PYTHON ?= python3
VENV := .venv
VENV_DBT := .venv-dbt
VENV_SUPERSET := .venv-superset
VENV_LINT := .venv-lint
STAMP := .local/stamps

.PHONY: setup setup-superset setup-lint demo test test-fast lint fix lock bench clean-local

setup: $(STAMP)/main.ok $(STAMP)/dbt.ok $(STAMP)/chromium.ok $(STAMP)/data_docs_assets.ok

# The BI tool has its own environment (its pins conflict with Airflow's): only the suite needs it.
setup-superset: $(STAMP)/superset.ok

# Each environment is rebuilt only when its lock file changes.
$(STAMP)/main.ok: requirements/main.lock pyproject.toml
	@mkdir -p $(STAMP)
	@echo "== setting up $(VENV) (Airflow, Great Expectations, project packages)"
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements/main.lock $(QUIET_PIP)
	@$(VENV)/bin/pip install -q --disable-pip-version-check --no-deps -e . $(QUIET_PIP)
	@$(VENV)/bin/pip check >/dev/null
	@touch $@

$(STAMP)/dbt.ok: requirements/dbt.lock
	@mkdir -p $(STAMP)
	@echo "== setting up $(VENV_DBT) (dbt-core + dbt-postgres)"
	@test -x $(VENV_DBT)/bin/python || $(PYTHON) -m venv $(VENV_DBT)
	@$(VENV_DBT)/bin/pip install -q --disable-pip-version-check -r requirements/dbt.lock $(QUIET_PIP)
	@$(VENV_DBT)/bin/pip check >/dev/null
	@touch $@

$(STAMP)/superset.ok: requirements/superset.lock
	@mkdir -p $(STAMP)
	@echo "== setting up $(VENV_SUPERSET) (Apache Superset, for the dashboards as code)"
	@test -x $(VENV_SUPERSET)/bin/python || $(PYTHON) -m venv $(VENV_SUPERSET)
	@$(VENV_SUPERSET)/bin/pip install -q --disable-pip-version-check -r requirements/superset.lock $(QUIET_PIP)
	@$(VENV_SUPERSET)/bin/pip check >/dev/null
	@touch $@

# The linters (ruff, sqlfluff) have their own small environment, pinned like the others
# (docs/decisions/011-lint.md); pre-commit's hooks call these same binaries.
setup-lint: $(STAMP)/lint.ok

$(STAMP)/lint.ok: requirements/lint.lock
	@mkdir -p $(STAMP)
	@echo "== setting up $(VENV_LINT) (ruff, sqlfluff, pre-commit)"
	@test -x $(VENV_LINT)/bin/python || $(PYTHON) -m venv $(VENV_LINT)
	@$(VENV_LINT)/bin/pip install -q --disable-pip-version-check -r requirements/lint.lock $(QUIET_PIP)
	@$(VENV_LINT)/bin/pip check >/dev/null
	@touch $@

# Data Docs' styles and scripts, pinned and checked, served from the site itself (no CDN at read time).
$(STAMP)/data_docs_assets.ok: expectations/data_docs_assets.py $(STAMP)/main.ok
	@echo "== fetching the Data Docs assets (npm registry, pinned sha512)"
	@$(VENV)/bin/python -m expectations.data_docs_assets fetch >/dev/null
	@touch $@

# Debian's Chromium renders the scorecards' PDFs and runs the browser tests; DejaVu gives it
# Vietnamese glyphs. Installed with apt-get (as root, or through sudo) when missing.
$(STAMP)/chromium.ok:
	@mkdir -p $(STAMP)
	@if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -q DejaVuSans; then \
		echo "== installing Debian's chromium and fonts-dejavu-core"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null; \
	fi
	@command -v chromium >/dev/null
	@touch $@

demo: setup
	$(VENV)/bin/tthc demo

test: lint setup setup-superset
	$(VENV)/bin/python -m pytest -n 2 --dist loadfile tests

# Unit tests only: no warehouse, simulator, dbt or Airflow.
test-fast: setup
	$(VENV)/bin/python -m pytest -n 2 -m "not slow" tests

# Python (ruff: lint rules and formatting) and dbt's SQL (sqlfluff, jinja templater); what and why:
# docs/decisions/011-lint.md. Checks only: `make fix` rewrites the files.
lint: $(STAMP)/lint.ok
	$(VENV_LINT)/bin/ruff check .
	$(VENV_LINT)/bin/ruff format --check .
	$(VENV_LINT)/bin/sqlfluff lint dbt

# Rewrites the tree the way `make lint` wants it (formatting first, then the fixable rules; what
# no rule can fix is printed and left to `make lint`, so every step runs).
fix: $(STAMP)/lint.ok
	$(VENV_LINT)/bin/ruff format .
	$(VENV_LINT)/bin/ruff check --fix --exit-zero .
	$(VENV_LINT)/bin/ruff format .
	$(VENV_LINT)/bin/sqlfluff fix dbt

# The medium province-year through the whole pipeline (~5 min); see bench/README.md for the others.
bench: setup
	$(VENV)/bin/python bench/pipeline.py --dossiers-per-year 170000 --label medium

# Re-resolve the pinned sets from the *.in files (needs the package registry).
lock:
	rm -rf .local/lock && mkdir -p .local/lock
	$(PYTHON) -m venv .local/lock/main && .local/lock/main/bin/pip install -q -r requirements/main.in
	$(PYTHON) -m venv .local/lock/dbt && .local/lock/dbt/bin/pip install -q -r requirements/dbt.in
	(echo "# Generated by 'make lock' from main.in: the exact set a fresh machine installs."; .local/lock/main/bin/pip freeze --exclude-editable) > requirements/main.lock
	(echo "# Generated by 'make lock' from dbt.in: the exact set a fresh machine installs."; .local/lock/dbt/bin/pip freeze) > requirements/dbt.lock
	$(PYTHON) -m venv .local/lock/superset && .local/lock/superset/bin/pip install -q -r requirements/superset.in
	(echo "# Generated by 'make lock' from superset.in: the exact set a fresh machine installs."; .local/lock/superset/bin/pip freeze) > requirements/superset.lock
	$(PYTHON) -m venv .local/lock/lint && .local/lock/lint/bin/pip install -q -r requirements/lint.in
	(echo "# Generated by 'make lock' from lint.in: the exact set a fresh machine installs."; .local/lock/lint/bin/pip freeze) > requirements/lint.lock

clean-local:
	-$(VENV)/bin/tthc warehouse stop
	rm -rf .local outbox
