"""``client.defense``: System Defense on one machine - apply a filter set, the ping preset, remove, show.

::

    with amtkit.Client("10.0.0.7", password=...) as amt:
        amt.defense.apply(load("default"), manager=["10.0.0.5"])   # quarantine, keep the manager
        print(amt.defense.show().to_dict())                         # active policy and counters
        amt.defense.remove()                                        # full network again

How an apply goes (docs/filters.md has the details):

1. Offline: :func:`~amtkit.defense.plan.prepare` builds the policy and runs the lockout check;
   a set that would block a flow the host needs to reach its manager is refused with
   :class:`~amtkit.exceptions.LockoutError` unless ``force``. Limits per policy are checked here.
2. Survey (3 or 4 reads): the policies, both filter classes and, when one of the policies is amtkit's,
   the activations on the device. amtkit's own objects are named ``amtkit:...``; everything else is
   foreign and never touched.
3. If amtkit's policy on the device is already exactly this one and active, nothing is written
   (idempotent). Otherwise, make before break: the new set is written beside amtkit's previous one
   (one Create per filter, one policy Create with the filter handles, ``SetTimeout`` if the policy
   has a timeout, one activation Create on the port) while the previous set stays in force.
4. Verify (up to 4 reads): the policy, the filter classes used and the activations are read back and
   compared with what was sent; a difference raises :class:`~amtkit.exceptions.DefenseMismatchError`
   (after deleting what was written: the previous set is still in force).
5. Only then is the previous set removed (activations, policies, filters). When AMT's limits (8
   policies, 80 filters) leave no room for both sets, the apply is refused unless ``force``, which
   replaces the set in place and puts the previous one back if a step fails.

A failure on the device is explained: in Client Control Mode (read from
``AMT_SetupAndConfigurationService.ProvisioningMode`` only when something failed) the error is
:class:`~amtkit.exceptions.FeatureUnavailableError`; AMT's MAX_LIMIT_REACHED becomes
:class:`~amtkit.exceptions.DefenseLimitError`. Objects created before a failure are deleted again.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from .. import exceptions as exc
from ..codes import ControlMode, PTStatus
from ..generation import legacy_aware
from ..wsman.names import Cls
from ..wsman.schema import KEYS
from ..wsman.values import CimInstance, EndpointReference, Selector, Value
from .cbfilters import FilterSet, load
from .engine import ManagerSpec
from .model import (
    MAX_FILTERS,
    MAX_POLICIES,
    DefenseError,
    Filter,
    IPAddress,
    LimitError,
    Policy,
    policy_in_force,
)
from .plan import Plan, prepare
from .wsman import (
    FILTER_CLASSES,
    PolicyObject,
    class_of,
    ethernet_port_epr,
    expected_policy,
    filter_from_properties,
    filter_handles,
    filter_properties,
    handle_of,
    is_ours,
    policy_epr,
    policy_from_properties,
    policy_name,
    policy_properties,
    port_of,
    round_trip,
    timeout_minutes,
)

if TYPE_CHECKING:
    from ..client import Client

__all__ = [
    "Activation",
    "ApplyResult",
    "DefenseControl",
    "DefenseState",
    "DefenseStatus",
    "DeviceFilter",
    "DevicePolicy",
    "FilterCounter",
    "RemoveResult",
]


# -- what is on the device --------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceFilter:
    """A System Defense filter found on the device. ``model`` is None for filters amtkit cannot model."""

    class_name: str
    instance_id: str
    name: str
    properties: Mapping[str, Value]
    model: Filter | None

    @property
    def handle(self) -> int:
        return handle_of(self.instance_id)

    @property
    def ours(self) -> bool:
        return is_ours(self.name)

    @property
    def selectors(self) -> dict[str, Selector]:
        keys = KEYS[self.class_name]
        return {k: str(self.properties[k]) for k in keys if self.properties.get(k) not in (None, "")}

    def describe(self) -> str:
        return self.model.describe() if self.model is not None else f"{self.class_name} {self.name} (not modelled)"

    def to_dict(self) -> dict[str, object]:
        return {"id": self.instance_id, "handle": self.handle, "class": self.class_name, "name": self.name,
                "ours": self.ours, "rule": self.describe()}


@dataclass(frozen=True)
class DevicePolicy(PolicyObject):
    """A System Defense policy found on the device, and the ports it is activated on."""

    instance_id: str
    properties: Mapping[str, Value]
    ports: tuple[int, ...] = ()

    @property
    def ours(self) -> bool:
        return is_ours(self.name)

    @property
    def filter_handles(self) -> list[int] | None:
        """The filters' handles in policy order, or None if the device did not report them."""
        return filter_handles(self.properties)

    def model(self) -> Policy:
        """The policy without its filters (name, precedence, defaults, anti-spoofing)."""
        return policy_from_properties(self.properties)

    def to_dict(self) -> dict[str, object]:
        policy = self.model()
        return {
            "id": self.instance_id, "name": self.name, "precedence": self.precedence, "ours": self.ours,
            "ports": list(self.ports), "filters": self.filter_handles,
            "transmit_default": "drop" if policy.transmit_default.drop else "pass",
            "receive_default": "drop" if policy.receive_default.drop else "pass",
            "anti_spoofing": policy.anti_spoofing,
        }


