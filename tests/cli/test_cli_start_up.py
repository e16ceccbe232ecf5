"""What one ``amtkit power status HOST`` loads (issue #8: a whole call in at most 60 ms, measured by
``python -m bench --only transport.cli``). Timing lives in the bench; these pin down the modules a
call must not pay for, so a later import does not quietly bring them back."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from test_cli_end_to_end import at

NOT_FOR_ONE_POWER_READ = {
    "logging": "nothing is logged unless a trace is asked for (amtkit.lazylog)",
    "pathlib": "the store path is built with os.path",
    "ipaddress": "an IPv4 address already in canonical form needs no parsing",
    "encodings.idna": "an ASCII host name is connected to as bytes",
    "ssl": "plain HTTP",
    "http.client": "replies are read by amtkit.http.reply",
    "email": "no header parsing through the email package",
    "requests": "the built-in transport",
    "tqdm": "no progress bar for one host",
    "amtkit.fleet": "one host is not a fleet job",
    "asyncio": "no prober",
    "amtkit.defense": "another command",
    "amtkit.cli.device": "identify and fingerprint are other commands",
    "amtkit.discovery.probe": "only read on errors",
    "amtkit.profiles": "no --profile given",
    "amtkit.wsman.faults": "no fault came back (the table is loaded when one does, or by the simulator)",
    "amtkit.eoi": "the legacy SOAP names only once a version without WS-Man is seen",
    "amtkit.activity_query": "the activity log is appended to, not read",
    "hashlib": "MD5 and SHA-256 from CPython's built-in modules (amtkit.hashes): hashlib loads libcrypto",
    "hmac": "only the simulator checks digest responses",
    "amtkit.wsman.request_parser": "a client builds requests; only the simulator parses them",
    "amtkit.http.digest_server": "a client answers digest challenges; only a server reads the answers",
    "amtkit.legacy_codes": "the ASF codes of legacy SOAP, not WS-Man's",
    "amtkit.wsman.results": "a Get: no enumeration, method call or Identify",
}

_RUN = """
import gc, json, sys
before = set(sys.modules)
sys.argv = ["amtkit", *json.loads(sys.argv[1])]
from amtkit.cli.main import main
try:
    main()
except SystemExit as stop:
    code = stop.code
print(json.dumps({"code": code, "loaded": sorted(set(sys.modules) - before), "frozen": gc.get_freeze_count()}))
"""


def test_a_power_read_loads_none_of_what_it_does_not_use(amt_device, tmp_path) -> None:
    env = {key: value for key, value in os.environ.items() if key not in ("AMT_USER", "AMTKIT_TRACE")}
    env.update(AMT_PASSWORD=amt_device.password, AMTKIT_STORE=str(tmp_path / "store.db"))
    result = subprocess.run([sys.executable, "-c", _RUN, json.dumps(at(amt_device, "power", "status"))],
                            capture_output=True, text=True, env=env, timeout=60)
    outcome = json.loads(result.stdout.splitlines()[-1])
    assert outcome["code"] in (0, None), result.stderr
    loaded = set(outcome["loaded"])
    assert "amtkit.activity" in loaded  # the call was recorded in the store
    assert {name: why for name, why in NOT_FOR_ONE_POWER_READ.items() if name in loaded} == {}


def test_the_program_leaves_its_heap_to_the_exit_uncollected(amt_device, tmp_path) -> None:
    # The interpreter's last garbage collection would walk every imported module's objects (gc.freeze).
    env = {key: value for key, value in os.environ.items() if key not in ("AMT_USER", "AMTKIT_TRACE")}
    env.update(AMT_PASSWORD=amt_device.password, AMTKIT_STORE=str(tmp_path / "store.db"))
    result = subprocess.run([sys.executable, "-c", _RUN, json.dumps(at(amt_device, "power", "status"))],
                            capture_output=True, text=True, env=env, timeout=60)
    outcome = json.loads(result.stdout.splitlines()[-1])
    assert outcome["code"] in (0, None), result.stderr
    assert outcome["frozen"] > 0
    assert result.stdout.startswith(f"{amt_device.host}: ")  # the answer printed before the exit


def test_main_called_with_arguments_in_a_longer_process_freezes_nothing() -> None:
    import gc

    from amtkit.cli.main import main

    before = gc.get_freeze_count()
    main(["--version"], standalone_mode=False)
    assert gc.get_freeze_count() == before


def test_with_a_trace_logging_is_loaded_and_used(amt_device, tmp_path) -> None:
    env = {key: value for key, value in os.environ.items() if key not in ("AMT_USER",)}
    env.update(AMT_PASSWORD=amt_device.password, AMTKIT_STORE=str(tmp_path / "store.db"), AMTKIT_TRACE="calls")
    result = subprocess.run([sys.executable, "-c", _RUN, json.dumps(at(amt_device, "power", "status"))],
                            capture_output=True, text=True, env=env, timeout=60)
    assert "logging" in json.loads(result.stdout.splitlines()[-1])["loaded"]
    assert " round trip" in result.stderr


_RUN_PROGRAM = """
import gc, json, sys
sys.argv = ["amtkit", "--version"]
from amtkit.cli.start import main
collections_before_freeze = []  # from here on: the command line's imports, then the command
gc.callbacks.append(lambda phase, info: phase == "start" and gc.get_freeze_count() == 0
                    and collections_before_freeze.append(info["generation"]))
try:
    main()
except SystemExit:
    pass
print(json.dumps({"before_freeze": collections_before_freeze, "enabled": gc.isenabled(),
                  "frozen": gc.get_freeze_count()}))
"""


def test_the_program_imports_with_the_collector_paused_then_collects_again() -> None:
    result = subprocess.run([sys.executable, "-c", _RUN_PROGRAM], capture_output=True, text=True, timeout=60)
    outcome = json.loads(result.stdout.splitlines()[-1])
    assert outcome["before_freeze"] == []  # no collection walked the imports while they were built
    assert outcome["frozen"] > 0
    assert outcome["enabled"]  # a long command (a fleet job, quarantine run) still collects its cycles


def test_the_console_script_is_the_entry_point_that_pauses_the_collector() -> None:
    from pathlib import Path

    project = (Path(__file__).parents[2] / "pyproject.toml").read_text().splitlines()
    assert 'amtkit = "amtkit.cli.start:main"' in project
