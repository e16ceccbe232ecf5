"""Find Intel AMT machines: RMCP presence ping, TCP/HTTP banner probe, optional WS-Man Identify.

Theory of operation
-------------------
:func:`discover_async` expands the targets, resolves host names, then runs one task per host:

* **RMCP** (UDP): one socket per address family serves every host. Each host gets a ping with a fresh
  one-byte tag; a pong is matched by its *source address* (one byte of tag cannot tell 65536 hosts
  apart) and accepted only if its tag is one we sent to that address. A host that stays silent for
  ``rmcp_timeout`` gets one more ping (``rmcp_retries``), then counts as not answering. Pings are not
  paced or bounded by the semaphore: a silent host costs a timer, not a slot, so a /22 of silent
  addresses costs ``(1 + rmcp_retries) * rmcp_timeout`` in total, not per host.
* **TCP/HTTP**: under a semaphore of ``concurrency`` hosts, connect to the HTTP and HTTPS ports at
  once, send ``GET / HTTP/1.1`` and read the ``Server`` header (AMT: ``Intel(R) Active Management
  Technology 15.0.23.1706``; Skylake/Kaby Lake AMT 11 may send only ``AMT``). A refused connection is
  immediate; only filtered or absent hosts cost ``connect_timeout``. TLS is not verified here: AMT ships
  self-signed certificates and the probe sends no credentials, it only reads a banner.
* **Identify** (optional): an injected ``identify(host, port, tls)`` coroutine, e.g. a WS-Man Identify
  client, is called for hosts with an open web port.

The evidence is then folded into one :class:`HostRecord` per host (see :class:`Classification`).
No per-host sleeps anywhere: a run takes about max(RMCP timeouts, slowest TCP probe).
"""

from __future__ import annotations

import asyncio
import collections
import enum
import ipaddress
import re
import socket
import ssl
import warnings
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from amtkit.discovery.rmcp import (
    HTTP_PORT,
    HTTPS_PORT,
    RMCP_PORT,
    PongInfo,
    ProvisioningState,
    RmcpError,
    decode_pong,
    encode_ping,
)
from amtkit.discovery.targets import DEFAULT_LIMIT, expand_targets
from amtkit.exceptions import AMTError, UsageError
from amtkit.http.reader import FramingError, Limits, read_reply
from amtkit.text import printable
from amtkit.wsman import names

from ..lazylog import logger_ready

__all__ = [
    "AmtServerHeader",
    "Classification",
    "ControlMode",
    "HostRecord",
    "IdentifyFunc",
    "IdentifyInfo",
    "ProbeSettings",
    "ProgressFunc",
    "discover",
    "discover_async",
    "parse_server_header",
]


log = logger_ready(__name__)  # with amtkit's NullHandler (amtkit.lazylog)


class Classification(str, enum.Enum):
    """What discovery concluded about a host, from the weakest evidence to the strongest."""

    NO_RESPONSE = "no_response"
    """Nothing answered: no pong, no TCP answer (timeouts or unreachable), or the name did not resolve.
    The host may be off, filtered, or AMT with RMCP answers disabled behind a firewall."""
    PORTS_CLOSED = "ports_closed"
    """The host is there (its TCP stack refused the AMT ports) but no AMT port is open and no pong came."""
    NOT_AMT = "not_amt"
    """Something listens on an AMT port (or sent a non-Intel pong) but nothing identified it as Intel AMT;
    also an AMT whose TLS we could not talk to and that did not answer the ping (see ``detail``)."""
    AMT_PRESENT = "amt_present"
    """Intel AMT answered: an Intel pong, an AMT ``Server`` header, or an Identify naming AMT."""


class ControlMode(str, enum.Enum):
    """AMT control mode, as far as discovery can know it (``AMT_SetupAndConfigurationService``)."""

    UNKNOWN = "unknown"
    """Not known: discovery is unauthenticated and the mode is not on the wire without credentials."""
    NONE = "none"
    """Not provisioned (pre-provisioning state): no control mode yet."""
    CCM = "ccm"
    """Client control mode (``ProvisioningMode`` 4): host-based setup; user consent for redirection."""
    ACM = "acm"
    """Admin control mode (``ProvisioningMode`` 1): full control without user consent."""


