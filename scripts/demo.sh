#!/usr/bin/env bash
# Install amtkit into .venv, start a simulated AMT device, and drive it with the CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
export PATH="$PWD/.venv/bin:$PATH"
export AMT_PASSWORD='P@ssw0rd'
state_dir="$(mktemp -d)"
amtkit-sim run --http-port 0 --tls-port 0 --json --cert-dir "$state_dir" > "$state_dir/ready.json" &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null; rm -rf "$state_dir"' EXIT
for _ in $(seq 50); do [ -s "$state_dir/ready.json" ] && break; sleep 0.1; done
port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["devices"][0]["http_port"])' "$state_dir/ready.json")
run() { echo "\$ $*"; "$@"; echo; }
run amtkit identify 127.0.0.1 --port "$port"
run amtkit power status 127.0.0.1 --port "$port"
run amtkit power off 127.0.0.1 --port "$port" --wait 10
run amtkit power on 127.0.0.1 --port "$port" --wait 10
run amtkit power cycle 127.0.0.1 --port "$port" --wait 10
run amtkit power status 127.0.0.1 --port "$port" --json
echo "demo done: the simulated device on 127.0.0.1:$port answered every call"
