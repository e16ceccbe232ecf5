"""Legacy SOAP on the TLS port (16993): the simulated AMT 5 serves it with its era's TLS (1.0/1.1). amtkit,
whose TLS starts at 1.2, refuses that handshake with a hint that names the era and the ways that work, rather
than a connection-pool traceback's text; asked for by name (``allow_old_tls``, ``--allow-old-tls``), it speaks
that TLS and says so."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import warnings

import pytest

from amtkit import exceptions as exc
from amtkit.config import TLSConfig
from amtkit.tls import OldTLSWarning

RC = "http://schemas.intel.com/platform/client/RemoteControl/2004/01"
HEADERS = (("Host", "127.0.0.1:16993"), ("Content-Type", "text/xml; charset=utf-8"),
           ("SOAPAction", f'"{RC}#GetSystemPowerState"'))


def era_context() -> ssl.SSLContext:
    """A client context of the consoles of AMT 5's time: TLS 1.0/1.1, SHA-1 suites allowed."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():  # TLS 1.0/1.1 are deprecated in Python; that era's firmware speaks nothing else
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


def over_tls(device, httpkit, request: bytes):  # type: ignore[no-untyped-def]
    connection = httpkit.RawConnection(device.host, device.tls_port)
    connection.sock = era_context().wrap_socket(connection.sock)
    try:
        return connection.exchange(request)
    finally:
        connection.close()


def test_an_amt5_device_answers_legacy_soap_on_its_tls_port(make_device, httpkit, soap_request) -> None:
    device = make_device(amt_version="5.0.1", tls=True)
    body = soap_request(RC, "GetSystemPowerState")
    unsigned = over_tls(device, httpkit, httpkit.http_post(body, path="/RemoteControlService", headers=HEADERS))
    assert unsigned.status == 401
    challenge = httpkit.challenge_params(unsigned.header("WWW-Authenticate") or "")
    authorization = httpkit.digest_authorization(device.username, device.password, challenge["realm"],
                                                 challenge["nonce"], uri="/RemoteControlService")
    reply = over_tls(device, httpkit, httpkit.http_post(body, path="/RemoteControlService", headers=HEADERS,
                                                        authorization=authorization))
    assert reply.status == 200
    assert b"<b:Status>0</b:Status><b:SystemPowerState>0</b:SystemPowerState>" in reply.body  # ASF S0


def test_amtkit_over_tls_to_legacy_firmware_is_a_tls_error_naming_the_era_and_port_16992(make_device,
                                                                                         connect) -> None:
    device = make_device(amt_version="5.0.1", tls=True)
    client = connect(device, port=device.tls_port, tls=TLSConfig(pin_sha256=device.tls_sha256), generation="eoi")
    with pytest.raises(exc.TLSError) as caught:
        client.power.state()
    error = caught.value
    assert (error.reason, error.exit_code) == ("protocol", 4)
    assert error.message.startswith("TLS handshake failed: ") and "HTTPSConnectionPool" not in error.message
    assert "TLS 1.0/1.1" in error.hint and "16992" in error.hint and "--allow-old-tls" in error.hint


def test_legacy_soap_over_tls_1_1_works_when_old_tls_is_allowed_and_warns(make_device, connect,
                                                                          fresh_old_tls_warnings) -> None:
    device = make_device(amt_version="5.0.1", tls=True)
    client = connect(device, port=device.tls_port, tls=TLSConfig(pin_sha256=device.tls_sha256), generation="eoi",
                     allow_old_tls=True)
    with pytest.warns(OldTLSWarning, match="negotiated TLS 1.1"):
        client.power.off()
    assert client.power.state() == 8  # CIM PowerState 8: off (soft)
    assert device.device.stats.eoi_requests >= 2


def amtkit_over_tls(device, *args: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    env = {**os.environ, "AMT_PASSWORD": device.password}
    env.pop("AMTKIT_GENERATION", None)
    env.pop("AMTKIT_TRANSPORT", None)
    return subprocess.run([sys.executable, "-m", "amtkit.cli.main", "power", "status", device.host,
                           "--port", str(device.tls_port), "--pin-sha256", device.tls_sha256, "--generation", "eoi",
                           *args], capture_output=True, text=True, env=env, timeout=60, check=False)


def test_cli_power_status_over_legacy_soap_and_tls_1_1_with_allow_old_tls(make_device) -> None:
    device = make_device(amt_version="5.0.1", tls=True)
    result = amtkit_over_tls(device, "--allow-old-tls", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["asf_state"] == 0  # ASF S0: working
    warning = [line for line in result.stderr.splitlines() if line.startswith("amtkit: warning:")]
    assert len(warning) == 1 and "negotiated TLS 1.1" in warning[0], result.stderr
    assert device.device.stats.eoi_requests > 0


def test_cli_without_allow_old_tls_exits_4_naming_the_option(make_device) -> None:
    device = make_device(amt_version="5.0.1", tls=True)
    result = amtkit_over_tls(device)
    assert result.returncode == 4
    assert "--allow-old-tls" in result.stderr and "Traceback" not in result.stderr
