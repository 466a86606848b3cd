# blogapi: `make run` starts the API, `make test` runs every test, `make lint` checks the code.
# Each sets up .venv by itself.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-sqlite test-postgres bench bench-search bench-history bench-media bench-site scale lint format venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## Start the API and one webhook worker on SQLite (instance/blogapi.db, the job queue in
## instance/queue.db) with generated development secrets; Ctrl-C stops both.
run: $(STAMP)
	$(PY) -m devtools.run_dev --host $(HOST) --port $(PORT)

## The whole suite: on SQLite and, side by side with it, on a throwaway PostgreSQL cluster when
## its binaries exist (devtools/test_passes.py). One pass alone: make test-sqlite, test-postgres.
test: $(STAMP)
	scripts/install-system-deps
	$(PY) -m devtools.test_passes $(PYTEST_ARGS)

test-sqlite: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

test-postgres: $(STAMP)
	$(PY) -m devtools.with_server postgres -- $(PY) -m pytest $(PYTEST_ARGS)

## Reads, writes and memory against bare Flask on SQLite and a throwaway PostgreSQL cluster
## (bench/README.md): installs wrk and matplotlib; ~10 minutes per database plus seeding.
## Smoke run: make bench BENCH_ARGS=--quick. One database: BENCH_ARGS="--database sqlite".
## More: make bench BENCH_ARGS="--scaling 1000,10000,100000,1000000"
bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) -m bench.run $(BENCH_ARGS)

## Search benchmark at 100,000 and 1,000,000 posts on SQLite and a throwaway PostgreSQL cluster
## (bench/README.md, "Search"): about 1.5 hours. Smaller: SEARCH_BENCH_ARGS="--sizes 100000".
bench-search: $(STAMP)
	$(PY) -m devtools.with_server postgres -- $(PY) -m bench.search $(SEARCH_BENCH_ARGS)

## History benchmark (issue 14) on SQLite and a throwaway PostgreSQL cluster (bench/README.md,
## "History"): storage per revision, and create + publish throughput against the code before
## revisions (a temporary git worktree of ba9c870); about 15 minutes.
bench-history: $(STAMP)
	$(PY) -m devtools.with_server postgres -- $(PY) -m bench.history $(HISTORY_BENCH_ARGS)

## Media benchmark (bench/README.md, "Media"): 3 MP JPEG uploads (throughput, worker memory) and
## serving a variant against bare Flask's send_file; installs wrk; about 3 minutes.
bench-media: $(STAMP)
	$(PY) -m bench.media $(MEDIA_BENCH_ARGS)

## Feeds and reader pages against bare Flask, at 1,000 and 100,000 posts: ~10 minutes.
bench-site: $(STAMP)
	$(PY) -m bench.site $(SITE_BENCH_ARGS)

## Webhooks (bench/README.md, "Webhooks"): publish-to-delivery rate and latency with 1 and 4
## workers, and the cost to writes, on SQLite and on a throwaway PostgreSQL + Redis; ~5 minutes.
.PHONY: bench-webhooks
bench-webhooks: $(STAMP)
	scripts/install-system-deps
	$(PY) -m bench.webhooks $(WEBHOOKS_BENCH_ARGS)

## Observability overhead (bench/README.md, "Observability"): the hot path on the code before any
## instrumentation (a temporary git worktree of 4704f34), with it, and with the access log off;
## installs wrk; about 8 minutes on SQLite. Both: OBSERVABILITY_BENCH_ARGS="--database both".
.PHONY: bench-observability
bench-observability: $(STAMP)
	$(PY) -m bench.observability $(OBSERVABILITY_BENCH_ARGS)

## The request layer's CPU instructions a request, counted by Valgrind (bench/README.md), in
## process against the code before any instrumentation: ~6 minutes.
.PHONY: bench-layer
bench-layer: $(STAMP)
	$(PY) -m bench.layer_instructions $(LAYER_BENCH_ARGS)

## The same inside a gunicorn worker, now and before any instrumentation: ~10 minutes.
.PHONY: bench-layer-worker
bench-layer-worker: $(STAMP)
	$(PY) -m bench.worker_instructions $(WORKER_BENCH_ARGS)

## Scale test on PostgreSQL and Redis under faults (bench/README.md): ~2.5 minutes.
scale: $(STAMP)
	scripts/install-system-deps
	$(PY) -m bench.scale $(SCALE_ARGS)

## ruff (lint and format), mypy --strict and the import-linter contracts (pyproject.toml).
lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .import_linter_cache