@dataclass(frozen=True)
class Activation:
    """An ``AMT_NetworkPortSystemDefensePolicy``: ``policy_id`` enabled on ``port`` (None: unknown port)."""

    port: int | None
    policy_id: str
    instance: CimInstance

    @property
    def selectors(self) -> dict[str, Selector]:
        return {k: v for k in ("Antecedent", "Dependent") if isinstance(v := self.instance.get(k), EndpointReference)}


@dataclass(frozen=True)
class DefenseState:
    """Everything System Defense holds on a device (as far as it was read)."""

    policies: list[DevicePolicy]
    filters: list[DeviceFilter]
    activations: list[Activation]

    def policy(self, instance_id: str) -> DevicePolicy | None:
        return next((p for p in self.policies if p.instance_id == instance_id), None)

    def filter(self, handle: int) -> DeviceFilter | None:
        return next((f for f in self.filters if f.handle == handle), None)

    def active_policy(self, port: int = 0) -> DevicePolicy | None:
        """The policy in force on ``port`` (:func:`~amtkit.defense.model.policy_in_force`: the highest
        precedence, the earlier activation on a tie)."""
        activated = [p for a in self.activations if a.port == port and (p := self.policy(a.policy_id)) is not None]
        return policy_in_force(activated, lambda p: p.precedence)


# -- results ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplyResult:
    """What :meth:`DefenseControl.apply` did.

    ``changed`` is false when the device already held exactly this policy (nothing was written).
    ``forced`` lists the lockout findings overridden with ``force``. ``active`` says whether the policy
    is the one in force on the port; if a foreign policy of higher precedence is, ``outranked_by`` names it.
    """

    host: str
    policy_name: str
    policy_id: str
    filter_ids: tuple[str, ...]
    port: int
    changed: bool
    replaced_policies: int
    timeout_minutes: int
    active: bool
    outranked_by: str | None
    forced: tuple[str, ...]
    round_trips: int

    def to_dict(self) -> dict[str, object]:
        return {
            "ok": True, "host": self.host, "policy": self.policy_name, "policy_id": self.policy_id,
            "filters": len(self.filter_ids), "filter_ids": list(self.filter_ids), "port": self.port,
            "changed": self.changed, "replaced_policies": self.replaced_policies,
            "timeout_minutes": self.timeout_minutes or None, "active": self.active,
            "outranked_by": self.outranked_by, "forced": list(self.forced), "round_trips": self.round_trips,
        }


@dataclass(frozen=True)
class RemoveResult:
    """What :meth:`DefenseControl.remove` deleted (amtkit's objects only)."""

    host: str
    activations: int
    policies: int
    filters: int
    round_trips: int

    @property
    def changed(self) -> bool:
        return bool(self.activations or self.policies or self.filters)

    def to_dict(self) -> dict[str, object]:
        return {"ok": True, "host": self.host, "changed": self.changed, "removed_activations": self.activations,
                "removed_policies": self.policies, "removed_filters": self.filters,
                "round_trips": self.round_trips}


@dataclass(frozen=True)
class FilterCounter:
    """One filter of the active policy and its counter (``AMT_ActiveFilterStatistics.ReadCount``)."""

    handle: int
    name: str
    rule: str
    count: int | None
    matched: bool | None

    def to_dict(self) -> dict[str, object]:
        return {"handle": self.handle, "name": self.name, "rule": self.rule, "count": self.count,
                "matched": self.matched}


@dataclass(frozen=True)
class DefenseStatus:
    """What :meth:`DefenseControl.show` found: the policy in force on ``port``, its filters' counters,
    and every policy on the device."""

    host: str
    port: int
    active: DevicePolicy | None
    counters: list[FilterCounter]
    policies: list[DevicePolicy]
    timeout_minutes: int | None
    filters_total: int

    def to_dict(self) -> dict[str, object]:
        return {
            "ok": True, "host": self.host, "port": self.port,
            "active": None if self.active is None else self.active.to_dict(),
            "timeout_minutes": self.timeout_minutes, "counters": [c.to_dict() for c in self.counters],
            "policies": [p.to_dict() for p in self.policies], "filters_total": self.filters_total,
        }


