"""amtkit: out-of-band management of Intel AMT / vPro machines.

The public surface: :class:`Client` and its settings, the AMT code enums, and the error tree.
Feature areas hang off the client (``client.power`` ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import Client, EnumerationLimits
    from .codes import ControlMode, PowerAction, PowerState, ProvisioningState, PTStatus, ReturnValue
    from .config import Timeout, TLSConfig
    from .exceptions import (
        AMTError,
        AMTReturnError,
        AuthenticationError,
        FeatureUnavailableError,
        NotDetectedError,
        NotProvisionedError,
        PowerActionNotSupported,
        PowerChangeInProgress,
        PowerStateUnknownError,
        PowerWaitTimeout,
        ProtocolError,
        TLSError,
        TransportError,
        UnreachableError,
        WSManFault,
    )
    from .http.digest import Credentials
    from .wsman.values import CimInstance, EndpointReference

__version__ = "0.1.0"

# The package's NullHandler is attached when amtkit first logs (amtkit.lazylog): importing logging
# here cost 4 ms of every CLI call.

# The public names, imported on first use (PEP 562): ``import amtkit`` or one CLI call must not pay
# for every module up front. ``amtkit.Client`` and ``from amtkit import PowerState`` work as before.
_WHERE = {
    "Client": ".client", "EnumerationLimits": ".client",
    "ControlMode": ".codes", "PowerAction": ".codes", "PowerState": ".codes", "ProvisioningState": ".codes",
    "PTStatus": ".codes", "ReturnValue": ".codes",
    "Timeout": ".config", "TLSConfig": ".config",
    "Credentials": ".http.digest",
    "CimInstance": ".wsman.values", "EndpointReference": ".wsman.values",
    **dict.fromkeys([
        "AMTError", "AMTReturnError", "AuthenticationError", "FeatureUnavailableError", "NotDetectedError",
        "NotProvisionedError", "PowerActionNotSupported", "PowerChangeInProgress", "PowerStateUnknownError",
        "PowerWaitTimeout", "ProtocolError", "TLSError", "TransportError", "UnreachableError", "WSManFault",
    ], ".exceptions"),
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'amtkit' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})


__all__ = [
    "AMTError",
    "AMTReturnError",
    "AuthenticationError",
    "CimInstance",
    "Client",
    "ControlMode",
    "Credentials",
    "EndpointReference",
    "EnumerationLimits",
    "FeatureUnavailableError",
    "NotDetectedError",
    "NotProvisionedError",
    "PTStatus",
    "PowerAction",
    "PowerActionNotSupported",
    "PowerChangeInProgress",
    "PowerState",
    "PowerStateUnknownError",
    "PowerWaitTimeout",
    "ProtocolError",
    "ProvisioningState",
    "ReturnValue",
    "TLSConfig",
    "TLSError",
    "Timeout",
    "TransportError",
    "UnreachableError",
    "WSManFault",
    "__version__",
]