@dataclass(frozen=True)
class IdentifyInfo:
    """The part of a WS-Man Identify answer discovery uses.

    AMT answers ``ProductVendor`` ``Intel(r)`` and ``ProductVersion`` ``AMT 11.8``. ``control_mode`` can
    be filled by an identify callable that knows it (e.g. an authenticated one); it defaults to unknown.
    """

    vendor: str
    product_version: str
    security_profiles: tuple[str, ...] = ()
    control_mode: ControlMode = ControlMode.UNKNOWN

    @property
    def is_amt(self) -> bool:
        """The answer names Intel AMT."""
        return self.vendor.lower().startswith("intel") and self.product_version.upper().startswith("AMT")

    @property
    def version(self) -> str | None:
        """``"11.8"`` from ``"AMT 11.8"``, or ``None``."""
        match = re.search(r"\d+(?:\.\d+)*", self.product_version)
        return match.group(0) if self.is_amt and match else None


IdentifyFunc = Callable[[str, int, bool], Awaitable[IdentifyInfo | None]]
"""``identify(host, port, tls) -> IdentifyInfo | None``; ``None`` when the host gave no usable answer."""


@dataclass(frozen=True)
class AmtServerHeader:
    """An HTTP ``Server`` header that names Intel AMT; ``version`` is ``None`` for the bare ``AMT`` form."""

    version: str | None


_SERVER_PREFIX = names.SERVER_HEADER_PREFIX
_SERVER_VERSION = re.compile(r"\d+\.\d+\.\d+(?:\.\d+)?")


def parse_server_header(value: str) -> AmtServerHeader | None:
    """Recognise AMT's web server banner; ``None`` if ``value`` is not AMT's.

    ``Intel(R) Active Management Technology 7.1.91`` (3 parts) and ``... 15.0.23.1706`` (4 parts) give
    the version as sent; Skylake/Kaby Lake AMT 11 answers only ``AMT`` (version unknown). Several
    ``Server`` fields folded into one value (``a, b``, as HTTP libraries join repeated fields, e.g. a
    proxy's banner in front) are read one by one.
    """
    for part in value.split(","):
        part = part.strip()
        if part == "AMT":
            return AmtServerHeader(None)
        if part.startswith(_SERVER_PREFIX):
            rest = part[len(_SERVER_PREFIX):].strip()
            return AmtServerHeader(rest if _SERVER_VERSION.fullmatch(rest) else None)
    return None


@dataclass(frozen=True)
class HostRecord:
    """The OOB capability record of one host, as discovery saw it at ``seen_at`` (UTC).

    ``host`` is the target as given, ``address`` the address probed (``None`` if the name did not
    resolve). ``version`` is the most precise one found (``Server`` header, then Identify, then pong).
    ``ports_open`` are the web ports that accepted a connection (or, with HTTP probing off, the ones
    the pong names, mapped to the configured ports). ``tls_only``: HTTPS is open and plain HTTP is not.
    ``detail`` is a short human-readable note on anything that went wrong.
    """

    host: str
    address: str | None
    classification: Classification
    seen_at: datetime
    version: str | None = None
    provisioning_state: ProvisioningState | None = None
    control_mode: ControlMode = ControlMode.UNKNOWN
    tls_only: bool = False
    ports_open: tuple[int, ...] = ()
    rmcp_answered: bool = False
    dash: bool | None = None
    server: str | None = None
    detail: str = ""
    pong: PongInfo | None = field(default=None, compare=False)
    identify: IdentifyInfo | None = field(default=None, compare=False)

    @property
    def is_amt(self) -> bool:
        return self.classification is Classification.AMT_PRESENT

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (enums as their values, time as ISO 8601)."""
        return {
            "host": self.host,
            "address": self.address,
            "classification": self.classification.value,
            "seen_at": self.seen_at.isoformat(),
            "version": self.version,
            # One spelling everywhere (inventory, diagnose, the table): "pre", "in", "post".
            "provisioning_state": None if self.provisioning_state is None else self.provisioning_state.name.lower(),
            "control_mode": self.control_mode.value,
            "tls_only": self.tls_only,
            "ports_open": list(self.ports_open),
            "rmcp_answered": self.rmcp_answered,
            "dash": self.dash,
            "server": self.server,
            "detail": self.detail,
        }


ProgressFunc = Callable[[int, int, HostRecord], None]
"""``progress(done, total, record)``, called as each host's record is complete."""


