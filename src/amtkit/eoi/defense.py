"""``client.defense`` on legacy SOAP: System Defense through the Circuit Breaker service (AMT 2.x-8.x).

The same API and the same apply as :class:`amtkit.defense.client.DefenseControl` (offline plan and
lockout check, survey, idempotent replace of amtkit's own objects, limits, rollback, read-back
verification); only the device operations differ:

==========================  ===============================================================
WS-Man                       Circuit Breaker
==========================  ===============================================================
enumerate policies           ``CbPolicyEnumerate``
enumerate both filter classes ``CbFilterEnumerate``
enumerate activations        ``CbPolicyGetEnabled``
Create filter / policy       ``CbFilterCreate`` / ``CbPolicyCreate``
Create activation            ``CbPolicyEnable`` (one policy per interface: it replaces the one there)
Delete activation            ``CbPolicyDisable`` on the interface (if the policy is still the one enabled)
UpdateStatistics + read      ``CbPolicyGetActiveStatistics``
==========================  ===============================================================

What Circuit Breaker cannot do is refused before anything is written: policy timeouts (WS-Man's
``SetTimeout`` has no legacy form) and filters naming both addresses or two port ranges
(:mod:`amtkit.eoi.circuit_breaker`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

from .. import exceptions as exc
from ..defense.cbfilters import FilterSet
from ..defense.client import (
    Activation,
    ApplyResult,
    DefenseControl,
    DefenseState,
    DeviceFilter,
    DevicePolicy,
    _Created,
    _Retired,
)
from ..defense.engine import ManagerSpec
from ..defense.model import DefenseError, IPAddress, Policy
from ..defense.wsman import (
    FILTER_CLASSES,
    class_of,
    ethernet_port_epr,
    filter_properties,
    filter_wire_name,
    handle_of,
    policy_epr,
    policy_properties,
    policy_wire_name,
)
from ..wsman import names as wsman_names
from ..wsman.names import Cls
from ..wsman.values import CimInstance, EndpointReference
from .circuit_breaker import filter_from_cb, filter_to_cb, policy_from_cb, policy_to_cb
from .names import CIRCUIT_BREAKER

__all__ = ["CircuitBreakerControl"]

_ID = "Circuit Breaker handle {}"
"""How a Circuit Breaker creation handle is shown where WS-Man shows an InstanceID."""


def _reference(class_name: str, number: int) -> EndpointReference:
    """A created object (filter, policy: its handle; activation: its interface) for rollback."""
    return EndpointReference(wsman_names.resource_uri(class_name), {"Handle": str(number)})


def _rows(reply: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = reply.get(key)
    items = value if isinstance(value, list) else ([] if value is None else [value])
    return [item for item in items if isinstance(item, dict)]


class CircuitBreakerControl(DefenseControl):
    """``client.defense`` for a device spoken to over legacy SOAP."""

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        return self._client.eoi.call(CIRCUIT_BREAKER, operation, **params)

    def _round_trips(self) -> int:
        return self._client.eoi.round_trips.count

    def apply(self, filters: FilterSet | Policy, *, manager: Iterable[ManagerSpec | str] | ManagerSpec | str = (),
              anti_spoofing: bool | None = None, timeout: int | None = None, force: bool = False, port: int = 0,
              host_addresses: Collection[IPAddress] = ()) -> ApplyResult:
        """As :meth:`DefenseControl.apply`; refuses timeouts and filters Circuit Breaker cannot hold
        (:class:`~amtkit.exceptions.FeatureUnavailableError`) before anything is sent."""
        plan = self.plan(filters, manager=manager, anti_spoofing=anti_spoofing, timeout=timeout,
                         host_addresses=host_addresses)
        host = self._client.host
        if plan.policy.timeout:
            raise exc.FeatureUnavailableError(
                "Circuit Breaker (legacy SOAP) has no policy timeout", host=host,
                hint="apply without a timeout, or use WS-Management (AMT 3.2 and later: generation='wsman')")
        for index, f in enumerate(plan.policy.filters):
            try:
                filter_to_cb(f, filter_wire_name(index, f.name))
            except DefenseError as error:
                raise exc.FeatureUnavailableError(f"filter {index} ({f.describe()}): {error}", host=host,
                                                  hint="split the filter, or use WS-Management") from error
        return super().apply(filters, manager=manager, anti_spoofing=anti_spoofing, timeout=timeout, force=force,
                             port=port, host_addresses=host_addresses)

    def state(self, *, filter_classes: Sequence[str] = FILTER_CLASSES) -> DefenseState:
        """Policies, filters and enabled policies (three calls; ``filter_classes`` is WS-Man's and ignored)."""
        enabled = _rows(self._call("CbPolicyGetEnabled"), "HwPolicies")
        activations = []
        for row in enabled:
            port, handle = int(row["HardwareID"]), int(row["PolicyCreationHandle"])
            instance = CimInstance(Cls.AMT_NetworkPortSystemDefensePolicy, {
                "Antecedent": ethernet_port_epr(port), "Dependent": policy_epr(_ID.format(handle))})
            activations.append(Activation(port, _ID.format(handle), instance))
        policies = []
        for row in _rows(self._call("CbPolicyEnumerate"), "Policies"):
            handle = int(row["PolicyCreationHandle"])
            model, handles = policy_from_cb(row["Policy"])
            properties = policy_properties(model, handles)
            properties.update(PolicyName=model.name, InstanceID=_ID.format(handle),
                              FilterCreationHandles=[*handles])
            ports = tuple(sorted({a.port for a in activations if a.policy_id == _ID.format(handle)
                                  and a.port is not None}))
            policies.append(DevicePolicy(_ID.format(handle), properties, ports))
        filters = [self._device_filter(row) for row in _rows(self._call("CbFilterEnumerate"), "Filters")]
        return DefenseState(policies, filters, activations)

    def _device_filter(self, row: dict[str, Any]) -> DeviceFilter:
        handle = int(row["FilterCreationHandle"])
        name = str(row["Filter"].get("FilterName") or "")
        try:
            model = filter_from_cb(row["Filter"])
        except DefenseError:
            return DeviceFilter("CircuitBreakerFilter", _ID.format(handle), name, {"Name": name}, None)
        class_name, properties = filter_properties(model, 0)
        properties.update(Name=name, InstanceID=_ID.format(handle))
        return DeviceFilter(class_name, _ID.format(handle), name, properties, model)

    def _retire(self, retired: _Retired) -> None:
        """Disable the interfaces where one of the retired policies is still the enabled one (an enable of
        the new policy has replaced it already), then delete the policies and the filters."""
        if retired.activations:
            enabled = {(int(row["HardwareID"]), int(row["PolicyCreationHandle"]))
                       for row in _rows(self._call("CbPolicyGetEnabled"), "HwPolicies")}
            for port in sorted({a.port for a in retired.activations if a.port is not None
                                and (a.port, handle_of(a.policy_id)) in enabled}):
                self._call("CbPolicyDisable", HardwareID=port)
        for policy in retired.policies:
            self._call("CbPolicyDelete", PolicyCreationHandle=handle_of(policy.instance_id))
        for f in retired.filters:
            self._call("CbFilterDelete", FilterCreationHandle=f.handle)

    def _create(self, policy: Policy, ports: Sequence[int], minutes: int) -> _Created:
        """Create the filters and the policy, enable it on ``ports``; undo all of it on failure. The
        created objects are recorded as references :meth:`_undo` understands."""
        created = _Created()
        try:
            handles: list[int] = []
            for index, f in enumerate(policy.filters):
                reply = self._call("CbFilterCreate", Filter=filter_to_cb(f, filter_wire_name(index, f.name)))
                handles.append(int(reply["FilterCreationHandle"]))
                created.filter_ids.append(_ID.format(handles[-1]))
                created.eprs.append(_reference(class_of(f), handles[-1]))
            cb_policy = policy_to_cb(policy, handles, name=policy_wire_name(policy.name))
            policy_handle = int(self._call("CbPolicyCreate", Policy=cb_policy)["PolicyCreationHandle"])
            created.policy_id = _ID.format(policy_handle)
            created.eprs.append(_reference(Cls.AMT_SystemDefensePolicy, policy_handle))
            for port in ports:
                self._activate(port, created.policy_id)
                created.eprs.append(_reference(Cls.AMT_NetworkPortSystemDefensePolicy, port))
        except (exc.AMTError, ValueError):
            self._undo(created.eprs)
            raise
        return created

    def _undo(self, eprs: list[EndpointReference]) -> None:
        for epr in reversed(eprs):
            number = int(epr.selectors["Handle"])  # type: ignore[arg-type]
            kind = epr.class_name
            operation, params = (
                ("CbPolicyDisable", {"HardwareID": number}) if kind == Cls.AMT_NetworkPortSystemDefensePolicy
                else ("CbPolicyDelete", {"PolicyCreationHandle": number}) if kind == Cls.AMT_SystemDefensePolicy
                else ("CbFilterDelete", {"FilterCreationHandle": number}))
            try:
                self._call(operation, **params)
            except exc.AMTError:
                pass  # best effort: the original failure is what the caller needs to see

    def _activate(self, port: int, policy_id: str) -> None:
        self._call("CbPolicyEnable", EnablePolicies=[{"HardwareID": port,
                                                       "PolicyCreationHandle": handle_of(policy_id)}])

    def _delete_filter(self, f: DeviceFilter) -> None:
        self._call("CbFilterDelete", FilterCreationHandle=f.handle)

    def _statistics(self, policy_id: str, port: int, reset: bool) -> dict[int, tuple[int | None, bool | None]]:
        reply = self._call("CbPolicyGetActiveStatistics", HardwareID=port, ResetStatisticsOnRead=reset)
        return {int(row["FilterCreationHandle"]): (int(row["ReadCount"]), bool(row["FilterMatched"]))
                for row in _rows(reply, "Statistics")}

    def _get_timeout(self, policy_id: str) -> int | None:
        return None  # Circuit Breaker has no policy timeout

    def _client_control_mode(self) -> bool:
        return False  # client control mode came with AMT 7 over WS-Man
