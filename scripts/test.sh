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
# Multi-node tests need a Ray driver of their own (ray.cluster_utils.Cluster): a second pytest
# process. The rule: arguments that name existing paths select what runs; paths under
# tests/multinode run in the second process, other paths in the first. With no path argument (the
# whole suite, maybe with options such as -x or -k) both run, the options passed to each; a -k
# that selects nothing in tests/multinode (pytest exit 5) is not a failure there.
paths=() multinode=() options=()
for arg in "$@"; do
  case "$arg" in
    tests/multinode*) multinode+=("$arg") ;;
    -*) options+=("$arg") ;;
    *) if [ -e "${arg%%::*}" ]; then paths+=("$arg"); else options+=("$arg"); fi ;;
  esac
done
status=0
if [ "${#paths[@]}" -gt 0 ] || [ "${#multinode[@]}" -eq 0 ]; then
  .venv/bin/python -m pytest ${options[@]+"${options[@]}"} ${paths[@]+"${paths[@]}"} || status=$?
fi
if [ "${#multinode[@]}" -gt 0 ] || [ "${#paths[@]}" -eq 0 ]; then
  rc=0
  .venv/bin/python -m pytest ${options[@]+"${options[@]}"} "${multinode[@]:-tests/multinode}" || rc=$?
  if [ "$rc" -ne 0 ] && ! { [ "$rc" -eq 5 ] && [ "${#multinode[@]}" -eq 0 ]; }; then status=$rc; fi
fi
exit "$status"
