"""Serial-over-LAN end to end over loopback: amtkit's SOL client, the simulator's firmware and host console.

Every wait is for text on the console or an event of the simulator; the timeouts only bound a failure.
"""

from __future__ import annotations

import json
import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from ider_e2e import client_for, ider_device, pycdlib_iso, redirection_port

from amtkit import exceptions as exc
from amtkit.client import Client
from amtkit.pytest_plugin import AMTDeviceInfo
from amtkit.redirection.connection import choose_auth_method
from amtkit.redirection.messages import (
    AuthenticateSession,
    AuthenticateSessionReply,
    AuthType,
    Direction,
    RedirectionDecoder,
    SessionType,
    StartRedirectionSession,
    StartRedirectionSessionReply,
)
from amtkit.sol import SOLParameters, SOLTimeout
from amtsim import Timing
from amtsim.control_http import ControlServer

WAIT = 30.0


@pytest.fixture
def client(device: AMTDeviceInfo) -> Iterator[Client]:
    with client_for(device) as amt:
        amt.sol.port = redirection_port(device)
        yield amt


def log_in(console, user: str = "bob", password: str = "amtsim") -> bytes:  # type: ignore[no-untyped-def]
    console.write(user.encode() + b"\r")
    console.read_until(b"Password: ", WAIT)
    console.write(password.encode() + b"\r")
    return console.read_until(b"$ ", WAIT)  # type: ignore[no-any-return]


def test_the_bios_and_the_boot_appear_on_the_console(client: Client, device: AMTDeviceInfo) -> None:
    with client.sol.session() as console:
        client.power.request("reset")
        text = console.read_until(b"login: ", WAIT).decode()
    assert "amtsim BIOS AMTSIM.0054.2023.0615.1200" in text
    assert "Booting from hard disk..." in text
    assert text.endswith(f"{device.device.config.hostname} login: ")


def test_a_logged_in_shell_answers_commands(client: Client) -> None:
    with client.sol.session() as console:
        console.write(b"\r")  # a running host answers Enter with a fresh prompt
        console.read_until(b"login: ", WAIT)
        assert b"Welcome to amtsim OS 1.0" in log_in(console)
        console.write(b"echo hello over SOL\r")
        assert console.read_until(b"$ ", WAIT) == b"echo hello over SOL\r\nhello over SOL\r\nbob@amt-device:~$ "


def test_text_printed_through_the_control_endpoint_reaches_the_sol_console(client: Client,
                                                                           device: AMTDeviceInfo) -> None:
    with ControlServer(lambda: [device.device], token="sol-token") as server, client.sol.session() as console:
        request = urllib.request.Request(f"{server.url}/devices/{device.device.name}/console", method="POST",
                                         data=json.dumps({"text": "kernel: watchdog fired\r\n"}).encode(),
                                         headers={"Authorization": "Bearer sol-token"})
        with urllib.request.urlopen(request, timeout=WAIT) as reply:
            assert reply.status == 200
        assert console.read_until(b"watchdog fired\r\n", WAIT).endswith(b"kernel: watchdog fired\r\n")


def test_a_wrong_password_is_refused_by_the_host(client: Client) -> None:
    with client.sol.session() as console:
        console.write(b"\r")
        console.read_until(b"login: ", WAIT)
        console.write(b"bob\r")
        console.read_until(b"Password: ", WAIT)
        console.write(b"guess\r")
        assert b"Login incorrect" in console.read_until(b"login: ", WAIT)


def test_the_password_is_not_echoed(client: Client) -> None:
    with client.sol.session() as console:
        console.write(b"\rbob\r")
        console.read_until(b"Password: ", WAIT)
        console.write(b"amtsim\r")
        assert b"amtsim\r" not in console.read_until(b"$ ", WAIT)


def test_the_host_power_is_reported(client: Client) -> None:
    with client.sol.session() as console:
        console.write(b"\r")
        console.read_until(b"login: ", WAIT)
        assert console.host_powered is True


def test_read_until_times_out_with_what_arrived(client: Client) -> None:
    with client.sol.session() as console:
        console.write(b"\r")
        with pytest.raises(SOLTimeout) as raised:
            console.read_until(b"never printed", 0.5)
        assert b"login: " in raised.value.received


def test_sol_switched_off_refuses_the_session(client: Client, device: AMTDeviceInfo) -> None:
    device.control.set_redirection(sol=False)
    with pytest.raises(exc.FeatureUnavailableError, match="refused an SOL session"):
        client.sol.session().start()


def test_one_sol_session_at_a_time(client: Client) -> None:
    with client.sol.session() as first:
        with pytest.raises(exc.FeatureUnavailableError, match="refused to start SOL"):
            client.sol.session().start()
        assert first.running


def test_wrong_credentials_fail_authentication(device: AMTDeviceInfo) -> None:
    with client_for(device, password="wrong") as amt:
        amt.sol.port = redirection_port(device)
        with pytest.raises(exc.AuthenticationError, match="redirection authentication failed"):
            amt.sol.session().start()


def test_closing_ends_the_session_on_the_device(client: Client, device: AMTDeviceInfo) -> None:
    with client.sol.session():
        device.control.wait_for_sessions(1)
    device.control.wait_for_sessions(0)


# -- SOL and IDE-R together: the rescue workflow


