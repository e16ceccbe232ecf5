"""Wire handlers: one module per AMT service, each registering its classes in :data:`REGISTRY`.

Importing this package registers every service.
"""

from __future__ import annotations

# Registration side effects. A module that extends another's class (kvm, redirection extend inventory's)
# imports that module first, so its subclass is registered last whatever the order here.
from . import (  # noqa: F401
    alarm,
    authorization,
    boot,
    certificates,
    consent,
    defense,
    events,
    general,
    hardware,
    inventory,
    kvm,
    network,
    power,
    redirection,
    remote_access,
    setup,
    timesync,
)
from .base import REGISTRY, ClassHandler, register

__all__ = ["REGISTRY", "ClassHandler", "register"]
