"""Seeing what happens (issue #13): ``--trace``/``AMTKIT_TRACE`` show each exchange like ``wsman -d``, secrets
redacted; the ``amtkit`` logger gets one DEBUG line per call; with tracing off nothing is written or loaded."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest
from test_cli_end_to_end import amtkit, at

import amtkit as amtkit_package
from amtkit.wire import format_envelope, redact_head


def test_trace_shows_request_and_reply_envelopes_pretty_printed_with_authorization_redacted(amt_device) -> None:
    result = amtkit(*at(amt_device, "power", "status"), "--trace", password=amt_device.password)
    assert result.returncode == 0, result.stderr
    trace = result.stderr
    assert ">>> request to http://127.0.0.1:" in trace and "<<< reply from http://127.0.0.1:" in trace
    # pretty-printed: the Action header of the request on a line of its own, indented
    assert "\n    <a:Action s:mustUnderstand=\"true\">http://schemas.xmlsoap.org/ws/2004/09/transfer/Get</a:Action>\n" \
        in trace
    assert "<g:PowerState>2</g:PowerState>" in trace
    assert 'Authorization: Digest username="admin" (redacted)' in trace
    assert amt_device.password not in trace
    assert 'response="' not in trace and "cnonce" not in trace
    assert result.stdout.startswith(f"{amt_device.host}: on (can:")  # stdout stays the command's own


def test_trace_writes_one_line_per_call_with_action_class_status_round_trips_and_time(amt_device) -> None:
    result = amtkit(*at(amt_device, "power", "status"), password=amt_device.password,
                    env={"AMTKIT_TRACE": "calls"})
    lines = [line for line in result.stderr.splitlines() if " round trip" in line]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"amtkit: {amt_device.host}:{amt_device.port} Get CIM_AssociatedPowerManagementService: "
                               "200, 2 round trips, ")  # the digest challenge and the signed request
    assert lines[0].endswith(" ms")
    assert "<s:Envelope" not in result.stderr  # calls only: no envelopes


def test_the_trace_option_is_on_every_command() -> None:
    from amtkit.cli.main import main

    missing = []

    def walk(command, path):  # type: ignore[no-untyped-def]
        if not any(p.name == "trace" for p in command.params):
            missing.append(" ".join(path))
        if hasattr(command, "list_commands"):
            ctx = __import__("click").Context(command)
            for name in command.list_commands(ctx):
                walk(command.get_command(ctx, name), [*path, name])

    walk(main, ["amtkit"])
    assert missing == []


def test_a_failed_call_is_traced_with_its_category() -> None:
    result = amtkit("identify", "127.0.0.1", "--port", "1", "--timeout", "2", "--trace")
    assert result.returncode == 3
    assert "Identify: failed (unreachable: connection to port 1 refused)" in result.stderr
    assert "Traceback" not in result.stderr


def test_without_trace_nothing_is_written_and_the_trace_module_is_not_loaded(amt_device) -> None:
    code = ("import sys, amtkit\n"
            f"c = amtkit.Client('{amt_device.host}', port={amt_device.port}, password='{amt_device.password}')\n"
            "c.power.status(); c.close()\n"
            "print('amtkit.wire' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (result.stdout, result.stderr) == ("False\n", "")


def test_the_amtkit_logger_at_debug_gets_the_call_lines(amt_device, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="amtkit"):
        with amtkit_package.Client(amt_device.host, **amt_device.client_kwargs()) as client:
            client.get("AMT_GeneralSettings")
    calls = [r.getMessage() for r in caplog.records if r.name == "amtkit.transport" and "round trip" in r.getMessage()]
    assert len(calls) == 1 and " Get AMT_GeneralSettings: 200, " in calls[0]
    exchanges = [r for r in caplog.records if r.name == "amtkit.wire"]
    assert len(exchanges) == 4  # challenge and signed request, each a request and a reply


def test_password_elements_are_redacted_in_envelopes() -> None:
    body = (b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:h="urn:x"><s:Body>'
            b"<h:AddUserAclEntryEx_INPUT><h:DigestUsername>bob</h:DigestUsername>"
            b"<h:DigestPassword>c2VjcmV0</h:DigestPassword></h:AddUserAclEntryEx_INPUT>"
            b"<h:IPS_KVMRedirectionSettingData><h:RFBPassword>Vnc$ecret1</h:RFBPassword></h:IPS_KVMRedirectionSettingData>"
            b"<h:AddWiFiSettings_INPUT><h:PSKPassPhrase>wifi-secret</h:PSKPassPhrase></h:AddWiFiSettings_INPUT>"
            b"</s:Body></s:Envelope>")
    text = format_envelope(body)
    for secret in ("c2VjcmV0", "Vnc$ecret1", "wifi-secret"):
        assert secret not in text
    assert "<h:DigestPassword>(redacted)</h:DigestPassword>" in text and "<h:DigestUsername>bob<" in text


def test_secrets_are_redacted_in_markup_that_does_not_parse() -> None:
    text = format_envelope(b"<h:SetAdminAclEntryEx_INPUT><h:DigestPassword>c2VjcmV0</h:DigestPassword><h:Trunc")
    assert "c2VjcmV0" not in text and "(redacted)" in text


def test_the_authorization_header_keeps_only_scheme_and_user() -> None:
    head = ('POST /wsman HTTP/1.1\r\nAuthorization: Digest username="admin", realm="Digest:AB", nonce="n", '
            'uri="/wsman", response="0123456789abcdef0123456789abcdef", qop=auth, nc=00000001, cnonce="c"\r\n'
            "Content-Length: 1")
    assert redact_head(head).splitlines() == ["POST /wsman HTTP/1.1", 'Authorization: Digest username="admin" (redacted)',
                                              "Content-Length: 1"]
