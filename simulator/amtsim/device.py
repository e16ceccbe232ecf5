"""One simulated machine: its backends, its clock, its counters.

Everything a test may want to read or change is reachable from :class:`SimulatedDevice`:
``device.power.force_state(...)``, ``device.faults.power_state_unknown = True``,
``device.stats.http_requests``. Access from another thread goes through ``device.lock``
(the control API in :mod:`amtsim.control` does this for you).
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from amtkit.eoi.names import parse_version, serves_eoi, serves_wsman
from amtkit.wsman.responses import EnumItem, amt_message_id

from .backends.accounts import Accounts
from .backends.availability import Availability
from .backends.eventlog import EventLogBackend, Requester
from .backends.general import GeneralBackend
from .backends.power import PowerBackend
from .config import DeviceConfig
from .connections import ConnectionTable

T = TypeVar("T")

MAX_ENUMERATION_CONTEXTS = 32


@dataclass
class Stats:
    http_requests: int = 0
    """Every HTTP request received (a 401 round trip counts)."""
    wsman_requests: int = 0
    """Requests that passed authentication and reached a handler (plus Identify)."""
    eoi_requests: int = 0
    """Legacy SOAP requests that passed authentication (AMT 8.x and older)."""
    auth_challenges: int = 0
    auth_failures: int = 0
    connections: int = 0
    internal_errors: int = 0
    """Requests whose handling raised (answered 500): always a simulator bug; the fuzz harness counts them."""
    tls_session_auth: int = 0
    """Requests admitted without ``Authorization`` on an authenticated TLS connection (AMT 6+)."""


@dataclass
class EnumerationState:
    resource_uri: str
    items: list[EnumItem]
    mode: str | None
    expires_at: float
    position: int = 0


@dataclass
class SimulatedDevice:
    config: DeviceConfig
    clock: Callable[[], float] = time.monotonic
    lock: threading.RLock = field(default_factory=threading.RLock)
    stats: Stats = field(default_factory=Stats)
    extensions: dict[str, object] = field(default_factory=dict)
    """Backends of later services (defense, boot, redirection) keyed by service name."""

    def __post_init__(self) -> None:
        cfg = self.config
        self.faults = cfg.faults
        self.general = GeneralBackend(
            amt_version=cfg.amt_version, build_number=cfg.build_number, sku=cfg.sku, guid=cfg.guid,
            hostname=cfg.hostname, domain=cfg.domain, realm=cfg.realm,
            provisioning_state=cfg.provisioning_state, control_mode=cfg.control_mode,
        )
        self.power = PowerBackend(
            state=cfg.power_state, transition_seconds=cfg.timing.power_transition,
            off_phase_seconds=cfg.timing.power_off_phase, sleep_supported=cfg.sleep_supported,
            state_unknown=cfg.faults.power_state_unknown, clock=self.clock,
        )
        self.accounts = Accounts(
            cfg.realm, {cfg.username: cfg.password, **cfg.extra_users},
            nonce_lifetime=cfg.timing.nonce_lifetime, lockout_threshold=cfg.timing.lockout_threshold,
            lockout_seconds=cfg.timing.lockout_seconds, clock=self.clock,
        )
        self.availability = Availability(cfg.faults, clock=self.clock)
        self.event_log = EventLogBackend()
        """The event and audit logs (:mod:`amtsim.backends.eventlog`)."""
        self.requester: Requester | None = None
        """Who sent the request being handled (user, address): set by the listeners, read for audit records."""
        self.accounts.on_failure = lambda user, locked: self.event_log.login_failed(user, self.requester, locked)
        self.power.on_request.append(lambda action: self.event_log.power_requested(action, self.requester))
        from .backends.boot import boot_backend_of

        boot_backend_of(self).on_record.append(lambda boot: self.event_log.powered_up(boot.booted, boot.target))
        self.http_connections: ConnectionTable | None = None
        """The open WS-Man connections while the device listens (:mod:`amtsim.connections`)."""
        self._message_counter = itertools.count(random.randrange(0x1000, 0x100000))
        self._context_counter = itertools.count(random.randrange(0x10, 0xFFFF))
        self.enumerations: OrderedDict[str, EnumerationState] = OrderedDict()

    @property
    def caches_tls_digest_sessions(self) -> bool:
        """AMT 6.0 and later admit further requests on an authenticated kept-alive TLS connection
        without a new ``Authorization`` (Intel's authentication options guide)."""
        if self.config.tls_digest_session_cache is not None:
            return self.config.tls_digest_session_cache
        try:
            return int(self.config.amt_version.split(".", 1)[0]) >= 6
        except ValueError:
            return True

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def address(self) -> str:
        return self.config.address

    @property
    def serves_wsman(self) -> bool:
        """WS-Management on ``/wsman``: AMT 3.2 and later."""
        version = parse_version(self.config.amt_version)
        return version is None or serves_wsman(version)

    @property
    def serves_eoi(self) -> bool:
        """The legacy SOAP services (``/<Name>Service``): AMT 8.x and older."""
        version = parse_version(self.config.amt_version)
        return version is not None and serves_eoi(version)

    def next_message_id(self) -> str:
        return amt_message_id(next(self._message_counter))

    def open_enumeration(self, resource_uri: str, items: list[EnumItem], mode: str | None) -> str:
        """Keep the items of an enumeration; AMT's context ids look like ``5E1A0000-0000-...``."""
        context = f"{next(self._context_counter) & 0xFFFFFFFF:08X}-0000-0000-0000-000000000000"
        expires = self.clock() + self.config.timing.enumeration_context_lifetime
        self.enumerations[context] = EnumerationState(resource_uri, items, mode, expires)
        while len(self.enumerations) > MAX_ENUMERATION_CONTEXTS:
            self.enumerations.popitem(last=False)
        return context

    def take_enumeration(self, context: str) -> EnumerationState | None:
        state = self.enumerations.get(context)
        if state is None:
            return None
        if state.expires_at < self.clock():
            del self.enumerations[context]
            return None
        return state

    def extension(self, key: str, kind: type[T], make: Callable[[], T]) -> T:
        """The backend a service keeps in :attr:`extensions` under ``key``, made on first use."""
        backend = self.extensions.get(key)
        if not isinstance(backend, kind):
            backend = make()
            self.extensions[key] = backend
        return backend

    def sync_faults(self) -> None:
        """Apply fault switches changed at run time to the backends that mirror them."""
        self.power.state_unknown = self.faults.power_state_unknown