def test_boot_a_rescue_iso_over_ide_r_and_use_its_console(client: Client, device: AMTDeviceInfo,
                                                          tmp_path: Path) -> None:
    iso = pycdlib_iso(tmp_path / "rescue.iso", volume_id="RESCUE_LIVE")
    with client.sol.session() as console, client.ider.session(iso, device="cd") as drive:
        client.boot.boot_once("ider-cd", then="reset")
        boot_text = console.read_until(b"rescue login: ", WAIT).decode()
        drive.wait_for_boot(WAIT)
        console.write(b"root\r")
        console.read_until(b"# ", WAIT)
        console.write(b"cat /etc/os-release\r")
        release = console.read_until(b"# ", WAIT).decode()
    assert "Booting from IDE-R CD-ROM" in boot_text and "rescue system on RESCUE_LIVE" in boot_text
    assert 'VOLUME="RESCUE_LIVE"' in release


def test_an_ide_r_boot_failure_is_printed_and_the_host_falls_back(client: Client, tmp_path: Path) -> None:
    iso = pycdlib_iso(tmp_path / "plain.iso", el_torito=False, volume_id="NOT_BOOTABLE")
    with client.sol.session() as console, client.ider.session(iso, device="cd"):
        client.boot.boot_once("ider-cd", then="reset")
        text = console.read_until(b"login: ", WAIT).decode()
    assert "IDE-R boot failed: CD is not bootable: no El Torito boot record at sector 17" in text
    assert "Booting from hard disk..." in text


# -- idle sessions and keep-alives


def test_the_console_keepalive_outlives_the_idle_timeout(amt_simulator) -> None:  # type: ignore[no-untyped-def]
    timing = Timing(power_transition=0, power_off_phase=0, redirection_idle_timeout=0.3)
    with ider_device(amt_simulator, timing=timing) as info, client_for(info) as amt:
        amt.sol.port = redirection_port(info)
        with amt.sol.session(keepalive=0.05) as console:
            assert console.read(timeout=1.0) == b""  # nothing printed, nothing sent but heartbeats
            assert console.running and info.control.redirection_sessions() == 1
        assert info.control.redirection_stats()["idle_closed"] == 0


def test_a_silent_sol_console_is_closed_after_the_idle_timeout(amt_simulator) -> None:  # type: ignore[no-untyped-def]
    timing = Timing(power_transition=0, power_off_phase=0, redirection_idle_timeout=0.3)
    with ider_device(amt_simulator, timing=timing) as info, client_for(info) as amt:
        amt.sol.port = redirection_port(info)
        console = amt.sol.session(keepalive=60.0).start()
        with pytest.raises(exc.UnreachableError, match="closed the redirection connection"):
            console.read(timeout=WAIT)  # the firmware hangs up: the read ends with why
        console.close()
        assert info.control.redirection_stats()["idle_closed"] == 1


# -- authentication as each AMT version offers it


def raw_auth(info: AMTDeviceInfo, message: AuthenticateSession | None) -> AuthenticateSessionReply:
    """Start a SOL session and send ``message`` (``None``: the method query); the firmware's answer."""
    decoder = RedirectionDecoder(direction=Direction.TO_CONSOLE)
    with socket.create_connection((info.host, redirection_port(info)), timeout=WAIT) as sock:
        sock.sendall(StartRedirectionSession.for_session(SessionType.SOL).encode())
        sock.sendall((message or AuthenticateSession.query()).encode())
        replies: list[object] = []
        while len(replies) < 2:
            data = sock.recv(4096)
            assert data, "the firmware closed the connection early"
            replies.extend(decoder.feed(data))
    assert isinstance(replies[0], StartRedirectionSessionReply)
    reply = replies[1]
    assert isinstance(reply, AuthenticateSessionReply)
    return reply


@pytest.mark.parametrize(("version", "methods"), [("11.8.50", (1, 3, 4)), ("12.0.22", (4,)), ("16.1.25", (4,))])
def test_the_methods_offered_depend_on_the_version(amt_simulator, version: str,  # type: ignore[no-untyped-def]
                                                   methods: tuple[int, ...]) -> None:
    with ider_device(amt_simulator, amt_version=version) as info:
        assert raw_auth(info, None).methods() == methods


@pytest.mark.parametrize(("version", "accepted"), [("11.8.50", True), ("16.1.25", False)])
def test_plain_user_and_password_only_before_amt_12(amt_simulator, version: str,  # type: ignore[no-untyped-def]
                                                    accepted: bool) -> None:
    with ider_device(amt_simulator, amt_version=version) as info:
        reply = raw_auth(info, AuthenticateSession.basic(info.username, info.password))
        assert reply.ok is accepted


def test_a_wrong_plain_password_is_refused_and_counted(amt_simulator) -> None:  # type: ignore[no-untyped-def]
    with ider_device(amt_simulator, amt_version="11.8.50") as info:
        assert not raw_auth(info, AuthenticateSession.basic(info.username, "wrong")).ok
        assert info.control.redirection_stats()["auth_failures"] == 1


def test_the_client_prefers_digest_with_qop_then_digest_then_plain() -> None:
    assert choose_auth_method((1, 3, 4)) is AuthType.DIGEST_QOP
    assert choose_auth_method((1, 3)) is AuthType.DIGEST
    assert choose_auth_method((1,)) is AuthType.BASIC
    assert choose_auth_method((2,)) is None  # Kerberos only: nothing amtkit speaks


def test_the_client_uses_digest_on_old_firmware_too(amt_simulator) -> None:  # type: ignore[no-untyped-def]
    with ider_device(amt_simulator, amt_version="11.8.50") as info, client_for(info) as amt:
        amt.sol.port = redirection_port(info)
        with amt.sol.session(parameters=SOLParameters(heartbeat_ms=0)) as console:
            console.write(b"\r")
            console.read_until(b"login: ", WAIT)
            assert console.auth_method is AuthType.DIGEST_QOP
