# The front door: every task a newcomer or CI needs. Creates .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.DEFAULT_GOAL := help
.PHONY: help install demo test test-unit test-integration lint bench clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install vcollector with the test/demo extras

demo: $(STAMP) ## Run the main job end to end against a simulated fleet (scratch folder .demo/)
	$(BIN)/python -m vcollector_sim.demo

test: $(STAMP) ## Run every test (unit, then integration against simulated fleets)
	$(BIN)/python -m pytest

test-unit: $(STAMP) ## Only the unit tests (no sockets)
	$(BIN)/python -m pytest tests/unit

test-integration: $(STAMP) ## Only the integration tests
	$(BIN)/python -m pytest tests/integration

lint: $(STAMP) ## ruff and mypy --strict
	$(BIN)/ruff check vcollector tests $(wildcard bench)
	$(BIN)/mypy

BENCH_STAMP := $(VENV)/.bench-stamp

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP) ## Benchmarks on lean simulated fleets: throughput (N=300; ARGS="--devices 1000 --rounds 1"), latency (0/40/100 ms; 1,000 devices at 50 ms), dry run over 100,000 devices, 1/2/4 Celery workers
	$(BIN)/python -m bench.run $(ARGS)
	$(BIN)/python -m bench.latency --rtt-ms 0,40,100 --repeat 5
	$(BIN)/python -m bench.latency --devices 1000 --workers 12 --rtt-ms 50
	$(BIN)/python -m bench.dry_run --devices 100000 --rounds 3
	$(BIN)/python -m bench.distributed $(DIST_ARGS)

clean: ## Remove .venv, caches and the demo folder
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache bench/results
