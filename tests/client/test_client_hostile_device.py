"""The client against a hostile or broken device: a scripted raw-socket server on loopback sends
exactly the bytes each test writes, and every failure must reach the caller as an AMTError with
its category, never ``ValueError``/``OverflowError``/``MemoryError``, a hang or a silent reconnect.

The envelopes below are written out as literals (namespaces from DSP0226/DSP0227 and the WS-*
specifications), not built with amtkit's own writers.
"""

from __future__ import annotations

import hashlib
import resource
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator

import pytest

from amtkit import exceptions as exc
from amtkit.client import Client, EnumerationLimits

GENERAL = "AMT_GeneralSettings"
REALM = "Digest:0A0B0C0D0E0F00112233445566778899"
NONCE = "B9AX94iAAAAAAAAAx6rrSfPHGUrx/3uA"
DIGEST_CHALLENGE = f'Digest realm="{REALM}", nonce="{NONCE}",stale="false",qop="auth"'

_NS = (
    'xmlns:a="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:b="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
    'xmlns:c="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" '
)
GENERAL_URI = "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_GeneralSettings"
GET_RESPONSE = (
    f'<?xml version="1.0" encoding="UTF-8"?><a:Envelope {_NS}xmlns:g="{GENERAL_URI}"><a:Header>'
    "<b:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</b:To><b:RelatesTo>0</b:RelatesTo>"
    '<b:Action a:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse</b:Action>'
    "<b:MessageID>uuid:00000000-8086-8086-8086-000000000001</b:MessageID>"
    f"<c:ResourceURI>{GENERAL_URI}</c:ResourceURI></a:Header><a:Body><g:AMT_GeneralSettings>"
    "<g:HostName>hostile</g:HostName><g:InstanceID>Intel(r) AMT: General Settings</g:InstanceID>"
    "</g:AMT_GeneralSettings></a:Body></a:Envelope>"
).encode()


def _enumeration_reply(action: str, body: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><a:Envelope {_NS}'
        f'xmlns:g="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:h="{GENERAL_URI}"><a:Header>'
        "<b:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</b:To><b:RelatesTo>0</b:RelatesTo>"
        f'<b:Action a:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/09/enumeration/{action}</b:Action>'
        "<b:MessageID>uuid:00000000-8086-8086-8086-000000000002</b:MessageID>"
        f"<c:ResourceURI>{GENERAL_URI}</c:ResourceURI></a:Header><a:Body>{body}</a:Body></a:Envelope>"
    ).encode()


ENUMERATE_RESPONSE = _enumeration_reply(
    "EnumerateResponse",
    "<g:EnumerateResponse><g:EnumerationContext>C1000000-0000-0000-0000-000000000000</g:EnumerationContext>"
    "</g:EnumerateResponse>")
ENDLESS_PULL_RESPONSE = _enumeration_reply(
    "PullResponse",
    "<g:PullResponse><g:EnumerationContext>C1000000-0000-0000-0000-000000000000</g:EnumerationContext>"
    "<g:Items><h:AMT_GeneralSettings><h:HostName>again</h:HostName></h:AMT_GeneralSettings></g:Items>"
    "</g:PullResponse>")


