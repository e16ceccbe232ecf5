"""Shared fixtures of the spine suite.

* ``wire``: the recorded AMT messages vendored in ``tests/data/amt-wire`` (provenance in its
  ``PROVENANCE.md``; a missing file fails the test, it never skips), with a strict dechunker and an
  HTTP message reader;
* ``recorded_response``: a parameter that runs a test once per recorded WS-Man response file;
* ``make_device`` / ``connect``: simulated devices built to order on loopback, and amtkit
  clients for them (closed after the test);
* ``raw_device``: a socket that sends exactly the bytes a test writes, for talking to the
  simulator the way other real clients do.

``amt_simulator`` and ``amt_device`` themselves come from amtkit's pytest plugin (entry point).
"""

from __future__ import annotations

import hashlib
import re
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

# No per-example deadline anywhere: the machine is shared and a timing is not a property (speed is
# measured in bench/). Tests may still set their own settings.
settings.register_profile("amtkit", deadline=None)
settings.load_profile("amtkit")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
WIRE_DIR = PROJECT_ROOT / "tests" / "data" / "amt-wire"
"""Recorded AMT messages the suite reads (copied from the developers' ``../shared/amt-wire`` with
``scripts/vendor_wire.py``); part of the repository, so their absence is an error, never a skip."""


# --- HTTP messages -----------------------------------------------------------------------------


def dechunk(data: bytes) -> bytes:
    """Undo chunked transfer coding strictly: every size line must match the data after it."""
    body = bytearray()
    pos = 0
    while True:
        eol = data.index(b"\r\n", pos)
        size = int(data[pos:eol].split(b";", 1)[0], 16)
        start = eol + 2
        if size == 0:
            return bytes(body)
        if data[start + size:start + size + 2] != b"\r\n":
            raise ValueError(f"chunk at byte {pos} is not {size} bytes long")
        body += data[start:start + size]
        pos = start + size + 2


def chunk_size_lines(data: bytes) -> list[bytes]:
    """The size lines of a chunked body, in order (the final ``0`` included)."""
    lines = []
    pos = 0
    while True:
        eol = data.index(b"\r\n", pos)
        line = data[pos:eol]
        lines.append(line)
        size = int(line.split(b";", 1)[0], 16)
        if size == 0:
            return lines
        pos = eol + 2 + size + 2


@dataclass(frozen=True)
class HTTPMessage:
    """One HTTP response: status, headers in wire order, the body with and without framing."""

    status_line: str
    headers: list[tuple[str, str]]
    body: bytes
    framed_body: bytes

    @property
    def status(self) -> int:
        return int(self.status_line.split(" ", 2)[1])

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    @property
    def header_names(self) -> list[str]:
        return [key for key, _ in self.headers]

    @property
    def chunked(self) -> bool:
        return "chunked" in (self.header("Transfer-Encoding") or "").lower()


def parse_http_head(head: bytes) -> HTTPMessage:
    """Status line and headers only (the body fields stay empty)."""
    lines = head.decode("latin-1").split("\r\n")
    headers = [(k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in lines[1:])]
    return HTTPMessage(lines[0], headers, b"", b"")


def parse_http_response(raw: bytes) -> HTTPMessage:
    head, _, framed = raw.partition(b"\r\n\r\n")
    message = parse_http_head(head)
    body = dechunk(framed) if message.chunked else framed
    return HTTPMessage(message.status_line, message.headers, body, framed)


# --- the recorded corpus -----------------------------------------------------------------------

_INDEX_ROW = re.compile(r"^\| (\S+) \| ([a-z-]+) \| ((?:[^|\\]|\\.)*) \|")  # cells may hold escaped \|


class MissingWireData(Exception):
    """The vendored recordings are not where the suite expects them (a broken checkout)."""


def _require_wire_dir() -> Path:
    if not (WIRE_DIR / "PROVENANCE.md").is_file():
        raise MissingWireData(f"the vendored AMT recordings are missing: {WIRE_DIR}/PROVENANCE.md "
                              "(tests/data/amt-wire is part of the repository)")
    return WIRE_DIR


