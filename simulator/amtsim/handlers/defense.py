"""System Defense classes: AMT_IPHeadersFilter, AMT_Hdr8021Filter, AMT_SystemDefensePolicy,
AMT_NetworkPortSystemDefensePolicy, AMT_FilterInSystemDefensePolicy, AMT_ActiveFilterStatistics.

The state and its rules live in :mod:`amtsim.backends.defense`; this module maps the classes onto
it. In Client Control Mode every operation on these classes fails, as System Defense is an Admin
Control Mode feature: InternalError with ``AMT-STATUS 3`` (INVALID_PT_MODE).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, ClassVar

from amtkit.codes import ControlMode, PTStatus
from amtkit.defense.wsman import ethernet_port_epr, handle_of, policy_epr, port_of
from amtkit.wsman import names
from amtkit.wsman.faults import FAULTS
from amtkit.wsman.names import Cls
from amtkit.wsman.values import CimInstance, EndpointReference, Selector, Value

from .. import errors
from ..backends.defense import PORTS, DefenseBackend, DefenseRefused, StoredFilter, defense_of
from .base import ClassHandler, epr_of, register

if TYPE_CHECKING:
    from ..device import SimulatedDevice


@contextmanager
def _as_amt_refusal() -> Iterator[None]:
    """A refused change reads as AMT answers it: InternalError with AMT-STATUS, or AlreadyExists."""
    try:
        yield
    except DefenseRefused as refused:
        if refused.status == PTStatus.DUPLICATE:
            raise errors.SimFault(FAULTS.ALREADY_EXISTS, str(refused)) from None
        raise errors.internal_error(int(refused.status)) from None


def _backend(device: SimulatedDevice) -> DefenseBackend:
    if device.general.control_mode == ControlMode.CLIENT:
        raise errors.internal_error(int(PTStatus.INVALID_PT_MODE))
    return defense_of(device)


def _handle(selectors: Mapping[str, Selector]) -> int:
    value = selectors.get("InstanceID")
    try:
        return handle_of(value) if isinstance(value, str) else -1
    except ValueError:
        return -1


def _filter_epr(stored: StoredFilter) -> EndpointReference:
    return epr_of(CimInstance(stored.class_name, stored.properties))


class _FilterHandler(ClassHandler):
    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        backend = _backend(device)
        return [CimInstance(self.class_name, dict(f.properties)) for f in backend.filters.values()
                if f.class_name == self.class_name]

    def create(self, device: SimulatedDevice, new: CimInstance) -> EndpointReference:
        backend = _backend(device)
        with _as_amt_refusal():
            return _filter_epr(backend.create_filter(self.class_name, new.properties))

    def delete(self, device: SimulatedDevice, selectors: Mapping[str, Selector]) -> None:
        backend = _backend(device)
        self.get(device, selectors)  # InvalidSelectors for an unknown object, as AMT
        with _as_amt_refusal():
            backend.delete_filter(_handle(selectors))


class IPHeadersFilter(_FilterHandler):
    class_name = Cls.AMT_IPHeadersFilter


class Hdr8021Filter(_FilterHandler):
    class_name = Cls.AMT_Hdr8021Filter


class SystemDefensePolicy(ClassHandler):
    class_name = Cls.AMT_SystemDefensePolicy
    methods: ClassVar[dict[str, str]] = {
        "UpdateStatistics": "update_statistics", "SetTimeout": "set_timeout", "GetTimeout": "get_timeout",
    }

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        backend = _backend(device)
        return [CimInstance(self.class_name, dict(p.properties)) for p in backend.policies.values()]

    def create(self, device: SimulatedDevice, new: CimInstance) -> EndpointReference:
        backend = _backend(device)
        with _as_amt_refusal():
            stored = backend.create_policy(new.properties)
        return policy_epr(stored.instance_id)

    def delete(self, device: SimulatedDevice, selectors: Mapping[str, Selector]) -> None:
        backend = _backend(device)
        self.get(device, selectors)
        with _as_amt_refusal():
            backend.delete_policy(_handle(selectors))

    def invoke(self, device: SimulatedDevice, method: str, selectors: Mapping[str, Selector],
               params: dict[str, Value]) -> tuple[int, dict[str, Value]]:
        _backend(device)
        try:
            return super().invoke(device, method, selectors, params)
        except DefenseRefused as refused:
            return int(refused.status), {}

    def update_statistics(self, device: SimulatedDevice, selectors: Mapping[str, Selector],
                          params: dict[str, Value]) -> tuple[int, dict[str, Value]]:
        nic = params.get("NetworkInterface")
        port = port_of(str(nic.selectors.get("DeviceID", ""))) if isinstance(nic, EndpointReference) else None
        if port not in PORTS or not selectors:
            return int(PTStatus.INVALID_PARAMETER), {}
        reset = str(params.get("ResetOnRead", "false")).strip().lower() in ("true", "1")
        defense_of(device).update_statistics(_handle(selectors), port, reset)
        return int(PTStatus.SUCCESS), {}

    def set_timeout(self, device: SimulatedDevice, selectors: Mapping[str, Selector],
                    params: dict[str, Value]) -> tuple[int, dict[str, Value]]:
        try:
            minutes = int(str(params.get("Timeout", "")).strip())
        except ValueError:
            return int(PTStatus.INVALID_PARAMETER), {}
        defense_of(device).set_timeout(_handle(selectors) if selectors else None, minutes)
        return int(PTStatus.SUCCESS), {}

    def get_timeout(self, device: SimulatedDevice, selectors: Mapping[str, Selector],
                    params: dict[str, Value]) -> tuple[int, dict[str, Value]]:
        timeout = defense_of(device).get_timeout(_handle(selectors) if selectors else None)
        return int(PTStatus.SUCCESS), {"Timeout": timeout}


class NetworkPortSystemDefensePolicy(ClassHandler):
    """The activation of a policy on a port: Create enables, Delete disables."""

    class_name = Cls.AMT_NetworkPortSystemDefensePolicy

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        backend = _backend(device)
        backend.settle()
        return [
            CimInstance(self.class_name, {
                "Antecedent": ethernet_port_epr(a.port),
                "Dependent": policy_epr(backend.policies[a.policy].instance_id),
                "Enabled": True,
            })
            for a in sorted(backend.activations, key=lambda a: a.order)
        ]

    def create(self, device: SimulatedDevice, new: CimInstance) -> EndpointReference:
        backend = _backend(device)
        port, handle = self._identity(new.properties)
        with _as_amt_refusal():
            backend.activate(port, handle)
        return EndpointReference(names.resource_uri(self.class_name), {
            "Antecedent": ethernet_port_epr(port), "Dependent": policy_epr(backend.policies[handle].instance_id)})

    def delete(self, device: SimulatedDevice, selectors: Mapping[str, Selector]) -> None:
        backend = _backend(device)
        port, handle = self._identity(selectors)
        with _as_amt_refusal():
            backend.deactivate(port, handle)

    @staticmethod
    def _identity(values: Mapping[str, object]) -> tuple[int, int]:
        """(port, policy handle) of an activation given by its Antecedent and Dependent references."""
        nic, policy = values.get("Antecedent"), values.get("Dependent")
        if not isinstance(nic, EndpointReference) or not isinstance(policy, EndpointReference):
            raise errors.invalid_selectors("Antecedent (CIM_EthernetPort) and Dependent (the policy) are required")
        port = port_of(str(nic.selectors.get("DeviceID", "")))
        if port is None:
            raise errors.invalid_selectors(f"unknown network port {nic.selectors.get('DeviceID')!r}")
        return port, _handle(policy.selectors)


class FilterInSystemDefensePolicy(ClassHandler):
    """Which filters each policy holds (read-only)."""

    class_name = Cls.AMT_FilterInSystemDefensePolicy

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        backend = _backend(device)
        return [
            CimInstance(self.class_name, {
                "Antecedent": policy_epr(policy.instance_id), "Dependent": _filter_epr(backend.filters[h])})
            for policy in backend.policies.values() for h in policy.filter_handles
        ]


class ActiveFilterStatistics(ClassHandler):
    """Counters of the filters of each port's active policy, as of the last UpdateStatistics."""

    class_name = Cls.AMT_ActiveFilterStatistics

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        backend = _backend(device)
        rows = []
        for port in PORTS:
            for policy_handle, filter_handle, count, matched in backend.statistics(port):
                link = EndpointReference(names.resource_uri(Cls.AMT_FilterInSystemDefensePolicy), {
                    "Antecedent": policy_epr(backend.policies[policy_handle].instance_id),
                    "Dependent": _filter_epr(backend.filters[filter_handle]),
                })
                rows.append(CimInstance(self.class_name, {
                    "Antecedent": ethernet_port_epr(port), "Dependent": link,
                    "FilterMatched": matched, "ReadCount": count,
                }))
        return rows


for _handler in (IPHeadersFilter(), Hdr8021Filter(), SystemDefensePolicy(), NetworkPortSystemDefensePolicy(),
                 FilterInSystemDefensePolicy(), ActiveFilterStatistics()):
    register(_handler)
