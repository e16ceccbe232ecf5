"""The redirection listener of a simulated device (TCP 16994, TLS 16995): the firmware half of IDE-R and SOL.

Each connection is a :class:`FirmwareSessionProtocol`, a state machine over the codec of
:mod:`amtkit.redirection.messages` (the console's own), in the order AMT enforces:

1. **Listener**: with ``ListenerEnabled`` false (or AMT disabled) the connection is closed before a
   byte is read, as a closed port would be.
2. **Start**: ``StartRedirectionSession("IDER")`` / ``("SOL ")`` is accepted when IDE-R / SOL is
   enabled in ``AMT_RedirectionService``; KVM is not simulated and is refused (status 1), like a
   disabled feature.
3. **Authentication** as the simulated version offers it (:func:`auth_methods_of`): AMT 12 and later
   list digest with qop (type 4) only; older firmware also takes digest without qop (3) and user and
   password in clear (1, what amtterm sends).  The digest start gets a challenge
   with the device's realm and a fresh nonce from its :class:`~amtsim.backends.accounts.Accounts`;
   the answer is checked there too (same users, same anti-hammering as WS-Man), realm and nonce
   included.  A refusal (status 2) closes the connection.  From here the session is *open*: power
   off and cycle are refused until it closes (:mod:`amtsim.backends.redirection`).
4. **IDE-R**: ``StartIDERRedirection`` is answered with an 8192-byte read buffer (one IDE-R session
   per device); ``DisableEnableFeatures`` enables the drives; pings are answered, a heartbeat goes
   out when the firmware has been quiet for the interval the console asked for.
   **SOL** (:mod:`amtsim.sol`): ``StartSOLRedirection`` connects the console to the host's serial
   console (:mod:`amtsim.backends.serial`), one SOL session per device.
5. **Boot**: at a power-up with ``UseIDER`` set, the boot backend hands the boot over
   (:meth:`FirmwareSessionProtocol.request_boot`): the firmware signals the IDE channel reset
   (``ResetOccurred``), waits for the acknowledgement, then drives :class:`~amtsim.bios.BiosBoot`
   (or the bench's :class:`~amtsim.bios.SequentialRead`) one command at a time through the
   firmware's own ATAPI front end (:mod:`amtsim.atapi`: INQUIRY and REQUEST SENSE are answered
   here, everything that needs the medium goes to the console), each reply put together by a
   :class:`~amtsim.bios.ReplyAssembler`; the :class:`~amtsim.bios.BootResult` becomes
   the device's boot record.

Idle sessions: once IDE-R is open the firmware keeps the session however long the console stays
silent (it sends heartbeats at the console's interval; public consoles ignore them and send nothing
while they wait for the host to reboot); a connection that has not opened IDE-R and hears nothing
for ``Timing.redirection_idle_timeout`` seconds is closed.  A protocol violation closes a session at
once (and fails a boot in progress, saying why).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass

from amtkit.codes import ProvisioningState
from amtkit.http.digest import compute_response
from amtkit.redirection.messages import (
    IDER_FEATURE_ENABLE,
    IDER_FEATURES_ENABLED,
    IDER_FEATURES_TOGGLE_SUPPORTED,
    IDER_START_MODE_MASK,
    REDIRECTION_AUTH_METHOD,
    AuthenticateSession,
    AuthenticateSessionReply,
    AuthType,
    DigestChallenge,
    Direction,
    EndIDERRedirection,
    EndIDERRedirectionReply,
    EndRedirectionSession,
    EndSOLRedirection,
    EndSOLRedirectionReply,
    IDERCommandEndResponse,
    IDERDataToHost,
    IDERDisableEnableFeatures,
    IDERDisableEnableFeaturesReply,
    IDERFeatureRequest,
    IDERHeartbeat,
    IDERKeepAlivePing,
    IDERKeepAlivePong,
    IDERResetOccurred,
    IDERResetOccurredResponse,
    IDERStartMode,
    MessageType,
    RedirectionDecoder,
    RedirectionMessage,
    RedirectionProtocolError,
    SequenceCounter,
    SequencedMessage,
    SessionType,
    StartIDERRedirection,
    StartIDERRedirectionReply,
    StartRedirectionSession,
    StartRedirectionSessionReply,
    StartSOLRedirection,
    StartSOLRedirectionReply,
)

from .atapi import FirmwareDrives, firmware_flow
from .backends.accounts import Verdict
from .backends.boot import BootPlan, boot_backend_of
from .backends.eventlog import Requester
from .backends.redirection import redirection_service_of
from .backends.serial import host_console_of
from .bios import BiosBoot, BootResult, CommandOutcome, FirmwareFlow, ReplyAssembler, SequentialRead
from .device import SimulatedDevice
from .listening import listening
from .sol import FirmwareSOL

__all__ = ["FirmwareSessionProtocol", "RedirectionListeners", "READ_BUFFER_SIZE"]

log = logging.getLogger(__name__)

READ_BUFFER_SIZE = 8192
"""The IDE-R read/write buffer the firmware announces (what public consoles accept)."""
STATUS_REFUSED = 0x01
"""StartRedirectionSessionReply / StartIDERRedirectionReply status: not allowed now."""
AUTH_STATUS_FAILED = 0x02
"""AuthenticateSessionReply status after a refused answer (1 means "challenge follows")."""
BASIC_AUTH_LAST_MAJOR = 11
"""The last AMT major version that accepts user/password in clear (type 1) on the redirection port:
amtterm, which sends only that, works on AMT 11 and fails to authenticate on AMT 12."""


def auth_methods_of(amt_version: str) -> list[AuthType]:
    """The authentication methods firmware of ``amt_version`` lists (AMT 12.0 lists only type 4)."""
    try:
        major = int(amt_version.split(".")[0])
    except ValueError:
        major = BASIC_AUTH_LAST_MAJOR + 1
    if major <= BASIC_AUTH_LAST_MAJOR:
        return [AuthType.BASIC, AuthType.DIGEST, AuthType.DIGEST_QOP]
    return [AuthType.DIGEST_QOP]


TICK_SECONDS = 0.05
"""How often a session checks its timers (heartbeat, idle) and lets due power transitions settle."""


class Phase(enum.Enum):
    START = "start"
    AUTH = "authenticating"
    OPEN = "open"
    """Authenticated: IDE-R or SOL (as the session type says) may be started."""
    IDER = "ider"
    SOL = "sol"
    CLOSED = "closed"


@dataclass
class _BootRun:
    """An IDE-R boot in progress: the BIOS flow and the command it waits on."""

    plan: BootPlan
    bios: BiosBoot
    flow: FirmwareFlow
    started_at: float
    assembler: ReplyAssembler | None = None


class FirmwareSessionProtocol(asyncio.Protocol):
    """One console connection to a device's redirection port; see the module docstring."""

    def __init__(self, device: SimulatedDevice, listeners: RedirectionListeners) -> None:
        self.device = device
        self.listeners = listeners
        self.phase = Phase.START
        self.decoder = RedirectionDecoder(direction=Direction.TO_FIRMWARE)
        self.outgoing = SequenceCounter()
        self.incoming = SequenceCounter()
        self.challenge: DigestChallenge | None = None
        self.username: str | None = None
        self.heartbeat = 0.0
        self.start_mode: IDERStartMode | None = None
        self._drives_enabled = False
        self.boot: _BootRun | None = None
        self.atapi = FirmwareDrives()
        """What the firmware answers on the drives itself (INQUIRY, REQUEST SENSE)."""
        self.reset_plan: BootPlan | None = None
        self.session_type: SessionType | None = None
        self.sol: FirmwareSOL | None = None
        self.transport: asyncio.Transport | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self.last_received = self.last_sent = device.clock()

    def _requester(self) -> Requester:
        """Who this session is, for the audit log: its user and the console's address."""
        peer = self.transport.get_extra_info("peername") if self.transport is not None else None
        return Requester(self.username or "", str(peer[0]) if peer else "")

    # -- FirmwareSession (called from any thread) -------------------------------------------------
    @property
    def drives_enabled(self) -> bool:
        return self.phase is Phase.IDER and self._drives_enabled

    def request_boot(self, plan: BootPlan) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._begin_boot, plan)

    def close(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._shutdown, "closed by the simulator")

    @property
    def closed(self) -> bool:
        return self.phase is Phase.CLOSED

    # -- asyncio ---------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._loop = asyncio.get_running_loop()
        self.listeners.track(self.device, self)
        with self.device.lock:
            service = redirection_service_of(self.device)
            refused = self.device.faults.amt_disabled or not service.listener_enabled
            if refused:
                service.refused += 1
        if refused:
            self.phase = Phase.CLOSED
            transport.close()
            return
        self._timer = self._loop.call_later(TICK_SECONDS, self._tick)

    def connection_lost(self, exc: Exception | None) -> None:
        self._shutdown("the console closed the connection")
        self.listeners.untrack(self.device, self)

    def data_received(self, data: bytes) -> None:
        if self.phase is Phase.CLOSED:
            return
        self.last_received = self.device.clock()
        try:
            for message in self.decoder.feed(data):
                if isinstance(message, SequencedMessage) and message.TYPE >= MessageType.START_IDER_REDIRECTION:
                    self.incoming.check(message)  # IDE-R only: SOL consoles number as they please
                self._handle(message)
                if self.closed:
                    return
        except RedirectionProtocolError as error:
            self._shutdown(f"protocol error from the console: {error}")

    # -- sending ---------------------------------------------------------------------------------
    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)
            self.last_sent = self.device.clock()

    def _send(self, message: RedirectionMessage) -> None:
        self._write(message.encode())

    def _send_sequenced(self, message: SequencedMessage) -> None:
        self._write(self.outgoing.stamp(message).encode())

    # -- the phases ------------------------------------------------------------------------------
    def _handle(self, message: RedirectionMessage) -> None:
        if isinstance(message, EndRedirectionSession):
            self._shutdown("the console ended the session")
        elif self.phase is Phase.START:
            self._start(message)
        elif self.phase is Phase.AUTH:
            self._authenticate(message)
        elif self.phase is Phase.OPEN:
            if self.session_type is SessionType.SOL:
                self._open_sol(message)
            else:
                self._open_ider(message)
        elif self.phase is Phase.SOL:
            self._sol(message)
        else:
            self._ider(message)

    def _unexpected(self, message: RedirectionMessage) -> None:
        raise RedirectionProtocolError(f"{message.TYPE.name} is not expected while {self.phase.value}",
                                       message_type=message.TYPE)

    def _start(self, message: RedirectionMessage) -> None:
        if not isinstance(message, StartRedirectionSession):
            self._unexpected(message)
            return
        with self.device.lock:
            service = redirection_service_of(self.device)
            allowed = ((message.session is SessionType.IDER and service.ider_enabled)
                       or (message.session is SessionType.SOL and service.sol_enabled))
            if not allowed:
                service.refused += 1
        if not allowed:
            self._send(StartRedirectionSessionReply(status=STATUS_REFUSED))
            self._shutdown(f"{message.session.value.decode().strip()} session refused")
            return
        self.session_type = message.session
        self._send(StartRedirectionSessionReply())
        self.phase = Phase.AUTH

    def _authenticate(self, message: RedirectionMessage) -> None:
        if not isinstance(message, AuthenticateSession):
            self._unexpected(message)
            return
        offered = auth_methods_of(self.device.config.amt_version)
        if message.auth_type is AuthType.QUERY:
            self._send(AuthenticateSessionReply.methods_reply(offered))
            return
        if message.auth_type not in offered:
            self._refuse_auth(message.auth_type, f"{message.auth_type.name} authentication is not offered")
            return
        with self.device.lock:
            self.device.requester = self._requester()  # failed logins here are audited with this address
        if message.auth_type is AuthType.BASIC:
            self._authenticate_basic(message)
            return
        fields = message.digest_fields()
        with self.device.lock:
            accounts = self.device.accounts
            provisioned = self.device.general.provisioning_state is ProvisioningState.POST
            if fields.is_initial:
                if not provisioned:
                    verdict = Verdict.DENIED
                else:
                    qop = "auth" if message.auth_type is AuthType.DIGEST_QOP else None
                    self.challenge = DigestChallenge(accounts.realm, accounts.new_nonce(), qop)
                    self.username = fields.username
                    verdict = Verdict.CHALLENGE
            elif self.challenge is None or not provisioned:
                verdict = Verdict.DENIED
            elif (fields.realm, fields.nonce, fields.username) != (self.challenge.realm, self.challenge.nonce,
                                                                   self.username):
                verdict = Verdict.DENIED  # the firmware checks it is answering its own challenge
            elif (fields.qop or None) != self.challenge.qop:
                verdict = Verdict.DENIED  # type 4 offered qop=auth: an answer without it is a downgrade
            else:
                verdict = accounts.verify_answer(
                    fields.username, fields.realm, fields.nonce, fields.response,
                    lambda ha1: compute_response(ha1, fields.nonce, fields.nc, fields.cnonce, fields.qop or None,
                                                 REDIRECTION_AUTH_METHOD, fields.uri))
            self._count_verdict(verdict)
        if verdict is Verdict.CHALLENGE:
            assert self.challenge is not None
            self._send(AuthenticateSessionReply.challenge_reply(self.challenge))
        else:
            self._conclude_auth(verdict, message.auth_type, fields.username)

    def _authenticate_basic(self, message: AuthenticateSession) -> None:
        """Type 1, user and password in clear: what amtterm sends, accepted before AMT 12."""
        username, password = message.basic_fields()
        with self.device.lock:
            provisioned = self.device.general.provisioning_state is ProvisioningState.POST
            verdict = self.device.accounts.verify_password(username, password) if provisioned else Verdict.DENIED
            self._count_verdict(verdict)
        self._conclude_auth(verdict, message.auth_type, username)

    def _count_verdict(self, verdict: Verdict) -> None:
        """Open the session or count the failure (device lock held)."""
        if verdict is Verdict.OK:
            redirection_service_of(self.device).open_session(self)
        elif verdict is not Verdict.CHALLENGE:
            redirection_service_of(self.device).auth_failures += 1
            self.device.stats.auth_failures += 1

    def _conclude_auth(self, verdict: Verdict, auth_type: AuthType, username: str) -> None:
        if verdict is Verdict.OK:
            self._send(AuthenticateSessionReply(auth_type=auth_type))
            self.phase = Phase.OPEN
        else:
            self._refuse_auth(auth_type, f"authentication of {username!r} refused")

    def _refuse_auth(self, auth_type: AuthType, why: str) -> None:
        self._send(AuthenticateSessionReply(status=AUTH_STATUS_FAILED, auth_type=auth_type))
        self._shutdown(why)

    def _open_sol(self, message: RedirectionMessage) -> None:
        if not isinstance(message, StartSOLRedirection):
            self._unexpected(message)
            return
        with self.device.lock:
            service = redirection_service_of(self.device)
            claimed = service.claim_sol(self)
            if not claimed:
                service.refused += 1
        if not claimed:
            self._send_sequenced(StartSOLRedirectionReply(status=STATUS_REFUSED))
            self._shutdown("another SOL session is open")
            return
        assert self._loop is not None
        with self.device.lock:
            self.device.event_log.session("sol", True, self._requester())
        self.sol = FirmwareSOL(self.device, self._loop, self._send_sequenced, message)
        self.phase = Phase.SOL
        self.sol.start()

    def _sol(self, message: RedirectionMessage) -> None:
        assert self.sol is not None
        if isinstance(message, EndSOLRedirection):
            self._end_sol()
            self._send_sequenced(EndSOLRedirectionReply())
        elif not self.sol.handle(message):
            self._unexpected(message)

    def _end_sol(self) -> None:
        sol, self.sol = self.sol, None
        if sol is not None:
            sol.stop()
            with self.device.lock:
                redirection_service_of(self.device).release_sol(self)
                self.device.event_log.session("sol", False, self._requester())
        if self.phase is Phase.SOL:
            self.phase = Phase.OPEN

    def _open_ider(self, message: RedirectionMessage) -> None:
        if not isinstance(message, StartIDERRedirection):
            self._unexpected(message)
            return
        with self.device.lock:
            service = redirection_service_of(self.device)
            claimed = service.claim_ider(self)
            if not claimed:
                service.refused += 1
        if not claimed:
            self._send_sequenced(StartIDERRedirectionReply(status=STATUS_REFUSED))
            self._shutdown("another IDE-R session is open")
            return
        self.heartbeat = message.heartbeat / 1000
        with self.device.lock:
            self.device.event_log.session("ider", True, self._requester())
        self._send_sequenced(StartIDERRedirectionReply(read_buffer_size=READ_BUFFER_SIZE,
                                                       write_buffer_size=READ_BUFFER_SIZE))
        self.phase = Phase.IDER

    def _ider(self, message: RedirectionMessage) -> None:
        if isinstance(message, (IDERDataToHost, IDERCommandEndResponse)):
            self._on_reply(message)
        elif isinstance(message, (IDERHeartbeat, IDERKeepAlivePong)):
            pass
        elif isinstance(message, IDERKeepAlivePing):
            self._send_sequenced(IDERKeepAlivePong())
        elif isinstance(message, IDERDisableEnableFeatures):
            self._features(message)
        elif isinstance(message, IDERResetOccurredResponse):
            plan, self.reset_plan = self.reset_plan, None
            if plan is not None:
                self._start_flow(plan)
        elif isinstance(message, EndIDERRedirection):
            self._end_ider("the console closed IDE-R")
            self._send_sequenced(EndIDERRedirectionReply())
        else:
            self._unexpected(message)

    def _features(self, message: IDERDisableEnableFeatures) -> None:
        request = message.request
        if request is IDERFeatureRequest.GET_SUPPORTED:
            value = IDER_FEATURES_TOGGLE_SUPPORTED
        elif request is IDERFeatureRequest.GET_REGISTER_STATE:
            value = IDER_FEATURES_ENABLED if self._drives_enabled else 0
        else:
            self._drives_enabled = bool(message.value & IDER_FEATURE_ENABLE)
            try:
                self.start_mode = IDERStartMode(message.value & IDER_START_MODE_MASK) if self._drives_enabled else None
            except ValueError:
                self.start_mode = IDERStartMode.ON_REBOOT
            value = 1
            with self.device.lock:
                redirection_service_of(self.device).drives_changed()
        self._send_sequenced(IDERDisableEnableFeaturesReply(request=request, value=value))

    def _end_ider(self, why: str) -> None:
        self._fail_boot(f"the IDE-R session ended during the boot ({why})")
        self._drives_enabled = False
        with self.device.lock:
            service = redirection_service_of(self.device)
            if service.ider_session is self:
                service.ider_session = None
                self.device.event_log.session("ider", False, self._requester())
        self.phase = Phase.OPEN

    # -- the boot --------------------------------------------------------------------------------
    def _begin_boot(self, plan: BootPlan) -> None:
        """The host was reset or powered on with UseIDER set: reset the IDE channel, then boot."""
        if self.phase is not Phase.IDER:
            self._record(plan, _failed(plan, "the IDE-R session closed before the boot started"), self.device.clock())
            return
        self._fail_boot("the host was reset during the IDE-R boot")
        self.reset_plan = plan
        self._send_sequenced(IDERResetOccurred(mask=0x01))

    def _start_flow(self, plan: BootPlan) -> None:
        assert plan.ider_device is not None
        read = plan.sequential_read
        bios = (SequentialRead(plan.ider_device, blocks=read.blocks, sectors_per_read=read.sectors_per_read)
                if read is not None else BiosBoot(plan.ider_device))
        flow = firmware_flow(bios.run(), self.atapi)
        self.boot = _BootRun(plan, bios, flow, self.device.clock())
        self._advance(None)

    def _advance(self, outcome: CommandOutcome | None) -> None:
        """Send the next command of the boot, or record its result when it ends."""
        run = self.boot
        assert run is not None
        try:
            command = next(run.flow) if outcome is None else run.flow.send(outcome)
        except StopIteration as stop:
            self.boot = None
            self._record(run.plan, stop.value, run.started_at)
            return
        run.assembler = ReplyAssembler(max_chunk=READ_BUFFER_SIZE, collect=run.bios.collects_data)
        self._send_sequenced(command)

    def _on_reply(self, message: IDERDataToHost | IDERCommandEndResponse) -> None:
        run = self.boot
        if run is None or run.assembler is None:
            raise RedirectionProtocolError(f"{message.TYPE.name} with no command outstanding",
                                           message_type=message.TYPE)
        outcome = run.assembler.feed(message)
        if outcome is not None:
            run.assembler = None
            self._advance(outcome)

    def _fail_boot(self, reason: str) -> None:
        run, self.boot = self.boot, None
        if run is not None:
            run.flow.close()
            self._record(run.plan, _failed(run.plan, reason), run.started_at)
        plan, self.reset_plan = self.reset_plan, None
        if plan is not None:
            self._record(plan, _failed(plan, reason), self.device.clock())

    def _record(self, plan: BootPlan, result: BootResult, started_at: float) -> None:
        with self.device.lock:
            boot_backend_of(self.device).record(plan, result, started_at=started_at,
                                                finished_at=self.device.clock())
        log.info("%s: IDE-R boot %s", self.device.name, "done" if result.booted else f"failed: {result.reason}")

    # -- timers and the end ----------------------------------------------------------------------
    def _tick(self) -> None:
        if self.phase is Phase.CLOSED or self._loop is None:
            return
        now = self.device.clock()
        idle_limit = self.device.config.timing.redirection_idle_timeout
        # An open IDE-R session is kept however quiet the console is: consoles (MeshCommander,
        # MeshCentral, ui-toolkit) send nothing while they wait for the host to reboot and never
        # answer heartbeats, and they work on real AMT.  A dead console shows when a write fails.
        if self.phase is not Phase.IDER and now - self.last_received >= idle_limit:
            with self.device.lock:
                redirection_service_of(self.device).idle_closed += 1
            self._shutdown(f"nothing received for {idle_limit:g} s")
            return
        if self.phase is Phase.IDER and self.heartbeat > 0 and now - self.last_sent >= self.heartbeat:
            self._send_sequenced(IDERHeartbeat())
        if self.sol is not None:
            self.sol.tick(now - self.last_sent)
        with self.device.lock:
            self.device.power.settle()  # a power-up due now starts its boot without waiting for a reader
        self._timer = self._loop.call_later(TICK_SECONDS, self._tick)

    def _shutdown(self, why: str) -> None:
        if self.phase is Phase.CLOSED:
            return
        self._fail_boot(f"the IDE-R session ended during the boot ({why})")
        self._end_sol()
        self.phase = Phase.CLOSED
        log.debug("%s: redirection session closed: %s", self.device.name, why)
        if self._timer is not None:
            self._timer.cancel()
        with self.device.lock:
            redirection_service_of(self.device).close_session(self)
        if self.transport is not None:
            self.transport.close()


