#!/usr/bin/env bash
# The test suite with its real parts: a Cassandra 5.0 node (started here, stopped on exit)
# and one shared local Ray cluster (started by the tests' session fixture).
set -euo pipefail
cd "$(dirname "$0")/.."
started=0
cleanup() { [ "$started" = 1 ] && bash scripts/cassandra.sh stop || true; }
trap cleanup EXIT
if ! bash scripts/cassandra.sh status >/dev/null 2>&1; then
  bash scripts/cassandra.sh start
  started=1
fi
# The real discord.js client library for the client-compatibility test (locked in package-lock.json).
npm ci --prefix tests/clients/discordjs --no-audit --no-fund --loglevel=error
# Debian's chromium for the browser tests (tests/browser), installed here when missing.
bash scripts/chromium.sh
export RAYGUILD_TEST_CASSANDRA=127.0.0.1:${CASSANDRA_PORT:-9042}
.venv/bin/python -m pytest "$@"
# Multi-node tests need a Ray driver of their own (ray.cluster_utils.Cluster): a second process.
if [ "$#" -eq 0 ]; then .venv/bin/python -m pytest tests/multinode; fi