@dataclass
class _Created:
    """Objects written by one apply, in order, for rollback."""

    eprs: list[EndpointReference] = field(default_factory=list)
    filter_ids: list[str] = field(default_factory=list)
    policy_id: str = ""


@dataclass(frozen=True)
class _Retired:
    """amtkit's previous objects on a device, to remove: its activations, policies, and the filters no
    foreign policy uses."""

    activations: list[Activation]
    policies: list[DevicePolicy]
    filters: list[DeviceFilter]

    @classmethod
    def of(cls, state: DefenseState) -> _Retired:
        policies = sorted((p for p in state.policies if p.ours), key=lambda p: p.instance_id)
        ids = {p.instance_id for p in policies}
        used_by_foreign = {h for p in state.policies if not p.ours for h in p.filter_handles or ()}
        return cls([a for a in state.activations if a.policy_id in ids], policies,
                   [f for f in state.filters if f.ours and f.handle not in used_by_foreign])

    def removed_from(self, state: DefenseState) -> DefenseState:
        """``state`` (read before the removal) without these objects."""
        ids = {p.instance_id for p in self.policies}
        handles = {f.handle for f in self.filters}
        return DefenseState([p for p in state.policies if p.instance_id not in ids],
                            [f for f in state.filters if f.handle not in handles],
                            [a for a in state.activations if a.policy_id not in ids])


IN_PLACE_NOTE = "replaced in place: AMT's limits left no room for the new set beside the previous one"
"""The ``forced`` line of an apply that could not make before break."""

_FILTER_WIRE_PREFIX = re.compile(r"^amtkit:\d+:")


@dataclass(frozen=True)
class _PreviousSet:
    """One of amtkit's policies as it was on the device, to put back after a failed in-place replacement."""

    policy: Policy
    instance_id: str
    ports: tuple[int, ...]
    filter_handles: tuple[int, ...]


def _previous_sets(state: DefenseState) -> list[_PreviousSet]:
    """amtkit's policies on the device with their filters and ports; policies with a filter amtkit
    cannot model cannot be written again and are left out."""
    sets = []
    for device_policy in state.policies:
        if not device_policy.ours:
            continue
        handles = tuple(device_policy.filter_handles or ())
        models = [found.model if (found := state.filter(h)) is not None else None for h in handles]
        filters = tuple(replace(m, name=_FILTER_WIRE_PREFIX.sub("", m.name)) for m in models if m is not None)
        if len(filters) == len(handles):
            sets.append(_PreviousSet(replace(device_policy.model(), filters=filters), device_policy.instance_id,
                                     device_policy.ports, handles))
    return sets


# -- the feature ------------------------------------------------------------------------------------