@dataclass(frozen=True)
class ProbeSettings:
    """Ports, timeouts (seconds) and concurrency of a discovery run.

    The ports default to AMT's; the simulator runs on unprivileged ones, e.g.
    ``ProbeSettings(rmcp_port=16623, http_port=17992, https_port=17993)``.
    ``rmcp`` / ``http`` switch the UDP ping and the TCP/HTTP probe on or off.
    """

    rmcp_port: int = RMCP_PORT
    http_port: int = HTTP_PORT
    https_port: int = HTTPS_PORT
    rmcp: bool = True
    http: bool = True
    rmcp_timeout: float = 1.0
    rmcp_retries: int = 1
    connect_timeout: float = 1.0
    read_timeout: float = 2.0
    identify_timeout: float = 5.0
    concurrency: int = 256

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise UsageError("concurrency must be at least 1")
        if self.rmcp_retries < 0:
            raise UsageError("rmcp_retries cannot be negative")
        for name in ("rmcp_timeout", "connect_timeout", "read_timeout", "identify_timeout"):
            if getattr(self, name) <= 0:
                raise UsageError(f"{name} must be positive")

    @classmethod
    def for_diagnosis(cls, *, rmcp_port: int = RMCP_PORT, http_port: int = HTTP_PORT, https_port: int = HTTPS_PORT,
                      timeout: float = 1.0) -> ProbeSettings:
        """The probe of ``amtkit diagnose``: ``timeout`` for the pong and the connection, twice it for the banner."""
        return cls(rmcp_port=rmcp_port, http_port=http_port, https_port=https_port, rmcp_timeout=timeout,
                   connect_timeout=timeout, read_timeout=2 * timeout)


# --------------------------------------------------------------------------------------------- RMCP


class _Pinger:
    """One UDP socket pinging many hosts; pongs matched by source address and tag.

    A plain non-blocking socket watched by the loop, not an asyncio datagram transport: that one reads
    a single datagram per loop iteration, so under load (hundreds of TLS handshakes in the same loop)
    pongs could sit in the socket buffer while their hosts' timers ran out. Here every wakeup drains
    the socket, and so does every expiry before it declares a host silent.
    """

    _BURST = 4096  # datagrams read per wakeup at most, so a flood cannot monopolise the loop

    def __init__(self, sock: socket.socket, port: int, timeout: float, retries: int) -> None:
        self._sock = sock
        self._port = port
        self._timeout = timeout
        self._retries = retries
        self._loop = asyncio.get_running_loop()
        self._closed = False
        self._next_tag = 0
        self._outbox: collections.deque[tuple[bytes, tuple[str, int]]] = collections.deque()
        # address -> (future, tags sent, attempts, timer)
        self._pending: dict[str, tuple[asyncio.Future[PongInfo | None], set[int], int, asyncio.TimerHandle]] = {}
        self._results: dict[str, asyncio.Future[PongInfo | None]] = {}
        self._loop.add_reader(sock.fileno(), self._readable)

    @classmethod
    def open(cls, family: socket.AddressFamily, settings: ProbeSettings) -> _Pinger:
        """A pinger on a fresh socket of ``family`` bound to an ephemeral port. Raises :class:`OSError`."""
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            try:  # many pongs can arrive while we are still sending: make room for them
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            except OSError:
                pass
            sock.bind(("0.0.0.0", 0) if family == socket.AF_INET else ("::", 0))
            return cls(sock, settings.rmcp_port, settings.rmcp_timeout, settings.rmcp_retries)
        except BaseException:
            sock.close()
            raise

    def ping(self, address: str) -> asyncio.Future[PongInfo | None]:
        """Start pinging ``address``; the future gives the pong or ``None`` after the last timeout."""
        existing = self._results.get(address)
        if existing is not None:
            return existing
        future: asyncio.Future[PongInfo | None] = self._loop.create_future()
        self._results[address] = future
        self._send(address, future, set(), 0)
        return future

    def _send(self, address: str, future: asyncio.Future[PongInfo | None], tags: set[int], attempts: int) -> None:
        tag = self._next_tag
        self._next_tag = (tag + 1) & 0xFF
        tags.add(tag)
        self._write(encode_ping(tag), (address, self._port))
        timer = self._loop.call_later(self._timeout, self._expire, address)
        self._pending[address] = (future, tags, attempts + 1, timer)

    def _write(self, data: bytes, destination: tuple[str, int]) -> None:
        if not self._outbox:
            try:
                self._sock.sendto(data, destination)
                return
            except (BlockingIOError, InterruptedError):
                self._loop.add_writer(self._sock.fileno(), self._flush)
            except OSError:
                return  # unreachable network and the like: the host stays silent, as it would be
        self._outbox.append((data, destination))

    def _flush(self) -> None:
        while self._outbox:
            data, destination = self._outbox[0]
            try:
                self._sock.sendto(data, destination)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                pass
            self._outbox.popleft()
        self._loop.remove_writer(self._sock.fileno())

    def _readable(self) -> None:
        for _ in range(self._BURST):
            try:
                data, addr = self._sock.recvfrom(256)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # e.g. an ICMP error queued on the socket; timeouts decide
            self._received(data, addr)

    def _expire(self, address: str) -> None:
        self._readable()  # a pong already queued counts, however busy the loop was
        entry = self._pending.pop(address, None)
        if entry is None:
            return  # answered by the pong just read
        future, tags, attempts, _ = entry
        if attempts <= self._retries and not self._closed:
            self._send(address, future, tags, attempts)
        elif not future.done():
            future.set_result(None)

    def _received(self, data: bytes, addr: tuple[str | Any, ...]) -> None:
        address = _canonical(str(addr[0]))
        entry = self._pending.get(address)
        if entry is None:
            return
        try:
            tag, info = decode_pong(data)
        except RmcpError:
            return  # not a pong (e.g. an RMCP ACK): keep waiting
        future, tags, _, timer = entry
        if tag not in tags:
            return
        del self._pending[address]
        timer.cancel()
        if not future.done():
            future.set_result(info)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for future, _, _, timer in self._pending.values():
            timer.cancel()
            if not future.done():
                future.set_result(None)
        self._pending.clear()
        self._loop.remove_reader(self._sock.fileno())
        if self._outbox:
            self._loop.remove_writer(self._sock.fileno())
        self._sock.close()


