"""Wire handlers: one module per AMT service, each registering its classes in :data:`REGISTRY`.

Importing this package registers every service.
"""

from __future__ import annotations

from . import boot, defense, general, inventory, power, redirection  # noqa: F401  (registration side effects)
from .base import REGISTRY, ClassHandler, register

__all__ = ["REGISTRY", "ClassHandler", "register"]
