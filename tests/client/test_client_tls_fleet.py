"""TLS at fleet scale: shared SSL contexts, session resumption, AMT's TLS versions and suites per
firmware generation, certificates and pins per host, and AMT 6+'s digest session caching on
kept-alive TLS connections."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import pytest
from click.testing import CliRunner

from amtkit import exceptions as exc
from amtkit import tls as amt_tls
from amtkit.cli.main import main
from amtkit.client import Client
from amtkit.config import TLSConfig
from amtkit.http.reply import ReplyReader

GENERAL = "AMT_GeneralSettings"


def tls_client(device, tls: TLSConfig, **options: object) -> Client:  # type: ignore[no-untyped-def]
    return Client(device.host, port=device.tls_port, username=device.username, password=device.password,
                  tls=tls, retries=0, timeout=10.0, **options)  # type: ignore[arg-type]


def handshake(device, *, minimum: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2,  # type: ignore[no-untyped-def]
              maximum: ssl.TLSVersion = ssl.TLSVersion.MAXIMUM_SUPPORTED, ciphers: str | None = None) -> ssl.SSLSocket:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version, context.maximum_version = minimum, maximum
    if ciphers:
        context.set_ciphers(ciphers)
    raw = socket.create_connection((device.host, device.tls_port), timeout=10)
    return context.wrap_socket(raw)


# -- shared contexts ---------------------------------------------------------------------------

def test_clients_with_the_same_tls_settings_share_one_ssl_context(make_device) -> None:
    device = make_device(tls=True)
    first, second = (tls_client(device, TLSConfig(pin_sha256=device.tls_sha256)) for _ in range(2))
    other = tls_client(device, TLSConfig(insecure=True))
    assert first.transport._tls_context is second.transport._tls_context
    assert first.transport._tls_context is not other.transport._tls_context


def test_a_pinned_context_loads_no_trust_store(make_device) -> None:
    device = make_device(tls=True)
    context = amt_tls.client_context(TLSConfig(pin_sha256=device.tls_sha256))
    assert context.cert_store_stats()["x509_ca"] == 0
    assert context.cert_store_stats()["x509"] == 0


def test_a_ca_file_is_read_once_for_every_client(make_device, amt_simulator, tmp_path: Path) -> None:
    device = make_device(tls=True)
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(amt_simulator.certificate.cert.read_bytes())
    config = TLSConfig(ca_file=str(ca_file))
    with tls_client(device, config) as client:
        assert client.get(GENERAL).class_name == GENERAL
    ca_file.unlink()  # read once: later clients need the file no more
    with tls_client(device, config) as client:
        assert client.get(GENERAL).class_name == GENERAL


# -- resumption --------------------------------------------------------------------------------

def test_a_new_client_for_the_same_device_resumes_the_tls_session(make_device, amt_simulator) -> None:
    device = make_device(tls=True)
    config = TLSConfig(pin_sha256=device.tls_sha256)
    server = amt_simulator.tls_context(device.device)
    with tls_client(device, config) as first:
        first.get(GENERAL)  # a full handshake, then (after the 401 closed it) a resumed one
    full = server.session_stats()["accept"] - server.session_stats()["hits"]
    with tls_client(device, config) as second:
        second.get(GENERAL)
        assert second.transport._socket.session_reused  # type: ignore[union-attr]
    assert server.session_stats()["accept"] - server.session_stats()["hits"] == full == 1


def test_a_reconnect_after_the_device_dropped_the_connection_resumes(make_device) -> None:
    device = make_device(tls=True)
    with tls_client(device, TLSConfig(pin_sha256=device.tls_sha256)) as client:
        client.get(GENERAL)
        first = client.transport._socket
        client.transport._discard_connection()  # as when AMT closes an idle connection
        client.get(GENERAL)
        assert client.transport._socket is not first
        assert client.transport._socket.session_reused  # type: ignore[union-attr]


def test_a_resumed_session_is_still_checked_against_the_pin(make_device, tmp_path: Path) -> None:
    device = make_device(tls=True)
    pins = tmp_path / "pins"
    pins.write_text(f"{device.host} {device.tls_sha256}\n")
    config = TLSConfig(pin_file=str(pins))
    with tls_client(device, config) as client:
        client.get(GENERAL)
    pins.write_text(f"{device.host} {'ab' * 32}\n")
    with tls_client(device, config) as client, pytest.raises(exc.TLSError) as caught:
        client.get(GENERAL)
    assert caught.value.reason == "pin-mismatch"


# -- AMT's TLS by firmware version -------------------------------------------------------------

def test_amt_16_speaks_tls_1_2_only_with_rsa_authenticated_aes(make_device) -> None:
    device = make_device(tls=True, amt_version="16.1.25")
    with handshake(device) as sock:
        assert sock.version() == "TLSv1.2"
        name, _, _ = sock.cipher()  # type: ignore[misc]
        assert "AES" in name and "ECDSA" not in name and "CHACHA" not in name
    for low, high in ((ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_3),):
        with pytest.raises(ssl.SSLError):
            handshake(device, minimum=low, maximum=high)


def test_amt_16_refuses_chacha20_suites(make_device) -> None:
    device = make_device(tls=True, amt_version="16.1.25")
    with pytest.raises(ssl.SSLError):
        handshake(device, maximum=ssl.TLSVersion.TLSv1_2, ciphers="ECDHE-RSA-CHACHA20-POLY1305")


def test_amt_21_negotiates_tls_1_3(make_device) -> None:
    device = make_device(tls=True, amt_version="21.0.5")
    with handshake(device) as sock:
        assert sock.version() == "TLSv1.3"


def test_amt_22_offers_no_aes_128_suite(make_device) -> None:
    device = make_device(tls=True, amt_version="22.0.1")
    with pytest.raises(ssl.SSLError):
        handshake(device, maximum=ssl.TLSVersion.TLSv1_2, ciphers="AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256")
    with handshake(device, maximum=ssl.TLSVersion.TLSv1_2) as sock:
        assert "AES256" in sock.cipher()[0]  # type: ignore[index]


@pytest.mark.parametrize("transport", ["builtin", "requests"])
def test_amt_11_speaks_only_tls_1_1_or_older_so_amtkit_says_it_needs_1_2(make_device, transport: str) -> None:
    device = make_device(tls=True, amt_version="11.8.50")
    with tls_client(device, TLSConfig(pin_sha256=device.tls_sha256), transport=transport) as client, \
            pytest.raises(exc.TLSError) as caught:
        client.get(GENERAL)
    assert caught.value.reason == "protocol"
    assert "TLS 1.2" in caught.value.hint and "--allow-old-tls" in caught.value.hint


# -- old TLS, asked for by name ----------------------------------------------------------------

def test_allowing_old_tls_gives_its_own_context_and_leaves_the_default_at_tls_1_2() -> None:
    default = amt_tls.client_context(TLSConfig(insecure=True))
    old = amt_tls.client_context(TLSConfig(insecure=True, allow_old_tls=True))
    assert old is not default
    assert amt_tls.client_context(TLSConfig(insecure=True, allow_old_tls=True)) is old
    assert default.minimum_version == ssl.TLSVersion.TLSv1_2
    assert old.minimum_version == ssl.TLSVersion.TLSv1
    assert {"AES128-SHA", "AES256-SHA"} <= {suite["name"] for suite in old.get_ciphers()}
    assert "AES128-SHA" not in {suite["name"] for suite in default.get_ciphers()}


@pytest.mark.parametrize("transport", ["builtin", "requests"])
def test_amt_11_is_reached_over_tls_1_1_when_old_tls_is_allowed_with_a_warning(make_device, transport: str,
                                                                             fresh_old_tls_warnings) -> None:
    device = make_device(tls=True, amt_version="11.8.50")
    with tls_client(device, TLSConfig(pin_sha256=device.tls_sha256), transport=transport,
                    allow_old_tls=True) as client, pytest.warns(amt_tls.OldTLSWarning) as caught:
        instance = client.get(GENERAL)
    assert instance["HostName"]
    assert "negotiated TLS 1.1" in str(caught[0].message)
    assert f"port {device.tls_port}" in str(caught[0].message)


@pytest.mark.parametrize("amt_version", ["13.0.40", "16.1.25"])  # TLS 1.1 and 1.2 offered; TLS 1.2 only
def test_allowing_old_tls_still_negotiates_tls_1_2_with_firmware_that_speaks_it_and_does_not_warn(
        make_device, recwarn: pytest.WarningsRecorder, amt_version: str) -> None:
    device = make_device(tls=True, amt_version=amt_version)
    with tls_client(device, TLSConfig(pin_sha256=device.tls_sha256, allow_old_tls=True)) as client:
        client.get(GENERAL)
        sock = client.transport._socket  # type: ignore[attr-defined]
        assert sock.version() == "TLSv1.2"
    assert not [w for w in recwarn if issubclass(w.category, amt_tls.OldTLSWarning)]


def test_fingerprint_of_amt_11_needs_allow_old_tls_and_then_records_its_pin(make_device, tmp_path: Path,
                                                                           fresh_old_tls_warnings) -> None:
    device = make_device(tls=True, amt_version="11.8.50")
    pins = tmp_path / "pins.txt"
    command = ["fingerprint", device.host, "--port", str(device.tls_port), "--pin-file", str(pins)]
    refused = CliRunner().invoke(main, command)
    assert refused.exit_code == 4 and "--allow-old-tls" in refused.output
    recorded = CliRunner().invoke(main, [*command, "--allow-old-tls"])
    assert recorded.exit_code == 0, recorded.output
    assert f"amtkit: warning: {device.host} port {device.tls_port} negotiated TLS 1.1" in recorded.output
    assert pins.read_text().split()[:2] == [device.host, device.tls_sha256]


def test_allow_old_tls_without_tls_is_a_usage_error() -> None:
    with pytest.raises(exc.UsageError) as caught:
        Client("127.0.0.1", password="p", allow_old_tls=True)
    assert "tls=TLSConfig" in caught.value.hint


# -- certificates and pins per host ------------------------------------------------------------

def test_devices_with_their_own_certificate_have_their_own_fingerprints(make_device, connect) -> None:
    one, two = make_device(tls=True, own_certificate=True), make_device(tls=True, own_certificate=True)
    assert one.tls_sha256 != two.tls_sha256
    with tls_client(one, TLSConfig(pin_sha256=two.tls_sha256)) as client, pytest.raises(exc.TLSError) as caught:
        client.get(GENERAL)
    assert caught.value.reason == "pin-mismatch"
    with tls_client(two, TLSConfig(pin_sha256=two.tls_sha256)) as client:
        assert client.get(GENERAL).class_name == GENERAL


def test_a_pin_file_without_the_host_is_refused_before_any_request(make_device, tmp_path: Path) -> None:
    device = make_device(tls=True)
    pins = tmp_path / "pins"
    pins.write_text("# nobody yet\n")
    with tls_client(device, TLSConfig(pin_file=str(pins))) as client, pytest.raises(exc.TLSError) as caught:
        client.get(GENERAL)
    assert caught.value.reason == "no-pin"
    assert "amtkit fingerprint" in caught.value.hint
    assert device.control.stats()["http_requests"] == 0


def test_fingerprint_fills_the_pin_file_on_first_contact_and_every_command_uses_it(make_device, tmp_path: Path,
                                                                                   monkeypatch) -> None:
    device = make_device(tls=True, own_certificate=True)
    pins = tmp_path / "pins.txt"
    runner = CliRunner()
    first = runner.invoke(main, ["fingerprint", device.host, "--port", str(device.tls_port), "--pin-file", str(pins)])
    assert first.exit_code == 0, first.output
    assert "trusted on first use" in first.output
    assert pins.read_text().split()[:2] == [device.host, device.tls_sha256]
    again = runner.invoke(main, ["fingerprint", device.host, "--port", str(device.tls_port), "--pin-file", str(pins)])
    assert again.exit_code == 0 and "matches" in again.output
    monkeypatch.setenv("AMT_PASSWORD", device.password)
    status = runner.invoke(main, ["power", "status", device.host, "--port", str(device.tls_port), "--pin-file",
                                  str(pins), "--json"])
    assert status.exit_code == 0, status.output
    assert '"ok": true' in status.output


def test_fingerprint_keeps_the_old_pin_when_the_certificate_changed(make_device, tmp_path: Path) -> None:
    device = make_device(tls=True)
    pins = tmp_path / "pins.txt"
    pins.write_text(f"{device.host} {'cd' * 32}\n")
    result = CliRunner().invoke(main, ["fingerprint", device.host, "--port", str(device.tls_port), "--pin-file",
                                       str(pins)])
    assert result.exit_code == 4
    assert "DIFFERS" in result.output
    assert pins.read_text() == f"{device.host} {'cd' * 32}\n"


def test_a_malformed_pin_file_is_a_configuration_error(make_device, tmp_path: Path) -> None:
    device = make_device(tls=True)
    pins = tmp_path / "pins"
    pins.write_text(f"{device.host} not-a-fingerprint\n")
    with tls_client(device, TLSConfig(pin_file=str(pins))) as client, pytest.raises(exc.TLSError) as caught:
        client.get(GENERAL)
    assert caught.value.reason == "configuration"
    assert "line 1" in str(caught.value)


# -- digest session caching on TLS (AMT 6+) ----------------------------------------------------

def _post(sock: socket.socket, device, authorization: str | None) -> int:  # type: ignore[no-untyped-def]
    body = (b'<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
            b'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
            b'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Header>'
            b'<a:Action s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/09/transfer/Get</a:Action>'
            b'<a:To s:mustUnderstand="true">/wsman</a:To><w:ResourceURI s:mustUnderstand="true">'
            b"http://intel.com/wbem/wscim/1/amt-schema/1/AMT_GeneralSettings</w:ResourceURI>"
            b'<a:MessageID s:mustUnderstand="true">uuid:1</a:MessageID></s:Header><s:Body></s:Body></s:Envelope>')
    head = f"POST /wsman HTTP/1.1\r\nHost: {device.host}\r\nContent-Length: {len(body)}\r\n"
    if authorization:
        head += f"Authorization: {authorization}\r\n"
    sock.sendall(head.encode() + b"\r\n" + body)
    reader = ReplyReader(max_body=1 << 20)
    while (reply := reader.feed(sock.recv(65536))) is None:
        pass
    if reply.status == 401:
        _post.challenge = reply.headers["WWW-Authenticate"]  # type: ignore[attr-defined]
    return reply.status


def _signed(device, challenge: str, nc: int) -> str:  # type: ignore[no-untyped-def]
    from amtkit.http.digest import Credentials, authorization_header, parse_challenge

    return authorization_header(Credentials(device.username, device.password), parse_challenge(challenge),
                                method="POST", uri="/wsman", nc=nc)


def _authenticated_tls_connection(device) -> ssl.SSLSocket:  # type: ignore[no-untyped-def]
    with handshake(device) as probe:
        assert _post(probe, device, None) == 401
    sock = handshake(device)
    assert _post(sock, device, _signed(device, _post.challenge, 1)) == 200  # type: ignore[attr-defined]
    return sock


def test_amt_before_6_never_caches_a_digest_session(make_device) -> None:
    assert not make_device(amt_version="5.2.10").device.caches_tls_digest_sessions
    assert make_device(amt_version="6.0.30").device.caches_tls_digest_sessions


def test_amt_admits_unsigned_requests_on_an_authenticated_tls_connection(make_device) -> None:
    device = make_device(tls=True, amt_version="16.1.25")
    with _authenticated_tls_connection(device) as sock:
        assert _post(sock, device, None) == 200
        assert _post(sock, device, None) == 200
    assert device.control.stats()["tls_session_auth"] == 2


def test_a_new_tls_connection_must_authenticate_again(make_device) -> None:
    device = make_device(tls=True)
    with _authenticated_tls_connection(device):
        with handshake(device) as other:
            assert _post(other, device, None) == 401


def test_the_digest_session_ends_when_the_account_changes(make_device) -> None:
    device = make_device(tls=True)
    with _authenticated_tls_connection(device) as sock:
        with device.device.lock:
            device.device.accounts.set_password(device.username, "N3w-P@ssw0rd")
        assert _post(sock, device, None) == 401


def test_a_device_without_digest_session_caching_wants_authorization_on_every_request(make_device) -> None:
    device = make_device(tls=True, tls_digest_session_cache=False)
    with _authenticated_tls_connection(device) as sock:
        assert _post(sock, device, None) == 401


def test_the_client_sends_later_requests_unsigned_on_an_authenticated_tls_connection(make_device) -> None:
    device = make_device(tls=True)
    with tls_client(device, TLSConfig(pin_sha256=device.tls_sha256)) as client:
        for _ in range(5):
            client.get(GENERAL)
    stats = device.control.stats()
    assert stats["tls_session_auth"] == 4
    assert stats["auth_challenges"] == 1


def test_the_client_signs_every_request_for_a_device_that_does_not_cache(make_device) -> None:
    device = make_device(tls=True, tls_digest_session_cache=False)
    with tls_client(device, TLSConfig(pin_sha256=device.tls_sha256)) as client:
        for _ in range(5):
            client.get(GENERAL)
    stats = device.control.stats()
    assert stats["tls_session_auth"] == 0
    assert stats["auth_challenges"] == 2  # first contact, and the one unsigned try


def test_over_plain_http_every_request_is_signed(make_device, connect) -> None:
    device = make_device()
    client = connect(device)
    for _ in range(3):
        client.get(GENERAL)
    assert device.control.stats()["tls_session_auth"] == 0
    assert device.control.stats()["auth_challenges"] == 1
