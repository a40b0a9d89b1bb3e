# Leucine Shop: `make run` serves the shop, `make test` runs the suite. Both set everything up first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
# make's own targets run a developer's shop: no SECRET_KEY needed (one is kept in instance/secret_key).
DEV    := SHOP_ENV=development
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: install axe run migrate seed test lint bench profile clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

install: $(VENV)/.installed  ## create the virtual environment and install the pinned requirements

migrate: install  ## bring the database schema up to date
	$(DEV) $(FLASK) db upgrade

seed: migrate  ## load the demo catalog if the database is empty
	$(DEV) $(FLASK) shop seed-demo-if-empty

# Links in e-mail and problem types point where the shop is served, unless PUBLIC_BASE_URL says otherwise.
run: seed  ## serve on http://127.0.0.1:5000, with a worker of the task queue in the same process
	$(DEV) PUBLIC_BASE_URL="$${PUBLIC_BASE_URL:-http://$(HOST):$(PORT)}" $(FLASK) shop serve --host $(HOST) --port $(PORT)

# What the tests run from npm, pinned in package-lock.json: axe-core (the accessibility checker the browser tests
# inject into every page), @redocly/cli and @stoplight/spectral-cli (the OpenAPI linters of test_api_tools.py) and
# standardwebhooks (the JavaScript signature check of the API guide). npm ci installs them all.
AXE := node_modules/axe-core/axe.min.js

$(AXE): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --ignore-scripts --loglevel=error; \
	else echo "npm not found: the browser tests' accessibility checks and the OpenAPI linters cannot run (apt-get install npm)"; fi

axe: $(AXE)  ## install the tests' npm packages: axe-core, the OpenAPI linters, standardwebhooks (npm ci)

# The suite runs in TEST_WORKERS processes (pytest-xdist), each test file in one of them, each with a PostgreSQL
# database of its own; TEST_WORKERS=0 runs it in this process. Files go out in the suite's order, which puts those
# with a test marked slow first (tests/conftest.py), not xdist's most-tests-first.
TEST_WORKERS ?= 2

test: install axe  ## run the whole suite (PostgreSQL tests too when TEST_DATABASE_URL is set)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

lint: install  ## ruff, and the layers of the house (import-linter contracts in pyproject.toml)
	$(BIN)/ruff check shop tests bench
	$(BIN)/lint-imports

bench: install  ## throughput and SQL statements against the bare reference app, on PostgreSQL (BENCH_ARGS=--verbose)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

profile: install  ## where a product page and an API order spend their time (cProfile, in-process, on PostgreSQL)
	$(BIN)/python bench/run.py --profile-only

clean:
	rm -rf $(VENV) instance .pytest_cache node_modules
