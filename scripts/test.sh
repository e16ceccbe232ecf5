#!/usr/bin/env bash
# Install amtkit with its test extras into .venv and run every check CI runs:
# ruff, mypy (strict), the docs build, and the whole pytest suite.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
echo "== ruff"
.venv/bin/ruff check src simulator tests bench scripts
echo "== mypy"
.venv/bin/mypy
echo "== docs"
.venv/bin/mkdocs build --strict --quiet --site-dir "$(mktemp -d)"
echo "== pytest"
.venv/bin/python -m pytest -q "$@"
