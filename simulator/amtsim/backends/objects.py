"""Objects a device simply keeps: settings records and the instances consoles create.

Many AMT classes hold no behaviour of their own, only stored objects: a TLS setting, the
environment-detection domains, a trusted root certificate a console added. :class:`ObjectStore`
keeps them per device and class, as property dicts; each class's first objects come from a *seed*
(a function of the device, given by the class's handler), made on first use, so a device costs
nothing for classes no console reads. Handles for created objects count up per class, as AMT's do
(``Intel(r) AMT Certificate: Handle: 0``, ``1``, ...).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from amtkit.wsman.values import Value

if TYPE_CHECKING:
    from ..device import SimulatedDevice

__all__ = ["OBJECTS_KEY", "ObjectStore", "Seed", "objects_of"]

OBJECTS_KEY = "objects"

Seed = Callable[["SimulatedDevice"], list[dict[str, Value]]]


@dataclass
class ObjectStore:
    """The stored objects of one device, by class name."""

    objects: dict[str, list[dict[str, Value]]] = field(default_factory=dict)
    _handles: dict[str, Iterator[int]] = field(default_factory=dict)

    def of(self, device: SimulatedDevice, class_name: str, seed: Seed | None) -> list[dict[str, Value]]:
        """The objects of ``class_name`` (seeded on first use); the list itself, to change in place."""
        stored = self.objects.get(class_name)
        if stored is None:
            stored = self.objects[class_name] = seed(device) if seed is not None else []
        return stored

    def next_handle(self, class_name: str, existing: int = 0) -> int:
        """The next free handle of a class: after the ``existing`` seeded ones, never reused."""
        counter = self._handles.get(class_name)
        if counter is None:
            counter = self._handles[class_name] = itertools.count(existing)
        return next(counter)


def objects_of(device: SimulatedDevice) -> ObjectStore:
    return device.extension(OBJECTS_KEY, ObjectStore, ObjectStore)
