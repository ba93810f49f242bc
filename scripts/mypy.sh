#!/usr/bin/env bash
# mypy over the rayguild package as it is installed: the top-level folders are mapped as its
# subpackages (pyproject's package-dir), so build the same tree from symlinks for mypy to read.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=.cache/mypy-tree
rm -rf "$tree" && mkdir -p "$tree/rayguild"
for f in rayguild/*.py; do ln -s "$PWD/$f" "$tree/rayguild/$(basename "$f")"; done
for pkg in actors ring relay fanout storage http_api benchmarks; do ln -s "$PWD/$pkg" "$tree/rayguild/$pkg"; done
MYPYPATH="$tree" exec .venv/bin/mypy --cache-dir .cache/mypy-cache -p rayguild "$@"
