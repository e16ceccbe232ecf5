"""What can go wrong between amtkit and a device, and the typed error for each: TLS trust (pin,
CA file, verification), unreachable ports, things that are not AMT, dropped connections and
retries, slow answers."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from amtkit import exceptions as exc
from amtkit.codes import PowerAction
from amtkit.config import TLSConfig
from amtkit.wsman import names
from amtsim.server import free_port

GENERAL = names.Cls.AMT_GeneralSettings


@pytest.fixture
def tls_device(make_device):  # type: ignore[no-untyped-def]
    return make_device(tls=True)


def tls_client(connect, device, tls: TLSConfig | bool):  # type: ignore[no-untyped-def]
    return connect(device, port=device.tls_port, tls=tls, retries=0)


def test_tls_with_the_right_pin_works(tls_device, connect) -> None:
    client = tls_client(connect, tls_device, TLSConfig(pin_sha256=tls_device.tls_sha256))
    assert client.get(GENERAL).class_name == GENERAL


def test_pin_may_be_written_with_colons_and_upper_case(tls_device, connect) -> None:
    pin = ":".join(tls_device.tls_sha256[i:i + 2] for i in range(0, 64, 2)).upper()
    assert tls_client(connect, tls_device, TLSConfig(pin_sha256=pin)).identify().amt_version


def test_tls_with_a_wrong_pin_is_a_pin_mismatch(tls_device, connect) -> None:
    client = tls_client(connect, tls_device, TLSConfig(pin_sha256="ab" * 32))
    with pytest.raises(exc.TLSError) as caught:
        client.get(GENERAL)
    assert caught.value.reason == "pin-mismatch"
    assert caught.value.category == "tls"
    assert tls_device.control.stats()["wsman_requests"] == 0


def test_tls_verification_against_the_system_store_fails_for_a_self_signed_device(tls_device, connect) -> None:
    with pytest.raises(exc.TLSError) as caught:
        tls_client(connect, tls_device, True).get(GENERAL)
    assert caught.value.reason == "verification"
    assert "--pin-sha256" in caught.value.hint


def test_tls_with_the_devices_certificate_as_ca_file_works(tls_device, connect, amt_simulator) -> None:
    client = tls_client(connect, tls_device, TLSConfig(ca_file=str(amt_simulator.certificate.cert)))
    assert client.get(GENERAL).class_name == GENERAL


def test_tls_insecure_must_be_asked_for_and_then_works(tls_device, connect) -> None:
    assert tls_client(connect, tls_device, TLSConfig(insecure=True)).get(GENERAL).class_name == GENERAL


def test_tls_to_the_plain_http_port_is_a_tls_protocol_error(tls_device, connect) -> None:
    client = connect(tls_device, tls=TLSConfig(insecure=True), retries=0, timeout=5.0)
    with pytest.raises(exc.TLSError) as caught:
        client.get(GENERAL)
    assert caught.value.reason == "protocol"


def test_plain_http_to_the_tls_port_is_a_typed_transport_error(tls_device, connect) -> None:
    with pytest.raises((exc.TransportError, exc.NotDetectedError)):
        connect(tls_device, port=tls_device.tls_port, retries=0).get(GENERAL)


def test_bad_pin_text_is_refused_when_configuring() -> None:
    with pytest.raises(ValueError, match="64 hex digits"):
        TLSConfig(pin_sha256="abcd")


def test_a_closed_port_is_unreachable_with_a_hint(amt_device, connect) -> None:
    client = connect(amt_device, port=free_port(), retries=0)
    with pytest.raises(exc.UnreachableError) as caught:
        client.get(GENERAL)
    assert "refused" in str(caught.value)
    assert "16992" in caught.value.hint
    assert caught.value.category == "unreachable"


def test_a_disabled_amt_has_no_listener(make_device, connect) -> None:
    from amtsim import Faults

    port = free_port()
    device = make_device(http_port=port, faults=Faults(amt_disabled=True))
    assert device.port == port
    with pytest.raises(exc.UnreachableError):
        connect(device, retries=0).identify()


@pytest.fixture
def tcp_server() -> Iterator[Callable[[Callable[[socket.socket], None]], int]]:
    """Start a one-off TCP server on loopback whose per-connection behaviour a test supplies."""
    servers: list[socket.socket] = []

    def start(behaviour: Callable[[socket.socket], None]) -> int:
        server = socket.create_server(("127.0.0.1", 0))
        servers.append(server)

        def accept_loop() -> None:
            while True:
                try:
                    conn, _ = server.accept()
                except OSError:
                    return
                with conn:
                    try:
                        behaviour(conn)
                    except OSError:
                        pass

        threading.Thread(target=accept_loop, daemon=True).start()
        return int(server.getsockname()[1])

    yield start
    for server in servers:
        server.close()


def _banner(conn: socket.socket) -> None:
    conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")
    conn.recv(65536)


def _hang_up(conn: socket.socket) -> None:
    conn.recv(65536)


def _say_nothing(conn: socket.socket) -> None:
    while conn.recv(65536):  # read everything, answer nothing, until the client gives up
        pass


def test_a_tcp_service_that_is_not_http_is_not_detected(amt_device, connect, tcp_server) -> None:
    client = connect(amt_device, port=tcp_server(_banner), retries=0)
    with pytest.raises(exc.NotDetectedError):
        client.get(GENERAL)
    with pytest.raises(exc.NotDetectedError):
        client.identify()


def test_a_server_that_hangs_up_without_answering_is_a_transport_error(amt_device, connect, tcp_server) -> None:
    with pytest.raises(exc.UnreachableError, match="closed the connection"):
        connect(amt_device, port=tcp_server(_hang_up), retries=0).get(GENERAL)


def test_a_server_that_never_answers_is_a_read_timeout(amt_device, connect, tcp_server) -> None:
    with pytest.raises(exc.ReadTimeoutError) as caught:
        connect(amt_device, port=tcp_server(_say_nothing), retries=0, timeout=0.3).get(GENERAL)
    assert caught.value.category == "timeout"


def test_a_slow_device_is_a_read_timeout(amt_device, connect) -> None:
    amt_device.control.inject(response_delay=2.0)
    with pytest.raises(exc.ReadTimeoutError):
        connect(amt_device, retries=0, timeout=0.5).identify()


def test_idempotent_calls_are_retried_when_the_device_drops_the_connection(amt_device, connect) -> None:
    amt_device.control.inject(drop_connections=2)
    client = connect(amt_device, retries=2)
    assert client.get(GENERAL).class_name == GENERAL
    assert amt_device.control.stats()["connections"] >= 3


def test_retries_are_bounded(amt_device, connect) -> None:
    amt_device.control.inject(drop_connections=2)
    with pytest.raises(exc.UnreachableError):
        connect(amt_device, retries=1).identify()


def test_method_calls_are_never_retried_blindly(amt_device, connect) -> None:
    client = connect(amt_device, retries=2)
    client.identify()
    client.transport.close()  # the next call opens a new connection, which the device drops
    amt_device.control.inject(drop_connections=1)
    with pytest.raises(exc.UnreachableError):
        client.power.request(PowerAction.NMI, check_offered=False)
    assert amt_device.control.power_history() == []


def _dribble(conn: socket.socket) -> None:
    """Answer a status line, then one byte every 0.2 s for ever: each read succeeds, the reply never ends."""
    conn.recv(65536)
    try:
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(100):
            conn.sendall(b"1\r\nx\r\n")
            time.sleep(0.2)
    except OSError:
        pass


@pytest.mark.parametrize("client_transport", ["builtin"])  # requests' read timeout is per read (documented)
def test_the_read_timeout_bounds_the_whole_reply_not_each_read(amt_device, connect, tcp_server) -> None:
    client = connect(amt_device, port=tcp_server(_dribble), retries=0, timeout=0.6)
    started = time.monotonic()
    with pytest.raises(exc.ReadTimeoutError):
        client.get(GENERAL)
    assert time.monotonic() - started < 5  # a per-read timeout would wait for all 100 bytes (20 s)


def test_a_read_timeout_is_not_retried(amt_device, connect, tcp_server) -> None:
    accepted: list[int] = []

    def count_and_say_nothing(conn: socket.socket) -> None:
        accepted.append(1)
        _say_nothing(conn)

    with pytest.raises(exc.ReadTimeoutError):
        connect(amt_device, port=tcp_server(count_and_say_nothing), retries=2, timeout=0.3).get(GENERAL)
    assert len(accepted) == 1


def test_a_user_name_http_cannot_carry_is_a_local_error(amt_device) -> None:
    import amtkit

    with amtkit.Client(amt_device.host, port=amt_device.port, username="用户", password="x") as client:
        with pytest.raises(exc.LocalProtocolError, match="user name"):
            client.get(GENERAL)  # first contact goes unsigned; the signed retry cannot be encoded


def test_an_unknown_class_prefix_is_a_usage_error(amt_device, connect) -> None:
    with pytest.raises(exc.UsageError, match="Foo_Bar"):
        connect(amt_device).get("Foo_Bar")


def test_an_unreadable_ca_file_is_a_tls_configuration_error(amt_device, tmp_path) -> None:
    import amtkit

    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("this is not a certificate\n")
    with pytest.raises(exc.TLSError) as caught:
        amtkit.Client(amt_device.host, port=amt_device.tls_port, tls=amtkit.TLSConfig(ca_file=str(not_pem)),
                      password="x")
    assert caught.value.reason == "configuration"


def test_a_non_positive_timeout_is_a_usage_error(amt_device) -> None:
    import amtkit

    with pytest.raises(exc.UsageError, match="positive"):
        amtkit.Client(amt_device.host, port=amt_device.port, timeout=-1)
