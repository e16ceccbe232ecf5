"""Diagnosis: why can amtkit not manage this machine? Walk the ladder, stop at the first broken rung.

::

    from amtkit.diagnose import diagnose
    result = diagnose("10.0.0.5", credentials=Credentials("admin", "..."), feature="defense")
    if not result.ok:
        step = result.failed
        print(step.rung.question, step.finding, step.action)

The rungs, in order (:class:`Rung`):

1. **reachable**: does anything answer at all (name resolves, RMCP pong, TCP answer or refusal)?
2. **amt-ports**: is it Intel AMT on 16992/16993 or RMCP (``Server`` header, Intel pong)?
3. **identify**: does WS-Man Identify answer (unauthenticated)? Firmware that wants credentials even
   for Identify only earns a warning.
4. **tls**: with TLS asked for, does the handshake succeed with the given verification (and why not:
   verification, pin mismatch, protocol)? A TLS-only device reached without TLS fails here too.
5. **credentials**: which credential profile (or the single credential given) logs in; with profiles,
   the names tried when none does. Not tried on a device the pong says is unprovisioned: no account
   exists yet, and failed logins only feed AMT's anti-hammering counter.
6. **provisioned**: ``AMT_SetupAndConfigurationService`` says post-provisioning, and in which mode.
7. **power-state**: the power state is readable and known (not AMT's "unknown", state 0).
8. **feature**: the feature asked for is available in this control mode and switched on.

Each :class:`Step` carries the outcome, what was found, what to do, and the error category of
:mod:`amtkit.exceptions` (the same ``category`` every amtkit error carries, so the CLI's exit code of
``amtkit diagnose`` is the one the failing operation itself would have had).
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import exceptions as exc
from .client import Client
from .codes import ControlMode, ProvisioningState, PTStatus
from .config import Timeout, TLSConfig
from .discovery.identify import WsmanIdentify
from .discovery.probe import Classification, HostRecord, ProbeSettings, discover
from .discovery.rmcp import ProvisioningState as PongState
from .http.digest import Credentials
from .inventory import FeatureState, Setup, setup_from
from .power import PowerStatus
from .profiles import ProfileSet, connect, login
from .redirection.service import RedirectionState
from .text import printable
from .wsman import names
from .wsman.names import Cls

if TYPE_CHECKING:
    from .store import Store

__all__ = ["Diagnosis", "Feature", "Outcome", "Rung", "Step", "diagnose"]


class Rung(str, enum.Enum):
    """The questions, in the order they are asked."""

    REACHABLE = "reachable"
    AMT_PORTS = "amt-ports"
    IDENTIFY = "identify"
    TLS = "tls"
    CREDENTIALS = "credentials"
    PROVISIONED = "provisioned"
    POWER_STATE = "power-state"
    FEATURE = "feature"

    @property
    def question(self) -> str:
        return _QUESTIONS[self]


_QUESTIONS = {
    Rung.REACHABLE: "Is the host reachable?",
    Rung.AMT_PORTS: "Does Intel AMT answer (ports 16992/16993, RMCP)?",
    Rung.IDENTIFY: "Does WS-Man Identify answer?",
    Rung.TLS: "Does the TLS handshake succeed?",
    Rung.CREDENTIALS: "Which credentials log in?",
    Rung.PROVISIONED: "Is AMT provisioned?",
    Rung.POWER_STATE: "Is the power state readable and known?",
    Rung.FEATURE: "Is the requested feature available?",
}


class Outcome(str, enum.Enum):
    PASSED = "passed"
    WARNING = "warning"
    """Passed with a reservation worth knowing (the ladder goes on)."""
    FAILED = "failed"
    """The first broken rung: the ladder stops here."""
    SKIPPED = "skipped"
    """Not applicable, or not reached because an earlier rung failed."""


class Feature(str, enum.Enum):
    """Features :func:`diagnose` can check on the last rung."""

    POWER = "power"
    DEFENSE = "defense"
    IDER = "ider"
    SOL = "sol"
    KVM = "kvm"


_FEATURE_NAMES = {Feature.POWER: "power control", Feature.DEFENSE: "System Defense", Feature.IDER: "IDE-R",
                  Feature.SOL: "Serial-over-LAN", Feature.KVM: "KVM"}


@dataclass(frozen=True)
class Step:
    """One rung's outcome: ``finding`` (what was seen), ``action`` (what to do), ``category`` of the failure."""

    rung: Rung
    outcome: Outcome
    finding: str
    action: str = ""
    category: str | None = None
    error: exc.AMTError | None = field(default=None, compare=False, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {"rung": self.rung.value, "question": self.rung.question, "outcome": self.outcome.value,
                "finding": self.finding, "action": self.action or None, "category": self.category}


@dataclass(frozen=True)
class Diagnosis:
    """The ladder walked for one host: every rung, the failing one (if any) last before the skipped ones."""

    host: str
    steps: tuple[Step, ...]
    profile: str | None = None
    """The credential profile that logged in, when profiles were used."""
    record: HostRecord | None = field(default=None, compare=False, repr=False)
    """What the discovery probe saw (RMCP, banner, Identify)."""

    @property
    def failed(self) -> Step | None:
        return next((step for step in self.steps if step.outcome is Outcome.FAILED), None)

    @property
    def ok(self) -> bool:
        return self.failed is None

    @property
    def category(self) -> str | None:
        failed = self.failed
        return None if failed is None else failed.category

    @property
    def exit_code(self) -> int:
        """0 when every rung passed, else the CLI exit code of the failure's category."""
        category = self.category
        return 0 if self.ok else exc.EXIT_CODES.get(category or "error", 1)

    def step(self, rung: Rung) -> Step:
        return next(step for step in self.steps if step.rung is rung)

    def as_dict(self) -> dict[str, Any]:
        failed = self.failed
        return {"ok": self.ok, "host": self.host, "stopped_at": None if failed is None else failed.rung.value,
                "category": self.category, "profile": self.profile, "steps": [s.as_dict() for s in self.steps],
                "discovery": None if self.record is None else self.record.as_dict()}


class _Stop(Exception):
    """Raised inside the ladder once a rung failed."""


class _Ladder:
    def __init__(self, host: str) -> None:
        self.host = host
        self.steps: list[Step] = []

    def passed(self, rung: Rung, finding: str) -> None:
        self.steps.append(Step(rung, Outcome.PASSED, finding))

    def warning(self, rung: Rung, finding: str, action: str) -> None:
        self.steps.append(Step(rung, Outcome.WARNING, finding, action))

    def skipped(self, rung: Rung, finding: str) -> None:
        self.steps.append(Step(rung, Outcome.SKIPPED, finding))

    def fail(self, rung: Rung, error: exc.AMTError) -> _Stop:
        """Record ``error`` as the failure of ``rung``; raise the result to stop the ladder."""
        if error.host is None:
            error.host = self.host
        self.steps.append(Step(rung, Outcome.FAILED, error.message, error.hint, error.category, error))
        return _Stop()

    def finish(self) -> tuple[Step, ...]:
        done = {step.rung for step in self.steps}
        return tuple(self.steps) + tuple(Step(r, Outcome.SKIPPED, "not reached") for r in Rung if r not in done)


@dataclass
class _Plan:
    """The caller's inputs, resolved once."""

    host: str
    settings: ProbeSettings
    tls: TLSConfig | None
    credentials: Credentials | None
    profiles: ProfileSet | None
    store: Store | None
    feature: Feature | None
    timeout: float
    max_tries: int | None

    @property
    def port(self) -> int:
        return self.settings.https_port if self.tls is not None else self.settings.http_port

    def client_options(self) -> dict[str, Any]:
        return {"port": self.port, "tls": self.tls, "timeout": Timeout(self.timeout), "retries": 0}


def diagnose(
    host: str,
    *,
    credentials: Credentials | None = None,
    profiles: ProfileSet | None = None,
    store: Store | None = None,
    tls: TLSConfig | None = None,
    port: int | None = None,
    settings: ProbeSettings | None = None,
    feature: Feature | str | None = None,
    timeout: float = 10.0,
    max_tries: int | None = None,
) -> Diagnosis:
    """Walk the ladder for ``host`` and return every rung's outcome (never raises for a device problem).

    ``credentials`` or ``profiles`` (tried in order, at most ``max_tries``, the working name remembered in
    ``store``) log in; ``tls`` switches WS-Man to TLS with that verification. ``settings`` gives the probe
    ports and timeouts (``port`` overrides the WS-Man port in use: HTTPS with ``tls``, else HTTP).
    ``feature`` (``power``, ``defense``, ``ider``, ``sol``, ``kvm``) is checked on the last rung.

    Raises :class:`~amtkit.discovery.targets.TargetError` if ``host`` is not one host, ``ValueError`` for an
    unknown feature, :class:`RuntimeError` inside a running event loop (the probe runs its own).
    """
    settings = settings or ProbeSettings()
    if port is not None:
        if tls is not None:
            settings = dataclasses.replace(settings, https_port=port)
        else:
            settings = dataclasses.replace(settings, http_port=port)
    plan = _Plan(host, settings, tls, credentials, profiles, store,
                 Feature(feature) if feature is not None else None, timeout, max_tries)
    ladder = _Ladder(host)
    record: HostRecord | None = None
    profile_name: list[str] = []
    try:
        record = _probe(plan)
        _reachable(ladder, plan, record)
        _amt_ports(ladder, plan, record)
        _identify(ladder, record)
        _tls(ladder, plan, record)
        client, setup = _credentials(ladder, plan, record, profile_name)
        with client:
            _provisioned(ladder, setup)
            status = _power_state(ladder, client)
            _feature(ladder, plan, client, setup, status)
    except _Stop:
        pass
    return Diagnosis(host, ladder.finish(), profile_name[0] if profile_name else None, record)


def _probe(plan: _Plan) -> HostRecord:
    identify = WsmanIdentify(connect_timeout=plan.settings.connect_timeout, read_timeout=plan.settings.read_timeout)
    (record,) = discover([plan.host], settings=plan.settings, identify=identify, limit=1)
    return record


# ------------------------------------------------------------------------------------------ rungs


def _reachable(ladder: _Ladder, plan: _Plan, record: HostRecord) -> None:
    settings = plan.settings
    if record.address is None:
        raise ladder.fail(Rung.REACHABLE, exc.UnreachableError(
            "the host name does not resolve", hint="check the spelling, DNS, or use the address"))
    if record.classification is Classification.NO_RESPONSE and record.ports_open:
        raise ladder.fail(Rung.REACHABLE, exc.ReadTimeoutError(
            f"{record.address} accepts connections on port {'/'.join(map(str, record.ports_open))} but answers "
            f"nothing within {settings.read_timeout:g} s", hint=_HUNG_HINT))
    if record.classification is Classification.NO_RESPONSE:
        ports = f"{settings.http_port}/{settings.https_port}"
        raise ladder.fail(Rung.REACHABLE, exc.UnreachableError(
            f"nothing answers at {record.address}: no RMCP pong on UDP {settings.rmcp_port}, no TCP answer on "
            f"{ports}" + (f" ({printable(record.detail)})" if record.detail else ""),
            hint="check that the machine has power (AMT answers with the OS off, not without AC power), is "
                 "on this network, and that no firewall drops AMT's ports"))
    evidence = ["RMCP pong"] if record.rmcp_answered else []
    evidence.append(f"TCP ports open: {', '.join(map(str, record.ports_open))}" if record.ports_open
                    else "TCP ports refused")
    ladder.passed(Rung.REACHABLE, f"{record.address} answers ({'; '.join(evidence)})")


_HUNG_HINT = ("a hung or overloaded management engine accepts connections and never answers: retry in a minute; "
              "if it stays so, AMT recovers when the machine loses AC power for a few seconds")


def _amt_ports(ladder: _Ladder, plan: _Plan, record: HostRecord) -> None:
    settings = plan.settings
    if record.classification is Classification.PORTS_CLOSED:
        raise ladder.fail(Rung.AMT_PORTS, exc.NotDetectedError(
            f"the host is up but ports {settings.http_port}/{settings.https_port} are closed and it does not "
            f"answer RMCP on {settings.rmcp_port}",
            hint="AMT may be disabled in the MEBx (Ctrl-P at boot), or this machine has no AMT"))
    if record.classification is Classification.NOT_AMT:
        seen = f"Server: {printable(record.server)}" if record.server else (
            "a non-Intel RMCP pong" if record.rmcp_answered and not record.ports_open else "no AMT banner")
        raise ladder.fail(Rung.AMT_PORTS, exc.NotDetectedError(
            f"something answers ({seen}) but it is not Intel AMT",
            hint="check the address and ports: this may be another management controller or a web server"))
    state = record.provisioning_state
    version = f"Intel AMT {record.version}" if record.version else "Intel AMT"
    details = [f"ports open: {', '.join(map(str, record.ports_open))}" if record.ports_open else "no web port open"]
    if state is not None:
        details.append(f"RMCP says {_PONG_STATES[state]}")
    if not record.ports_open:
        if state in (PongState.PRE, PongState.IN):
            ladder.passed(Rung.AMT_PORTS, f"{version} ({'; '.join(details)})")
            return  # an unprovisioned AMT need not listen yet; the provisioned rung explains
        raise ladder.fail(Rung.AMT_PORTS, exc.UnreachableError(
            f"{version} answers RMCP but neither port {settings.http_port} nor {settings.https_port} accepts "
            "connections", hint="a firewall between here and the machine filters AMT's TCP ports"))
    ladder.passed(Rung.AMT_PORTS, f"{version} ({'; '.join(details)})")


_PONG_STATES = {PongState.PRE: "not provisioned", PongState.IN: "provisioning in progress",
                PongState.POST: "provisioned"}


def _identify(ladder: _Ladder, record: HostRecord) -> None:
    info = record.identify
    if not record.ports_open:
        ladder.skipped(Rung.IDENTIFY, "no web port open")
        return
    if info is not None and info.is_amt:
        ladder.passed(Rung.IDENTIFY, printable(f"{info.vendor} {info.product_version}"))
        return
    if info is not None:
        raise ladder.fail(Rung.IDENTIFY, exc.NotDetectedError(
            f"Identify names {printable(f'{info.vendor} {info.product_version}')}, not Intel AMT",
            hint="another WS-Management service answers on this port"))
    note = printable(record.detail) if record.detail else "no Identify response"
    ladder.warning(Rung.IDENTIFY, f"no usable Identify answer ({note})",
                   "some firmware asks for credentials even for Identify; the next rungs tell more")


def _tls(ladder: _Ladder, plan: _Plan, record: HostRecord) -> None:
    settings = plan.settings
    http_open = settings.http_port in record.ports_open
    https_open = settings.https_port in record.ports_open
    if plan.tls is None:
        if http_open or not record.ports_open:
            ladder.skipped(Rung.TLS, f"not used: plain HTTP on port {settings.http_port}")
            return
        if settings.http_port != names.PORT_HTTP:
            # A port the user chose is closed: that says nothing about AMT's own ports.
            raise ladder.fail(Rung.TLS, exc.UnreachableError(
                f"port {settings.http_port} (the port asked for) does not accept connections; the TLS port "
                f"{settings.https_port} does", hint=f"AMT's WS-Man ports are {names.PORT_HTTP} (HTTP) and "
                f"{names.PORT_TLS} (TLS): check --port, or connect with --tls"))
        raise ladder.fail(Rung.TLS, exc.TLSError(
            f"the device accepts only TLS (port {settings.https_port} open, {settings.http_port} closed) and TLS "
            "was not asked for", reason="protocol",
            hint="connect with --tls and --ca-file or --pin-sha256 (--insecure to try without verification)"))
    if not https_open:
        raise ladder.fail(Rung.TLS, exc.TLSError(
            f"port {settings.https_port} does not accept connections: TLS is not set up on this device",
            reason="protocol", hint="use plain HTTP (no --tls), or configure TLS on the device first"))
    try:
        with Client(plan.host, **plan.client_options()) as client:
            client.identify()
    except exc.TLSError as error:
        raise ladder.fail(Rung.TLS, _with_reason(error)) from error
    except exc.AMTError as error:
        raise ladder.fail(Rung.TLS, error) from error
    how = ("pinned certificate" if plan.tls.pin_sha256 else "not verified (insecure)" if plan.tls.insecure
           else "certificate verified")
    ladder.passed(Rung.TLS, f"handshake on port {settings.https_port} succeeded, {how}")


def _with_reason(error: exc.TLSError) -> exc.TLSError:
    error.message = f"{error.message} (reason: {error.reason})"
    return error


def _credentials(ladder: _Ladder, plan: _Plan, record: HostRecord, profile_name: list[str]) -> tuple[Client, Setup]:
    if record.provisioning_state in (PongState.PRE, PongState.IN):
        ladder.skipped(Rung.CREDENTIALS, "not tried: the device is not provisioned, so no account exists yet "
                                         "(a login would only count as a failure)")
        state = ProvisioningState(int(record.provisioning_state))
        raise ladder.fail(Rung.PROVISIONED, _not_provisioned(state))
    found: list[Any] = []

    def read_setup(client: Client) -> None:
        found.append(client.get(Cls.AMT_SetupAndConfigurationService))

    try:
        if plan.profiles is not None:
            profile, client = connect(plan.host, plan.profiles, plan.store, check=read_setup,
                                      max_tries=plan.max_tries, **plan.client_options())
            profile_name.append(profile.name)
            who = f"profile {profile.name!r} (user {profile.username})"
        elif plan.credentials is not None:
            client = login(plan.host, plan.credentials, check=read_setup, **plan.client_options())
            who = f"user {plan.credentials.username}"
        else:
            raise ladder.fail(Rung.CREDENTIALS, exc.AuthenticationError(
                "no credentials to try", hint="set AMT_PASSWORD, or give a profile file (--profiles)"))
    except exc.AuthenticationError as error:
        if not error.hint or error.hint == exc.AuthenticationError.default_hint:
            error.hint = (f"{exc.AuthenticationError.default_hint}; a device that is not provisioned rejects "
                          "every login")
        raise ladder.fail(Rung.CREDENTIALS, error) from error
    except exc.AMTError as error:
        raise ladder.fail(Rung.CREDENTIALS, error) from error
    ladder.passed(Rung.CREDENTIALS, f"{who} logged in")
    return client, setup_from(found)


def _not_provisioned(state: ProvisioningState | None) -> exc.NotProvisionedError:
    what = {ProvisioningState.PRE: "not provisioned", ProvisioningState.IN: "still being provisioned"}.get(
        state, "in an unknown provisioning state") if state is not None else "in an unknown provisioning state"
    return exc.NotProvisionedError(f"AMT is {what}", return_value=int(PTStatus.INVALID_PROVISIONING_STATE))


def _provisioned(ladder: _Ladder, setup: Setup) -> None:
    if setup.provisioning_state is not ProvisioningState.POST:
        raise ladder.fail(Rung.PROVISIONED, _not_provisioned(setup.provisioning_state))
    mode = {ControlMode.ADMIN: "admin control mode (ACM)", ControlMode.CLIENT: "client control mode (CCM)"}.get(
        setup.control_mode or ControlMode.NONE, "an unknown control mode")
    ladder.passed(Rung.PROVISIONED, f"provisioned, {mode}")


def _power_state(ladder: _Ladder, client: Client) -> PowerStatus:
    try:
        status = client.power.status()
    except exc.AMTError as error:
        raise ladder.fail(Rung.POWER_STATE, error) from error
    offers = ", ".join(status.available_names) or "nothing"
    ladder.passed(Rung.POWER_STATE, f"{status.state.name.lower()} (offers: {offers})")
    return status


def _feature(ladder: _Ladder, plan: _Plan, client: Client, setup: Setup, status: PowerStatus) -> None:
    feature = plan.feature
    if feature is None:
        ladder.skipped(Rung.FEATURE, "no feature asked for (power, defense, ider, sol, kvm)")
        return
    name = _FEATURE_NAMES[feature]
    if feature is Feature.POWER:
        if not status.available:
            raise ladder.fail(Rung.FEATURE, exc.FeatureUnavailableError(
                f"the device offers no power action while {status.state.name.lower()}",
                hint="wait for a pending change to finish, then retry"))
        ladder.passed(Rung.FEATURE, f"{name} offers {', '.join(status.available_names)}")
        return
    if feature is Feature.DEFENSE:
        if setup.control_mode is not ControlMode.ADMIN:
            raise ladder.fail(Rung.FEATURE, exc.FeatureUnavailableError(
                f"{name} is not available in client control mode (CCM)",
                hint="System Defense needs admin control mode: re-provision the device in ACM"))
        ladder.passed(Rung.FEATURE, f"{name} is available (admin control mode)")
        return
    try:
        features = client.inventory.features(setup)
    except exc.AMTError as error:
        raise ladder.fail(Rung.FEATURE, error) from error
    state = {Feature.IDER: features.ider, Feature.SOL: features.sol, Feature.KVM: features.kvm}[feature]
    if state is FeatureState.ABSENT:
        raise ladder.fail(Rung.FEATURE, exc.FeatureUnavailableError(
            f"this device does not offer {name}", hint="the platform (SKU) lacks it; use another machine"))
    if state is FeatureState.DISABLED:
        raise ladder.fail(Rung.FEATURE, exc.FeatureUnavailableError(
            f"{name} is disabled on this device", hint=_ENABLE_HINTS[feature]))
    if feature is not Feature.KVM and features.redirection_listener is False:
        raise ladder.fail(Rung.FEATURE, exc.FeatureUnavailableError(
            f"{name} is enabled but the redirection listener is off",
            hint="set AMT_RedirectionService.ListenerEnabled to true"))
    if setup.control_mode is ControlMode.CLIENT:
        ladder.warning(Rung.FEATURE, f"{name} is enabled", "client control mode: the user at the machine must "
                       "consent (read out the code shown on screen) before a session starts")
        return
    ladder.passed(Rung.FEATURE, f"{name} is enabled")


_ENABLE_HINTS = {
    Feature.IDER: f"enable it: AMT_RedirectionService.RequestStateChange({int(RedirectionState.IDER_AND_SOL)}) "
                  "(client.redirection.request_state)",
    Feature.SOL: f"enable it: AMT_RedirectionService.RequestStateChange({int(RedirectionState.IDER_AND_SOL)}) "
                 "(client.redirection.request_state)",
    Feature.KVM: "enable it with CIM_KVMRedirectionSAP.RequestStateChange(2)",
}
