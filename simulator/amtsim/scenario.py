"""Scenario files (TOML): which devices to simulate and how they behave.

::

    [defaults]                 # applies to every device below
    amt_version = "16.1.25"
    username = "admin"
    password = "P@ssw0rd"
    provisioning_state = "post"   # pre | in | post
    control_mode = "acm"          # acm | ccm
    power_state = "on"            # on | off | sleep | hibernate
    http_port = 16992
    tls_port = 16993

    [defaults.timing]
    power_transition = 0.5
    power_off_phase = 0.5

    [defaults.faults]
    power_state_unknown = false

    [[device]]                 # one machine
    name = "desk-01"
    address = "127.0.0.2"
    condition = "healthy"      # or hung, no-listener, wrong-password, power-unknown, busy,
                               # goes-silent, not-provisioned: the truth, and the switches for it

    [fleet]                    # or many machines, one per loopback address
    count = 50
    first_address = "127.1.0.1"
    name_prefix = "pc"

Unknown keys are errors (a typo must not silently do nothing).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import sys
from pathlib import Path
from typing import Any

from amtkit.codes import ControlMode, PowerState, ProvisioningState

from .config import DeviceConfig, Faults, Timing
from .fleetgen import apply_condition

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["ScenarioError", "load_scenario", "parse_scenario", "EXAMPLE"]

EXAMPLE = __doc__.split("::", 1)[1].split("Unknown keys", 1)[0].replace("\n    ", "\n").strip() + "\n"

MAX_FLEET = 65536


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file and the key."""


_ENUMS: dict[str, dict[str, Any]] = {
    "provisioning_state": {"pre": ProvisioningState.PRE, "in": ProvisioningState.IN, "post": ProvisioningState.POST},
    "control_mode": {"acm": ControlMode.ADMIN, "ccm": ControlMode.CLIENT, "none": ControlMode.NONE},
    "power_state": {"on": PowerState.ON, "off": PowerState.OFF_SOFT, "sleep": PowerState.SLEEP_DEEP,
                    "hibernate": PowerState.HIBERNATE, "off-hard": PowerState.OFF_HARD},
}
_DEVICE_FIELDS = {f.name for f in dataclasses.fields(DeviceConfig)} - {"timing", "faults"}


def _section(cls: type, values: dict[str, Any], where: str) -> Any:
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ScenarioError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return cls(**values)


_PORT_KEYS = ("http_port", "tls_port", "rmcp_port", "redirection_port", "redirection_tls_port")


def _ports(values: dict[str, Any], where: str) -> None:
    """TOML has no null: a negative port means "no such listener"; 0 picks a free port."""
    for key in _PORT_KEYS:
        if key not in values or values[key] is None:
            continue
        port = values[key]
        if not isinstance(port, int) or isinstance(port, bool):
            raise ScenarioError(f"{where}.{key}: a port number, not {port!r}")
        if port < 0:
            if key == "http_port":
                raise ScenarioError(f"{where}.http_port: every device listens for WS-Man; use 0 for any free port")
            values[key] = None
        elif port > 65535:
            raise ScenarioError(f"{where}.{key}: {port} is not a port (0-65535)")


def _device(values: dict[str, Any], where: str) -> DeviceConfig:
    values = dict(values)
    _ports(values, where)
    timing = _section(Timing, values.pop("timing", {}), f"{where}.timing")
    faults = _section(Faults, values.pop("faults", {}), f"{where}.faults")
    unknown = sorted(set(values) - _DEVICE_FIELDS)
    if unknown:
        raise ScenarioError(f"{where}: unknown key(s) {', '.join(unknown)}")
    for key, table in _ENUMS.items():
        if key in values and isinstance(values[key], str):
            try:
                values[key] = table[values[key].lower()]
            except KeyError:
                raise ScenarioError(f"{where}.{key}: {values[key]!r} is not one of {', '.join(table)}") from None
    return DeviceConfig(**values, timing=timing, faults=faults)


def _merge(defaults: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    merged = {**defaults, **own}
    for nested in ("timing", "faults"):
        if nested in defaults or nested in own:
            merged[nested] = {**defaults.get(nested, {}), **own.get(nested, {})}
    return merged


def _conditioned(defaults: dict[str, Any], own: dict[str, Any], where: str) -> dict[str, Any]:
    """A device's values: its condition's settings (:mod:`amtsim.fleetgen`) under its own, over the defaults."""
    try:
        return _merge(defaults, apply_condition(own, defaults, where))
    except ValueError as error:
        raise ScenarioError(str(error)) from None


def parse_scenario(data: dict[str, Any], source: str = "scenario") -> list[DeviceConfig]:
    unknown = sorted(set(data) - {"defaults", "device", "fleet"})
    if unknown:
        raise ScenarioError(f"{source}: unknown section(s) {', '.join(unknown)}")
    defaults = data.get("defaults", {})
    devices = [_device(_conditioned(defaults, d, f"{source}: device[{i}]"), f"{source}: device[{i}]")
               for i, d in enumerate(data.get("device", []))]
    fleet = data.get("fleet")
    if fleet is not None:
        fleet = dict(fleet)
        count = int(fleet.pop("count", 1))
        if not 0 < count <= MAX_FLEET:
            raise ScenarioError(f"{source}: fleet.count must be 1..{MAX_FLEET}")
        first = ipaddress.ip_address(fleet.pop("first_address", "127.1.0.1"))
        prefix = fleet.pop("name_prefix", "pc")
        for index in range(count):
            address = first + index
            if not address.is_loopback:
                raise ScenarioError(f"{source}: fleet address {address} leaves the loopback range")
            own = {"name": f"{prefix}-{index + 1:04d}", "hostname": f"{prefix}-{index + 1:04d}",
                   "address": str(address), **fleet}
            devices.append(_device(_conditioned(defaults, own, f"{source}: fleet"), f"{source}: fleet"))
    if not devices:
        devices.append(_device(_conditioned({}, defaults, f"{source}: defaults"), f"{source}: defaults"))
    return devices


def load_scenario(path: str | Path) -> list[DeviceConfig]:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"{path}: not valid TOML: {error}") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not UTF-8 text") from None
    return parse_scenario(data, str(path))