class DefenseControl:
    """``client.defense``: System Defense of one device (see the module docstring)."""

    def __init__(self, client: Client) -> None:
        self._client = client

    # -- public operations ---------------------------------------------------------------------------

    def plan(
        self,
        filters: FilterSet | Policy,
        *,
        manager: Iterable[ManagerSpec | str] | ManagerSpec | str = (),
        anti_spoofing: bool | None = None,
        timeout: int | None = None,
        host_addresses: Collection[IPAddress] = (),
    ) -> Plan:
        """The offline part of :meth:`apply`: the policy to write and its lockout check (no I/O).

        Raises :class:`~amtkit.exceptions.DefenseLimitError` for a set larger than one AMT policy, and
        :class:`~amtkit.defense.model.DefenseError` (a :class:`~amtkit.exceptions.UsageError`, also a ``ValueError``)
        for bad arguments.
        """
        managers = [manager] if isinstance(manager, (str, ManagerSpec)) else list(manager)
        try:
            return prepare(filters, managers, anti_spoofing=anti_spoofing, timeout=timeout,
                           host_addresses=host_addresses)
        except LimitError as error:
            raise exc.DefenseLimitError(str(error), what=error.what, limit=error.limit, actual=error.actual,
                                        host=self._client.host) from error

    @legacy_aware
    def apply(
        self,
        filters: FilterSet | Policy,
        *,
        manager: Iterable[ManagerSpec | str] | ManagerSpec | str = (),
        anti_spoofing: bool | None = None,
        timeout: int | None = None,
        force: bool = False,
        port: int = 0,
        host_addresses: Collection[IPAddress] = (),
    ) -> ApplyResult:
        """Make ``filters`` the device's System Defense policy on ``port`` (0 wired, 1 wireless).

        ``manager``: the management server(s), ``ADDR[:PORTS]`` or :class:`ManagerSpec`; they replace the
        set's ``management`` peers and are what the lockout check protects. ``anti_spoofing`` and
        ``timeout`` (seconds, 0 for none; AMT counts whole minutes, so it is rounded up) override the
        set's values when given. ``force`` applies a set the lockout check refuses, and replaces the
        set in place when there is no room to make before break.

        Idempotent: applying the same set again writes nothing (with a timeout, it restarts the
        timer; without, a timeout left from before is cleared). Applying another set replaces
        amtkit's previous one, make before break: the new filters and policy are written, activated
        and read back while the previous set stays in force, and only then is the previous set
        removed, so a failure at any step leaves the machine filtered by one of the two. When AMT's
        limits (8 policies, 80 filters) leave no room for both sets at once, the apply is refused with
        :class:`~amtkit.exceptions.DefenseLimitError` unless ``force``, which replaces the set in place
        (the previous set is removed first and put back if writing the new one fails). Foreign
        policies stay.

        Raises :class:`~amtkit.exceptions.LockoutError`, :class:`~amtkit.exceptions.DefenseLimitError`,
        :class:`~amtkit.exceptions.DefenseMismatchError`, :class:`~amtkit.exceptions.FeatureUnavailableError`
        (Client Control Mode) and the transport and WS-Man errors of :mod:`amtkit.exceptions`.
        """
        plan = self.plan(filters, manager=manager, anti_spoofing=anti_spoofing, timeout=timeout,
                         host_addresses=host_addresses)
        if not plan.safe and not force:
            reasons = plan.refusal()
            raise exc.LockoutError(
                f"refusing to apply {plan.policy.name!r}: it would cut the host off from its management server\n"
                + "\n".join(f"  {line}" for line in reasons), blocked=reasons, host=self._client.host)
        start = self._round_trips()
        policy = plan.policy
        expected = [round_trip(f, i) for i, f in enumerate(policy.filters)]
        minutes = timeout_minutes(policy.timeout)
        replaced_in_place = False
        with self._explained():
            state = self._survey()
            ours = [p for p in state.policies if p.ours]
            current = self._identical(state, policy, expected, port)
            if current is not None:
                # Same policy: only its timeout may need writing (and a timeout asked for restarts).
                if minutes or self._get_timeout(current.instance_id) not in (0, None):
                    self._set_timeout(current.instance_id, minutes)
                    self._verify_timeout(current.instance_id, minutes)
                created = _Created(policy_id=current.instance_id,
                                   filter_ids=[f.instance_id for h in current.filter_handles or ()
                                               if (f := state.filter(h)) is not None])
                after = state
            elif self._needs_replacing_in_place(state, len(policy.filters), force):
                created, after = self._replace_in_place(state, policy, expected, port, minutes)
                replaced_in_place = True
            else:
                created, after = self._make_before_break(state, policy, expected, port, minutes)
        in_force = after.active_policy(port)
        active = in_force is not None and in_force.instance_id == created.policy_id
        outranked = in_force.name if in_force is not None and not active else None
        return ApplyResult(
            host=self._client.host, policy_name=policy.name, policy_id=created.policy_id,
            filter_ids=tuple(created.filter_ids), port=port, changed=current is None,
            replaced_policies=len(ours) if current is None else 0, timeout_minutes=minutes,
            active=active, outranked_by=outranked,
            forced=(*(plan.refusal() if force else ()), *([IN_PLACE_NOTE] if replaced_in_place else [])),
            round_trips=self._round_trips() - start,
        )

    def ping(
        self,
        *,
        manager: Iterable[ManagerSpec | str] | ManagerSpec | str = (),
        anti_spoofing: bool | None = None,
        timeout: int | None = None,
        force: bool = False,
        port: int = 0,
    ) -> ApplyResult:
        """Apply the shipped ping preset (management server, ARP and all ICMP); arguments as :meth:`apply`."""
        return self.apply(load("ping"), manager=manager, anti_spoofing=anti_spoofing, timeout=timeout,
                          force=force, port=port)

    @legacy_aware
    def remove(self) -> RemoveResult:
        """Delete amtkit's activations, policies and filters (every port): full network again.

        Foreign policies stay. Nothing of amtkit's on the device: nothing is written.
        Raises :class:`~amtkit.exceptions.DefenseMismatchError` if one of amtkit's policies is still
        there afterwards.
        """
        start = self._round_trips()
        with self._explained():
            state = self.state()
            activations, policies, filters = self._remove_ours(state)
            if activations or policies:
                left = [p.name for p in self.state(filter_classes=()).policies if p.ours]
                if left:
                    raise exc.DefenseMismatchError(
                        "amtkit's System Defense policy is still on the device after removal",
                        differences=[f"policy {name} still present" for name in left], host=self._client.host)
        return RemoveResult(self._client.host, activations, policies, filters,
                            self._round_trips() - start)

    @legacy_aware
    def show(self, *, port: int = 0, reset: bool = False) -> DefenseStatus:
        """The policy in force on ``port`` with per-filter counters, and all policies on the device.

        Counters come from ``UpdateStatistics`` then ``AMT_ActiveFilterStatistics``; ``reset`` clears
        them on reading (``ResetOnRead``).
        """
        with self._explained():
            state = self.state()
            active = state.active_policy(port)
            counters: list[FilterCounter] = []
            minutes = None
            if active is not None:
                counts = self._statistics(active.instance_id, port, reset)
                handles = active.filter_handles
                if handles is None:
                    handles = sorted(counts)
                for handle in handles:
                    found = state.filter(handle)
                    count, matched = counts.get(handle, (None, None))
                    counters.append(FilterCounter(
                        handle, found.name if found else "", found.describe() if found else "(not on the device)",
                        count, matched))
                minutes = self._get_timeout(active.instance_id)
        return DefenseStatus(self._client.host, port, active, counters, state.policies, minutes, len(state.filters))

    @legacy_aware
    def state(self, *, filter_classes: Sequence[str] = FILTER_CLASSES) -> DefenseState:
        """Read the policies, the filters of ``filter_classes`` and the activations (one read each)."""
        return self._read_state(filter_classes, activations="always")

    def _survey(self) -> DefenseState:
        """The state an apply starts from: :meth:`state` without the activations when none of the policies
        is amtkit's. A subclass reading the device its own way (Circuit Breaker over legacy SOAP) surveys
        with its :meth:`state`."""
        if type(self).state is not DefenseControl.state:
            return self.state()
        return self._read_state(FILTER_CLASSES, activations="if-ours")

    def _read_state(self, filter_classes: Sequence[str], *, activations: Literal["always", "if-ours"]) -> DefenseState:
        """The policies, then the activations (``"always"``, or ``"if-ours"``: only when one of the policies
        is amtkit's), then the filters of ``filter_classes``.

        An apply surveys with ``"if-ours"``: the activations tell which of amtkit's policies is in force
        (is the set already applied?) and which activations to remove with the previous set; with no
        policy of amtkit's on the device there is neither, and the read is saved (the verification
        reads them anyway). docs/benchmarks.md#system-defense-round-trips counts these reads."""
        client = self._client
        found = client.enumerate(Cls.AMT_SystemDefensePolicy)
        read = activations == "always" or any(is_ours(policy_name(i.properties)) for i in found)
        active = [_activation(i) for i in client.enumerate(Cls.AMT_NetworkPortSystemDefensePolicy)] if read else []
        policies = [
            DevicePolicy(str(i.get("InstanceID", "")), dict(i.properties),
                         tuple(sorted({a.port for a in active
                                       if a.port is not None and a.policy_id == i.get("InstanceID")})))
            for i in found
        ]
        filters = [_device_filter(i) for cls in filter_classes for i in client.enumerate(cls)]
        return DefenseState(policies, filters, active)

    # -- steps -------------------------------------------------------------------------------------------

    def _legacy(self) -> DefenseControl | None:
        """The Circuit Breaker twin when the client speaks legacy SOAP (:mod:`amtkit.generation`)."""
        if type(self) is DefenseControl and self._client.generation == "eoi":
            return self._client.defense_legacy
        return None

    def _round_trips(self) -> int:
        """HTTP exchanges so far with the device (for :attr:`ApplyResult.round_trips`)."""
        return self._client.transport.round_trips

    def _identical(self, state: DefenseState, policy: Policy, expected: list[Filter], port: int) -> DevicePolicy | None:
        """amtkit's policy on the device if it is exactly ``policy``, active on ``port``, and alone."""
        ours = [p for p in state.policies if p.ours]
        if len(ours) != 1 or port not in ours[0].ports:
            return None
        candidate = ours[0]
        handles = candidate.filter_handles
        if handles is None or len(handles) != len(expected):
            return None
        try:
            if candidate.model() != expected_policy(policy):
                return None
        except DefenseError:
            return None
        for handle, want in zip(handles, expected, strict=True):
            found = state.filter(handle)
            if found is None or found.model != want:
                return None
        our_filters = {f.handle for f in state.filters if f.ours}
        return candidate if our_filters == set(handles) else None

    def _needs_replacing_in_place(self, state: DefenseState, new_filters: int, force: bool) -> bool:
        """Whether the new set must replace amtkit's previous one in place (``force`` given), rather than
        being written beside it (make before break). Raises DefenseLimitError when the set does not fit
        even in place, or does not fit beside the previous one and ``force`` is not given."""
        foreign_policies = sum(1 for p in state.policies if not p.ours)
        foreign_filters = sum(1 for f in state.filters if not f.ours)
        host = self._client.host
        if foreign_policies + 1 > MAX_POLICIES:
            raise exc.DefenseLimitError(
                f"the device holds {foreign_policies} other System Defense policies; AMT holds at most "
                f"{MAX_POLICIES}", what="policies", limit=MAX_POLICIES, actual=foreign_policies + 1, host=host)
        if foreign_filters + new_filters > MAX_FILTERS:
            raise exc.DefenseLimitError(
                f"{new_filters} filters and the {foreign_filters} other filters on the device make "
                f"{foreign_filters + new_filters}; AMT holds at most {MAX_FILTERS}", what="filters",
                limit=MAX_FILTERS, actual=foreign_filters + new_filters, host=host)
        policies, filters = len(state.policies) + 1, len(state.filters) + new_filters
        if policies <= MAX_POLICIES and filters <= MAX_FILTERS:
            return False
        if force:
            return True
        what, actual, limit = (("policies", policies, MAX_POLICIES) if policies > MAX_POLICIES
                               else ("filters", filters, MAX_FILTERS))
        raise exc.DefenseLimitError(
            f"no room to make before break: the new set beside the current one needs {actual} {what}, AMT holds "
            f"at most {limit}; replacing the current set in place leaves the host unfiltered while the new one "
            "is written", what=f"{what} (make before break)", limit=limit, actual=actual, host=host,
            hint="apply with --force to replace the set in place (amtkit puts the previous set back if a write "
                 "fails), or remove other System Defense policies or filters first")

    def _make_before_break(self, state: DefenseState, policy: Policy, expected: list[Filter], port: int,
                           minutes: int) -> tuple[_Created, DefenseState]:
        """Write, activate and verify the new set beside the previous one, then remove the previous one.

        Until the new set is verified nothing of the previous set is touched: a failure removes what was
        written and leaves the previous set in force. The previous set is removed activations first."""
        created = self._create(policy, [port], minutes)
        try:
            after = self._verify(created, policy, expected, port, minutes)
        except exc.AMTError:
            self._undo(created.eprs)
            raise
        retired = _Retired.of(state)
        try:
            self._retire(retired)
        except exc.AMTError as error:
            raise exc.DefenseMismatchError(
                f"the new policy is written and activated, but the previous one could not be removed ({error})",
                differences=[f"previous policy {p.name} ({p.instance_id}) still on the device"
                             for p in retired.policies],
                host=self._client.host) from error
        return created, retired.removed_from(after)

    def _replace_in_place(self, state: DefenseState, policy: Policy, expected: list[Filter], port: int,
                          minutes: int) -> tuple[_Created, DefenseState]:
        """Remove the previous set, then write the new one (forced: no room for both). If removing,
        writing or verifying fails, what was written is removed and the previous set put back."""
        previous = _previous_sets(state)
        retired = _Retired.of(state)
        try:
            self._retire(retired)
            created = self._create(policy, [port], minutes)
            try:
                after = self._verify(created, policy, expected, port, minutes)
            except exc.AMTError:
                self._undo(created.eprs)
                raise
        except exc.AMTError as error:
            restored = self._restore(previous)
            error.hint = (f"{error.hint + '; ' if error.hint else ''}"
                          + ("the previous System Defense set was put back" if restored else
                             "the previous System Defense set could not be put back: the host has no amtkit "
                             "filter now; apply a set again"))
            raise
        return created, retired.removed_from(after)

    def _restore(self, previous: list[_PreviousSet]) -> bool:
        """Put the previous sets back as they were before a failed in-place replacement: a policy still
        on the device is activated again where it is missing; a deleted one is written anew (its
        leftover filters removed first; no timeout). True if every set is back."""
        try:
            now = self.state()
        except exc.AMTError:
            return False
        complete = True
        for old in previous:
            try:
                found = now.policy(old.instance_id)
                if found is not None:
                    for port in old.ports:
                        if port not in found.ports:
                            self._activate(port, old.instance_id)
                    continue
                in_use = {h for p in now.policies for h in p.filter_handles or ()}
                for handle in old.filter_handles:
                    leftover = now.filter(handle)
                    if leftover is not None and leftover.ours and handle not in in_use:
                        self._delete_filter(leftover)
                self._create(old.policy, old.ports, 0)
            except (exc.AMTError, ValueError):
                complete = False
        return complete

    def _activate(self, port: int, policy_id: str) -> None:
        """Enable a policy on a network port (an ``AMT_NetworkPortSystemDefensePolicy``)."""
        self._client.create(Cls.AMT_NetworkPortSystemDefensePolicy, {
            "Antecedent": ethernet_port_epr(port), "Dependent": policy_epr(policy_id)})

    def _delete_filter(self, f: DeviceFilter) -> None:
        self._client.delete(f.class_name, f.selectors)

    def _retire(self, retired: _Retired) -> None:
        """Delete the given activations, then policies, then filters."""
        client = self._client
        for activation in retired.activations:
            client.delete(Cls.AMT_NetworkPortSystemDefensePolicy, activation.selectors)
        for policy in retired.policies:
            client.delete(Cls.AMT_SystemDefensePolicy, {"InstanceID": policy.instance_id})
        for f in retired.filters:
            client.delete(f.class_name, f.selectors)

    def _remove_ours(self, state: DefenseState) -> tuple[int, int, int]:
        """Delete amtkit's activations, then policies, then the filters no foreign policy uses."""
        retired = _Retired.of(state)
        self._retire(retired)
        return len(retired.activations), len(retired.policies), len(retired.filters)

    def _create(self, policy: Policy, ports: Sequence[int], minutes: int) -> _Created:
        """Write the filters, the policy, its timeout and its activations; undo all of it on failure."""
        client = self._client
        created = _Created()
        try:
            handles = []
            for index, f in enumerate(policy.filters):
                class_name, props = filter_properties(f, index)
                epr = client.create(class_name, props)
                created.eprs.append(epr)
                instance_id = _instance_id(epr, self._client.host)
                created.filter_ids.append(instance_id)
                handles.append(handle_of(instance_id))
            epr = client.create(Cls.AMT_SystemDefensePolicy, policy_properties(policy, handles))
            created.eprs.append(epr)
            created.policy_id = _instance_id(epr, self._client.host)
            if minutes:
                self._set_timeout(created.policy_id, minutes)
            for port in ports:
                created.eprs.append(client.create(Cls.AMT_NetworkPortSystemDefensePolicy, {
                    "Antecedent": ethernet_port_epr(port), "Dependent": policy_epr(created.policy_id)}))
        except (exc.AMTError, ValueError):
            self._undo(created.eprs)
            raise
        return created

    def _undo(self, eprs: list[EndpointReference]) -> None:
        for epr in reversed(eprs):
            try:
                self._client.delete_epr(epr)
            except exc.AMTError:
                pass  # best effort: the original failure is what the caller needs to see

    def _verify(self, created: _Created, policy: Policy, expected: list[Filter], port: int,
                minutes: int) -> DefenseState:
        """Read back what was written; raise DefenseMismatchError listing every difference."""
        classes = [c for c in FILTER_CLASSES if any(class_of(f) == c for f in policy.filters)]
        state = self.state(filter_classes=classes)
        differences: list[str] = []
        found = state.policy(created.policy_id)
        handles = [handle_of(i) for i in created.filter_ids]
        if found is None:
            differences.append(f"policy {created.policy_id} is not on the device")
        else:
            differences += _policy_differences(found.model(), expected_policy(policy))
            members = found.filter_handles
            if members is None:
                members = self._members(created.policy_id)
                if sorted(members) != sorted(handles):
                    differences.append(f"policy holds filters {sorted(members)}, sent {sorted(handles)}")
            elif members != handles:
                differences.append(f"policy holds filters {members}, sent {handles}")
            if port not in found.ports:
                differences.append(f"policy is not activated on port {port}")
        for handle, want in zip(handles, expected, strict=True):
            device = state.filter(handle)
            if device is None:
                differences.append(f"filter {handle} ({want.describe()}) is not on the device")
            elif device.model != want:
                differences.append(f"filter {handle}: sent {want.describe()}; device holds {device.describe()}")
        if minutes:
            differences += self._timeout_differences(created.policy_id, minutes)
        if differences:
            raise exc.DefenseMismatchError(
                "the device does not hold the System Defense policy as applied:\n"
                + "\n".join(f"  {line}" for line in differences), differences=differences, host=self._client.host)
        return state

    def _members(self, policy_id: str) -> list[int]:
        """Filter handles of a policy from ``AMT_FilterInSystemDefensePolicy`` (devices that do not
        report ``FilterCreationHandles``)."""
        members = []
        for link in self._client.enumerate(Cls.AMT_FilterInSystemDefensePolicy):
            owner, member = link.get("Antecedent"), link.get("Dependent")
            if isinstance(owner, EndpointReference) and owner.selectors.get("InstanceID") == policy_id \
                    and isinstance(member, EndpointReference):
                members.append(handle_of(str(member.selectors.get("InstanceID", ""))))
        return members

    def _set_timeout(self, policy_id: str, minutes: int) -> None:
        self._client.invoke(Cls.AMT_SystemDefensePolicy, "SetTimeout", {"Timeout": minutes},
                            {"InstanceID": policy_id})

    def _get_timeout(self, policy_id: str) -> int | None:
        output = self._client.invoke(Cls.AMT_SystemDefensePolicy, "GetTimeout", None, {"InstanceID": policy_id},
                                     check=False)
        if output.return_value != 0:
            return None
        try:
            return int(str(output.outputs.get("Timeout")))
        except ValueError:
            return None

    def _timeout_differences(self, policy_id: str, minutes: int) -> list[str]:
        got = self._get_timeout(policy_id)
        return [] if got == minutes else [f"policy timeout is {got} min, sent {minutes} min"]

    def _verify_timeout(self, policy_id: str, minutes: int) -> None:
        differences = self._timeout_differences(policy_id, minutes)
        if differences:
            raise exc.DefenseMismatchError("the device did not take the policy timeout", differences=differences,
                                           host=self._client.host)

    def _statistics(self, policy_id: str, port: int, reset: bool) -> dict[int, tuple[int | None, bool | None]]:
        """``UpdateStatistics`` on the policy, then the counters per filter handle."""
        client = self._client
        client.invoke(Cls.AMT_SystemDefensePolicy, "UpdateStatistics",
                      {"NetworkInterface": ethernet_port_epr(port), "ResetOnRead": reset}, {"InstanceID": policy_id})
        counts: dict[int, tuple[int | None, bool | None]] = {}
        for row in client.enumerate(Cls.AMT_ActiveFilterStatistics):
            nic, link = row.get("Antecedent"), row.get("Dependent")
            if isinstance(nic, EndpointReference) and port_of(str(nic.selectors.get("DeviceID", ""))) not in (port, None):
                continue
            member = link.selectors.get("Dependent") if isinstance(link, EndpointReference) else None
            if not isinstance(member, EndpointReference):
                continue
            try:
                handle = handle_of(str(member.selectors.get("InstanceID", "")))
            except ValueError:
                continue
            count, matched = row.get("ReadCount"), row.get("FilterMatched")
            counts[handle] = (count if isinstance(count, int) and not isinstance(count, bool) else None,
                              matched if isinstance(matched, bool) else None)
        return counts

    # -- failures explained -----------------------------------------------------------------------------

    @contextmanager
    def _explained(self) -> Iterator[None]:
        """Turn the device's refusals into errors that say why: Client Control Mode, AMT's limits."""
        try:
            yield
        except (exc.WSManFault, exc.AMTReturnError) as error:
            status = error.amt_status if isinstance(error, exc.WSManFault) else \
                PTStatus.from_return_value(error.return_value)
            if status == PTStatus.MAX_LIMIT_REACHED:
                raise exc.DefenseLimitError(
                    f"the device refused: no room for more System Defense policies or filters ({error})",
                    what="policies or filters", host=self._client.host) from error
            if self._client_control_mode():
                raise exc.FeatureUnavailableError(
                    "System Defense is not available in Client Control Mode (CCM): AMT offers network filters "
                    "only to Admin Control Mode", host=self._client.host,
                    hint="re-provision the machine in Admin Control Mode (ACM) to use System Defense") from error
            raise

    def _client_control_mode(self) -> bool:
        try:
            service = self._client.get(Cls.AMT_SetupAndConfigurationService)
        except exc.AMTError:
            return False
        return service.get("ProvisioningMode") == int(ControlMode.CLIENT)


