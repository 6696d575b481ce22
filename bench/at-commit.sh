#!/usr/bin/env bash
# Run a bench script against a clean export of a commit instead of the working tree, so
# half-finished edits in a shared checkout neither break the run nor blur what was measured.
#   bench/at-commit.sh [COMMIT] SCRIPT [ARGS...]     e.g. bench/at-commit.sh HEAD run.py
# Uses this checkout's .venv, node_modules and bench/*.py (the harness is always the current
# one; the portal's code is the commit's); results and docs/benchmarks.md are written here.
set -euo pipefail
cd "$(dirname "$0")/.."
commit=HEAD
if [[ $# -gt 0 && $1 != *.py ]]; then commit=$1; shift; fi
script=${1:?usage: bench/at-commit.sh [COMMIT] SCRIPT [ARGS...]}; shift
sha=$(git rev-parse --short "$commit")
tree=$(mktemp -d "${TMPDIR:-/tmp}/portal-bench-$sha.XXXXXX")
trap 'rm -rf "$tree"' EXIT
git archive "$sha" | tar -x -C "$tree"
mkdir -p "$tree/bench" && cp bench/*.py bench/*.sh "$tree/bench/"
ln -s "$PWD/.venv" "$tree/.venv"
[[ -d node_modules ]] && ln -s "$PWD/node_modules" "$tree/node_modules"
BENCH_COMMIT=$sha BENCH_OUTPUT_ROOT=$PWD "$PWD/.venv/bin/python" "$tree/bench/$script" "$@"