def _failed(plan: BootPlan, reason: str) -> BootResult:
    assert plan.ider_device is not None
    return BootResult(booted=False, device=plan.ider_device, reason=reason)


class RedirectionListeners:
    """The redirection listeners of one simulator: started and stopped with each device.

    ``tls_context`` gives a device's TLS server context (the WS-Man port's: the same certificate,
    versions and suites) when it has a TLS redirection port.
    """

    def __init__(self, tls_context: Callable[[SimulatedDevice], ssl.SSLContext]) -> None:
        self._tls_context = tls_context
        self._servers: dict[int, list[asyncio.AbstractServer]] = {}
        self._sessions: dict[int, set[FirmwareSessionProtocol]] = {}

    async def start_device(self, device: SimulatedDevice) -> None:
        """Listen for ``device`` if it has a redirection port (0 picks a free one, written back)."""
        config = device.config
        with device.lock:
            redirection_service_of(device)  # hooks power refusal and IDE-R boots from the start
            host_console_of(device)  # the host prints every boot on its serial port, SOL attached or not
        if config.faults.amt_disabled or id(device) in self._servers:
            return
        loop = asyncio.get_running_loop()
        servers: list[asyncio.AbstractServer] = []

        def factory() -> FirmwareSessionProtocol:
            return FirmwareSessionProtocol(device, self)

        if config.redirection_port is not None:
            plain = await listening("TCP", config.address, config.redirection_port, "redirection (SOL/IDE-R)",
                                    loop.create_server(factory, config.address, config.redirection_port,
                                                       reuse_address=True))
            config.redirection_port = plain.sockets[0].getsockname()[1]
            servers.append(plain)
        if config.redirection_tls_port is not None:
            tls = await listening("TCP", config.address, config.redirection_tls_port, "redirection over TLS",
                                  loop.create_server(factory, config.address, config.redirection_tls_port,
                                                     reuse_address=True, ssl=self._tls_context(device)))
            config.redirection_tls_port = tls.sockets[0].getsockname()[1]
            servers.append(tls)
        if servers:
            self._servers[id(device)] = servers

    async def stop_device(self, device: SimulatedDevice) -> None:
        """Close the device's sessions and listeners."""
        for session in list(self._sessions.pop(id(device), set())):
            session._shutdown("the device stopped")
        for server in self._servers.pop(id(device), []):
            server.close()
            await server.wait_closed()

    def track(self, device: SimulatedDevice, session: FirmwareSessionProtocol) -> None:
        self._sessions.setdefault(id(device), set()).add(session)

    def untrack(self, device: SimulatedDevice, session: FirmwareSessionProtocol) -> None:
        self._sessions.get(id(device), set()).discard(session)
