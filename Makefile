# The two commands a newcomer types: `make run` and `make test`. Each does its own set-up.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: run test lint unit cassandra-start cassandra-stop bench-fanout bench-storage bench-gateway bench-results clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $@

run: $(STAMP)
	$(VENV)/bin/rayguild run --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	bash scripts/mypy.sh

test: $(STAMP) lint
	bash scripts/test.sh

unit: $(STAMP)
	$(PY) -m pytest -q tests/unit

cassandra-start:
	bash scripts/cassandra.sh start

cassandra-stop:
	bash scripts/cassandra.sh stop

bench-fanout: $(STAMP)
	$(VENV)/bin/rayguild bench fanout --out bench-out/fanout

bench-gateway: $(STAMP)
	$(PY) -m rayguild.benchmarks.gateway --out bench-out/gateway

bench-results: $(STAMP)  # re-makes docs/results (fan-out per wire, workload, storage, cost model)
	$(VENV)/bin/rayguild bench all --out docs/results

bench-storage: $(STAMP)
	bash scripts/with-cassandra.sh $(PY) -m rayguild.benchmarks.storage --out bench-out/storage

clean:
	rm -rf $(VENV) .cache .data bench-out