def _canonical(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address.split("%", 1)[0]))
    except ValueError:
        return address


# ----------------------------------------------------------------------------------------- TCP/HTTP


class _Port(enum.Enum):
    OPEN = "open"
    REFUSED = "refused"
    SILENT = "silent"  # timeout or unreachable


@dataclass(frozen=True)
class _PortResult:
    state: _Port
    server: str | None = None  # Server header value, None if no (readable) HTTP answer
    http: bool = False  # a syntactically valid HTTP response came back
    detail: str = ""
    silent: bool = False  # the connection was accepted, then nothing came back in time (a hung engine?)


def _tls_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():  # old AMT firmware speaks only old TLS; we only read a banner
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
        except (ValueError, ssl.SSLError):
            pass
    return context


_BANNER_LIMITS = Limits(body_bytes=0)
"""The banner probe reads only a reply's head (``Server``), never its page."""


async def _probe_port(
    host: str, address: str, port: int, tls: ssl.SSLContext | None, settings: ProbeSettings
) -> _PortResult:
    name = "HTTPS" if tls else "HTTP"
    # With TLS the handshake is part of connecting; give it the read timeout on top.
    budget = settings.connect_timeout + (settings.read_timeout if tls else 0.0)
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(address, port, ssl=tls), budget)
    except ConnectionRefusedError:
        return _PortResult(_Port.REFUSED)
    except ssl.SSLError as exc:  # TCP connected, the handshake failed: the port is open
        return _PortResult(_Port.OPEN, detail=f"{name} {port}: TLS handshake failed ({exc.reason})")
    except (asyncio.TimeoutError, OSError) as exc:
        return _PortResult(_Port.SILENT, detail=f"{name} {port}: {why_failed(exc, budget)}")
    try:
        host_header = f"[{host}]" if ":" in host else host
        writer.write(f"GET / HTTP/1.1\r\nHost: {host_header}\r\nConnection: close\r\n\r\n".encode("ascii", "replace"))
        try:
            reply = await asyncio.wait_for(read_reply(reader, _BANNER_LIMITS, head_only=True), settings.read_timeout)
        except FramingError:
            return _PortResult(_Port.OPEN, http=False, detail=f"{name} {port}: no HTTP answer")
        return _PortResult(_Port.OPEN, server=reply.headers.get("server"), http=True)
    except (asyncio.TimeoutError, TimeoutError) as exc:
        return _PortResult(_Port.OPEN, silent=True,
                           detail=f"{name} {port}: accepts connections, no answer ({why_failed(exc, settings.read_timeout)})")
    except OSError as exc:
        return _PortResult(_Port.OPEN, detail=f"{name} {port}: no HTTP answer ({why_failed(exc, settings.read_timeout)})")
    finally:
        writer.transport.abort()


