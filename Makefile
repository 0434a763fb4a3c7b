# assessgate: `make run` and `make test` are all a newcomer needs; both set up .venv on first use.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
FULL ?= 0
# make drill PRESSURE=1: a CPU hog on one core beside the drills, stopping by itself after PRESSURE_S seconds.
PRESSURE ?= 0
PRESSURE_S ?= 1800
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# This machine's pip config names local mirrors that may be absent; their warnings are noise.
PIP_QUIET := grep -v "^WARNING: Location 'file:" || true

.PHONY: help install run demo migrate test lint type pytest bench drill screenshots reference clean

help:
	@echo "make run      install if needed, migrate, serve on http://127.0.0.1:8000 (embedded SQLite)"
	@echo "make test     install if needed, lint, type-check and run every test (SQLite + PostgreSQL)"
	@echo "make demo     like run, in sandbox mode, with a demo integration and catalog in the local Kombo sandbox"
	@echo "make migrate  apply database migrations (once per deploy)"
	@echo "make bench    benchmarks as ratios against baselines run side by side (FULL=1: the long mode)"
	@echo "make drill    fault drills: processes killed and Kombo misbehaving under load, then a consistency check"
	@echo "              (PRESSURE=1: with a CPU hog on one core beside the drills, as on a busy CI machine)"
	@echo "make screenshots  every page the product serves, at 375 and 1280 px, into docs/screenshots/ (docs/pages.md)"
	@echo "make reference    docs/reference.md from the OpenAPI document (a test fails when it is out of date)"
	@echo "make lint | type | pytest | clean"

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "assessgate needs Python >= 3.11; run with PYTHON=/path/to/python3.11"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing assessgate and its development tools into $(VENV) ..."
	@$(BIN)/python -m pip install --quiet --upgrade pip 2>&1 | $(PIP_QUIET)
	@$(BIN)/python -m pip install --quiet -e '.[dev]' 2>&1 | $(PIP_QUIET)
	@touch $@

run: install migrate
	$(BIN)/assessgate serve

demo: install migrate
	$(BIN)/assessgate demo

migrate: install
	$(BIN)/assessgate migrate

test: install lint type pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

type: install
	$(BIN)/mypy

# One pytest process per core (pytest-xdist); WORKERS=0 runs in this process (a debugger, -s, print-debugging).
# worksteal: a process that runs out of tests takes queued ones from the other, so a few long tests at the end
# of one process's share do not leave the other core idle.
WORKERS ?= auto
pytest: install
	@rc=0; $(BIN)/python -m pytest $(if $(filter 0,$(WORKERS)),,-n $(WORKERS) --dist worksteal) $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: that is a failure here"; exit 1; fi; exit $$rc

drill: install  ## fuzzing at ten times the budget of make test, then the fault drills (PRESSURE=1: beside a CPU hog)
	ASSESSGATE_FUZZ_SCALE=10 $(BIN)/python -m pytest tests/contract tests/integration/test_webhooks.py \
		tests/integration/test_webhook_fuzz.py $(PYTEST_ARGS)
	@if [ "$(PRESSURE)" = 1 ]; then \
		$(BIN)/python tests/_support/agtest/pressure.py $(PRESSURE_S) & hog=$$!; \
		trap 'kill $$hog 2>/dev/null || true' EXIT; \
		echo "drill: CPU hog on one core beside the drills (pid $$hog; stops by itself after $(PRESSURE_S) s)"; \
	fi; \
	$(BIN)/python -m pytest -m drill tests/drills -s $(PYTEST_ARGS)

bench: install  ## FULL=1 for the long mode
	FULL=$(FULL) $(BIN)/python -m bench.outbox_latency
	FULL=$(FULL) $(BIN)/python -m bench.ingest
	FULL=$(FULL) $(BIN)/python -m bench.write_back
	FULL=$(FULL) $(BIN)/python -m bench.write_back_scaling
	FULL=$(FULL) $(BIN)/python -m bench.claim_cost
	FULL=$(FULL) $(BIN)/python -m bench.scale

# The page tests, on one engine, saving a screenshot of each page they audit (tests/_support/agtest/axe.py).
SCREENSHOTS ?= docs/screenshots
screenshots: install
	ASSESSGATE_SCREENSHOTS=$(abspath $(SCREENSHOTS)) $(BIN)/python -m pytest -p no:randomly -q \
		"tests/integration/test_candidate_pages.py::test_every_candidate_page_passes_the_audit[sqlite]" \
		"tests/integration/test_onboarding_page.py::test_the_admin_connects_the_ats_and_every_state_passes_the_audit[sqlite]" \
		"tests/integration/test_onboarding_page.py::test_the_pages_of_links_that_cannot_connect_pass_the_audit[sqlite]" \
		"tests/integration/test_console_pages.py::test_an_operator_runs_the_gateway_from_the_console[sqlite]" \
		"tests/integration/test_console_pages.py::test_held_orders_are_bound_and_adapters_set_from_the_console[sqlite]" \
		tests/sandbox/test_page.py tests/integration/test_docs_page.py -k "audit or docs_page or console" $(PYTEST_ARGS)
	@ls $(SCREENSHOTS)

reference: install
	$(BIN)/assessgate reference --output docs/reference.md

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
