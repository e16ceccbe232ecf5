"""Realistic simulated fleets: device conditions, and scenario files for N devices with a given mix.

On loopback every call answers in well under a millisecond, so a plain loop reads a thousand
machines a second and proves nothing about a console. A real site has answer delays of tens of
milliseconds, management engines that accept a connection and never answer, addresses where
nothing listens, machines with another password, power states AMT cannot tell, busy engines, and
machines that answer and then fall silent. Each simulated device states which of these it is (its
``condition``), so a test can compare a console's verdict for every host with the truth.

::

    amtkit-sim fleet-scenario --count 1000 --delay 20-80 \\
        --mix hung=5%,no-listener=2%,wrong-password=2% --seed 1 > fleet.toml
    amtkit-sim run --scenario fleet.toml

The generated file lists every device with its address, condition and answer delay; one simulator
process serves them all, one device per loopback address.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CONDITIONS", "Condition", "FleetSpec", "apply_condition", "generate", "parse_mix", "render"]

WRONG_PASSWORD_SUFFIX = "-rotated"
"""A ``wrong-password`` device's password: the fleet's with this appended (another password, stated)."""


@dataclass(frozen=True)
class Condition:
    """What a device is, and the device settings that make it so."""

    summary: str
    faults: Mapping[str, Any] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)


CONDITIONS: dict[str, Condition] = {
    "healthy": Condition("answers every request"),
    "hung": Condition("accepts connections, never answers (a hung management engine)", {"hang": True}),
    "no-listener": Condition("nothing listens on the address (AMT off, machine gone)", {"amt_disabled": True}),
    "wrong-password": Condition("has another password than the fleet's"),
    "power-unknown": Condition("reports its power state as unknown", {"power_state_unknown": True}),
    "busy": Condition("answers authenticated requests with AMT-STATUS NOT_READY", {"busy": True}),
    "goes-silent": Condition("answers its first request, then never again (comes and goes)",
                             {"silent_after_requests": 1}),
    "not-provisioned": Condition("AMT present but not set up: no account logs in",
                                 settings={"provisioning_state": "pre"}),
    "unprovisioned-closed": Condition("AMT present, not set up, its web ports closed until it is (AMT 6.1+): only "
                                      "RMCP answers", {"web_ports_closed": True},
                                      settings={"provisioning_state": "pre"}),
}


def apply_condition(own: Mapping[str, Any], defaults: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A device's own scenario values with its ``condition``'s settings filled in.

    What the device sets itself wins; a ``wrong-password`` device without a password of its own gets
    the fleet's password with :data:`WRONG_PASSWORD_SUFFIX`. Raises ``ValueError`` for an unknown
    condition.
    """
    name = own.get("condition", defaults.get("condition", "healthy"))
    condition = CONDITIONS.get(name) if isinstance(name, str) else None
    if condition is None:
        raise ValueError(f"{where}.condition: {name!r} is not one of {', '.join(CONDITIONS)}")
    values = dict(own)
    for key, value in condition.settings.items():
        values.setdefault(key, value)
    if condition.faults:
        values["faults"] = {**condition.faults, **own.get("faults", {})}
    if name == "wrong-password" and "password" not in own:
        values["password"] = str(defaults.get("password", "P@ssw0rd")) + WRONG_PASSWORD_SUFFIX
    return values


@dataclass(frozen=True)
class FleetSpec:
    """How to generate a fleet: size, first address, the share of each condition, the delay spread."""

    count: int
    mix: Mapping[str, float] = field(default_factory=dict)
    """Fraction of the devices per condition (the rest are healthy)."""
    delay: tuple[float, float] = (0.0, 0.0)
    """Each device's answer delay is drawn uniformly from this range, in seconds."""
    first_address: str = "127.1.0.1"
    seed: int = 1
    name_prefix: str = "pc"
    username: str = "admin"
    password: str = "P@ssw0rd"
    rmcp_port: int | None = None
    """UDP port every device answers RMCP presence pings on (``None``: none answer; AMT's own 623 needs
    privileges). A console asks it whether a device that refuses every login is provisioned at all."""


def parse_mix(text: str) -> dict[str, float]:
    """``"hung=5%,no-listener=2%,busy=0.01"`` -> fractions per condition. Raises ``ValueError``."""
    mix: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, share = item.partition("=")
        if not sep or name not in CONDITIONS:
            raise ValueError(f"mix entry {item!r}: want CONDITION=SHARE with a condition of {', '.join(CONDITIONS)}")
        try:
            value = float(share[:-1]) / 100 if share.endswith("%") else float(share)
        except ValueError:
            raise ValueError(f"mix entry {item!r}: {share!r} is not a share (5% or 0.05)") from None
        if not 0 <= value <= 1:
            raise ValueError(f"mix entry {item!r}: a share is between 0 and 100%")
        mix[name] = value
    if sum(mix.values()) > 1:
        raise ValueError("the shares of the mix add up to more than 100%")
    return mix


def generate(spec: FleetSpec) -> dict[str, Any]:
    """The scenario (as TOML-ready data) of ``spec``: every device listed with its condition and delay.

    The conditions are dealt by count (``round(share * count)`` devices each) to positions shuffled
    with ``seed``, so the same spec always gives the same fleet.
    """
    if spec.count < 1:
        raise ValueError("a fleet has at least one device")
    rng = random.Random(spec.seed)
    conditions: list[str] = []
    for name, share in spec.mix.items():
        conditions += [name] * round(share * spec.count)
    if len(conditions) > spec.count:
        raise ValueError("the mix asks for more devices than the fleet has")
    conditions += ["healthy"] * (spec.count - len(conditions))
    rng.shuffle(conditions)
    first = ipaddress.ip_address(spec.first_address)
    low, high = spec.delay
    devices = []
    for index, condition in enumerate(conditions):
        address = first + index
        if not address.is_loopback:
            raise ValueError(f"fleet address {address} leaves the loopback range")
        name = f"{spec.name_prefix}-{index + 1:04d}"
        device: dict[str, Any] = {"name": name, "hostname": name, "address": str(address), "condition": condition}
        delay = round(rng.uniform(low, high), 4) if high > 0 else 0.0
        if delay:
            device["faults"] = {"response_delay": delay}
        devices.append(device)
    defaults: dict[str, Any] = {"username": spec.username, "password": spec.password, "tls_port": -1}
    if spec.rmcp_port is not None:
        defaults["rmcp_port"] = spec.rmcp_port
    defaults["timing"] = {"power_transition": 0.0, "power_off_phase": 0.0}
    return {"defaults": defaults, "device": devices}


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def render(scenario: Mapping[str, Any], comment: str = "") -> str:
    """TOML text of a generated scenario: the defaults, then one ``[[device]]`` table per device."""
    lines = [f"# {line}" for line in comment.splitlines()]
    lines.append("[defaults]")
    nested = {}
    for key, value in scenario["defaults"].items():
        if isinstance(value, dict):
            nested[key] = value
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    for key, table in nested.items():
        lines += ["", f"[defaults.{key}]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in table.items()]
    for device in scenario["device"]:
        lines += ["", "[[device]]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in device.items()]
    return "\n".join(lines) + "\n"
