#!/usr/bin/env bash
# Install amtkit into .venv and run the main job on a simulated site: discovery, a power read of every
# machine, a quarantine applied, checked on the simulated host's traffic and released (scripts/demo_site.py).
# Needs no free well-known port: the simulated machines listen on loopback ports picked free.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
started=$(date +%s.%N)
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
if ! .venv/bin/python -c 'import amtkit, amtsim' 2>/dev/null || [ pyproject.toml -nt .venv/.amtkit-installed ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e .
    touch .venv/.amtkit-installed
fi
installed=$(date +%s.%N)
export PATH="$PWD/.venv/bin:$PATH"
.venv/bin/python scripts/demo_site.py "$@"
finished=$(date +%s.%N)
awk -v a="$started" -v b="$installed" -v c="$finished" \
    'BEGIN { printf "(install %.1f s, demo %.1f s)\n", b - a, c - b }'
