"""Messages that used to send people the wrong way (issue #13), each checked against a real socket: the
simulator, or a recorded AMT answer replayed."""

from __future__ import annotations

import json

import pytest
from test_cli_end_to_end import amtkit, at
from werkzeug import Response

from amtkit import exceptions as exc
from amtkit.client import Client
from amtkit.diagnose import Rung, diagnose
from amtkit.discovery.probe import Classification, ProbeSettings, discover
from amtkit.http.digest import Credentials
from amtsim import DeviceConfig, Faults

FAST = {"rmcp": False, "connect_timeout": 1.0, "read_timeout": 0.5, "identify_timeout": 1.0}


def test_diagnose_with_a_wrong_port_says_that_port_is_closed_not_that_the_device_is_tls_only(amt_device) -> None:
    settings = ProbeSettings(https_port=amt_device.tls_port, **FAST)  # type: ignore[arg-type]
    result = diagnose(amt_device.host, port=1, settings=settings, credentials=Credentials("admin", amt_device.password))
    failed = result.failed
    assert failed is not None and failed.rung is Rung.TLS
    assert failed.finding == f"port 1 (the port asked for) does not accept connections; the TLS port " \
                             f"{amt_device.tls_port} does"
    assert "accepts only TLS" not in failed.finding and failed.category == "unreachable"
    assert "16992 (HTTP)" in failed.action


@pytest.fixture
def hung_device(amt_simulator):  # type: ignore[no-untyped-def]
    device = amt_simulator.add_device(DeviceConfig(http_port=0, tls_port=None, faults=Faults(hang=True)))
    yield device
    amt_simulator.remove_device(device)


def test_a_hung_engine_is_no_response_in_discovery_without_exception_names(hung_device) -> None:
    settings = ProbeSettings(http_port=hung_device.config.http_port, https_port=1, **FAST)  # type: ignore[arg-type]
    (record,) = discover([hung_device.address], settings=settings)
    assert record.classification is Classification.NO_RESPONSE
    assert f"HTTP {hung_device.config.http_port}: accepts connections, no answer (no answer within 0.5 s)" \
        in record.detail
    assert "Error" not in record.detail  # no TimeoutError/OSError class names


def test_diagnose_calls_a_hung_engine_a_timeout_not_not_amt(hung_device) -> None:
    settings = ProbeSettings(http_port=hung_device.config.http_port, https_port=1, **FAST)  # type: ignore[arg-type]
    result = diagnose(hung_device.address, settings=settings)
    failed = result.failed
    assert failed is not None and failed.rung is Rung.REACHABLE and failed.category == "timeout"
    assert "accepts connections on port" in failed.finding and "answers nothing within 0.5 s" in failed.finding
    assert "not Intel AMT" not in failed.finding and "hung" in failed.action


def test_plain_http_to_the_tls_port_says_to_use_tls(amt_device) -> None:
    result = amtkit("power", "status", amt_device.host, "--port", str(amt_device.tls_port), "--timeout", "5",
                    password=amt_device.password)
    assert result.returncode == 4, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == f"amtkit: {amt_device.host}: port {amt_device.tls_port} speaks TLS and was sent plain HTTP"
    assert "--tls" in lines[1] and "busy" not in result.stderr


def recorded_power_answer(wire, return_value: int) -> Response:  # type: ignore[no-untyped-def]
    body = wire.read("CIM_PowerManagementService.RequestPowerStateChange.response.xml")
    assert b"<g:ReturnValue>0</g:ReturnValue>" in body
    body = body.replace(b"<g:ReturnValue>0</g:ReturnValue>", b"<g:ReturnValue>%d</g:ReturnValue>" % return_value)
    return Response(body, status=200, headers={"Content-Type": "application/soap+xml; charset=UTF-8",
                                               "Server": "Intel(R) Active Management Technology 16.1.25"})


def test_not_supported_is_reported_as_the_device_said_without_blaming_a_redirection_session(httpserver, wire) -> None:
    httpserver.expect_request("/wsman", method="POST").respond_with_response(recorded_power_answer(wire, 1))
    with Client(httpserver.host, port=httpserver.port, retries=0, timeout=5.0) as client, \
            pytest.raises(exc.PowerActionNotSupported) as caught:
        client.power.request("off-hard", check_offered=False)
    assert caught.value.message == "the device answered 1 (not supported) to power action 'off-hard'"
    assert "redirection session is open" not in caught.value.message
    assert caught.value.hint.startswith("`amtkit power status` lists what it offers now")


def test_power_off_hard_says_up_front_that_amt_rarely_offers_it() -> None:
    result = amtkit("power", "off-hard", "--help")
    assert "Few AMT machines offer it" in " ".join(result.stdout.split())


def test_power_wait_timeout_does_not_claim_a_request_was_made(amt_device) -> None:
    result = amtkit(*at(amt_device, "power", "wait"), "off_soft", "--within", "0.3", "--json",
                    password=amt_device.password)
    data = json.loads(result.stdout)
    assert (result.returncode, data["category"]) == (16, "power-timeout")
    assert data["hint"] and "accepted" not in data["hint"]


def test_power_wait_offers_only_states_one_can_wait_for_and_wraps_on_words() -> None:
    result = amtkit("power", "wait", "--help")
    usage = result.stdout.splitlines()[0]
    assert usage == "Usage: amtkit power wait [OPTIONS] TARGETS... STATE"
    text = " ".join(result.stdout.split())
    assert "on, off_soft, off_hard, sleep_light, sleep_deep or hibernate" in text
    refused = amtkit("power", "wait", "127.0.0.1", "unknown")
    assert refused.returncode == 2 and "'unknown' is not one of" in refused.stderr


def test_identify_help_does_not_promise_a_password_prompt() -> None:
    text = " ".join(amtkit("identify", "--help").stdout.split())
    assert "or a prompt" not in text and "never prompted" in text


def test_a_target_count_over_the_limit_points_at_no_python_parameter() -> None:
    result = amtkit("discover", "10.0.0.0/8", "--json")
    data = json.loads(result.stdout)
    assert result.returncode == 2
    assert "limit=" not in data["message"] and "pass a larger limit" not in data["message"]
    assert "split the targets" in data["message"]


def test_diagnose_json_of_a_failure_has_the_keys_of_every_json_error() -> None:
    result = amtkit("diagnose", "127.0.0.1", "--port", "1", "--https-port", "2", "--rmcp-port", "9", "--json")
    data = json.loads(result.stdout)
    assert {"ok", "error", "category", "message", "host", "hint", "exit_code"} <= set(data)
    assert data["exit_code"] == result.returncode != 0


def test_no_hint_sends_a_command_line_user_to_a_python_parameter() -> None:
    # Hints are read at the command line too: a Python call or keyword as the remedy leaves a CLI user stuck.
    import ast
    from pathlib import Path

    import amtkit as package

    offenders = []
    for path in Path(package.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.keyword) and node.arg == "hint":
                text = " ".join(n.value for n in ast.walk(node.value)
                                if isinstance(n, ast.Constant) and isinstance(n.value, str))
                if any(word in text for word in ("=True to", "pass a larger limit", "raise EnumerationLimits",
                                                 "TLSConfig in Python")):
                    offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []
