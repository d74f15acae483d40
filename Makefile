.PHONY: run stop test status restart-worker reindex sync-status lint relevance bench-search bench-duplicates chaos web screens bench-web bench-perf

run:  ## install what is missing, start everything, serve the API on :8000
	@bash scripts/run.sh

stop:  ## stop the API, worker, beat and the services
	@bash scripts/app.sh stop
	@bash scripts/services.sh stop

test:  ## the whole suite against real PostgreSQL, Redis, OpenSearch and Celery
	@bash scripts/test.sh

status:  ## what this checkout started (a service of another checkout on the same port is named as such)
	@bash scripts/services.sh status; bash scripts/app.sh status

restart-worker:  ## restart the Celery worker and beat alone (picks up code changes; the API keeps serving)
	@bash scripts/app.sh restart-worker

reindex:  ## rebuild the patient index from PostgreSQL with no downtime
	@.venv/bin/python -m workers reindex

sync-status:
	@.venv/bin/python -m workers sync-status

lint:
	@.venv/bin/lint-imports

relevance:  ## search quality on 20,000 generated patients, 40 judged queries of each of 19 kinds: recall@1, recall@5, MRR per kind
	@.venv/bin/python -m bench.relevance --size 20000 --seed 7 --count 760

bench-search:  ## search at 1M patients + 3M visits: API at 20 req/s vs PostgreSQL alone (first load ~40 min, then reused)
	@.venv/bin/python -m bench.search_scale all --save

PERF_PATIENTS ?= 1000000
PERF_VISITS ?= 3000000
PERF_IMPORT_ROWS ?= 100000
bench-perf:  ## issue 14's figures, each beside the code before it: rebuild docs/s per phase, API overhead and every search kind, freshness and search during an import
	@.venv/bin/python -m bench.search_scale load --patients $(PERF_PATIENTS) --visits $(PERF_VISITS)
	@.venv/bin/python -m bench.rebuild_bench --patients $(PERF_PATIENTS) --visits $(PERF_VISITS) --save
	@.venv/bin/python -m bench.api_overhead --patients $(PERF_PATIENTS) --visits $(PERF_VISITS) --save
	@.venv/bin/python -m bench.freshness --import-rows $(PERF_IMPORT_ROWS) --save

web:  ## install the web app's Node packages and build it (each only when something changed)
	@bash scripts/web.sh build

screens:  ## screenshots of every screen (laptop and phone) into docs/screens/, against a stack of their own
	@bash scripts/web.sh build && bash scripts/web.sh browser
	@cd web && node scripts/with-stack.mjs playwright test --project=screens

bench-web:  ## keystroke to results painted, first load and bundle size, in Chromium (API=http://… to use a running one; OTHERS=20: other staff searching meanwhile)
	@bash scripts/web.sh build && bash scripts/web.sh browser
	@node bench/web_speed.mjs $(if $(API),--api $(API),--stack) $(if $(OTHERS),--others $(OTHERS))

bench-duplicates:  ## duplicate finder: precision/recall of both bands at 100k, full scans of 100k and 1M, single-create checks
	@.venv/bin/python -m bench.duplicates quality --size 100000 --seed 13
	@.venv/bin/python -m bench.duplicates scan --size 100000 --check 500
	@.venv/bin/python -m bench.duplicates scan --size 1000000 --check 1000

chaos:  ## a second stack on other ports; worker kill -9, OpenSearch and Redis down 60 s during 2,000 writes each
	@bash scripts/chaos.sh
