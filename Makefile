# Chuangwei: `make run` starts everything, `make test` runs the whole suite.
# Both install what they need first (uv, then the locked dependencies).
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)

.DEFAULT_GOAL := help
.PHONY: help install run test bench bench-postgis lint format

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  \033[1m%-10s\033[0m %s\n", $$1, $$2}'

install: ## Install the Debian packages (as root), uv if missing, then the locked dependencies
	@bash scripts/system-packages.sh
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check uv
	@$(UV) sync --frozen --quiet

run: install ## Start PostgreSQL (embedded unless DATABASE_URL), migrate, serve on 8001-8004
	$(UV) run --frozen python scripts/run.py

# The whole suite prints its slowest tests and the product's line+branch coverage (the
# e2e service processes included) and fails below the floor: 84.65 % on 2026-12-06, rounded down.
COVERAGE_FLOOR := 84
test: install ## Run the whole test suite on a throw-away database and a real browser (durations, coverage floor)
	@bash scripts/system-packages.sh chromium nginx  # Playwright drives Debian's chromium; the gateway test runs nginx
	$(UV) run --frozen pytest --durations=15 --durations-min=1 \
		--cov --cov-report=term --cov-fail-under=$(COVERAGE_FLOOR)

# `near` is compared with PostGIS on a throw-away PostgreSQL 15 + PostGIS (Debian packages,
# installed as root; data in .data/postgis-bench/) unless CW_BENCH_POSTGIS_URL names one;
# a server started here is stopped afterwards. Without it the bench says how to get one.
WITH_POSTGIS = url="$${CW_BENCH_POSTGIS_URL:-}"; started=; \
	if [ -z "$$url" ]; then url=$$(bash scripts/postgis-bench-server.sh) && started=1 || url=; fi; \
	CW_BENCH_POSTGIS_URL="$$url"

bench: install ## Run every benchmark in bench/ and print the figures (PostGIS peer included)
	@$(WITH_POSTGIS) $(UV) run --frozen python bench/run_all.py; status=$$?; \
	if [ -n "$$started" ]; then bash scripts/postgis-bench-server.sh stop; fi; exit $$status

bench-postgis: install ## Only `near` beside PostGIS (KNN and ST_DWithin) on one PostgreSQL 15
	@$(WITH_POSTGIS) BENCH_NEAR_ONLY=postgis $(UV) run --frozen python bench/registry_near.py; \
	status=$$?; if [ -n "$$started" ]; then bash scripts/postgis-bench-server.sh stop; fi; exit $$status

lint: install ## Check style with ruff
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

format: install ## Format with ruff
	$(UV) run --frozen ruff format .
	$(UV) run --frozen ruff check --fix .
