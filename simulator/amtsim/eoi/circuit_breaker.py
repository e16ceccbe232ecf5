"""CircuitBreakerService: System Defense's first form, over the System Defense backend WS-Man uses.

Filters and policies made here are the ``AMT_IPHeadersFilter``/``AMT_Hdr8021Filter`` and
``AMT_SystemDefensePolicy`` objects WS-Man reads (same handles), and the other way round; conversion
goes through amtkit's System Defense model (:mod:`amtkit.eoi.circuit_breaker`).

* ``HardwareID`` is the network port: 0 wired, 1 wireless (as WS-Man numbers them; inferred).
* ``CbPolicyEnable`` makes the policy the one enabled on that interface (replacing what was enabled
  there), as the Circuit Breaker API holds one user policy per interface.
* A WS-Man filter Circuit Breaker cannot describe (both addresses, two port ranges) is refused by
  ``CbFilterGet`` with UNSUPPORTED and left out of ``CbFilterEnumerate``.
* Refusals: the backend's (MAX_LIMIT_REACHED, INVALID_HANDLE, NOT_PERMITTED for a filter in use,
  INVALID_PARAMETER); no policy enabled on the interface asked for statistics: NOT_FOUND.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from amtkit.codes import PTStatus
from amtkit.defense.model import MAX_FILTERS, MAX_POLICIES, DefenseError
from amtkit.defense.wsman import filter_properties, policy_from_properties, policy_properties
from amtkit.eoi.circuit_breaker import filter_from_cb, filter_to_cb, policy_from_cb, policy_to_cb
from amtkit.eoi.envelope import Fields
from amtkit.eoi.names import CIRCUIT_BREAKER

from ..backends.defense import PORTS, DefenseBackend, DefenseRefused, StoredFilter, StoredPolicy, defense_of
from .base import ReplyFields, ServiceHandler, StatusError, as_mapping, as_reply, register, required

if TYPE_CHECKING:
    from ..device import SimulatedDevice

log = logging.getLogger(__name__)

_DEFAULT_NAME = "CircuitBreaker"
"""The name a filter or policy created without one gets (the WS-Man objects need one)."""
_HARDWARE = {0: "Wired", 1: "Wireless"}


def _backend(device: SimulatedDevice) -> DefenseBackend:
    return defense_of(device)


def _structure(fields: Fields, name: str) -> Mapping[str, object]:
    value = as_mapping(fields).get(name)
    if not isinstance(value, Mapping):
        raise StatusError(PTStatus.INVALID_PARAMETER, f"{name} is missing")
    return value


def _cb_filter(stored: StoredFilter) -> dict[str, object]:
    """Raises DefenseError when Circuit Breaker cannot describe the filter."""
    return filter_to_cb(stored.model, name=str(stored.properties.get("Name") or ""))


def _cb_policy(stored: StoredPolicy) -> dict[str, object]:
    policy = policy_from_properties(stored.properties)
    return policy_to_cb(policy, list(stored.filter_handles), name=stored.name)


class CircuitBreaker(ServiceHandler):
    service = CIRCUIT_BREAKER
    operations = {
        "CbQueryCapabilities": "query_capabilities", "CbFilterCreate": "filter_create",
        "CbFilterGet": "filter_get", "CbFilterDelete": "filter_delete", "CbFilterEnumerate": "filter_enumerate",
        "CbPolicyCreate": "policy_create", "CbPolicyGet": "policy_get", "CbPolicyDelete": "policy_delete",
        "CbPolicyEnumerate": "policy_enumerate", "CbPolicyEnable": "policy_enable",
        "CbPolicyDisable": "policy_disable", "CbPolicyGetEnabled": "policy_get_enabled",
        "CbPolicyGetActiveStatistics": "policy_statistics",
    }

    def query_capabilities(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        rows = [{"HardwareDescription": _HARDWARE[port], "HardwareID": port,
                 "IPv4_MaxTxFilters": MAX_FILTERS, "IPv4_MaxTxCounters": MAX_FILTERS,
                 "IPv4_MaxRxFilters": MAX_FILTERS, "IPv4_MaxRxCounters": MAX_FILTERS,
                 "IPv4_AntiSpoofingCapable": True, "IPv6_MaxTxFilters": MAX_FILTERS,
                 "IPv6_MaxTxCounters": MAX_FILTERS, "IPv6_MaxRxFilters": MAX_FILTERS,
                 "IPv6_MaxRxCounters": MAX_FILTERS, "IPv6_AntiSpoofingCapable": True, "IPv6_To_IPv4_Ratio": 1}
                for port in PORTS]
        return as_reply({"MaxSupportedPolicies": MAX_POLICIES, "MaxSupportedFilters": MAX_FILTERS,
                         "Capabilities": rows})

    # -- filters ---------------------------------------------------------------------------------
    def filter_create(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        try:
            model = filter_from_cb(_structure(fields, "Filter"))
        except DefenseError as error:
            raise StatusError(PTStatus.INVALID_PARAMETER, str(error)) from None
        class_name, properties = filter_properties(model, 0)
        properties["Name"] = model.name or _DEFAULT_NAME
        try:
            stored = _backend(device).create_filter(class_name, properties)
        except DefenseRefused as refused:
            raise StatusError(refused.status, str(refused)) from None
        return [("FilterCreationHandle", stored.handle)]

    def _filter(self, device: SimulatedDevice, fields: Fields) -> StoredFilter:
        stored = _backend(device).filters.get(required(fields, "FilterCreationHandle"))
        if stored is None:
            raise StatusError(PTStatus.INVALID_HANDLE, "no such filter")
        return stored

    def filter_get(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        try:
            return as_reply({"Filter": _cb_filter(self._filter(device, fields))})
        except DefenseError as error:
            raise StatusError(PTStatus.UNSUPPORTED, str(error)) from None

    def filter_delete(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        try:
            _backend(device).delete_filter(self._filter(device, fields).handle)
        except DefenseRefused as refused:
            raise StatusError(refused.status, str(refused)) from None
        return []

    def filter_enumerate(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        rows = []
        for handle, stored in sorted(_backend(device).filters.items()):
            try:
                rows.append({"Filter": _cb_filter(stored), "FilterCreationHandle": handle})
            except DefenseError as error:
                log.debug("filter %d has no Circuit Breaker form: %s", handle, error)
        return as_reply({"Filters": rows})

    # -- policies --------------------------------------------------------------------------------
    def policy_create(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        data = _structure(fields, "Policy")
        try:
            policy, handles = policy_from_cb(data)
        except DefenseError as error:
            raise StatusError(PTStatus.INVALID_PARAMETER, str(error)) from None
        properties = policy_properties(policy, handles)
        properties["PolicyName"] = str(data.get("PolicyName") or _DEFAULT_NAME)
        try:
            stored = _backend(device).create_policy(properties)
        except DefenseRefused as refused:
            raise StatusError(refused.status, str(refused)) from None
        return [("PolicyCreationHandle", stored.handle)]

    def _policy(self, device: SimulatedDevice, fields: Fields) -> StoredPolicy:
        stored = _backend(device).policies.get(required(fields, "PolicyCreationHandle"))
        if stored is None:
            raise StatusError(PTStatus.INVALID_HANDLE, "no such policy")
        return stored

    def policy_get(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        return as_reply({"Policy": _cb_policy(self._policy(device, fields))})

    def policy_delete(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        _backend(device).delete_policy(self._policy(device, fields).handle)
        return []

    def policy_enumerate(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        policies = sorted(_backend(device).policies.items())
        return as_reply({"Policies": [{"Policy": _cb_policy(p), "PolicyCreationHandle": h} for h, p in policies]})

    # -- enabling --------------------------------------------------------------------------------
    def policy_enable(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        backend = _backend(device)
        requests = [entry for entry in fields.all("EnablePolicies") if isinstance(entry, Fields)]
        if not requests:
            raise StatusError(PTStatus.INVALID_PARAMETER, "EnablePolicies is missing")
        wanted = [(required(entry, "HardwareID"), required(entry, "PolicyCreationHandle")) for entry in requests]
        for port, handle in wanted:
            if port not in PORTS:
                raise StatusError(PTStatus.INVALID_PARAMETER, f"no network interface {port}")
            if handle not in backend.policies:
                raise StatusError(PTStatus.INVALID_HANDLE, f"no policy {handle}")
        for port, handle in wanted:
            self._disable(backend, port)
            backend.activate(port, handle)
        return as_reply({"ActivePolicies": [
            {"HardwareID": port, "PolicyCreationHandle": active.handle}
            for port in PORTS if (active := backend.active_policy(port)) is not None]})

    def _disable(self, backend: DefenseBackend, port: int) -> None:
        for activation in [a for a in backend.activations if a.port == port]:
            backend.deactivate(port, activation.policy)

    def policy_disable(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        backend = _backend(device)
        port = fields.integer("HardwareID")
        if port is not None and port not in PORTS:
            raise StatusError(PTStatus.INVALID_PARAMETER, f"no network interface {port}")
        for each in PORTS if port is None else (port,):
            self._disable(backend, each)
        return []

    def policy_get_enabled(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        backend = _backend(device)
        backend.settle()
        return as_reply({"HwPolicies": [{"HardwareID": a.port, "PolicyCreationHandle": a.policy}
                                        for a in sorted(backend.activations, key=lambda a: (a.port, a.order))]})

    def policy_statistics(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        backend = _backend(device)
        port = required(fields, "HardwareID")
        reset = fields.boolean("ResetStatisticsOnRead") or False
        active = backend.active_policy(port) if port in PORTS else None
        if active is None:
            raise StatusError(PTStatus.NOT_FOUND, f"no policy enabled on interface {port}")
        backend.update_statistics(active.handle, port, reset)
        since = next((a.since for a in backend.activations if a.port == port and a.policy == active.handle), 0.0)
        rows = [{"FilterCreationHandle": handle, "ReadCount": count, "FilterMatched": matched}
                for _policy, handle, count, matched in backend.statistics(port)]
        return as_reply({"PolicyCreationHandle": active.handle, "ActivationTime": int(since), "LastResetTime": 0,
                         "Statistics": rows})


register(CircuitBreaker())
