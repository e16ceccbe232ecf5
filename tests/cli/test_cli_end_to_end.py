"""The real ``amtkit`` and ``amtkit-sim`` console scripts, run as subprocesses against simulated devices.

Successes print text or one JSON object; failures print one line plus a hint on stderr (or a JSON
error object with ``--json``), never a traceback, and exit with their category's code.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from werkzeug import Response

from amtkit.codes import PowerState
from amtsim.scenario import load_scenario
from amtsim.server import free_port


def console_script(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.skip(f"console script {name} is not installed")
    return found


def amtkit(*args: str, password: str | None = None, timeout: float = 30,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    extra = env or {}
    env = {key: value for key, value in os.environ.items() if key not in ("AMT_PASSWORD", "AMT_USER", "AMTKIT_TRACE")}
    env.update(extra)
    if password is not None:
        env["AMT_PASSWORD"] = password
    return subprocess.run([console_script("amtkit"), *args], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=timeout)


def at(device, *args: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [*args, device.host, "--port", str(device.port), "--timeout", "5"]


def assert_one_error_line_with_hint(result: subprocess.CompletedProcess[str]) -> list[str]:
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith("amtkit: ") and lines[1].startswith("  hint: ")
    assert "Traceback" not in result.stderr + result.stdout
    return lines


def test_identify_prints_vendor_and_version(amt_device) -> None:
    result = amtkit(*at(amt_device, "identify"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"{amt_device.host}: Intel(r) AMT {amt_device.device.config.major_minor}"


def test_identify_json_is_one_parsable_object(amt_device) -> None:
    result = amtkit(*at(amt_device, "identify"), "--json")
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["amt_version"] == amt_device.device.config.major_minor


def test_power_status_text_names_state_and_offered_actions(amt_device) -> None:
    result = amtkit(*at(amt_device, "power", "status"), password=amt_device.password)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{amt_device.host}: on (can: reset, off, cycle")


def test_power_status_json(amt_device) -> None:
    result = amtkit(*at(amt_device, "power", "status"), "--json", password=amt_device.password)
    data = json.loads(result.stdout)
    assert (data["ok"], data["state"], data["state_code"]) == (True, "on", 2)
    assert "cycle" in data["available"]


def test_power_off_and_wait_reaches_off(amt_device) -> None:
    result = amtkit(*at(amt_device, "power", "off"), "--wait", "5", password=amt_device.password)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{amt_device.host}: off requested, now off_soft"
    assert amt_device.control.power_state is PowerState.OFF_SOFT


def test_power_cycle_while_off_exits_12_with_one_line_and_a_hint(make_device) -> None:
    device = make_device(power_state=PowerState.OFF_SOFT)
    result = amtkit(*at(device, "power", "cycle"), password=device.password)
    assert result.returncode == 12
    message, hint = assert_one_error_line_with_hint(result)
    assert "cycle" in message and device.host in message
    assert hint == "  hint: valid now: on"
    assert result.stdout == ""


def test_power_cycle_while_off_json_is_an_error_object(make_device) -> None:
    device = make_device(power_state=PowerState.OFF_SOFT)
    result = amtkit(*at(device, "power", "cycle"), "--json", password=device.password)
    assert result.returncode == 12
    error = json.loads(result.stdout)
    assert error["ok"] is False
    assert (error["error"], error["category"], error["exit_code"]) == ("PowerActionNotSupported", "power", 12)
    assert error["host"] == device.host and error["hint"] == "valid now: on"


def test_wrong_password_exits_6_without_showing_the_password(amt_device) -> None:
    result = amtkit(*at(amt_device, "power", "status"), password="Wr0ng-Secret")
    assert result.returncode == 6
    message, _ = assert_one_error_line_with_hint(result)
    assert "'admin'" in message
    assert "Wr0ng-Secret" not in result.stderr + result.stdout


def test_unreachable_port_exits_3() -> None:
    result = amtkit("power", "status", "127.0.0.1", "--port", str(free_port()), password="x")
    assert result.returncode == 3
    assert "refused" in assert_one_error_line_with_hint(result)[0]


def test_unreachable_json_error_object_has_category_and_exit_code() -> None:
    result = amtkit("power", "status", "127.0.0.1", "--port", str(free_port()), "--json", password="x")
    error = json.loads(result.stdout)
    assert (error["category"], error["exit_code"], error["error"]) == ("unreachable", 3, "UnreachableError")


def test_tls_without_a_pin_exits_4(make_device) -> None:
    device = make_device(tls=True)
    result = amtkit("power", "status", device.host, "--port", str(device.tls_port), "--tls", password=device.password)
    assert result.returncode == 4
    assert "--pin-sha256" in assert_one_error_line_with_hint(result)[1]


def test_tls_with_the_pin_works(make_device) -> None:
    device = make_device(tls=True)
    result = amtkit("power", "status", device.host, "--port", str(device.tls_port), "--pin-sha256",
                    device.tls_sha256, password=device.password)
    assert result.returncode == 0, result.stderr


def test_something_that_is_not_amt_exits_5(httpserver) -> None:
    httpserver.expect_request("/wsman").respond_with_response(
        Response(b"<html>It works!</html>", headers=[("Server", "Apache"), ("Content-Type", "text/html")]))
    result = amtkit("power", "status", httpserver.host, "--port", str(httpserver.port), password="x")
    assert result.returncode == 5
    assert_one_error_line_with_hint(result)


def test_no_password_and_no_terminal_is_a_usage_error(amt_device) -> None:
    result = amtkit(*at(amt_device, "power", "status"))
    assert result.returncode == 2
    assert "AMT_PASSWORD" in result.stderr
    assert "Traceback" not in result.stderr
    assert amt_device.control.stats()["http_requests"] == 0


def test_a_malformed_pin_is_a_usage_error(amt_device) -> None:
    result = amtkit(*at(amt_device, "power", "status"), "--pin-sha256", "abc", password="x")
    assert result.returncode == 2 and "--pin-sha256" in result.stderr


def test_example_scenario_output_is_a_valid_scenario(tmp_path: Path) -> None:
    result = subprocess.run([console_script("amtkit-sim"), "example-scenario"], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 0, result.stderr
    scenario = tmp_path / "example.toml"
    scenario.write_text(result.stdout)
    assert len(load_scenario(scenario)) >= 1


def test_amtkit_against_amtkit_sim_out_of_process(tmp_path: Path) -> None:
    simulator = subprocess.Popen(
        [console_script("amtkit-sim"), "run", "--json", "--http-port", "0", "--tls-port", "-1", "--rmcp-port", "-1",
         "--instant", "--cert-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "AMTSIM_PASSWORD": "Sim-P4ss"})
    try:
        assert simulator.stdout is not None and simulator.stderr is not None
        line = simulator.stdout.readline()
        assert line, simulator.stderr.read()  # amtkit-sim exited before listing its devices
        listing = json.loads(line)
        (device,) = listing["devices"]
        target = [device["address"], "--port", str(device["http_port"])]
        status = amtkit("power", "status", *target, "--json", password="Sim-P4ss")
        assert json.loads(status.stdout)["state"] == "on", status.stderr
        off = amtkit("power", "off", *target, "--wait", "5", "--json", password="Sim-P4ss")
        assert json.loads(off.stdout) == {"ok": True, "host": device["address"], "action": "off", "code": 8,
                                          "state": "off_soft"}
    finally:
        simulator.send_signal(signal.SIGTERM)
        assert simulator.wait(timeout=10) == 0
