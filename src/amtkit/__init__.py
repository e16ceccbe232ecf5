"""amtkit: out-of-band management of Intel AMT / vPro machines.

The public surface: :class:`Client` and its settings, the AMT code enums, and the error tree.
Feature areas hang off the client (``client.power`` ...).
"""

from __future__ import annotations

import logging

from .client import Client
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

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "AMTError",
    "AMTReturnError",
    "AuthenticationError",
    "CimInstance",
    "Client",
    "ControlMode",
    "Credentials",
    "EndpointReference",
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
