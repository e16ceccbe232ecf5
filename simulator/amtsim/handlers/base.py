"""How a class is served: a :class:`ClassHandler` per AMT class, registered by service modules.

The generic WS-Transfer and WS-Enumeration rules live here once: selector matching, singleton
addressing with or without selectors, whole-object Puts, method dispatch. A service module
(``handlers/power.py`` ...) subclasses :class:`ClassHandler` and only says how its class maps
to backend state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, ClassVar

from amtkit.wsman import names, schema
from amtkit.wsman.schema import KEYS
from amtkit.wsman.values import CimInstance, EndpointReference, Selector, Value, to_text

from .. import errors
from ..backends.objects import Seed, objects_of

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

    class_name: str = ""
    methods: ClassVar[dict[str, str]] = {}
    """Method name -> name of the handler method implementing it."""
    actions: ClassVar[dict[str, str]] = {}
    """Other actions (WS-Eventing's Subscribe...) -> name of the handler method answering them with
    ``(body XML, namespaces of its prefixes g...)``."""

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


def _same(a: Value, b: Value) -> bool:
    """Equal as AMT compares them: by their text on the wire (``True`` and ``"true"`` are one value)."""
    def text(value: Value) -> object:
        if isinstance(value, list):
            return [text(v) for v in value]
        return value if isinstance(value, EndpointReference) else to_text(value)
    return text(a) == text(b)


class StoredClass(ClassHandler):
    """A class whose instances are objects the device keeps (:mod:`amtsim.backends.objects`).

    ``seed(device)`` gives the objects the device starts with; none (the default) makes a class AMT
    knows but the simulated SKU lacks: Enumerate answers empty, Get ``DestinationUnreachable``, as
    AMT does. A Put may change the ``writable`` properties; ``optional_in_put`` are properties
    later AMT versions added that older consoles leave out of their Puts (their values are kept).
    """

    def __init__(self, class_name: str, seed: Seed | None = None, *, writable: Iterable[str] = (),
                 optional_in_put: Iterable[str] = (), keys: tuple[str, ...] | None = None,
                 types: Mapping[str, str] | None = None) -> None:
        self.class_name = class_name
        self.seed = seed
        self.writable = frozenset(writable)
        self.optional_in_put = frozenset(optional_in_put)
        if keys is not None or types:
            schema.register(class_name, dict(types or {}), keys)

    def stored(self, device: SimulatedDevice) -> list[dict[str, Value]]:
        return objects_of(device).of(device, self.class_name, self.seed)

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        return [CimInstance(self.class_name, dict(properties)) for properties in self.stored(device)]

    def put(self, device: SimulatedDevice, selectors: Mapping[str, Selector], new: CimInstance) -> CimInstance:
        current = self.get(device, selectors)
        missing = sorted(set(current.properties) - set(new.properties) - self.optional_in_put)
        if missing:
            raise errors.invalid_representation("AMT needs the whole object in a Put; missing: " + ", ".join(missing))
        for name, value in new.properties.items():
            if name not in self.writable and not _same(current.properties.get(name), value):
                raise errors.invalid_representation(f"{name} is read-only")
        stored = next(p for p in self.stored(device) if _selector_matches(CimInstance(self.class_name, p), selectors)
                      or not selectors)
        stored.update({name: value for name, value in new.properties.items() if name in self.writable})
        self.after_put(device, stored)
        return CimInstance(self.class_name, dict(stored))

    def after_put(self, device: SimulatedDevice, stored: dict[str, Value]) -> None:
        """Carry a stored change over to the backend that acts on it (none by default)."""

    def add(self, device: SimulatedDevice, properties: dict[str, Value]) -> EndpointReference:
        """Store a new object (created by a method or a Create); its reference."""
        self.stored(device).append(properties)
        return epr_of(CimInstance(self.class_name, properties))

    def delete(self, device: SimulatedDevice, selectors: Mapping[str, Selector]) -> None:
        stored = self.stored(device)
        for index, properties in enumerate(stored):
            if selectors and _selector_matches(CimInstance(self.class_name, properties), selectors):
                del stored[index]
                return
        raise errors.invalid_selectors("no such object") if stored else errors.destination_unreachable()


def known_absent(*class_names: str) -> None:
    """Register classes AMT knows that the simulated machine lacks (empty Enumerate, Get unreachable)."""
    for class_name in class_names:
        register(StoredClass(class_name))
