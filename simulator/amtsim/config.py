"""What a simulated device is: version, identity, credentials, initial state, timings, faults.

:func:`amtsim.scenario.load_scenario` fills these from a TOML file; tests build them directly.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field

from amtkit.codes import ControlMode, PowerState, ProvisioningState
from amtkit.wsman import names


@dataclass
class Timing:
    """Seconds the device takes; 0 makes changes immediate (handy in tests)."""

    power_transition: float = 0.5
    """A plain on/off/sleep transition."""
    power_off_phase: float = 0.5
    """How long cycle and reset stay off before coming back on."""
    nonce_lifetime: float = 300.0
    """After this a digest nonce is answered with ``stale=true``."""
    enumeration_context_lifetime: float = 120.0
    lockout_threshold: int = 5
    """Consecutive failed logins of one user before anti-hammering locks the account."""
    lockout_seconds: float = 30.0
    redirection_idle_timeout: float = 120.0
    """A redirection connection from which nothing arrives for this long is closed, unless it has IDE-R
    open (consoles wait silently for a reboot).  About two minutes, as SOL users observe on AMT 16."""
    http_idle_timeout: float = 60.0
    """A WS-Man connection with nothing in progress (kept alive between requests) is closed after this."""
    http_header_timeout: float = 10.0
    """A request head must arrive whole within this many seconds of its first byte (else 408)."""
    http_body_timeout: float = 30.0
    """A request body must arrive whole within this many seconds of the end of its head (else 408)."""
    http_send_timeout: float = 30.0
    """A peer that reads none of our pending replies for this long is cut off."""
    alert_retry_attempts: int = 3
    """A failed alert delivery is tried this many more times (``CIM_IndicationService.DeliveryRetryAttempts``)."""
    alert_retry_interval: float = 20.0
    """Seconds between those tries (``DeliveryRetryInterval``)."""
    alert_delivery_timeout: float = 10.0
    """One delivery (connect, post, answer) taking longer has failed."""
    alert_subscription_removal: float = 30 * 24 * 3600.0
    """A subscriber whose deliveries have failed this long without a success is removed
    (``SubscriptionRemovalTimeInterval``, action Remove)."""

    def with_instant_power(self) -> Timing:
        """These timings with power transitions that take no time (everything else kept)."""
        return dataclasses.replace(self, power_transition=0, power_off_phase=0)


@dataclass
class Faults:
    """Fault injection: each switch makes the device misbehave the way real AMT sometimes does."""

    power_state_unknown: bool = False
    """Report PowerState 0 and fail every power action (the classic console failure)."""
    response_delay: float = 0.0
    """Seconds to wait before answering each WS-Man request."""
    drop_connections: int = 0
    """Close this many next connections without answering (AMT dropping connections)."""
    internal_error_classes: list[str] = field(default_factory=list)
    """Classes whose intrinsic operations fail with InternalError AMT-STATUS 1."""
    amt_disabled: bool = False
    """AMT switched off in the MEBx: no listeners at all."""
    web_ports_closed: bool = False
    """The WS-Man ports refuse connections while RMCP (and redirection) still answer: AMT 6.1 and later
    before provisioning, whose presence pong names open port 0. Only read when the device starts."""
    hang: bool = False
    """A hung management engine: connections are accepted, requests are read, nothing is ever answered."""
    busy: bool = False
    """AMT busy: authenticated WS-Man requests are refused with InternalError, AMT-STATUS 2 (NOT_READY)."""
    silent_after_requests: int = 0
    """A device that comes and goes: after answering this many HTTP requests it stops answering
    (like ``hang``); 0: never goes silent."""
    silent_for: float = 0.0
    """Seconds a silent device stays silent before answering again (then counts anew); 0: for good."""
    fail_request_number: int = 0
    """The n-th WS-Man request the device handles from now on fails with InternalError (AMT-STATUS 1),
    whatever it asks, and nothing of it is carried out (a write that does not happen, a read that
    does not answer); counts down as requests arrive; 0: off. For tests that break a multi-step job
    at every step."""
    fail_following: bool = False
    """With ``fail_request_number``: every request after the failing one fails too (a device that
    breaks down in the middle of a job) until the fault is cleared."""


@dataclass
class DeviceConfig:
    """One simulated machine."""

    name: str = "amt-device"
    address: str = "127.0.0.1"
    http_port: int = names.PORT_HTTP
    tls_port: int | None = names.PORT_TLS
    redirection_port: int | None = None
    """TCP port of the redirection listener (SOL/IDE-R; 16994 on real AMT); ``None``: none, 0: any free port."""
    redirection_tls_port: int | None = None
    """The same over TLS (16995 on real AMT), with the WS-Man certificate."""
    rmcp_port: int | None = None
    """UDP port answering RMCP presence pings (623 on real AMT; needs privileges); ``None``: no answers,
    0: any free port (one socket for this device, read back after start)."""
    amt_version: str = "16.1.25"
    own_certificate: bool = False
    """A TLS certificate of its own (a fingerprint per host, as real machines have); else the
    simulator's shared one. TLS versions and suites follow ``amt_version`` (:mod:`amtsim.tlsprofile`)."""
    tls_digest_session_cache: bool | None = None
    """Admit unsigned requests on an authenticated TLS connection; None: as the firmware does (AMT 6+)."""
    build_number: str = "2021"
    sku: str = "16392"
    guid: str = field(default_factory=lambda: str(uuid.uuid4()).upper())
    hostname: str = "amt-device"
    domain: str = ""
    username: str = "admin"
    password: str = "P@ssw0rd"
    extra_users: dict[str, str] = field(default_factory=dict)
    provisioning_state: ProvisioningState = ProvisioningState.POST
    control_mode: ControlMode = ControlMode.ADMIN
    power_state: PowerState = PowerState.ON
    sleep_supported: bool = True
    """Whether sleep and hibernate are offered (desktops without S3/S4 support say no)."""
    mac_address: str = ""
    """AMT's MAC address as AMT writes it (``00-be-43-d8-22-a4``); empty: derived from the GUID."""
    ip_address: str = ""
    """The IPv4 address AMT reports in ``AMT_EthernetPortSettings``; empty: the device's ``address``."""
    subnet_mask: str = "255.255.255.0"
    default_gateway: str = ""
    primary_dns: str = ""
    dhcp_enabled: bool = True
    link_up: bool = True
    manufacturer: str = "amtsim Systems"
    """Chassis maker (``CIM_Chassis.Manufacturer``)."""
    model: str = "vPro Desktop 9000"
    serial_number: str = ""
    """Chassis serial number; empty: derived from the GUID."""
    bios_vendor: str = "Intel Corp."
    bios_version: str = "AMTSIM.0054.2023.0615.1200"
    bios_release_date: str = "2023-06-15"
    cpu_count: int = 1
    cpu_speed_mhz: int = 2400
    cpu_max_speed_mhz: int = 4700
    memory_gib: list[int] = field(default_factory=lambda: [8, 8])
    """One entry per memory module, in GiB."""
    cpu_model: str = "Intel(R) Core(TM) i7-13700 CPU @ 2.10GHz"
    """The processor's SMBIOS version string (``CIM_Chip.Version``, where consoles read the CPU model)."""
    board_manufacturer: str = "amtsim Systems"
    board_model: str = "AMTSIM-Q670"
    """Baseboard (``CIM_Card``) model; its serial is derived from the GUID."""
    board_version: str = "1.0"
    drives_gb: list[int] = field(default_factory=lambda: [512])
    """One entry per drive (``CIM_MediaAccessDevice``), its size in GB (10^9 bytes)."""
    wireless: bool = False
    """The machine has AMT-managed Wi-Fi (the Wi-Fi classes have instances only then)."""
    kvm_supported: bool = True
    """The SKU has KVM (no ``CIM_KVMRedirectionSAP`` instance otherwise, as on non-KVM parts)."""
    kvm_enabled: bool = True
    ider_enabled: bool = True
    sol_enabled: bool = True
    alert_ca_file: str | None = None
    """CA certificates (PEM) the device trusts for https alert listeners; ``None``: the system's."""
    max_http_connections: int = 1024
    """Open WS-Man connections (both ports) at most; at the cap the longest-idle one makes room."""
    condition: str = "healthy"
    """What this machine is, as the scenario states it (``healthy``, ``hung``, ``no-listener``,
    ``wrong-password``, ``power-unknown``, ``busy``, ``goes-silent``, ``not-provisioned``,
    ``unprovisioned-closed``; see :mod:`amtsim.fleetgen`): the
    truth a test compares a console's verdict with. Stating a condition also sets the switches
    that make it so, unless the scenario sets them itself."""
    timing: Timing = field(default_factory=Timing)
    faults: Faults = field(default_factory=Faults)

    def __post_init__(self) -> None:
        # As in scenarios and on the command line, a negative port means "no such listener" (the
        # optional ones); otherwise -1 would reach bind() and fail there with an OverflowError.
        for name in ("tls_port", "redirection_port", "redirection_tls_port", "rmcp_port"):
            port = getattr(self, name)
            if port is not None and port < 0:
                setattr(self, name, None)
        for name in ("http_port", "tls_port", "redirection_port", "redirection_tls_port", "rmcp_port"):
            port = getattr(self, name)
            if port is not None and not 0 <= port <= 65535:
                raise ValueError(f"DeviceConfig.{name}: {port} is not a port (0-65535; 0 = any free"
                                 + ("" if name == "http_port" else ", negative = none") + ")")

    @property
    def major_minor(self) -> str:
        parts = self.amt_version.split(".")
        return ".".join(parts[:2])

    @property
    def realm(self) -> str:
        """``Digest:`` + 32 upper-case hex, stable per device (derived from its GUID)."""
        return "Digest:" + uuid.UUID(self.guid).hex.upper()
