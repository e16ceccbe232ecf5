"""The simulator's network side: asyncio listeners for every device, in one process.

Each device listens on its own address (one machine per ``127.x.y.z`` is the usual fleet
layout) on HTTP 16992 and TLS 16993 or any ports given (0 picks a free one). One event loop
serves them all; :class:`Simulator` runs it in a background thread for tests, or in the
foreground for the ``amtkit-sim`` command.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import resource
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from amtkit.codes import PowerAction, ProvisioningState
from amtkit.http.digest import format_challenge
from amtkit.wsman import names

from . import httpwire
from .alerting import AlertService
from .backends.accounts import Verdict
from .backends.eventlog import Requester
from .config import DeviceConfig
from .connections import ConnectionTable, Phase
from .device import SimulatedDevice
from .dispatch import Reply, dispatch_wsman, try_identify
from .eoi.dispatch import dispatch_eoi, eoi_reply, serves_path
from .listening import listening
from .redirection import RedirectionListeners
from .services import RmcpService
from .tlscert import CertificateFiles, device_certificate, ensure_certificate
from .tlsprofile import profile_for

__all__ = ["Simulator"]

log = logging.getLogger(__name__)
REQUEST_LOG = logging.getLogger("amtsim.requests")
"""One line per answered request (``amtkit-sim run -v``): device, user, action, class, outcome, time."""
T = TypeVar("T")

REQUESTS_PER_TURN = 16
"""Pipelined requests of one connection answered in one go; the rest wait while other connections are served."""
SEND_BUFFER_BYTES = 128 * 1024
"""Kernel send buffer of each WS-Man connection (``SO_SNDBUF``)."""


def _server_header(device: SimulatedDevice) -> str:
    return f"{names.SERVER_HEADER_PREFIX} {device.config.amt_version}"


@dataclass
class _Handled:
    """What became of one HTTP request: bytes to send, or a WS-Man request the device holds."""

    reply: bytes
    close: bool
    user: str = "-"
    action: str = "-"
    class_name: str = "-"
    outcome: str = ""
    retry_after: float | None = None


def _settle_when_due(device: SimulatedDevice, loop: asyncio.AbstractEventLoop) -> Callable[[PowerAction], None]:
    """A power backend ``on_request`` hook: land the change on the loop when it is due, so the host boots
    (boot record, event log, alerts to subscribers) at its time even when no console reads the state."""

    def settle() -> None:
        with device.lock:
            device.power.settle()

    def scheduled(action: PowerAction) -> None:
        # seconds_until_idle() is read under the device lock the request holds; the timer may be set from
        # any thread (a WS-Man or legacy SOAP handler), so it goes through call_soon_threadsafe.
        due = device.power.seconds_until_idle()
        if due > 0:
            loop.call_soon_threadsafe(loop.call_later, due, settle)

    return scheduled


class WSManProtocol(asyncio.Protocol):
    """One client connection to one device's WS-Man port.

    Requests are read by the strict incremental reader and answered in order. One the device
    makes wait (a power change behind another, :attr:`Reply.retry_after
    <amtsim.dispatch.Reply.retry_after>`) is held on a timer and asked again; requests pipelined
    behind it on this connection wait their turn, others are unaffected.

    The device's :class:`~amtsim.connections.ConnectionTable` guards the connection (cap,
    per-phase deadlines). Write flow control: while the transport holds more unsent reply bytes
    than its high-water mark (a peer that pipelines requests and reads no replies), reading stops
    and queued requests wait, so memory stays bounded by one receive and the transport's buffer.
    """

    def __init__(self, device: SimulatedDevice, table: ConnectionTable, *, tls: bool = False) -> None:
        self.device = device
        self.table = table
        self.tls = tls
        self.session_user: tuple[str, str] | None = None
        """AMT 6+ digest session caching on TLS: the user (and their credential token) whose request
        authenticated on this connection; later requests without ``Authorization`` run as them."""
        self.reader = httpwire.RequestReader()
        self.transport: asyncio.Transport | None = None
        self.server = _server_header(device)
        self.phase = Phase.IDLE
        self.phase_since = 0.0
        self._queue: deque[tuple[httpwire.HTTPRequest, float]] = deque()
        self._held: asyncio.TimerHandle | None = None
        self._awaiting = 0
        """Requests taken for an answer whose reply is not written yet (a hung engine's stay here)."""
        self._send_blocked = False
        self._closing = False
        self._peer_done = False
        self._turn_pending = False
        self.peer = ""
        """The client's address (audit records say where a request came from)."""

    # -- asyncio ---------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.peer = str(peer[0]) if peer else ""
        self.phase_since = asyncio.get_running_loop().time()
        if not self.table.admit(self):
            self._closing = True
            transport.abort()
            return
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # A fixed kernel send buffer (no autotuning to megabytes): a peer that reads no replies
            # blocks after this much, and the firmware's small buffers are closer to it anyway.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
        with self.device.lock:
            self.device.stats.connections += 1
            if self.device.faults.drop_connections > 0:
                self.device.faults.drop_connections -= 1
                self._closing = True
                transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._closing = True
        if self._held is not None:
            self._held.cancel()
            self._held = None
        self._queue.clear()
        self.table.discard(self)

    def data_received(self, data: bytes) -> None:
        if not self._closing:
            self._ingest(data)

    def _ingest(self, data: bytes) -> None:
        try:
            requests = self.reader.feed(data, limit=REQUESTS_PER_TURN)
        except httpwire.HTTPParseError as error:
            self._refuse(error)
            return
        now = time.monotonic()
        self._queue.extend((request, now) for request in requests)
        if self._held is None:
            self._answer_queue()
        else:
            self._set_phase()

    def eof_received(self) -> bool:
        """The peer finished sending: answer what it sent, then close (``True`` keeps the transport open)."""
        self._peer_done = True
        if self.tls:
            return False  # TLS has no half-close: asyncio closes the connection whatever is answered
        return bool(self._queue or self._awaiting or self._held or self.reader.more)

    def pause_writing(self) -> None:
        self._send_blocked = True
        self._update_reading()
        self._set_phase()

    def resume_writing(self) -> None:
        self._send_blocked = False
        self._update_reading()
        if self._held is None:
            self._answer_queue()

    def _update_reading(self) -> None:
        """Read only while the peer reads our replies and no backlog of its requests waits for a turn."""
        transport = self.transport
        if transport is None or self._closing:
            return
        if self._send_blocked or self._turn_pending:
            transport.pause_reading()
        else:
            transport.resume_reading()

    def _pace(self) -> None:
        """More requests than one turn: answer the rest after the loop has served other connections."""
        backlog = bool(self._queue) or self.reader.more
        if backlog and not (self._turn_pending or self._closing or self._send_blocked or self._held):
            self._turn_pending = True
            self._update_reading()
            asyncio.get_running_loop().call_soon(self._next_turn)

    def _next_turn(self) -> None:
        self._turn_pending = False
        if self._closing or self._send_blocked or self._held:
            return
        if self._queue:
            self._answer_queue()
        elif self.reader.more:
            self._ingest(b"")
        self._update_reading()

    # -- ConnectionTable -------------------------------------------------------------------------
    def expire(self, phase: Phase) -> None:
        transport = self.transport
        self._closing = True
        if transport is None or transport.is_closing():
            return
        if phase in (Phase.HEAD, Phase.BODY):
            transport.write(httpwire.simple_reply(408, self.server, b"Request Timeout", close=True))
            transport.close()
        elif phase is Phase.SEND_BLOCKED:
            transport.abort()
        else:
            transport.close()

    def evict(self) -> None:
        self._closing = True
        if self.transport is not None:
            self.transport.close()

    # -- answering -------------------------------------------------------------------------------
    def _answer_queue(self, retried: _Handled | None = None) -> None:
        """Answer queued requests in order until one is held, the peer stops reading, the connection
        closes, or this turn's share is used (:data:`REQUESTS_PER_TURN`; the rest waits for the next turn)."""
        answered = 0
        while self._queue and not self._send_blocked and not self._closing and answered < REQUESTS_PER_TURN:
            answered += 1
            request, received = self._queue[0]
            if retried is None:
                with self.device.lock:
                    answers = self.device.availability.answers()
                if not answers:
                    self._queue.popleft()  # a hung or silent engine: read, never answered, the connection left open
                    self._awaiting += 1
                    continue
            handled = retried if retried is not None else self._handle_safely(request)
            retried = None
            if handled.retry_after is not None:
                self._held = asyncio.get_running_loop().call_later(handled.retry_after, self._retry, handled)
                break
            self._queue.popleft()
            self._log(handled, received)
            close = handled.close or not request.keep_alive
            self._awaiting += 1
            delay = self.device.faults.response_delay
            if delay > 0:
                asyncio.get_running_loop().call_later(delay, self._send, handled.reply, close)
            else:
                self._send(handled.reply, close)
            if close:
                self._closing = True
                self._queue.clear()
        if not self._queue and not self.reader.more and self.reader.error is not None and not self._closing:
            self._refuse(self.reader.error)  # garbage after the valid requests: answered, then closed
        self._pace()
        self._set_phase()

    def _handle_safely(self, request: httpwire.HTTPRequest) -> _Handled:
        try:
            return self.handle(request)
        except Exception:  # a simulator bug must cost one request, not the event loop every device shares
            return self._internal_error(request)

    def _retry(self, held: _Handled) -> None:
        """Ask the device again about the held request at the head of the queue."""
        self._held = None
        if not self._queue or self._closing:
            return
        request, received = self._queue[0]
        try:
            with self.device.lock:
                self.device.requester = Requester(held.user if held.user != "-" else "", self.peer)
                reply = dispatch_wsman(self.device, request.body, waited=time.monotonic() - received)
            handled = self._wsman_handled(reply, held.user)
        except Exception:
            handled = self._internal_error(request)
        self._answer_queue(handled)

    def _internal_error(self, request: httpwire.HTTPRequest) -> _Handled:
        with self.device.lock:
            self.device.stats.internal_errors += 1
        log.exception("%s: internal error answering %s %s", self.device.name, request.method, request.target[:80])
        return _Handled(httpwire.simple_reply(500, self.server, b"Internal Server Error", close=True), True,
                        outcome="500 internal error")

    def _send(self, reply: bytes, close: bool) -> None:
        self._awaiting -= 1
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        transport.write(reply)
        if close:
            self._closing = True
            transport.close()
        else:
            self._set_phase()

    def _refuse(self, error: httpwire.HTTPParseError) -> None:
        self._closing = True
        self._queue.clear()
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.write(httpwire.simple_reply(error.status, self.server, str(error).encode(), close=True))
            transport.close()

    def _set_phase(self) -> None:
        if self._closing:
            return
        if self._peer_done and not (self._queue or self._awaiting or self._held or self.reader.more) \
                and self.transport is not None:
            self._closing = True
            self.transport.close()
            return
        if self._send_blocked:
            phase = Phase.SEND_BLOCKED
        elif self.reader.in_message:
            phase = Phase.BODY if self.reader.reading_body else Phase.HEAD
        elif self._awaiting or self._queue or self._held is not None:
            phase = Phase.BUSY
        else:
            phase = Phase.IDLE
        if phase is not self.phase:
            self.phase = phase
            self.phase_since = asyncio.get_running_loop().time()
            self.table.moved(self)

    def _log(self, handled: _Handled, received: float) -> None:
        if REQUEST_LOG.isEnabledFor(logging.INFO):
            elapsed = (time.monotonic() - received) * 1000
            REQUEST_LOG.info("%s %s %s %s %s %.1f ms", self.device.name, handled.user, handled.action,
                             handled.class_name or "-", handled.outcome, elapsed)

    def _wsman_handled(self, reply: Reply, user: str) -> _Handled:
        if reply.retry_after is not None:
            return _Handled(b"", False, user, reply.action, reply.class_name, reply.outcome, reply.retry_after)
        data = httpwire.soap_reply(reply.status, reply.body, self.server, close=reply.close)
        return _Handled(data, reply.close, user, reply.action, reply.class_name, reply.outcome)

    def handle(self, request: httpwire.HTTPRequest) -> _Handled:
        device = self.device
        with device.lock:
            device.stats.http_requests += 1
            path = request.target.split("?", 1)[0]
            if request.method == "GET":
                return _Handled(self._get(request), False, action="GET", class_name=path, outcome="http")
            if request.method != "POST":
                return _Handled(httpwire.simple_reply(405, self.server, close=True), True, action=request.method,
                                outcome="405")
            if path != names.WSMAN_PATH or not device.serves_wsman:
                return self._legacy_soap(request, path)
            authorization = request.headers.get("authorization")
            if authorization is None:
                identified = try_identify(request.body, device)
                if identified is not None:
                    device.stats.wsman_requests += 1
                    return _Handled(httpwire.soap_reply(identified.status, identified.body, self.server), False,
                                    action="Identify", outcome="ok")
            if device.general.provisioning_state != ProvisioningState.POST:
                # Not provisioned: no account exists yet, so nothing authenticates.
                return _Handled(self._challenge(stale=False), True, outcome="401 not provisioned")
            cached = self._cached_session_user() if authorization is None else None
            if cached is not None:
                device.stats.wsman_requests += 1
                device.stats.tls_session_auth += 1
                device.requester = Requester(cached, self.peer)
                device.sync_faults()
                return self._wsman_handled(dispatch_wsman(device, request.body), cached)
            refusal, user = self._authenticate(request)
            if refusal is not None:
                return refusal
            device.stats.wsman_requests += 1
            device.requester = Requester(user if user != "-" else "", self.peer)
            device.event_log.login_succeeded(user)
            if self.tls and user != "-" and device.caches_tls_digest_sessions:
                self.session_user = (user, device.accounts.credential_token(user))
            device.sync_faults()
            return self._wsman_handled(dispatch_wsman(device, request.body), user or "-")

    def _authenticate(self, request: httpwire.HTTPRequest) -> tuple[_Handled | None, str]:
        """``(None, user)`` when the request carries valid digest credentials, else the 401 to send."""
        device = self.device
        device.requester = Requester("", self.peer)  # a failed login is audited with this address
        verdict, user = device.accounts.verify(request.headers.get("authorization"), request.method, request.target)
        if verdict is Verdict.OK:
            return None, user or "-"
        if verdict is Verdict.DENIED:
            device.stats.auth_failures += 1
        return _Handled(self._challenge(stale=verdict is Verdict.STALE), True, user or "-",
                        outcome=f"401 {verdict.name.lower()}"), user or "-"

    def _legacy_soap(self, request: httpwire.HTTPRequest, path: str) -> _Handled:
        """A POST to a legacy SOAP service path (AMT 8.x and older): same digest as WS-Man."""
        device = self.device
        if not (device.serves_eoi and serves_path(path)):
            return _Handled(httpwire.simple_reply(404, self.server, b"Not Found", close=True), True,
                            action="POST", class_name=path, outcome="404")
        if device.general.provisioning_state != ProvisioningState.POST:
            return _Handled(self._challenge(stale=False), True, outcome="401 not provisioned")
        refusal, user = self._authenticate(request)
        if refusal is not None:
            return refusal
        device.stats.eoi_requests += 1
        device.sync_faults()
        reply = dispatch_eoi(device, path, request.body)
        return _Handled(eoi_reply(reply, self.server), reply.close, user, "SOAP", path,
                        "ok" if reply.status == 200 else str(reply.status))

    def _cached_session_user(self) -> str | None:
        """The user this TLS connection authenticated as, while their account is unchanged (AMT
        resets the cache when the ACL changes)."""
        if self.session_user is None:
            return None
        user, token = self.session_user
        if self.device.accounts.credential_token(user) != token:
            self.session_user = None
            return None
        return user

    def _challenge(self, *, stale: bool) -> bytes:
        self.device.stats.auth_challenges += 1
        challenge = format_challenge(self.device.accounts.realm, self.device.accounts.new_nonce(), stale=stale)
        return httpwire.unauthorized_reply(challenge, self.server)

    def _get(self, request: httpwire.HTTPRequest) -> bytes:
        path = request.target.split("?", 1)[0]
        if path == "/":
            return httpwire.simple_reply(303, self.server, extra="Location: /logon.htm\r\n")
        if path in ("/logon.htm", "/index.htm"):
            return httpwire.simple_reply(200, self.server, self._status_page())
        return httpwire.simple_reply(404, self.server, b"Not Found")

    def _status_page(self) -> bytes:
        general = self.device.general
        state = general.provisioning_state.name.lower()
        # Device strings are set through WS-Man (Put of AMT_GeneralSettings): escape them.
        return (
            "<html><head><title>Intel&reg; Active Management Technology</title></head><body>"
            f"<h1>Intel&reg; Active Management Technology {html.escape(self.device.config.amt_version)}</h1>"
            f"<p>Simulated by amtsim. Host: {html.escape(general.hostname)}. Provisioning: {state}.</p>"
            "<p>Log on to manage this system.</p></body></html>"
        ).encode()


class Simulator:
    """Many simulated AMT devices served by one event loop.

    ::

        with Simulator() as sim:
            device = sim.add_device(DeviceConfig(http_port=0))
            ...  # talk to device.address:device.config.http_port

    ``cert_dir`` holds the TLS certificate (generated on first use, then kept).
    """

    def __init__(self, *, cert_dir: str | Path | None = None, certificate: CertificateFiles | None = None) -> None:
        self.devices: list[SimulatedDevice] = []
        self._cert_dir = Path(cert_dir) if cert_dir is not None else None
        self._certificate = certificate
        self._tls_contexts: dict[int, ssl.SSLContext] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._servers: dict[str, list[asyncio.AbstractServer]] = {}
        self._extra_starters: list[Callable[[SimulatedDevice], object]] = []
        self._extra_stoppers: list[Callable[[SimulatedDevice], object]] = []
        self.rmcp = RmcpService()
        """Presence-ping answers of the devices with an ``rmcp_port``."""
        self.on_device_start(self.rmcp.start_device)
        self.on_device_stop(self.rmcp.stop_device)
        self.alerts = AlertService()
        """Alerts pushed to each device's subscribers (:mod:`amtsim.alerting`)."""
        self.on_device_start(self.alerts.start_device)
        self.on_device_stop(self.alerts.stop_device)
        self.redirection = RedirectionListeners(self.tls_context)
        """Redirection listeners (IDE-R) of the devices with a ``redirection_port``/``redirection_tls_port``."""
        self.on_device_start(self.redirection.start_device)
        self.on_device_stop(self.redirection.stop_device)
        _raise_fd_limit()

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def certificate(self) -> CertificateFiles:
        """The certificate devices share (those without ``own_certificate``)."""
        if self._certificate is None:
            self._certificate = ensure_certificate(self._cert_dir)
        return self._certificate

    def certificate_for(self, device: SimulatedDevice) -> CertificateFiles:
        """The certificate ``device`` presents on its TLS ports."""
        config = device.config
        if not config.own_certificate:
            return self.certificate
        return device_certificate(self._cert_dir, config.name, config.guid, address=config.address,
                                  bits=profile_for(config.amt_version).rsa_bits)

    def tls_sha256(self, device: SimulatedDevice) -> str:
        """The SHA-256 fingerprint a client pins for ``device``."""
        return self.certificate_for(device).sha256

    def tls_context(self, device: SimulatedDevice) -> ssl.SSLContext:
        """The device's TLS server context (16993 and 16995): its certificate, the TLS versions and
        suites of its firmware version, and its own session cache (sessions resume per device)."""
        context = self._tls_contexts.get(id(device))
        if context is None:
            profile = profile_for(device.config.amt_version)
            context = self.certificate_for(device).server_context(profile)
            self._tls_contexts[id(device)] = context
        return context

    def start(self) -> Simulator:
        """Run the event loop in a background thread (for tests and embedding)."""
        if self._loop is not None:
            return self
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="amtsim", daemon=True)
        self._thread.start()
        ready.wait()
        for device in self.devices:
            self._run(self._start_device(device))
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return
        self._run(self._close_all())
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        loop.close()
        self._loop = None
        self._thread = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(timeout=60)

    # -- devices ---------------------------------------------------------------------------------
    def add_device(self, config: DeviceConfig | None = None) -> SimulatedDevice:
        """Create a device; if the simulator is running it starts listening at once."""
        device = SimulatedDevice(config or DeviceConfig())
        self.devices.append(device)
        if self._loop is not None:
            self._run(self._start_device(device))
        return device

    def remove_device(self, device: SimulatedDevice) -> None:
        self.devices.remove(device)
        if self._loop is not None:
            self._run(self._close_device(device))

    def device(self, name: str) -> SimulatedDevice:
        for device in self.devices:
            if device.name == name:
                return device
        raise KeyError(name)

    def on_device_start(self, starter: Callable[[SimulatedDevice], object]) -> None:
        """Let a service add listeners of its own (redirection, RMCP) to every device."""
        self._extra_starters.append(starter)

    def on_device_stop(self, stopper: Callable[[SimulatedDevice], object]) -> None:
        """Let a service close what its start hook opened (called for every device removed or stopped)."""
        self._extra_stoppers.append(stopper)

    async def start_devices(self) -> None:
        """Start every device's listeners on the running loop (foreground mode)."""
        for device in self.devices:
            await self._start_device(device)

    async def _start_device(self, device: SimulatedDevice) -> None:
        config = device.config
        if config.faults.amt_disabled:
            return  # AMT off in the MEBx: nothing listens
        loop = asyncio.get_running_loop()
        servers: list[asyncio.AbstractServer] = []
        table = device.http_connections = ConnectionTable(device.name, config.timing, config.max_http_connections)
        device.power.on_request.append(_settle_when_due(device, loop))

        def factory() -> WSManProtocol:
            return WSManProtocol(device, table)

        if not config.faults.web_ports_closed:
            http = await listening("TCP", config.address, config.http_port, "WS-Man HTTP", loop.create_server(
                factory, config.address, config.http_port, reuse_address=True, backlog=512))
            config.http_port = http.sockets[0].getsockname()[1]
            servers.append(http)
        if config.tls_port is not None and not config.faults.web_ports_closed:
            def tls_factory() -> WSManProtocol:
                return WSManProtocol(device, table, tls=True)

            tls = await listening("TCP", config.address, config.tls_port, "WS-Man TLS", loop.create_server(
                tls_factory, config.address, config.tls_port, ssl=self.tls_context(device), reuse_address=True,
                backlog=512))
            config.tls_port = tls.sockets[0].getsockname()[1]
            servers.append(tls)
        self._servers[str(id(device))] = servers
        for starter in self._extra_starters:
            result = starter(device)
            if asyncio.iscoroutine(result):
                await result

    async def _close_device(self, device: SimulatedDevice) -> None:
        self._tls_contexts.pop(id(device), None)
        for stopper in self._extra_stoppers:
            result = stopper(device)
            if asyncio.iscoroutine(result):
                await result
        servers_closing = self._servers.pop(str(id(device)), [])
        for server in servers_closing:
            server.close()
        if device.http_connections is not None:
            device.http_connections.close_all()
        for server in servers_closing:
            await server.wait_closed()

    async def _close_all(self) -> None:
        for device in list(self.devices):
            await self._close_device(device)


def _raise_fd_limit() -> None:
    """A fleet needs a few sockets per device: lift the soft file limit to the hard one."""
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):  # pragma: no cover - platform dependent
        pass


def free_port(address: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])
