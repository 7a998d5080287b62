# The two commands a newcomer needs: `make demo` and `make test`.
PY ?= python3
# pytest-xdist workers for make test / test-fast: one per core by default (JOBS=0: one process)
JOBS ?= auto
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install browsers demo test test-fast lint schema bench faults mutation clean

$(STAMP): pyproject.toml
	@$(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "clientgraph needs Python 3.11 or newer")'
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)  ## create .venv and install clientgraph with its dev tools
	@$(BIN)/python -m gateway.ops.graphiql || echo "GraphiQL's assets were not vendored (is npm \
	installed?): the IDE loads them from unpkg until 'make install' runs with npm"

browsers:  ## Debian's chromium and chromedriver, for the browser tests (needs root)
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq chromium chromium-driver) || \
		echo "could not install chromium: the browser tests will fail (docs/testing.md)"

demo: install  ## migrate, seed a demo firm (SQLite) and serve http://127.0.0.1:8000/graphql
	$(BIN)/clientgraph demo

test: install browsers  ## the whole suite: SQLite and PostgreSQL, Redis where needed
	$(BIN)/pytest -q -n $(JOBS)

test-fast: install  ## while you work: no processes, no live Tryton, SQLite only (docs/testing.md)
	$(BIN)/pytest -q -n $(JOBS) -m "not slow and not postgres"

lint: install  ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/mypy clientgraph gateway resolvers readmodel schema sync_jobs

schema: install  ## regenerate schema/schema.graphql from the code
	$(BIN)/clientgraph schema export

bench: install  ## clientgraph vs PostGraphile on a seeded PostgreSQL, with wrk (SCALE=S|L; not in make test)
	@command -v wrk >/dev/null || apt-get install -y wrk
	@command -v npm >/dev/null || apt-get install -y npm
	$(BIN)/pip install --quiet py-spy
	$(BIN)/python -m bench.run --scale $(or $(SCALE),S)

clean:
	rm -rf $(VENV) clientgraph.db clientgraph.db-wal clientgraph.db-shm .pytest_cache

faults: install  ## the fault storm: 1,100 writes, 30% faults, worker kills, a Redis restart (not in make test)
	$(BIN)/python -m bench.faults

mutation: install  ## mutmut over the guarantee modules (MODULES="sync_jobs.apply …" for some; not in make test)
	$(BIN)/pip install --quiet -e '.[mutation]'
	$(BIN)/python -m bench.mutation $(MODULES)