def http_reply(body: bytes, *, status: str = "200 OK", extra: str = "") -> bytes:
    head = (f"HTTP/1.1 {status}\r\nServer: Intel(R) Active Management Technology 16.1.25\r\n{extra}"
            f"Content-Type: application/soap+xml; charset=UTF-8\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


def chunked_reply(chunks: bytes, *, extra: str = "") -> bytes:
    return (f"HTTP/1.1 200 OK\r\nServer: Intel(R) Active Management Technology 16.1.25\r\n{extra}"
            "Content-Type: application/soap+xml; charset=UTF-8\r\nTransfer-Encoding: chunked\r\n\r\n"
            ).encode() + chunks


Answer = Callable[[bytes, socket.socket], bytes | None]


class ScriptedDevice:
    """Accepts connections on loopback; ``answer(request, connection)`` returns the bytes to send
    for each request read (or None to close without answering)."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests: list[bytes] = []
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accepter = threading.Thread(target=self._accept, daemon=True)
        self._accepter.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        buffer = b""
        with conn:
            while not self._stop.is_set():
                try:
                    while b"\r\n\r\n" not in buffer:
                        data = conn.recv(65536)
                        if not data:
                            return
                        buffer += data
                    head, _, rest = buffer.partition(b"\r\n\r\n")
                    length = 0
                    for line in head.split(b"\r\n")[1:]:
                        name, _, value = line.partition(b":")
                        if name.strip().lower() == b"content-length":
                            length = int(value)
                    while len(rest) < length:
                        data = conn.recv(65536)
                        if not data:
                            return
                        rest += data
                    request, buffer = head + b"\r\n\r\n" + rest[:length], rest[length:]
                    self.requests.append(request)
                    answer = self.answer(request, conn)
                    if answer is None:
                        return
                    conn.sendall(answer)
                except OSError:
                    return

    def close(self) -> None:
        self._stop.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() at once
        except OSError:
            pass
        self._listener.close()
        self._accepter.join(timeout=5)
        for thread in self._threads:
            thread.join(timeout=5)


@pytest.fixture
def scripted() -> Iterator[Callable[[Answer], ScriptedDevice]]:
    devices: list[ScriptedDevice] = []

    def start(answer: Answer) -> ScriptedDevice:
        device = ScriptedDevice(answer)
        devices.append(device)
        return device

    yield start
    for device in devices:
        device.close()


def always(data: bytes) -> Answer:
    return lambda request, conn: data


def client_for(device: ScriptedDevice, **options: object) -> Client:
    settings: dict[str, object] = {"password": "P@ssw0rd", "retries": 0, "timeout": 5.0}
    settings.update(options)
    return Client("127.0.0.1", port=device.port, **settings)  # type: ignore[arg-type]


def assert_fails_with(client: Client, error: type[exc.AMTError]) -> exc.AMTError:
    with client, pytest.raises(exc.AMTError) as caught:
        client.get(GENERAL)
    assert isinstance(caught.value, error), repr(caught.value)
    return caught.value


# -- framing -----------------------------------------------------------------------------------

def test_a_negative_chunk_size_is_a_protocol_error(scripted) -> None:
    device = scripted(always(chunked_reply(b"-5\r\nhello\r\n0\r\n\r\n")))
    assert assert_fails_with(client_for(device), exc.RemoteProtocolError).category == "protocol"


def test_a_twenty_digit_chunk_size_is_a_protocol_error(scripted) -> None:
    device = scripted(always(chunked_reply(b"FFFFFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n")))
    assert_fails_with(client_for(device), exc.RemoteProtocolError)


def test_a_chunk_longer_than_its_size_is_a_protocol_error(scripted) -> None:
    device = scripted(always(chunked_reply(b"3\r\nhello\r\n0\r\n\r\n")))
    assert_fails_with(client_for(device), exc.RemoteProtocolError)


def test_a_huge_content_length_is_refused_before_anything_is_allocated(scripted) -> None:
    device = scripted(always(b"HTTP/1.1 200 OK\r\nContent-Length: 999999999999999999\r\n\r\n<a"))
    tracemalloc.start()
    try:
        error = assert_fails_with(client_for(device), exc.RemoteProtocolError)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "999999999999999999" in str(error)
    assert peak < 4 * 1024 * 1024


def test_a_content_length_of_thirty_digits_is_a_protocol_error(scripted) -> None:
    device = scripted(always(b"HTTP/1.1 200 OK\r\nContent-Length: " + b"9" * 30 + b"\r\n\r\n"))
    assert_fails_with(client_for(device), exc.RemoteProtocolError)


def test_conflicting_content_lengths_are_a_protocol_error(scripted) -> None:
    device = scripted(always(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"))
    assert_fails_with(client_for(device), exc.RemoteProtocolError)


def test_content_length_together_with_chunked_is_a_protocol_error(scripted) -> None:
    device = scripted(always(chunked_reply(b"5\r\nhello\r\n0\r\n\r\n", extra="Content-Length: 5\r\n")))
    assert_fails_with(client_for(device), exc.RemoteProtocolError)


def test_a_chunked_body_beyond_the_reply_cap_is_refused(scripted) -> None:
    device = scripted(always(chunked_reply(b"FFFFFFFF\r\n")))
    assert_fails_with(client_for(device), exc.RemoteProtocolError)


def test_an_endless_header_section_is_refused_at_its_cap(scripted) -> None:
    device = scripted(always(b"HTTP/1.1 200 OK\r\n" + b"X-Junk: " + b"a" * (128 * 1024)))
    assert_fails_with(client_for(device), exc.RemoteProtocolError)


def test_a_service_that_is_not_http_is_not_detected_without_waiting_for_a_line_end(scripted) -> None:
    device = scripted(always(b"SSH-2.0-OpenSSH_9.6"))
    started = time.monotonic()
    error = assert_fails_with(client_for(device, timeout=20.0), exc.NotDetectedError)
    assert error.category == "not-detected"
    assert time.monotonic() - started < 10


def test_a_device_that_dribbles_its_answer_hits_the_whole_reply_deadline(scripted) -> None:
    def dribble(request: bytes, conn: socket.socket) -> bytes | None:
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        for _ in range(40):
            time.sleep(0.05)
            conn.sendall(b"X: y\r\n")
        return None

    device = scripted(dribble)
    started = time.monotonic()
    assert_fails_with(client_for(device, timeout=0.5), exc.ReadTimeoutError)
    assert time.monotonic() - started < 1.5


def test_a_connection_closed_mid_answer_is_a_protocol_error(scripted) -> None:
    device = scripted(lambda request, conn: (conn.sendall(chunked_reply(b"10\r\nonly part")), None)[1])
    assert_fails_with(client_for(device), exc.RemoteProtocolError)


def test_a_connection_closed_before_any_answer_is_unreachable(scripted) -> None:
    device = scripted(lambda request, conn: None)
    assert_fails_with(client_for(device), exc.UnreachableError)


def test_bytes_after_a_complete_reply_retire_the_connection(scripted) -> None:
    device = scripted(always(http_reply(GET_RESPONSE) + b"HTTP/1.1 200 OK\r\n"))
    with client_for(device, password=None) as client:
        for _ in range(3):
            client.get(GENERAL)
    assert device.connections == 3


# -- WWW-Authenticate --------------------------------------------------------------------------

def _digest_then_get(challenge_headers: str) -> Answer:
    def answer(request: bytes, conn: socket.socket) -> bytes:
        if b"\r\nAuthorization: Digest " not in request:
            return (f"HTTP/1.1 401 Unauthorized\r\n{challenge_headers}Content-Length: 0\r\n"
                    "Connection: close\r\n\r\n").encode()
        return http_reply(GET_RESPONSE)

    return answer


def _response_field(request: bytes, name: str) -> str:
    header = next(line for line in request.split(b"\r\n") if line.startswith(b"Authorization: "))
    text = header.decode()
    start = text.index(f'{name}="') + len(name) + 2
    return text[start:text.index('"', start)]


def test_a_401_with_negotiate_and_digest_fields_authenticates_with_digest(scripted) -> None:
    device = scripted(_digest_then_get(f"WWW-Authenticate: Negotiate\r\nWWW-Authenticate: {DIGEST_CHALLENGE}\r\n"))
    with client_for(device) as client:
        assert client.get(GENERAL).properties["HostName"] == "hostile"
    signed = device.requests[-1]
    assert _response_field(signed, "nonce") == NONCE
    assert _response_field(signed, "realm") == REALM
    # RFC 2617 by hand: HA1 = MD5(user:realm:password), HA2 = MD5("POST:/wsman").
    text = next(line for line in signed.split(b"\r\n") if line.startswith(b"Authorization: ")).decode()
    nc = text.split("nc=")[1].split(",")[0].strip('"')
    cnonce = _response_field(signed, "cnonce")
    ha1 = hashlib.md5(f"admin:{REALM}:P@ssw0rd".encode()).hexdigest()
    ha2 = hashlib.md5(b"POST:/wsman").hexdigest()
    expected = hashlib.md5(f"{ha1}:{NONCE}:{nc}:{cnonce}:auth:{ha2}".encode()).hexdigest()
    assert _response_field(signed, "response") == expected


def test_negotiate_and_digest_in_one_field_authenticate_with_digest(scripted) -> None:
    device = scripted(_digest_then_get(f"WWW-Authenticate: Negotiate, {DIGEST_CHALLENGE}\r\n"))
    with client_for(device) as client:
        assert client.get(GENERAL).properties["HostName"] == "hostile"


def test_digest_before_negotiate_also_authenticates(scripted) -> None:
    device = scripted(_digest_then_get(f"WWW-Authenticate: {DIGEST_CHALLENGE}\r\nWWW-Authenticate: Negotiate\r\n"))
    with client_for(device) as client:
        assert client.get(GENERAL).properties["HostName"] == "hostile"


def test_a_negotiate_only_401_is_an_authentication_error_that_names_kerberos(scripted) -> None:
    device = scripted(_digest_then_get("WWW-Authenticate: Negotiate\r\n"))
    error = assert_fails_with(client_for(device), exc.AuthenticationError)
    assert "Kerberos" in str(error)


# -- enumeration -------------------------------------------------------------------------------

def _endless_enumeration(request: bytes, conn: socket.socket) -> bytes:
    if b"\r\nAuthorization: " not in request:
        return (f"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: {DIGEST_CHALLENGE}\r\nContent-Length: 0\r\n"
                "\r\n").encode()
    if b"enumeration/Enumerate<" in request:
        return http_reply(ENUMERATE_RESPONSE)
    if b"enumeration/Release<" in request:
        return http_reply(_enumeration_reply("ReleaseResponse", ""))
    return http_reply(ENDLESS_PULL_RESPONSE)


def test_an_enumeration_without_end_of_sequence_stops_at_the_page_limit(scripted) -> None:
    device = scripted(_endless_enumeration)
    with client_for(device, enumeration_limits=EnumerationLimits(pages=20)) as client, \
            pytest.raises(exc.RemoteProtocolError, match="EndOfSequence") as caught:
        client.enumerate(GENERAL)
    assert "20 pages" in str(caught.value)
    pulls = [r for r in device.requests if b"enumeration/Pull<" in r]
    assert len(pulls) == 20
    assert b"enumeration/Release<" in device.requests[-1]


def test_an_enumeration_without_end_of_sequence_stops_at_the_item_limit(scripted) -> None:
    device = scripted(_endless_enumeration)
    with client_for(device) as client, pytest.raises(exc.RemoteProtocolError, match="items"):
        client.enumerate(GENERAL, limits=EnumerationLimits(items=7))
    assert len([r for r in device.requests if b"enumeration/Pull<" in r]) == 7


def test_an_enumeration_without_end_of_sequence_stops_at_its_deadline(scripted) -> None:
    device = scripted(_endless_enumeration)
    started = time.monotonic()
    with client_for(device) as client, pytest.raises(exc.RemoteProtocolError, match="s without"):
        client.enumerate(GENERAL, limits=EnumerationLimits(seconds=0.3))
    assert time.monotonic() - started < 3


def test_enumeration_limits_must_be_positive() -> None:
    with pytest.raises(ValueError):
        EnumerationLimits(pages=0)


# -- descriptors above 1023 --------------------------------------------------------------------

@pytest.mark.parametrize("client_transport", ["builtin"])  # looks at the built-in transport's socket
def test_a_kept_alive_connection_is_reused_when_its_descriptor_is_above_1023(make_device, connect) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1400:
        if hard != resource.RLIM_INFINITY and hard < 1400:
            pytest.fail(f"the file limit ({hard}) cannot hold descriptors above 1023 for this test")
        resource.setrlimit(resource.RLIMIT_NOFILE, (1400, hard))
    fillers: list[socket.socket] = []
    try:
        while not fillers or fillers[-1].fileno() < 1100:
            fillers.append(socket.socket())
        device = make_device()
        client = connect(device)
        client.get(GENERAL)
        assert client.transport._socket is not None and client.transport._socket.fileno() > 1023
        before = device.control.stats()["connections"]
        for _ in range(5):
            client.get(GENERAL)
        assert device.control.stats()["connections"] == before
    finally:
        for filler in fillers:
            filler.close()
        if soft < 1400:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