class WireCorpus:
    """The files of ``tests/data/amt-wire`` and what ``PROVENANCE.md`` says about each."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._rows: dict[str, tuple[str, str]] = {}
        for line in (root / "PROVENANCE.md").read_text(encoding="utf-8").splitlines():
            match = _INDEX_ROW.match(line)
            if match and match.group(1) != "file":
                self._rows[match.group(1)] = (match.group(2), match.group(3).strip())

    def names(self) -> list[str]:
        """Every vendored file that has a provenance row."""
        return sorted(self._rows)

    def read(self, name: str) -> bytes:
        """A vendored file's bytes; a name without a provenance row is an error, not a skip."""
        if name not in self._rows:
            raise MissingWireData(f"{name} is not vendored (no row in {self.root}/PROVENANCE.md); "
                                  "add it with scripts/vendor_wire.py")
        return (self.root / name).read_bytes()

    def kind(self, name: str) -> str:
        return self._rows[name][0]

    def description(self, name: str) -> str:
        return self._rows[name][1]

    def http(self, name: str) -> HTTPMessage:
        return parse_http_response(self.read(name))

    def envelope(self, name: str) -> bytes:
        """The XML of a response file, whatever its framing (``.xml``, ``.chunked``, ``.http``)."""
        data = self.read(name)
        if name.endswith(".chunked"):
            return dechunk(data)
        if name.endswith(".http"):
            return parse_http_response(data).body
        return data


def wire_corpus() -> WireCorpus:
    return WireCorpus(_require_wire_dir())


def recorded_response_names() -> list[str]:
    """Every recorded WS-Man response (``*.response*`` as XML, chunked body or full HTTP)."""
    return [name for name in wire_corpus().names()
            if ".response" in name and name.endswith((".xml", ".chunked", ".http"))]


def real_capture_envelope_names() -> list[str]:
    """Recorded responses that are verbatim AMT bytes (kind ``real-capture``), as ``.xml``."""
    corpus = wire_corpus()
    return [name for name in recorded_response_names()
            if name.endswith(".xml") and corpus.kind(name) == "real-capture"]


def chunked_body_names() -> list[str]:
    """Recorded response bodies kept with their HTTP chunk framing (``.chunked``)."""
    return [name for name in recorded_response_names() if name.endswith(".chunked")]


def redirection_message_names() -> list[str]:
    """Recorded and constructed redirection-protocol messages (``Redirection.*.bin``)."""
    return [name for name in wire_corpus().names() if name.startswith("Redirection.") and name.endswith(".bin")]


