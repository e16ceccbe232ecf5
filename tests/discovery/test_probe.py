"""The probe engine against real loopback servers: RMCP responders built with our encoder, HTTP(S) banners."""

from __future__ import annotations

import asyncio
import datetime
import socket
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from amtkit.discovery import (
    Classification,
    ControlMode,
    HostRecord,
    IdentifyInfo,
    PongInfo,
    ProbeSettings,
    ProvisioningState,
    discover,
    discover_async,
    encode_pong,
    parse_server_header,
)
from amtkit.discovery.rmcp import decode_ping
from amtsim.rmcp import RmcpServer

AMT_15 = "Intel(R) Active Management Technology 15.0.23.1706"
AMT_7 = "Intel(R) Active Management Technology 7.1.91"
PONG_11_8 = PongInfo(open_port=16992, version=(11, 8), provisioning_state=ProvisioningState.POST)


@dataclass
class Device:
    """A simulated host: what it answers on RMCP, and the Server header of its HTTP/HTTPS ports (None: closed)."""

    address: str
    pong: PongInfo | None = None
    http: str | None = None
    https: str | None = None


@dataclass
class Lab:
    settings: ProbeSettings
    rmcp_lookups: list[str] = field(default_factory=list)


def free_port(kind: socket.SocketKind) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("0.0.0.0", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def tls_server_context(tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext:
    """A self-signed certificate, as AMT ships one."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "amt-sim")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256())
    )
    directory: Path = tmp_path_factory.mktemp("tls")
    (directory / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    return context


def banner_handler(server_header: str) -> object:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(
                b"HTTP/1.1 303 See Other\r\nLocation: /logon.htm\r\nContent-Length: 0\r\n"
                + f"Server: {server_header}\r\n\r\n".encode()
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    return handle


@asynccontextmanager
async def lab(
    devices: list[Device], tls: ssl.SSLContext | None = None, *, loopback_rmcp: bool = False, **settings: object
) -> AsyncIterator[Lab]:
    """Start the devices' servers on loopback; yield probe settings pointing at them."""
    rmcp_port, http_port, https_port = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_STREAM), free_port(
        socket.SOCK_STREAM
    )
    pongs = {d.address: d.pong for d in devices}
    # Generous TCP timeouts: a loaded CI machine must not turn a slow answer into a wrong classification
    # (loopback refuses closed ports at once, so nothing here waits for them).
    settings = {"connect_timeout": 5.0, "read_timeout": 10.0, **settings}
    result = Lab(ProbeSettings(rmcp_port=rmcp_port, http_port=http_port, https_port=https_port, **settings))  # type: ignore[arg-type]

    def lookup(ip: str) -> PongInfo | None:
        result.rmcp_lookups.append(ip)
        return pongs.get(ip)

    rmcp_addresses = [d.address for d in devices if d.pong is not None]
    if loopback_rmcp:
        rmcp = await RmcpServer.bind_loopback(lookup, port=rmcp_port)
    else:
        rmcp = await RmcpServer.bind(rmcp_addresses, lookup, port=rmcp_port)
    servers: list[asyncio.base_events.Server] = []
    for device in devices:
        if device.http is not None:
            servers.append(await asyncio.start_server(banner_handler(device.http), device.address, http_port))  # type: ignore[arg-type]
        if device.https is not None:
            servers.append(
                await asyncio.start_server(banner_handler(device.https), device.address, https_port, ssl=tls)  # type: ignore[arg-type]
            )
    try:
        yield result
    finally:
        rmcp.close()
        for server in servers:
            server.close()


def run_discovery(devices: list[Device], targets: str, tls: ssl.SSLContext | None = None, **kwargs: object) -> list[HostRecord]:
    settings = {k: v for k, v in kwargs.items() if k in ProbeSettings.__dataclass_fields__}
    extra = {k: v for k, v in kwargs.items() if k not in settings}

    async def run() -> list[HostRecord]:
        async with lab(devices, tls, **{"rmcp_timeout": 0.2, **settings}) as the_lab:
            return await discover_async(targets, settings=the_lab.settings, **extra)  # type: ignore[arg-type]

    return asyncio.run(run())


# ------------------------------------------------------------------------------------- classification


def test_amt_answering_ping_and_http_is_present_with_header_version_and_pong_state() -> None:
    (record,) = run_discovery([Device("127.0.20.1", pong=PONG_11_8, http=AMT_15)], "127.0.20.1")
    assert record.classification is Classification.AMT_PRESENT
    assert record.version == "15.0.23.1706" and record.provisioning_state is ProvisioningState.POST
    assert record.rmcp_answered and record.dash and record.server == AMT_15 and not record.tls_only


def test_open_web_ports_are_listed_with_their_real_port_numbers() -> None:
    devices = [Device("127.0.20.2", pong=PONG_11_8, http=AMT_15)]

    async def run() -> tuple[HostRecord, ProbeSettings]:
        async with lab(devices, rmcp_timeout=0.3) as the_lab:
            (record,) = await discover_async("127.0.20.2", settings=the_lab.settings)
            return record, the_lab.settings

    record, settings = asyncio.run(run())
    assert record.ports_open == (settings.http_port,)


def test_tls_only_amt_is_flagged_tls_only(tls_server_context: ssl.SSLContext) -> None:
    pong = PongInfo(open_port=16993, version=(11, 8), provisioning_state=ProvisioningState.POST)
    (record,) = run_discovery([Device("127.0.20.3", pong=pong, https=AMT_15)], "127.0.20.3", tls_server_context)
    assert record.classification is Classification.AMT_PRESENT and record.tls_only
    assert record.server == AMT_15


def test_amt_found_over_https_banner_alone_without_ping(tls_server_context: ssl.SSLContext) -> None:
    (record,) = run_discovery([Device("127.0.20.4", https=AMT_7)], "127.0.20.4", tls_server_context)
    assert record.classification is Classification.AMT_PRESENT and record.version == "7.1.91"
    assert not record.rmcp_answered and record.provisioning_state is None


def test_bare_amt_server_header_of_amt_11_counts_as_amt_with_pong_version() -> None:
    (record,) = run_discovery([Device("127.0.20.5", pong=PONG_11_8, http="AMT")], "127.0.20.5")
    assert record.classification is Classification.AMT_PRESENT and record.version == "11.8"


def test_host_refusing_all_ports_is_ports_closed() -> None:
    (record,) = run_discovery([], "127.0.20.6")
    assert record.classification is Classification.PORTS_CLOSED and record.ports_open == ()


def test_web_server_that_is_not_amt_is_not_amt() -> None:
    (record,) = run_discovery([Device("127.0.20.7", http="nginx/1.24.0")], "127.0.20.7")
    assert record.classification is Classification.NOT_AMT and record.server == "nginx/1.24.0"


def test_non_intel_pong_is_not_amt() -> None:
    (record,) = run_discovery([Device("127.0.20.8", pong=PongInfo(iana=4542))], "127.0.20.8")
    assert record.classification is Classification.NOT_AMT and record.rmcp_answered


def test_silent_host_with_http_probe_off_is_no_response() -> None:
    (record,) = run_discovery([], "127.0.20.9", http=False)
    assert record.classification is Classification.NO_RESPONSE and not record.rmcp_answered


def test_ping_only_discovery_takes_ports_and_tls_from_pong() -> None:
    pong = PongInfo(open_port=16993, version=(12, 0), provisioning_state=ProvisioningState.POST)
    devices = [Device("127.0.20.10", pong=pong)]

    async def run() -> tuple[HostRecord, ProbeSettings]:
        async with lab(devices, rmcp_timeout=0.3, http=False) as the_lab:
            (record,) = await discover_async("127.0.20.10", settings=the_lab.settings)
            return record, the_lab.settings

    record, settings = asyncio.run(run())
    assert record.classification is Classification.AMT_PRESENT and record.version == "12.0"
    assert record.ports_open == (settings.https_port,) and record.tls_only


def test_unprovisioned_amt_has_no_control_mode_yet() -> None:
    pong = PongInfo(open_port=0, version=(12, 0), provisioning_state=ProvisioningState.PRE)
    (record,) = run_discovery([Device("127.0.20.11", pong=pong)], "127.0.20.11")
    assert record.provisioning_state is ProvisioningState.PRE and record.control_mode is ControlMode.NONE


def test_provisioned_amt_without_identify_has_unknown_control_mode() -> None:
    (record,) = run_discovery([Device("127.0.20.12", pong=PONG_11_8, http=AMT_15)], "127.0.20.12")
    assert record.control_mode is ControlMode.UNKNOWN


# ------------------------------------------------------------------------------------- RMCP matching


def test_unanswered_ping_is_retried_once() -> None:
    calls: list[str] = []

    def silent_to_first_ping(ip: str) -> PongInfo | None:
        calls.append(ip)
        return None if len(calls) == 1 else PONG_11_8

    async def run() -> HostRecord:
        port = free_port(socket.SOCK_DGRAM)
        server = await RmcpServer.bind(["127.0.21.2"], silent_to_first_ping, port=port)
        try:
            settings = ProbeSettings(rmcp_port=port, rmcp_timeout=0.2, http=False)
            (record,) = await discover_async("127.0.21.2", settings=settings)
        finally:
            server.close()
        return record

    record = asyncio.run(run())
    assert record.rmcp_answered and calls == ["127.0.21.2", "127.0.21.2"]


def test_no_retry_when_retries_is_zero() -> None:
    calls: list[str] = []

    def silent(ip: str) -> PongInfo | None:
        calls.append(ip)
        return None

    async def run() -> None:
        port = free_port(socket.SOCK_DGRAM)
        server = await RmcpServer.bind(["127.0.21.3"], silent, port=port)
        try:
            settings = ProbeSettings(rmcp_port=port, rmcp_timeout=0.2, rmcp_retries=0, http=False)
            await discover_async("127.0.21.3", settings=settings)
        finally:
            server.close()

    asyncio.run(run())
    assert calls == ["127.0.21.3"]


class _WrongTag(asyncio.DatagramProtocol):
    """Answers every ping with a pong whose tag is not the one sent."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        tag = decode_ping(data)
        self.transport.sendto(encode_pong(PONG_11_8, (tag + 1) & 0xFF), addr)  # type: ignore[attr-defined]


def test_pong_with_a_tag_never_sent_is_ignored() -> None:
    async def run() -> HostRecord:
        port = free_port(socket.SOCK_DGRAM)
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(_WrongTag, local_addr=("127.0.21.4", port))
        try:
            settings = ProbeSettings(rmcp_port=port, rmcp_timeout=0.2, rmcp_retries=0, http=False)
            (record,) = await discover_async("127.0.21.4", settings=settings)
        finally:
            transport.close()
        return record

    assert not asyncio.run(run()).rmcp_answered


def test_pong_from_another_address_is_not_credited() -> None:
    """127.0.21.5 answers; 127.0.21.6 is silent. Each record gets only its own pong."""
    records = run_discovery([Device("127.0.21.5", pong=PONG_11_8)], "127.0.21.5 127.0.21.6", http=False)
    assert [r.rmcp_answered for r in records] == [True, False]


def test_every_silent_host_gets_one_ping_and_one_retry_then_no_response() -> None:
    """200 silent addresses: each is pinged twice (the retry), none more; how long that takes is for bench/."""
    async def run() -> tuple[list[HostRecord], list[str]]:
        async with lab([], loopback_rmcp=True, http=False, rmcp_timeout=0.2) as the_lab:
            records = await discover_async("127.0.22.1-200", settings=the_lab.settings)
            return records, the_lab.rmcp_lookups

    records, pinged = asyncio.run(run())
    assert len(records) == 200 and all(r.classification is Classification.NO_RESPONSE for r in records)
    assert sorted(set(pinged)) == sorted(r.host for r in records)
    assert all(pinged.count(r.host) == 2 for r in records)


# ------------------------------------------------------------------------------------- identify, progress, API


def test_identify_is_called_with_host_port_and_tls_and_its_answer_is_used() -> None:
    calls: list[tuple[str, int, bool]] = []

    async def identify(host: str, port: int, tls: bool) -> IdentifyInfo | None:
        calls.append((host, port, tls))
        return IdentifyInfo("Intel(r)", "AMT 11.8", ("digest",), control_mode=ControlMode.ACM)

    devices = [Device("127.0.23.1", http="Apache")]

    async def run() -> tuple[HostRecord, ProbeSettings]:
        async with lab(devices, rmcp_timeout=0.2) as the_lab:
            (record,) = await discover_async("127.0.23.1", settings=the_lab.settings, identify=identify)
            return record, the_lab.settings

    record, settings = asyncio.run(run())
    assert calls == [("127.0.23.1", settings.http_port, False)]
    assert record.classification is Classification.AMT_PRESENT
    assert record.version == "11.8" and record.control_mode is ControlMode.ACM


def test_identify_is_not_called_when_no_web_port_is_open() -> None:
    calls: list[str] = []

    async def identify(host: str, port: int, tls: bool) -> IdentifyInfo | None:
        calls.append(host)
        return None

    run_discovery([], "127.0.23.2", identify=identify)
    assert calls == []


def test_identify_failure_becomes_a_detail_not_an_exception() -> None:
    async def identify(host: str, port: int, tls: bool) -> IdentifyInfo | None:
        raise ConnectionResetError("peer reset")

    (record,) = run_discovery([Device("127.0.23.3", http=AMT_15)], "127.0.23.3", identify=identify)
    assert record.classification is Classification.AMT_PRESENT
    assert "identify on " in record.detail and "the connection was reset" in record.detail
    assert "ConnectionResetError" not in record.detail  # words, not exception class names (issue #13)


def test_progress_reports_every_host_with_growing_count() -> None:
    seen: list[tuple[int, int, str]] = []
    run_discovery(
        [Device("127.0.23.4", pong=PONG_11_8)], "127.0.23.4-6", progress=lambda d, t, r: seen.append((d, t, r.host))
    )
    assert [d for d, _, _ in seen] == [1, 2, 3] and {t for _, t, _ in seen} == {3}
    assert sorted(h for _, _, h in seen) == ["127.0.23.4", "127.0.23.5", "127.0.23.6"]


def test_records_come_back_in_target_order() -> None:
    records = run_discovery([Device("127.0.23.9", pong=PONG_11_8)], "127.0.23.9 127.0.23.7 127.0.23.8")
    assert [r.host for r in records] == ["127.0.23.9", "127.0.23.7", "127.0.23.8"]


def test_hostname_target_is_resolved_and_probed() -> None:
    (record,) = run_discovery([Device("127.0.0.1", pong=PONG_11_8)], "localhost", http=False)
    assert record.host == "localhost" and record.address == "127.0.0.1" and record.rmcp_answered


def test_blocking_discover_runs_its_own_loop() -> None:
    port = free_port(socket.SOCK_DGRAM)
    (record,) = discover("127.0.23.10", settings=ProbeSettings(rmcp_port=port, rmcp_timeout=0.1, http=False))
    assert record.classification is Classification.NO_RESPONSE


def test_blocking_discover_inside_an_event_loop_raises() -> None:
    async def run() -> None:
        discover("127.0.23.11")

    with pytest.raises(RuntimeError, match="discover_async"):
        asyncio.run(run())


def test_record_as_dict_is_json_ready() -> None:
    (record,) = run_discovery([Device("127.0.23.12", pong=PONG_11_8, http=AMT_15)], "127.0.23.12")
    data = record.as_dict()
    assert data["classification"] == "amt_present" and data["provisioning_state"] == "post"
    assert data["version"] == "15.0.23.1706" and isinstance(data["seen_at"], str)


def test_settings_reject_zero_concurrency() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        ProbeSettings(concurrency=0)


@pytest.mark.parametrize(
    ("header", "amt", "version"),
    [
        (AMT_15, True, "15.0.23.1706"),
        (AMT_7, True, "7.1.91"),
        ("AMT", True, None),
        ("Intel(R) Active Management Technology", True, None),
        ("Microsoft-IIS/10.0", False, None),
        ("Werkzeug/3.1.8 Python/3.11.7, " + AMT_15, True, "15.0.23.1706"),
        ("nginx, AMT", True, None),
        ("Apache (AMT compatible)", False, None),
    ],
)
def test_server_header_parsing(header: str, amt: bool, version: str | None) -> None:
    parsed = parse_server_header(header)
    assert (parsed is not None) == amt and (parsed.version if parsed else None) == version


# ------------------------------------------------------------------------------------- a /22 fleet


def test_a_22_with_500_devices_finds_exactly_the_500_with_their_versions_and_states() -> None:
    """1022 addresses, 500 AMT devices (RMCP + HTTP banner) of mixed versions and provisioning states, default
    settings: every device found with the right version and state, nothing else taken for AMT. The time it
    takes is measured by bench/discovery.py, not asserted here."""
    versions = [("15.0.23.1706", (15, 0)), ("16.1.25", (16, 1)), ("11.8.55", (11, 8))]
    states = list(ProvisioningState)
    expected: dict[str, tuple[str, ProvisioningState]] = {}
    devices = []
    for i in range(500):
        address = f"127.1.{i // 250}.{i % 250 + 1}"
        banner, pong_version = versions[i % len(versions)]
        state = states[i % len(states)]
        expected[address] = (banner, state)
        devices.append(Device(address, pong=PongInfo(version=pong_version, provisioning_state=state),
                              http=f"Intel(R) Active Management Technology {banner}"))

    async def run() -> list[HostRecord]:
        async with lab(devices, loopback_rmcp=True) as the_lab:
            return await discover_async("127.1.0.0/22", settings=the_lab.settings)

    records = asyncio.run(run())
    assert len(records) == 1022
    found = {r.host: (r.version, r.provisioning_state) for r in records if r.is_amt}
    assert found == expected
    assert all(r.rmcp_answered for r in records if r.is_amt)
    assert all(r.classification is Classification.PORTS_CLOSED for r in records if r.host not in expected)
