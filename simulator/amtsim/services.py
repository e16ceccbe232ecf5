"""Listeners beyond WS-Man that a :class:`~amtsim.server.Simulator` runs for its devices: RMCP.

:class:`RmcpService` makes every device whose :attr:`DeviceConfig.rmcp_port
<amtsim.config.DeviceConfig.rmcp_port>` is set answer ASF presence pings, the way AMT firmware does:

* the pong carries the device's AMT version, its *current* provisioning state (a change through the
  control API shows at the next ping) and its ports: 16992 and 16993 when it has a TLS listener,
  16992 alone otherwise, port 0 while it is not provisioned ("present, not set up");
* a device stays silent while ``AMT_GeneralSettings.RmcpPingResponseEnabled`` is false or AMT is
  disabled (``faults.amt_disabled``, which also keeps its web ports closed).

Sockets: devices on IPv4 loopback sharing a port share **one** socket on Linux
(:meth:`RmcpServer.bind_loopback <amtsim.rmcp.RmcpServer.bind_loopback>`), so a fleet of 500 costs one
descriptor; a device elsewhere, or with port 0 (any free port, read back into the config), gets a socket
of its own. Port 623 is AMT's and needs privileges (:func:`rmcp_port_allowed`).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import sys
from pathlib import Path

from amtkit.codes import ProvisioningState
from amtkit.discovery.rmcp import RMCP_PORT, PongInfo
from amtkit.discovery.rmcp import ProvisioningState as PongState
from amtkit.wsman import names

from .device import SimulatedDevice
from .listening import listening
from .rmcp import RmcpServer

__all__ = ["RmcpService", "default_rmcp_port", "pong_for", "rmcp_port_allowed", "rmcp_port_state"]

log = logging.getLogger(__name__)

_UNPRIVILEGED_PORT_START = Path("/proc/sys/net/ipv4/ip_unprivileged_port_start")


def rmcp_port_allowed(port: int = RMCP_PORT) -> bool:
    """Whether this process may bind UDP ``port`` (ports below 1024 need root or a sysctl on Linux)."""
    if port == 0 or port >= 1024:
        return True
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return True
    try:
        return int(_UNPRIVILEGED_PORT_START.read_text().strip()) <= port
    except (OSError, ValueError):
        return False


def default_rmcp_port() -> int | None:
    """623 when this process may bind it and nothing else holds it, else ``None`` (no RMCP answers).

    The default must not stop a simulator from starting: on a machine whose 623 is taken (a real
    AMT agent, another simulator) the devices simply do not answer pings, as :func:`rmcp_port_state`
    tells; asking for ``--rmcp-port 623`` explicitly still fails loudly when it is taken.
    """
    return RMCP_PORT if rmcp_port_state(RMCP_PORT) == "free" else None


def rmcp_port_state(port: int = RMCP_PORT) -> str:
    """``"free"``, ``"not permitted"`` or ``"in use"`` for UDP ``port`` on every IPv4 address."""
    if not rmcp_port_allowed(port):
        return "not permitted"
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(("0.0.0.0", port))
        except PermissionError:
            return "not permitted"
        except OSError:
            return "in use"
    return "free"


def _version(major_minor: str) -> tuple[int, int] | None:
    """``(16, 1)`` from ``DeviceConfig.major_minor`` ``"16.1"``; ``None`` when it does not fit the pong."""
    major, _, minor = major_minor.partition(".")
    try:
        version = (int(major), int(minor or 0))
    except ValueError:
        return None
    return version if all(0 <= part <= 0xFF for part in version) and version != (0, 0) else None


def pong_for(device: SimulatedDevice) -> PongInfo | None:
    """What ``device`` answers a presence ping with now; ``None``: it stays silent."""
    with device.lock:
        config = device.config
        general = device.general
        if config.faults.amt_disabled or not general.rmcp_ping_response_enabled:
            return None
        state = PongState(int(general.provisioning_state))
        tls = config.tls_port is not None
        if general.provisioning_state is not ProvisioningState.POST:
            open_port, both = 0, False  # present, not set up (AMT 6.1 and later)
        else:
            open_port, both = (names.PORT_TLS if tls else names.PORT_HTTP), tls
        return PongInfo(open_port=open_port, version=_version(config.major_minor), provisioning_state=state,
                        both_ports=both)


def _is_loopback_v4(address: str) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return parsed.version == 4 and parsed.is_loopback


class RmcpService:
    """The RMCP responders of one simulator; hooked to device start and stop by the simulator."""

    def __init__(self) -> None:
        self._shared: dict[int, RmcpServer] = {}
        self._by_port: dict[int, dict[str, SimulatedDevice]] = {}
        self._own: dict[int, RmcpServer] = {}
        self._port_of: dict[int, int] = {}

    def _lookup(self, port: int, local_ip: str) -> PongInfo | None:
        device = self._by_port.get(port, {}).get(local_ip)
        return None if device is None else pong_for(device)

    async def start_device(self, device: SimulatedDevice) -> None:
        """Answer pings for ``device`` if it has an RMCP port. Raises :class:`OSError` if it cannot bind."""
        configured = device.config.rmcp_port
        if configured is None or device.config.faults.amt_disabled or id(device) in self._port_of:
            return
        port: int = configured
        address = device.address
        if port != 0 and sys.platform.startswith("linux") and _is_loopback_v4(address):
            if port not in self._shared:
                self._shared[port] = await listening("UDP", "0.0.0.0", port, "RMCP presence pings for 127.0.0.0/8",
                                                     RmcpServer.bind_loopback(lambda ip: self._lookup(port, ip), port))
            self._by_port.setdefault(port, {})[address] = device
        else:
            self._own[id(device)] = await listening("UDP", address, port, "RMCP presence pings",
                                                    RmcpServer.bind([address], lambda _ip: pong_for(device), port))
            device.config.rmcp_port = port = self._own[id(device)].ports[0]
        self._port_of[id(device)] = port
        log.debug("RMCP: %s answers on %s:%d", device.name, address, port)

    def stop_device(self, device: SimulatedDevice) -> None:
        """Stop answering for ``device`` (idempotent); a shared socket closes with its last device."""
        port = self._port_of.pop(id(device), None)
        if port is None:
            return
        own = self._own.pop(id(device), None)
        if own is not None:
            own.close()
            return
        devices = self._by_port.get(port, {})
        if devices.get(device.address) is device:
            del devices[device.address]
        if not devices:
            self._by_port.pop(port, None)
            shared = self._shared.pop(port, None)
            if shared is not None:
                shared.close()

    @property
    def ports(self) -> list[int]:
        """The UDP ports answering now."""
        return sorted(set(self._port_of.values()))