def why_failed(error: BaseException, seconds: float | None = None) -> str:
    """A probe failure in words, not exception class names (``no answer within 2 s``, ``connection reset``)."""
    if isinstance(error, (asyncio.TimeoutError, TimeoutError)):
        return f"no answer within {seconds:g} s" if seconds else "no answer in time"
    if isinstance(error, AMTError):
        return error.message
    if isinstance(error, ConnectionResetError):
        return "the connection was reset"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror[:1].lower() + error.strerror[1:]
    text = printable(str(error))  # an injected probe's text may come from the device
    return text if text else "failed"


# ------------------------------------------------------------------------------------------- engine


def _fold(
    host: str,
    address: str | None,
    settings: ProbeSettings,
    pong: PongInfo | None,
    ports: dict[int, _PortResult],
    identified: IdentifyInfo | None,
    notes: list[str],
) -> HostRecord:
    """Turn the evidence about one host into its record."""
    banners = {port: parse_server_header(r.server) for port, r in ports.items() if r.server is not None}
    amt_banners = [b for b in banners.values() if b is not None]
    intel_pong = pong if pong is not None and pong.is_intel else None
    open_ports = tuple(sorted(port for port, r in ports.items() if r.state is _Port.OPEN))

    silent_ports = [port for port, r in ports.items() if r.silent]
    if intel_pong or amt_banners or (identified and identified.is_amt):
        classification = Classification.AMT_PRESENT
    elif pong is None and open_ports and all(ports[port].silent for port in open_ports):
        # Connections accepted, nothing ever said: a hung (or very busy) management engine looks like this,
        # and so could anything else. Nothing answered, so nothing can be called "not AMT".
        classification = Classification.NO_RESPONSE
    elif open_ports or pong is not None:
        classification = Classification.NOT_AMT
    elif any(r.state is _Port.REFUSED for r in ports.values()):
        classification = Classification.PORTS_CLOSED
    else:
        classification = Classification.NO_RESPONSE

    version = next((b.version for b in amt_banners if b.version), None)
    if version is None and identified is not None:
        version = identified.version
    if version is None and intel_pong is not None:
        version = intel_pong.version_string

    state = intel_pong.provisioning_state if intel_pong else None
    mode: ControlMode
    if identified is not None and identified.control_mode is not ControlMode.UNKNOWN:
        mode = identified.control_mode
    elif state is ProvisioningState.PRE:
        mode = ControlMode.NONE
    else:
        mode = ControlMode.UNKNOWN

    if settings.http:
        tls_only = settings.https_port in open_ports and settings.http_port not in open_ports
    elif intel_pong is not None:
        mapping = {HTTP_PORT: settings.http_port, HTTPS_PORT: settings.https_port}
        open_ports = tuple(sorted(mapping.get(p, p) for p in intel_pong.open_ports))
        tls_only = intel_pong.tls and not intel_pong.both_ports
    else:
        tls_only = False

    server = next((r.server for r in ports.values() if r.server is not None), None)
    notes = notes + [r.detail for r in ports.values()
                     if r.detail and (classification is not Classification.NO_RESPONSE or silent_ports)]
    return HostRecord(
        host=host,
        address=address,
        classification=classification,
        seen_at=datetime.now(timezone.utc),
        version=version,
        provisioning_state=state,
        control_mode=mode,
        tls_only=tls_only,
        ports_open=open_ports,
        rmcp_answered=pong is not None,
        dash=intel_pong.dash if intel_pong else None,
        server=server,
        detail="; ".join(notes),
        pong=pong,
        identify=identified,
    )