_CORPUS_PARAMETERS = {
    "recorded_response": recorded_response_names,
    "real_capture_envelope": real_capture_envelope_names,
    "recorded_chunked_body": chunked_body_names,
    "redirection_message": redirection_message_names,
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run tests that take a corpus parameter (names above) once per matching vendored file; an
    empty list is an error (the data set is gone), never a silent zero-test collection."""
    for fixture, lister in _CORPUS_PARAMETERS.items():
        if fixture in metafunc.fixturenames:
            names = lister()
            if not names:
                raise MissingWireData(f"no vendored recordings for {fixture} in {WIRE_DIR}")
            metafunc.parametrize(fixture, names)


@pytest.fixture(scope="session")
def wire() -> WireCorpus:
    return wire_corpus()


# --- the suite's own store --------------------------------------------------------------------


@pytest.fixture(autouse=True, scope="session")
def private_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every amtkit the suite runs (in process or as a subprocess) uses a store of the suite's own,
    never the user's (``~/.local/share/amtkit``): a store written by another amtkit version there
    must not change what the tests see. Tests that need another store still set ``AMTKIT_STORE``."""
    import os

    path = tmp_path_factory.mktemp("store") / "amtkit.db"
    previous = os.environ.get("AMTKIT_STORE")
    os.environ["AMTKIT_STORE"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("AMTKIT_STORE", None)
    else:
        os.environ["AMTKIT_STORE"] = previous


# --- simulated devices and clients -------------------------------------------------------------


@pytest.fixture
def new_device(amt_simulator):  # type: ignore[no-untyped-def]
    """Factory of bare simulated devices on 127.0.0.1: free HTTP port, no TLS, instant power changes
    unless the test says otherwise; removed after the test."""
    from amtsim import DeviceConfig, Timing

    created = []

    def make(**config: object):  # type: ignore[no-untyped-def]
        settings: dict[str, object] = {"http_port": 0, "tls_port": None,
                                       "timing": Timing(power_transition=0, power_off_phase=0), **config}
        device = amt_simulator.add_device(DeviceConfig(**settings))  # type: ignore[arg-type]
        created.append(device)
        return device

    yield make
    for device in created:
        amt_simulator.remove_device(device)


@pytest.fixture
def make_device(amt_simulator, new_device):  # type: ignore[no-untyped-def]
    """Factory: ``make_device(timing=Timing(...), sleep_supported=False, tls=True, ...)``.

    Power changes are instant unless ``timing`` says otherwise; no TLS listener unless ``tls``.
    """
    from amtkit.pytest_plugin import AMTDeviceInfo
    from amtsim.control import DeviceControl

    def make(*, timing: object = None, tls: bool = False, **config: object) -> AMTDeviceInfo:
        extra: dict[str, object] = {"tls_port": 0} if tls else {}
        if timing is not None:
            extra["timing"] = timing
        device = new_device(**extra, **config)
        device_config = device.config
        return AMTDeviceInfo(
            host=device_config.address, port=device_config.http_port, tls_port=device_config.tls_port,
            username=device_config.username, password=device_config.password,
            tls_sha256=amt_simulator.tls_sha256(device) if tls else None, device=device,
            control=DeviceControl(device),
        )

    return make


@pytest.fixture
def fresh_old_tls_warnings() -> None:
    """amtkit warns of old TLS once per device address and version per process: forget the earlier warnings (a
    device of this test may have the address an earlier one had)."""
    from amtkit import tls as amt_tls

    amt_tls._warned.clear()


@pytest.fixture
def client_transport() -> str:
    """The WS-Man transport ``connect`` gives clients; ``tests/client`` runs with each of them."""
    return "builtin"


@pytest.fixture
def connect(client_transport: str) -> Iterator[Callable[..., object]]:
    """Factory: ``connect(device, **client_kwargs)`` -> an :class:`amtkit.Client` logged in to it."""
    from amtkit.client import Client

    clients: list[Client] = []

    def make(device, **overrides: object) -> Client:  # type: ignore[no-untyped-def]
        kwargs: dict[str, object] = {"port": device.port, "username": device.username,
                                     "password": device.password, "timeout": 5.0,
                                     "transport": client_transport, **overrides}
        client = Client(device.host, **kwargs)  # type: ignore[arg-type]
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


# --- raw HTTP, the way other clients talk ------------------------------------------------------


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def challenge_params(header: str) -> dict[str, str]:
    """``Digest realm="r", nonce="n",stale="false",qop="auth"`` -> its parameters (test-side parser)."""
    return {key.lower(): value for key, value in re.findall(r'(\w+)="?([^",]*)"?', header.partition(" ")[2])}


def digest_authorization(
    username: str, password: str, realm: str, nonce: str, *, nc: int = 1, cnonce: str = "0a4f113b",
    uri: str = "/wsman", qop_quoted: bool = False, algorithm: bool = False, spaces: bool = False,
) -> str:
    """An RFC 2617 ``Authorization`` value computed here, in the styles clients use: ``qop`` and
    ``nc`` quoted or not, ``algorithm=MD5`` or not, spaces after commas or not."""
    nc_text = f"{nc:08x}"
    ha1 = md5_hex(f"{username}:{realm}:{password}")
    response = md5_hex(f"{ha1}:{nonce}:{nc_text}:{cnonce}:auth:{md5_hex('POST:' + uri)}")
    qop = '"auth"' if qop_quoted else "auth"
    nc_value = f'"{nc_text}"' if qop_quoted else nc_text
    parts = [f'username="{username}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"',
             f'response="{response}"', f"qop={qop}", f"nc={nc_value}", f'cnonce="{cnonce}"']
    if algorithm:
        parts.insert(4, "algorithm=MD5")
    return "Digest " + (", " if spaces else ",").join(parts)


def http_post(body: bytes, *, authorization: str | None = None, path: str = "/wsman",
              headers: tuple[tuple[str, str], ...] = (("Host", "127.0.0.1:16992"),
                                                      ("Content-Type", "application/soap+xml;charset=UTF-8")),
              chunked: bool = False) -> bytes:
    """A POST with the given headers, framed by Content-Length or chunked (in two chunks)."""
    lines = [f"POST {path} HTTP/1.1"]
    if authorization is not None:
        lines.append(f"Authorization: {authorization}")
    lines += [f"{key}: {value}" for key, value in headers]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
        half = len(body) // 2
        framed = b"".join(b"%x\r\n%b\r\n" % (len(part), part) for part in (body[:half], body[half:]) if part)
        framed += b"0\r\n\r\n"
    else:
        lines.append(f"Content-Length: {len(body)}")
        framed = body
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + framed


class RawConnection:
    """One TCP connection that sends exactly what the test writes and reads whole HTTP replies."""

    def __init__(self, host: str, port: int, timeout: float = 5.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self._buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        self._buffer += data
        return bool(data)

    def receive(self) -> HTTPMessage:
        while b"\r\n\r\n" not in self._buffer:
            if not self._fill():
                raise ConnectionError(f"connection closed before a reply; got {self._buffer[:200]!r}")
        head, _, rest = self._buffer.partition(b"\r\n\r\n")
        self._buffer = rest
        probe = parse_http_head(head)
        if probe.chunked:
            while not self._chunked_complete():
                if not self._fill():
                    raise ConnectionError("connection closed inside a chunked body")
            end = self._chunked_end()
        else:
            length = int(probe.header("Content-Length") or 0)
            while len(self._buffer) < length:
                if not self._fill():
                    raise ConnectionError("connection closed inside a body")
            end = length
        framed, self._buffer = self._buffer[:end], self._buffer[end:]
        return parse_http_response(head + b"\r\n\r\n" + framed)

    def _chunked_end(self) -> int:
        pos = 0
        while True:
            eol = self._buffer.index(b"\r\n", pos)
            size = int(self._buffer[pos:eol], 16)
            if size == 0:
                return eol + 4
            pos = eol + 2 + size + 2

    def _chunked_complete(self) -> bool:
        try:
            return len(self._buffer) >= self._chunked_end()
        except ValueError:
            return False

    def exchange(self, request: bytes) -> HTTPMessage:
        self.send(request)
        return self.receive()

    def closed_by_peer(self) -> bool:
        """True when the device closes the connection (after what it has sent)."""
        try:
            while self._fill():
                pass
        except (ConnectionResetError, TimeoutError):
            return False
        return True

    def close(self) -> None:
        self.sock.close()


class RawDevice:
    """Raw access to one simulated device: connections, challenges and signed requests."""

    def __init__(self, info) -> None:  # type: ignore[no-untyped-def]
        self.info = info
        self.connections: list[RawConnection] = []

    def connection(self, port: int | None = None) -> RawConnection:
        conn = RawConnection(self.info.host, port or self.info.port)
        self.connections.append(conn)
        return conn

    def post(self, body: bytes, **kwargs: object) -> HTTPMessage:
        """One request on a new connection."""
        return self.connection().exchange(http_post(body, **kwargs))  # type: ignore[arg-type]

    def challenge(self, body: bytes = b"") -> dict[str, str]:
        """Ask for a fresh challenge (an unauthenticated POST) and return its parameters."""
        reply = self.post(body)
        assert reply.status == 401, reply.status_line
        return challenge_params(reply.header("WWW-Authenticate") or "")

    def sign(self, challenge: dict[str, str], *, nc: int = 1, password: str | None = None,
             **style: object) -> str:
        return digest_authorization(self.info.username, self.info.password if password is None else password,
                                    challenge["realm"], challenge["nonce"], nc=nc, **style)  # type: ignore[arg-type]

    def close(self) -> None:
        for conn in self.connections:
            conn.close()


@pytest.fixture
def make_raw_device(make_device) -> Iterator[Callable[..., RawDevice]]:  # type: ignore[no-untyped-def]
    """Factory: ``make_raw_device(**make_device_arguments)`` -> raw socket access to a new device."""
    made: list[RawDevice] = []

    def make(**config: object) -> RawDevice:
        raw = RawDevice(make_device(**config))
        made.append(raw)
        return raw

    yield make
    for raw in made:
        raw.close()


@pytest.fixture
def raw_device(make_raw_device) -> RawDevice:  # type: ignore[no-untyped-def]
    """A fresh simulated device (with TLS) reached through raw sockets."""
    return make_raw_device(tls=True)


@pytest.fixture(scope="session")
def httpkit() -> object:
    """The raw-HTTP helpers above, for test modules (which cannot import a conftest)."""
    from types import SimpleNamespace

    return SimpleNamespace(
        dechunk=dechunk, chunk_size_lines=chunk_size_lines, parse_http_response=parse_http_response,
        digest_authorization=digest_authorization, http_post=http_post, challenge_params=challenge_params,
        md5_hex=md5_hex, RawConnection=RawConnection,
    )
