"""``amtkit fingerprint`` for trust on first use, and usage errors as JSON for scripts."""

from __future__ import annotations

import json

import pytest
from test_cli_end_to_end import amtkit

from amtkit.exceptions import EXIT_CODES


def test_fingerprint_prints_the_certificate_the_device_presents(amt_device) -> None:
    result = amtkit("fingerprint", amt_device.host, "--port", str(amt_device.tls_port), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["sha256"] == amt_device.tls_sha256


def test_the_printed_fingerprint_is_accepted_as_a_pin(amt_device) -> None:
    printed = json.loads(amtkit("fingerprint", amt_device.host, "--port", str(amt_device.tls_port),
                                "--json").stdout)["sha256"]
    result = amtkit("power", "status", amt_device.host, "--port", str(amt_device.tls_port), "--pin-sha256", printed,
                    "--json", password=amt_device.password)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["state"] == "on"


def test_fingerprint_of_a_closed_port_is_unreachable(amt_device) -> None:
    from amtsim.server import free_port

    closed = free_port(amt_device.host)  # bound and released: nothing listens there (port 1 may be taken)
    result = amtkit("fingerprint", amt_device.host, "--port", str(closed), "--timeout", "2")
    assert result.returncode == EXIT_CODES["unreachable"]
    assert "Traceback" not in result.stderr


def test_a_missing_password_with_json_is_a_json_usage_error(amt_device) -> None:
    result = amtkit("power", "status", amt_device.host, "--port", str(amt_device.port), "--json")
    assert result.returncode == EXIT_CODES["usage"] == 2
    error = json.loads(result.stdout)
    assert error["ok"] is False and error["category"] == "usage" and "AMT_PASSWORD" in error["message"]


def test_an_unknown_power_action_is_a_usage_error(amt_device) -> None:
    result = amtkit("power", "request", amt_device.host, "explode", "--port", str(amt_device.port),
                    password=amt_device.password)
    assert result.returncode == 2
    assert "valid:" in result.stderr and "Traceback" not in result.stderr


def test_a_negative_timeout_is_refused_as_usage(amt_device) -> None:
    result = amtkit("identify", amt_device.host, "--port", str(amt_device.port), "--timeout", "-1")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_a_non_ascii_digit_action_is_a_usage_error_not_a_traceback(amt_device) -> None:
    result = amtkit("power", "request", amt_device.host, "\u00b2", "--port", str(amt_device.port),
                    password=amt_device.password)
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_a_ca_file_that_is_not_pem_is_a_tls_error_line(amt_device, tmp_path) -> None:
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("nope\n")
    result = amtkit("identify", amt_device.host, "--port", str(amt_device.tls_port), "--ca-file", str(not_pem))
    assert result.returncode == EXIT_CODES["tls"] and "Traceback" not in result.stderr
    assert "CA file" in result.stderr


@pytest.mark.parametrize(("command", "targets"), [
    (("sol",), ("10.0.0.5", "10.0.0.6")),
    (("ider", "boot"), ("10.0.0.0/24",)),
    (("wsman", "get"), ("10.0.0.1-40", "AMT_GeneralSettings")),
])
def test_a_one_machine_command_given_many_targets_is_a_usage_error_saying_so(command: tuple[str, ...],
                                                                           targets: tuple[str, ...]) -> None:
    result = amtkit(*command, *targets, "--json")
    assert result.returncode == 2
    error = json.loads(result.stdout)
    assert error["category"] == "usage" and "works on one machine at a time" in error["message"]
