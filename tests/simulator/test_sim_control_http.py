"""The HTTP/JSON control endpoint, used over real HTTP as a test suite in another language would, and
``amtkit-sim run``'s ready line, ``-v`` request log and ``--control-port``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from amtkit.codes import PowerState
from amtsim.control_http import ControlServer

TOKEN = "test-token-123"


class Endpoint:
    def __init__(self, server: ControlServer) -> None:
        self.url = server.url

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, *,
             token: str | None = TOKEN) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                return reply.status, json.loads(reply.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())


@pytest.fixture
def endpoint(amt_device) -> Iterator[Endpoint]:  # type: ignore[no-untyped-def]
    with ControlServer(lambda: [amt_device.device], token=TOKEN) as server:
        yield Endpoint(server)


def path(amt_device, tail: str = "") -> str:  # type: ignore[no-untyped-def]
    return f"/devices/{amt_device.device.name}{tail}"


def test_without_the_token_nothing_is_answered(endpoint: Endpoint) -> None:
    assert endpoint.call("GET", "/devices", token=None)[0] == 401
    assert endpoint.call("GET", "/devices", token="guess")[0] == 401


def test_it_listens_on_loopback_only(amt_device) -> None:  # type: ignore[no-untyped-def]
    with ControlServer(lambda: [amt_device.device]) as server:
        assert server.url.startswith("http://127.0.0.1:")
        assert len(server.token) >= 20  # a random token when none is given


def test_devices_are_listed_with_their_ports(endpoint: Endpoint, amt_device) -> None:  # type: ignore[no-untyped-def]
    status, devices = endpoint.call("GET", "/devices")
    assert status == 200
    assert devices == [{"name": amt_device.device.name, "address": amt_device.host, "version": "16.1.25",
                        "ports": {"http": amt_device.port, "tls": amt_device.tls_port, "redirection": None,
                                  "redirection_tls": None, "rmcp": None}}]


def test_power_set_over_http_is_what_a_console_reads(endpoint: Endpoint, amt_device, connect) -> None:  # type: ignore[no-untyped-def]
    assert endpoint.call("PUT", path(amt_device, "/power"), {"state": "off"}) == (200, {"power": "off_soft"})
    assert connect(amt_device).power.state() is PowerState.OFF_SOFT
    connect(amt_device).power.on()
    assert endpoint.call("GET", path(amt_device, "/power/history")) == (200, ["on"])
    assert endpoint.call("GET", path(amt_device))[1]["power"] == "on"


def test_faults_are_injected_and_cleared(endpoint: Endpoint, amt_device, connect) -> None:  # type: ignore[no-untyped-def]
    from amtkit import exceptions as exc

    status, answer = endpoint.call("POST", path(amt_device, "/faults"), {"power_state_unknown": True})
    assert status == 200 and answer["faults"]["power_state_unknown"] is True
    with pytest.raises(exc.PowerStateUnknownError):
        connect(amt_device).power.status()
    assert endpoint.call("DELETE", path(amt_device, "/faults"))[1]["faults"]["power_state_unknown"] is False
    assert connect(amt_device).power.state() is PowerState.ON


def test_an_unknown_fault_is_a_bad_request(endpoint: Endpoint, amt_device) -> None:  # type: ignore[no-untyped-def]
    status, answer = endpoint.call("POST", path(amt_device, "/faults"), {"meltdown": True})
    assert status == 400 and "meltdown" in answer["error"]


def test_host_traffic_gets_a_system_defense_verdict(endpoint: Endpoint, amt_device) -> None:  # type: ignore[no-untyped-def]
    status, answer = endpoint.call("POST", path(amt_device, "/traffic"),
                                   {"direction": "receive", "protocol": 6, "dst_port": 22, "packets": 3})
    assert status == 200
    assert (answer["packets"], answer["passed"], answer["verdict"]["reason"]) == (3, 3, "no-policy")


def test_boots_are_recorded_and_awaited(endpoint: Endpoint, amt_device, connect) -> None:  # type: ignore[no-untyped-def]
    connect(amt_device).power.reset()
    status, boot = endpoint.call("POST", path(amt_device, "/boots/wait"), {"number": 1, "timeout": 10})
    assert status == 200 and (boot["number"], boot["action"], boot["target"]) == (1, "reset", "default")
    assert endpoint.call("GET", path(amt_device, "/boots"))[1] == [boot]
    assert endpoint.call("POST", path(amt_device, "/boots/wait"), {"number": 2, "timeout": 0.2})[0] == 504


def test_redirection_switches_and_consent_code(endpoint: Endpoint, amt_device, connect) -> None:  # type: ignore[no-untyped-def]
    assert endpoint.call("PUT", path(amt_device, "/redirection"), {"sol": False})[0] == 200
    assert connect(amt_device).get("AMT_RedirectionService")["EnabledState"] == 32769  # IDE-R only
    assert endpoint.call("GET", path(amt_device, "/consent")) == (200, {"code": None})
    connect(amt_device).invoke("IPS_OptInService", "StartOptIn")
    code = endpoint.call("GET", path(amt_device, "/consent"))[1]["code"]
    assert connect(amt_device).invoke("IPS_OptInService", "SendOptInCode", {"OptInCode": code}).return_value == 0


def test_events_are_raised_and_both_logs_read_in_words(endpoint: Endpoint, amt_device, connect) -> None:  # type: ignore[no-untyped-def]
    assert endpoint.call("POST", path(amt_device, "/event-log"), {"count": 2}) == (200, {"records": 2})
    status, records = endpoint.call("GET", path(amt_device, "/event-log"))
    assert status == 200
    assert [(r["sensor_type"], r["severity"]) for r in records] == [("system_event", "information")] * 2
    assert all(r["description"] and r["time"] for r in records)
    connect(amt_device).power.request("cycle")
    status, audit = endpoint.call("GET", path(amt_device, "/audit-log"))
    assert status == 200
    assert (audit[-1]["user"], audit[-1]["address"]) == ("admin", "127.0.0.1")
    assert "Remote Control: Power Cycle" in audit[-1]["description"]
    assert endpoint.call("POST", path(amt_device, "/event-log"), {"count": 0})[0] == 400


def test_bad_input_gets_a_clear_error(endpoint: Endpoint, amt_device) -> None:  # type: ignore[no-untyped-def]
    assert endpoint.call("GET", "/devices/no-such-machine")[0] == 404
    assert endpoint.call("PATCH", path(amt_device, "/power"), {})[0] == 404
    status, answer = endpoint.call("PUT", path(amt_device, "/power"), {"state": "warp"})
    assert status == 400 and "warp" in answer["error"]
    request = urllib.request.Request(endpoint.url + path(amt_device, "/power"), data=b"{not json", method="PUT",
                                     headers={"Authorization": f"Bearer {TOKEN}"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 400


# --- amtkit-sim run -----------------------------------------------------------------------------------------


@pytest.fixture
def sim_process() -> Iterator[subprocess.Popen[str]]:
    command = [sys.executable, "-m", "amtsim.cli", "run", "--json", "-v", "--http-port", "0", "--tls-port", "0",
               "--rmcp-port", "-1", "--control-port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "AMTSIM_CONTROL_TOKEN": TOKEN})
    yield process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


def test_ready_line_lists_every_port_and_the_control_endpoint_and_v_logs_requests(sim_process) -> None:  # type: ignore[no-untyped-def]
    import amtkit

    assert sim_process.stdout is not None and sim_process.stderr is not None
    ready = json.loads(sim_process.stdout.readline())
    [device] = ready["devices"]
    assert all(isinstance(device[key], int) and device[key] > 0
               for key in ("http_port", "tls_port", "redirection_port", "redirection_tls_port"))
    assert ready["control"]["token"] == TOKEN and ready["control"]["url"].startswith("http://127.0.0.1:")
    with amtkit.Client(device["address"], port=device["http_port"], username="admin", password="P@ssw0rd") as client:
        client.get("AMT_GeneralSettings")
    log_line = ""
    while "AMT_GeneralSettings" not in log_line:
        log_line = sim_process.stderr.readline()
        assert log_line, "the simulator ended without logging the request"
    assert log_line.split()[2:7] == [device["name"], "admin", "Get", "AMT_GeneralSettings", "ok"]
    assert log_line.rstrip().endswith("ms")
