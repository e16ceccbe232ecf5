"""AMT_RedirectionService, writable: ``RequestStateChange`` and Put of ``ListenerEnabled``/``EnabledState``.

Extends the read-only handler of :mod:`amtsim.handlers.inventory` (one handler per class: this
subclass replaces it in the registry, so this module is imported after that one).  State is the
redirection service of :mod:`amtsim.backends.redirection`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from amtkit.codes import ReturnValue
from amtkit.wsman.values import CimInstance, Selector, Value

from .. import errors
from ..backends.redirection import redirection_service_of
from .base import register
from .inventory import RedirectionService

if TYPE_CHECKING:
    from ..device import SimulatedDevice


class WritableRedirectionService(RedirectionService):
    methods = {"RequestStateChange": "request_state_change"}

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        redirection_service_of(device)  # the full service (sessions, hooks) from the first contact on
        return super().instances(device)

    def apply_put(self, device: SimulatedDevice, current: CimInstance, new: CimInstance) -> CimInstance:
        service = redirection_service_of(device)
        for name, value in new.properties.items():
            if current.properties.get(name) == value:
                continue
            if name == "ListenerEnabled" and isinstance(value, bool):
                service.listener_enabled = value
            elif name == "EnabledState" and isinstance(value, int) and not isinstance(value, bool):
                try:
                    service.set_enabled_state(value)
                except ValueError as error:
                    raise errors.invalid_representation(str(error)) from None
            else:
                raise errors.invalid_representation(f"{name} cannot be set to {value!r}")
        return self.instances(device)[0]

    def request_state_change(self, device: SimulatedDevice, selectors: Mapping[str, Selector],
                             params: dict[str, Value]) -> tuple[int, dict[str, Value]]:
        try:
            redirection_service_of(device).set_enabled_state(int(str(params.get("RequestedState"))))
        except ValueError:
            return int(ReturnValue.INVALID_PARAMETER), {}
        return int(ReturnValue.COMPLETED), {}


register(WritableRedirectionService())