def _instance_id(epr: EndpointReference, host: str) -> str:
    value = epr.selectors.get("InstanceID")
    if not isinstance(value, str) or not value:
        raise exc.RemoteProtocolError(f"the device created {epr.class_name} without an InstanceID", host=host)
    return value


def _device_filter(instance: CimInstance) -> DeviceFilter:
    try:
        model: Filter | None = filter_from_properties(instance.class_name, instance.properties)
    except DefenseError:
        model = None
    return DeviceFilter(instance.class_name, str(instance.get("InstanceID", "")), str(instance.get("Name") or ""),
                        dict(instance.properties), model)


def _activation(instance: CimInstance) -> Activation:
    nic, policy = instance.get("Antecedent"), instance.get("Dependent")
    port = port_of(str(nic.selectors.get("DeviceID", ""))) if isinstance(nic, EndpointReference) else None
    policy_id = str(policy.selectors.get("InstanceID", "")) if isinstance(policy, EndpointReference) else ""
    return Activation(port, policy_id, instance)


def _policy_differences(got: Policy, want: Policy) -> list[str]:
    differences = []
    for label, a, b in (
        ("name", got.name, want.name),
        ("precedence", got.precedence, want.precedence),
        ("transmit default", got.transmit_default, want.transmit_default),
        ("receive default", got.receive_default, want.receive_default),
        ("anti-spoofing", got.anti_spoofing, want.anti_spoofing),
    ):
        if a != b:
            differences.append(f"policy {label} is {a}, sent {b}")
    return differences

