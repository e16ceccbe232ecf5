"""How a class is served: a :class:`ClassHandler` per AMT class, registered by service modules.

The generic WS-Transfer and WS-Enumeration rules live here once: selector matching, singleton
addressing with or without selectors, whole-object Puts, method dispatch. A service module
(``handlers/power.py`` ...) subclasses :class:`ClassHandler` and only says how its class maps
to backend state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, ClassVar

from amtkit.wsman import names
from amtkit.wsman.schema import KEYS
from amtkit.wsman.values import CimInstance, EndpointReference, Selector, Value

from .. import errors

if TYPE_CHECKING:
    from ..device import SimulatedDevice

Method = Callable[["SimulatedDevice", Mapping[str, Selector], dict[str, Value]], tuple[int, dict[str, Value]]]

REGISTRY: dict[str, ClassHandler] = {}


def register(handler: ClassHandler) -> ClassHandler:
    REGISTRY[handler.class_name] = handler
    return handler


def epr_of(instance: CimInstance) -> EndpointReference:
    keys = KEYS.get(instance.class_name, ())
    selectors = {k: str(instance.properties[k]) for k in keys if instance.properties.get(k) not in (None, "")}
    return EndpointReference(instance.resource_uri, selectors)


def _selector_matches(instance: CimInstance, selectors: Mapping[str, Selector]) -> bool:
    for name, wanted in selectors.items():
        have = instance.properties.get(name)
        if have is None:
            if name in KEYS.get(instance.class_name, ()):
                return False
            continue  # a key AMT ignores for this class (e.g. SystemName variants)
        if isinstance(wanted, EndpointReference):
            if have != wanted:
                return False
        elif str(have if not isinstance(have, bool) else str(have).lower()) != wanted:
            return False
    return True


class ClassHandler:
    """Serve one class. Override :meth:`instances`, and the operations the class supports."""

    class_name: ClassVar[str] = ""
    methods: ClassVar[dict[str, str]] = {}
    """Method name -> name of the handler method implementing it."""

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        return []

    def get(self, device: SimulatedDevice, selectors: Mapping[str, Selector]) -> CimInstance:
        found = self.instances(device)
        if not found:
            raise errors.destination_unreachable()
        if selectors:
            matches = [i for i in found if _selector_matches(i, selectors)]
            if not matches:
                raise errors.invalid_selectors()
            return matches[0]
        if len(found) > 1:
            raise errors.invalid_selectors("this class has several instances: selectors are required")
        return found[0]

    def put(self, device: SimulatedDevice, selectors: Mapping[str, Selector], new: CimInstance) -> CimInstance:
        current = self.get(device, selectors)
        missing = sorted(set(current.properties) - set(new.properties))
        if missing:
            raise errors.invalid_representation(
                "AMT needs the whole object in a Put; missing: " + ", ".join(missing))
        return self.apply_put(device, current, new)

    def apply_put(self, device: SimulatedDevice, current: CimInstance, new: CimInstance) -> CimInstance:
        raise errors.action_not_supported()

    def create(self, device: SimulatedDevice, new: CimInstance) -> EndpointReference:
        raise errors.action_not_supported()

    def delete(self, device: SimulatedDevice, selectors: Mapping[str, Selector]) -> None:
        raise errors.action_not_supported()

    def invoke(self, device: SimulatedDevice, method: str, selectors: Mapping[str, Selector],
               params: dict[str, Value]) -> tuple[int, dict[str, Value]]:
        attribute = self.methods.get(method)
        if attribute is None:
            raise errors.action_not_supported(f"{self.class_name} has no method {method}")
        if selectors:
            self.get(device, selectors)  # the addressed instance must exist
        implementation: Method = getattr(self, attribute)
        return implementation(device, selectors, params)


def uri(class_name: str) -> str:
    return names.resource_uri(class_name)