async def _resolve(host: str, semaphore: asyncio.Semaphore) -> str | None:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    async with semaphore:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_DGRAM)
        except (OSError, UnicodeError):
            return None
    # Prefer IPv4: AMT's RMCP answer is documented for IPv4.
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    return _canonical(str(infos[0][4][0])) if infos else None


async def _open_pingers(
    addresses: Iterable[str], settings: ProbeSettings
) -> dict[int, _Pinger]:
    families = {ipaddress.ip_address(a).version for a in addresses}
    pingers: dict[int, _Pinger] = {}
    for version in sorted(families):
        try:
            pingers[version] = _Pinger.open(socket.AF_INET if version == 4 else socket.AF_INET6, settings)
        except OSError:
            if version == 4:
                for pinger in pingers.values():
                    pinger.close()
                raise
            log.warning("no IPv6 UDP socket: IPv6 targets are probed without RMCP")
    return pingers


async def discover_async(
    targets: str | Iterable[str],
    *,
    settings: ProbeSettings | None = None,
    identify: IdentifyFunc | None = None,
    progress: ProgressFunc | None = None,
    limit: int | None = DEFAULT_LIMIT,
) -> list[HostRecord]:
    """Probe every target and return one :class:`HostRecord` per host, in target order.

    ``targets`` uses the syntax of :func:`amtkit.discovery.targets.expand_targets` (``limit`` is passed
    on). ``identify`` is called for hosts with an open web port; its exceptions are recorded in
    ``detail``, not raised. ``progress(done, total, record)`` is called as each host completes.
    Raises :class:`~amtkit.discovery.targets.TargetError` for bad targets before probing anything.
    """
    settings = settings or ProbeSettings()
    hosts = expand_targets(targets, limit=limit)
    semaphore = asyncio.Semaphore(settings.concurrency)
    addresses = await asyncio.gather(*(_resolve(host, semaphore) for host in hosts))
    pingers = await _open_pingers((a for a in addresses if a), settings) if settings.rmcp else {}
    tls = _tls_context() if settings.http else None
    done = 0
    total = len(hosts)

    async def probe(host: str, address: str | None) -> HostRecord:
        nonlocal done
        notes: list[str] = []
        pong: PongInfo | None = None
        ports: dict[int, _PortResult] = {}
        identified: IdentifyInfo | None = None
        if address is None:
            notes.append("host name did not resolve")
        else:
            pinger = pingers.get(ipaddress.ip_address(address).version)
            pong_future = pinger.ping(address) if pinger else None
            if settings.http:
                async with semaphore:
                    plain, secure = await asyncio.gather(
                        _probe_port(host, address, settings.http_port, None, settings),
                        _probe_port(host, address, settings.https_port, tls, settings),
                    )
                    ports = {settings.http_port: plain, settings.https_port: secure}
                    if identify is not None and (plain.state is _Port.OPEN or secure.state is _Port.OPEN):
                        use_tls = plain.state is not _Port.OPEN
                        port = settings.https_port if use_tls else settings.http_port
                        try:
                            identified = await asyncio.wait_for(
                                identify(host, port, use_tls), settings.identify_timeout
                            )
                        except Exception as exc:  # noqa: BLE001 - any failure of an injected probe is a note
                            notes.append(f"identify on {port}: {why_failed(exc, settings.identify_timeout)}")
            if pong_future is not None:
                pong = await pong_future
        record = _fold(host, address, settings, pong, ports, identified, notes)
        done += 1
        if progress is not None:
            progress(done, total, record)
        return record

    try:
        return list(await asyncio.gather(*(probe(h, a) for h, a in zip(hosts, addresses, strict=True))))
    finally:
        for pinger in pingers.values():
            pinger.close()


def discover(
    targets: str | Iterable[str],
    *,
    settings: ProbeSettings | None = None,
    identify: IdentifyFunc | None = None,
    progress: ProgressFunc | None = None,
    limit: int | None = DEFAULT_LIMIT,
) -> list[HostRecord]:
    """Blocking :func:`discover_async` (runs its own event loop).

    Raises :class:`RuntimeError` when called from a running event loop: await
    :func:`discover_async` there instead.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(
            discover_async(targets, settings=settings, identify=identify, progress=progress, limit=limit)
        )
    raise RuntimeError("discover() cannot run inside an event loop; use 'await discover_async(...)'")
