#!/usr/bin/env bash
# Run a command with the Cassandra node up: start it if it is not running, run the command,
# and stop the node again only if this script started it. Exits with the command's status.
set -euo pipefail
cd "$(dirname "$0")/.."
started=0
cleanup() { if [ "$started" = 1 ]; then bash scripts/cassandra.sh stop || true; fi; }
trap cleanup EXIT
if ! bash scripts/cassandra.sh status >/dev/null 2>&1; then
  bash scripts/cassandra.sh start
  started=1
fi
export RAYGUILD_TEST_CASSANDRA="127.0.0.1:${CASSANDRA_PORT:-9042}"
"$@"
