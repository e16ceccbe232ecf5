"""System Defense of a simulated device: AMT's filter objects, and a host network that obeys them.

Theory of operation:

* Rule 1: objects have AMT's identities. Filters of both classes share one handle counter (a
  policy's ``FilterCreationHandles`` names either kind by number); policies have their own. The
  InstanceIDs read ``Intel(r) AMT:Handle: <n>``.
* Rule 2: AMT's limits. At most 8 policies and 80 filters in all, 62 filters in one policy, policy
  names of at most 16 characters. A Create beyond a limit fails with MAX_LIMIT_REACHED; values
  AMT would not take with INVALID_PARAMETER; an unknown handle with INVALID_HANDLE.
* Rule 3: activation is per port (0 wired, 1 wireless). Several policies may be activated on a port;
  the one in force is the activated policy with the highest precedence (ties: the older activation).
  Deleting a policy removes its activations with it.
* Rule 4: time belongs to the device (as in the power backend). A policy timeout (``SetTimeout``,
  minutes) runs from the activation or the last ``SetTimeout``, whichever is later; every read
  first expires what is due (``settle``), which removes the activation and logs a ``timeout`` event,
  so the next policy in precedence takes over. No timer thread.
* Rule 5: one packet filter. :meth:`DefenseBackend.offer` decides a packet of the host's traffic
  with :func:`amtkit.defense.engine.compile_policy`, the code the client's lockout check runs, so
  the check and the enforcement cannot disagree. AMT's own management traffic (TCP 16992-16995 and
  UDP 623/664 on the host's side) reaches the management engine before any filter: never filtered,
  so a quarantined machine stays manageable.
* Rule 6: counters and statistics. Every decision moves live counters. ``UpdateStatistics`` copies
  them into the snapshot ``AMT_ActiveFilterStatistics`` shows (``ReadCount`` for counting profiles,
  ``FilterMatched`` for any match); ``ResetOnRead`` zeroes them.
* Rule 7: events. A match of a filter with ``ActionEventOnMatch`` logs an event each time; a default
  action with its ``MatchEvent`` flag logs one and then stays quiet until statistics are read (SDK:
  "generated once and allowed again only after statistics are read").

Backend only: no XML. :mod:`amtsim.handlers.defense` maps the AMT classes onto it.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from amtkit.codes import PTStatus
from amtkit.defense.engine import CompiledPolicy, compile_policy
from amtkit.defense.model import (
    MAX_FILTERS,
    MAX_POLICIES,
    Action,
    DefenseError,
    Filter,
    FilterDirection,
    FilterProfile,
    IPAddress,
    IPProtocol,
    Packet,
    Policy,
    policy_in_force,
)
from amtkit.defense.wsman import (
    MAX_FILTERS_PER_POLICY,
    MAX_NAME_LENGTH,
    MAX_TIMEOUT_MINUTES,
    PolicyObject,
    filter_from_properties,
    policy_from_properties,
    policy_name,
)
from amtkit.wsman import names
from amtkit.wsman.names import Cls
from amtkit.wsman.values import Value

if TYPE_CHECKING:
    from ..device import SimulatedDevice

__all__ = [
    "AMT_TCP_PORTS",
    "AMT_UDP_PORTS",
    "DefenseBackend",
    "DefenseEvent",
    "DefenseRefused",
    "FlowResult",
    "StoredFilter",
    "StoredPolicy",
    "TrafficVerdict",
    "defense_of",
]

AMT_TCP_PORTS = frozenset({names.PORT_HTTP, names.PORT_TLS, names.PORT_REDIRECTION, names.PORT_REDIRECTION_TLS})
"""TCP ports of the management engine (WS-Man, redirection): its traffic bypasses System Defense."""
AMT_UDP_PORTS = frozenset({names.PORT_RMCP, names.PORT_RMCP_SECURE})
"""UDP ports of the management engine (RMCP, secure RMCP)."""

HANDLE_PREFIX = "Intel(r) AMT:Handle: "
PORTS = (0, 1)
"""Network ports with System Defense: 0 wired, 1 wireless."""


class DefenseRefused(Exception):
    """A change AMT would refuse; ``status`` is the PT_STATUS it answers with."""

    def __init__(self, status: PTStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class StoredFilter:
    handle: int
    class_name: str
    properties: dict[str, Value]
    model: Filter

    @property
    def instance_id(self) -> str:
        return f"{HANDLE_PREFIX}{self.handle}"


@dataclass
class StoredPolicy(PolicyObject):
    handle: int
    properties: dict[str, Value]
    filter_handles: list[int]
    timeout_minutes: int | None = None
    """Set by ``SetTimeout`` on this policy; None falls back to the device-wide value."""
    compiled: CompiledPolicy | None = None

    @property
    def instance_id(self) -> str:
        return f"{HANDLE_PREFIX}{self.handle}"


@dataclass
class Activation:
    port: int
    policy: int
    since: float
    """Start of the timeout: the activation, or the last SetTimeout."""
    order: int


@dataclass(frozen=True)
class TrafficVerdict:
    """What System Defense did with one packet.

    ``reason`` is ``management`` (AMT's own traffic, never filtered), ``no-policy``, ``filter``,
    ``default``, ``anti-spoofing`` or ``rate-limit`` (over the filter's packets per second).
    ``rule`` explains it for people; ``policy`` is the PolicyName in force, ``filter_handle`` the
    deciding filter.
    """

    passed: bool
    action: str
    reason: str
    rule: str
    policy: str | None = None
    filter_handle: int | None = None


@dataclass(frozen=True)
class FlowResult:
    """``packets`` copies of one packet offered at the same instant: how many passed."""

    packet: Packet
    packets: int
    passed: int
    verdict: TrafficVerdict
    """The verdict of the first packet (later ones differ only when a rate limit runs out)."""

    @property
    def dropped(self) -> int:
        return self.packets - self.passed


@dataclass(frozen=True)
class DefenseEvent:
    """An entry of the simulated event log: ``match``, ``default``, ``anti-spoofing``, ``activated``,
    ``deactivated``, ``timeout``."""

    time: float
    kind: str
    policy: str | None
    filter_handle: int | None
    detail: str
    inbound: bool | None = None
    """For traffic events: whether the packet was coming in to the host."""


@dataclass
class _Live:
    """Counters of one (port, policy) since the last reset."""

    matches: Counter[int] = field(default_factory=Counter)
    counted: Counter[int] = field(default_factory=Counter)
    defaults: Counter[str] = field(default_factory=Counter)


@dataclass
class DefenseBackend:
    host_addresses: Collection[IPAddress] = ()
    clock: Callable[[], float] = time.monotonic
    filters: dict[int, StoredFilter] = field(default_factory=dict)
    policies: dict[int, StoredPolicy] = field(default_factory=dict)
    activations: list[Activation] = field(default_factory=list)
    events: list[DefenseEvent] = field(default_factory=list)
    timeout_minutes: int = 0
    """Device-wide timeout (``SetTimeout`` without selectors), for policies without their own."""
    clock_offset: float = 0.0
    """Seconds added to ``clock`` by tests (:meth:`advance`), to reach a timeout without waiting."""
    totals: Counter[str] = field(default_factory=Counter)
    """Packets by outcome: ``passed``, ``dropped``, and by reason."""
    stored_as: Callable[[str, dict[str, Value]], dict[str, Value]] | None = None
    """Fault injection: rewrites the properties a Create stores, ``(class name, properties) ->
    properties``, for firmware that keeps something other than what it was sent."""
    on_event: Callable[[DefenseEvent], None] | None = None
    """Called for every entry of :attr:`events` (the device's event log records traffic events)."""

    def __post_init__(self) -> None:
        self._filter_handles = itertools.count(1)
        self._policy_handles = itertools.count(1)
        self._activation_order = itertools.count()
        self._live: dict[tuple[int, int], _Live] = {}
        self._snapshot: dict[int, tuple[int, dict[int, tuple[int, bool]]]] = {}
        self._quiet_defaults: set[tuple[int, int, str]] = set()
        self._rate: dict[int, tuple[int, int]] = {}

    # -- time ----------------------------------------------------------------------------------------

    def now(self) -> float:
        return self.clock() + self.clock_offset

    def advance(self, seconds: float) -> None:
        """Move the device's System Defense clock forward (tests reach timeouts without sleeping)."""
        self.clock_offset += seconds
        self.settle()

    def settle(self) -> None:
        """Expire activations whose policy timeout has run out (Rule 4)."""
        now = self.now()
        for activation in list(self.activations):
            policy = self.policies.get(activation.policy)
            minutes = self._timeout_of(policy) if policy else 0
            if minutes and now >= activation.since + minutes * 60:
                self.activations.remove(activation)
                self._log("timeout", policy.name if policy else None, None,
                          f"policy timed out after {minutes} min on port {activation.port}")

    def _timeout_of(self, policy: StoredPolicy) -> int:
        return self.timeout_minutes if policy.timeout_minutes is None else policy.timeout_minutes

    # -- filters -------------------------------------------------------------------------------------

    def create_filter(self, class_name: str, properties: Mapping[str, Value]) -> StoredFilter:
        if len(self.filters) >= MAX_FILTERS:
            raise DefenseRefused(PTStatus.MAX_LIMIT_REACHED, f"the device holds {MAX_FILTERS} filters already")
        if not properties.get("Name"):
            raise DefenseRefused(PTStatus.INVALID_PARAMETER, "a filter needs a Name")
        if self.stored_as is not None:
            properties = self.stored_as(class_name, dict(properties))
        try:
            model = filter_from_properties(class_name, properties)
        except DefenseError as error:
            raise DefenseRefused(PTStatus.INVALID_PARAMETER, str(error)) from None
        handle = next(self._filter_handles)
        stored = StoredFilter(handle, class_name, {
            **{k: v for k, v in properties.items() if v is not None},
            "CreationClassName": class_name, **names.AMT_SYSTEM_SELECTORS,
            "InstanceID": f"{HANDLE_PREFIX}{handle}",
        }, model)
        self.filters[handle] = stored
        return stored

    def delete_filter(self, handle: int) -> None:
        if handle not in self.filters:
            raise DefenseRefused(PTStatus.INVALID_HANDLE, f"no filter {handle}")
        users = [p.name for p in self.policies.values() if handle in p.filter_handles]
        if users:
            raise DefenseRefused(PTStatus.NOT_PERMITTED, f"filter {handle} is used by policy {', '.join(users)}")
        del self.filters[handle]

    # -- policies ------------------------------------------------------------------------------------

    def create_policy(self, properties: Mapping[str, Value]) -> StoredPolicy:
        if len(self.policies) >= MAX_POLICIES:
            raise DefenseRefused(PTStatus.MAX_LIMIT_REACHED, f"the device holds {MAX_POLICIES} policies already")
        name = policy_name(properties)
        if not name or len(name) > MAX_NAME_LENGTH:
            raise DefenseRefused(PTStatus.INVALID_PARAMETER, f"PolicyName must have 1-{MAX_NAME_LENGTH} characters")
        flags = [f"{side}Default{what}" for side in ("Tx", "Rx") for what in ("Drop", "Count", "MatchEvent")]
        required = ["PolicyPrecedence", *flags]
        missing = [p for p in required if properties.get(p) in (None, "")]
        if missing:
            raise DefenseRefused(PTStatus.INVALID_PARAMETER, "missing " + ", ".join(missing))
        raw = properties.get("FilterCreationHandles")
        items = raw if isinstance(raw, list) else ([] if raw in (None, "") else [raw])
        try:
            handles = [int(str(h)) for h in items]
        except ValueError:
            raise DefenseRefused(PTStatus.INVALID_PARAMETER, "FilterCreationHandles must be numbers") from None
        if len(handles) > MAX_FILTERS_PER_POLICY:
            raise DefenseRefused(PTStatus.MAX_LIMIT_REACHED, f"a policy holds at most {MAX_FILTERS_PER_POLICY} filters")
        unknown = [h for h in handles if h not in self.filters]
        if unknown:
            raise DefenseRefused(PTStatus.INVALID_HANDLE, f"no filter with handle {unknown[0]}")
        if self.stored_as is not None:
            properties = self.stored_as(Cls.AMT_SystemDefensePolicy, dict(properties))
        handle = next(self._policy_handles)
        stored = StoredPolicy(handle, {
            **{k: v for k, v in properties.items() if v is not None},
            "InstanceID": f"{HANDLE_PREFIX}{handle}", "FilterCreationHandles": list(handles),
        }, handles)
        try:
            stored.compiled = compile_policy(self._model(stored), self.host_addresses)
        except DefenseError as error:
            raise DefenseRefused(PTStatus.INVALID_PARAMETER, str(error)) from None
        self.policies[handle] = stored
        return stored

    def _model(self, policy: StoredPolicy) -> Policy:
        return policy_from_properties(policy.properties, tuple(self.filters[h].model for h in policy.filter_handles))

    def delete_policy(self, handle: int) -> None:
        policy = self.policies.pop(handle, None)
        if policy is None:
            raise DefenseRefused(PTStatus.INVALID_HANDLE, f"no policy {handle}")
        for activation in [a for a in self.activations if a.policy == handle]:
            self.activations.remove(activation)
            self._log("deactivated", policy.name, None, f"policy deleted while enabled on port {activation.port}")

    def set_timeout(self, handle: int | None, minutes: int) -> None:
        """``SetTimeout``: minutes (0 none) for one policy, or device-wide with ``handle`` None."""
        if not 0 <= minutes <= MAX_TIMEOUT_MINUTES:
            raise DefenseRefused(PTStatus.INVALID_PARAMETER, f"timeout must be 0-{MAX_TIMEOUT_MINUTES} minutes")
        self.settle()
        if handle is None:
            self.timeout_minutes = minutes
            touched = self.activations
        else:
            self._policy(handle).timeout_minutes = minutes
            touched = [a for a in self.activations if a.policy == handle]
        for activation in touched:
            activation.since = self.now()

    def get_timeout(self, handle: int | None) -> int:
        if handle is None:
            return self.timeout_minutes
        return self._timeout_of(self._policy(handle))

    def _policy(self, handle: int) -> StoredPolicy:
        policy = self.policies.get(handle)
        if policy is None:
            raise DefenseRefused(PTStatus.INVALID_HANDLE, f"no policy {handle}")
        return policy

    # -- activation ----------------------------------------------------------------------------------

    def activate(self, port: int, handle: int) -> Activation:
        self.settle()
        if port not in PORTS:
            raise DefenseRefused(PTStatus.INVALID_PARAMETER, f"no network port {port}")
        policy = self._policy(handle)
        if any(a.port == port and a.policy == handle for a in self.activations):
            raise DefenseRefused(PTStatus.DUPLICATE, f"policy {handle} is already enabled on port {port}")
        activation = Activation(port, handle, self.now(), next(self._activation_order))
        self.activations.append(activation)
        self._log("activated", policy.name, None, f"enabled on port {port}")
        return activation

    def deactivate(self, port: int, handle: int) -> None:
        self.settle()
        for activation in self.activations:
            if activation.port == port and activation.policy == handle:
                self.activations.remove(activation)
                self._log("deactivated", self.policies[handle].name if handle in self.policies else None, None,
                          f"disabled on port {port}")
                return
        raise DefenseRefused(PTStatus.NOT_FOUND, f"policy {handle} is not enabled on port {port}")

    def active_policy(self, port: int = 0) -> StoredPolicy | None:
        """Rule 3 (:func:`amtkit.defense.model.policy_in_force`): the activated policy with the highest
        precedence, the older activation on a tie."""
        self.settle()
        enabled = sorted((a for a in self.activations if a.port == port), key=lambda a: a.order)
        best = policy_in_force(enabled, lambda a: self.policies[a.policy].precedence)
        return self.policies[best.policy] if best is not None else None

    # -- the host's traffic ----------------------------------------------------------------------------

    def offer(self, packet: Packet, port: int = 0) -> TrafficVerdict:
        """Decide one packet of the host's traffic on ``port`` (Rules 5-7)."""
        verdict = self._decide(packet, port)
        self.totals["passed" if verdict.passed else "dropped"] += 1
        self.totals[verdict.reason] += 1
        return verdict

    def offer_flow(self, packet: Packet, packets: int = 1, port: int = 0) -> FlowResult:
        """Offer ``packets`` copies of ``packet`` at one instant."""
        if packets < 1:
            raise ValueError("a flow has at least one packet")
        verdicts = [self.offer(packet, port) for _ in range(packets)]
        return FlowResult(packet, packets, sum(v.passed for v in verdicts), verdicts[0])

    def _decide(self, packet: Packet, port: int) -> TrafficVerdict:
        if _for_management_engine(packet):
            return TrafficVerdict(True, Action.PASS.value, "management",
                                  "AMT's own management traffic: never filtered")
        policy = self.active_policy(port)
        if policy is None:
            return TrafficVerdict(True, Action.PASS.value, "no-policy", "no System Defense policy in force")
        compiled = policy.compiled or compile_policy(self._model(policy), self.host_addresses)
        decision = compiled.evaluate(packet)
        rule = compiled.explain(decision, packet.direction)
        live = self._live.setdefault((port, policy.handle), _Live())
        if decision.anti_spoofing:
            self._log("anti-spoofing", policy.name, None, f"{packet.describe()}: source is not the host's",
                      inbound=packet.direction is FilterDirection.RECEIVE)
            return TrafficVerdict(False, Action.DROP.value, "anti-spoofing", rule, policy.name)
        if decision.filter_index is None:
            direction = packet.direction.name.lower()
            if decision.counted:
                live.defaults[direction] += 1
            if decision.event and (port, policy.handle, direction) not in self._quiet_defaults:
                self._quiet_defaults.add((port, policy.handle, direction))
                self._log("default", policy.name, None, f"{packet.describe()}: {rule}",
                          inbound=packet.direction is FilterDirection.RECEIVE)
            return TrafficVerdict(decision.passes, decision.action.value, "default", rule, policy.name)
        handle = policy.filter_handles[decision.filter_index]
        stored = self.filters[handle]
        live.matches[handle] += 1
        if decision.counted or stored.model.profile is FilterProfile.RATE_LIMIT:
            live.counted[handle] += 1
        if decision.event:
            self._log("match", policy.name, handle, f"{packet.describe()}: {rule}",
                      inbound=packet.direction is FilterDirection.RECEIVE)
        if decision.action is Action.RATE_LIMIT and not self._within_rate(handle, stored.model.rate_limit or 0):
            return TrafficVerdict(False, Action.DROP.value, "rate-limit", f"{rule}, over its rate", policy.name, handle)
        return TrafficVerdict(decision.passes, decision.action.value, "filter", rule, policy.name, handle)

    def _within_rate(self, handle: int, per_second: int) -> bool:
        second = int(self.now())
        start, used = self._rate.get(handle, (second, 0))
        if start != second:
            start, used = second, 0
        self._rate[handle] = (start, used + 1)
        return used < per_second

    # -- statistics ----------------------------------------------------------------------------------

    def update_statistics(self, handle: int, port: int, reset: bool) -> None:
        """``UpdateStatistics``: snapshot the live counters of policy ``handle`` on ``port`` (Rule 6)."""
        policy = self._policy(handle)
        live = self._live.setdefault((port, handle), _Live())
        self._snapshot[port] = (handle, {
            h: (live.counted[h], live.matches[h] > 0) for h in policy.filter_handles
        })
        self._quiet_defaults = {q for q in self._quiet_defaults if q[:2] != (port, handle)}
        if reset:
            self._live[(port, handle)] = _Live()

    def statistics(self, port: int) -> list[tuple[int, int, int, bool]]:
        """Rows of ``AMT_ActiveFilterStatistics`` for ``port``: (policy, filter, ReadCount, FilterMatched)."""
        policy = self.active_policy(port)
        if policy is None:
            return []
        handle, values = self._snapshot.get(port, (policy.handle, {}))
        if handle != policy.handle:
            values = {}
        return [(policy.handle, h, *values.get(h, (0, False))) for h in policy.filter_handles]

    def counters(self, port: int = 0) -> dict[str, object]:
        """Live counters for tests: per filter handle (all matches and counted ones), per default
        action, and totals by outcome."""
        policy = self.active_policy(port)
        live = self._live.get((port, policy.handle), _Live()) if policy else _Live()
        return {
            "policy": policy.name if policy else None,
            "matches": dict(live.matches),
            "counted": dict(live.counted),
            "defaults": dict(live.defaults),
            "totals": dict(self.totals),
        }

    def _log(self, kind: str, policy: str | None, handle: int | None, detail: str,
             inbound: bool | None = None) -> None:
        event = DefenseEvent(self.now(), kind, policy, handle, detail, inbound)
        self.events.append(event)
        if self.on_event is not None:
            self.on_event(event)


def _for_management_engine(packet: Packet) -> bool:
    """Whether the host-side port is one of the management engine's (Rule 5)."""
    local_port = packet.dst_port if packet.direction is FilterDirection.RECEIVE else packet.src_port
    if packet.protocol == IPProtocol.TCP:
        return local_port in AMT_TCP_PORTS
    if packet.protocol == IPProtocol.UDP:
        return local_port in AMT_UDP_PORTS
    return False


def defense_of(device: SimulatedDevice) -> DefenseBackend:
    """The device's System Defense backend, made on first use (kept in ``device.extensions``)."""
    backend = device.extensions.get("defense")
    if not isinstance(backend, DefenseBackend):
        from ipaddress import ip_address

        host: tuple[IPAddress, ...] = ()
        try:
            host = (ip_address(device.config.address),)
        except ValueError:
            pass  # a host name: anti-spoofing then has no address to enforce
        backend = DefenseBackend(host_addresses=host, clock=device.clock)
        backend.on_event = lambda event: device.event_log.filter_event(
            event.kind, event.filter_handle, bool(event.inbound), event.detail)
        device.extensions["defense"] = backend
    return backend
