# salespipe — one-command run and test. Everything installs into .venv/ at the repository root.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DO_NOT_TRACK := 1

.PHONY: install run test test-unit bench lint services-up down browser postgres15 pgbouncer versitygw docs clean screenshot

install: $(STAMP)

# Reinstall only when the dependency list changes.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,local]'
	@touch $(STAMP)

# Debian's Chromium for the browser test (no browser download from the test tool).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian chromium for the browser test"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
	  || { echo "could not install chromium: run 'apt-get install chromium chromium-driver' as root"; exit 1; }; }

# Debian's PostgreSQL 15: a second, managed-style server for tests/integration/test_managed_postgres.py.
postgres15:
	@test -x /usr/lib/postgresql/15/bin/initdb || { \
	  echo "installing Debian postgresql-15 for the existing-server test"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null) \
	  || { echo "could not install postgresql-15: run 'apt-get install postgresql-15' as root"; exit 1; }; }

# Debian's PgBouncer: the pooler in front of that server in tests/integration/test_pgbouncer.py.
pgbouncer:
	@test -x /usr/sbin/pgbouncer || { \
	  echo "installing Debian pgbouncer for the pooler test"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null) \
	  || { echo "could not install pgbouncer: run 'apt-get install pgbouncer' as root"; exit 1; }; }

# versitygw, a second real S3 server that publishes its own bucket notifications to Kafka
# (tests/integration/test_versitygw.py, the watcher benchmark): built from source with Go.
GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
VERSITYGW_VERSION := v1.8.0
versitygw: $(BIN)/versitygw
$(BIN)/versitygw: | $(STAMP)
	@test -x "$(GO)" || { echo "building versitygw needs Go (https://go.dev/dl/); set GO=/path/to/go"; exit 1; }
	@echo "building versitygw $(VERSITYGW_VERSION) with $$($(GO) version) (a few minutes the first time)"
	GOBIN=$(CURDIR)/$(BIN) $(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)

services-up: install
	$(BIN)/salespipe services up

run: install
	$(BIN)/salespipe run

# Tests run in parallel: most of a test's time is spent waiting on a server or on dbt, so
# three workers on two cores finish sooner than one; a module's tests stay on one worker, so
# its fixtures are built once. A test that stops or restarts a server starts one of its own.
PYTEST_WORKERS ?= 3

test: install browser postgres15 pgbouncer versitygw services-up
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadscope --durations=25

test-unit: install
	$(BIN)/pytest -q tests/unit

bench: install versitygw services-up
	$(BIN)/python -m benchmarks.run

screenshot: install browser services-up
	SALESPIPE_UPDATE_SCREENSHOT=1 $(BIN)/pytest -q tests/e2e -k screenshot

lint: install
	$(BIN)/ruff check .

docs: install
	$(BIN)/salespipe docs

down:
	@test -x $(BIN)/salespipe && $(BIN)/salespipe services down || true

clean: down
	rm -rf $(VENV) .salespipe dbt_sales/target dbt_sales/logs
