"""Optional packages, imported only where used, with an error that says what to install.

amtkit's core (WS-Man over its own transport) needs neither; the legacy SOAP client and the requests
transport need ``requests`` (and zeep), installed with ``pip install 'amtkit[legacy]'``; Kerberos needs
``requests-gssapi``. Importing them lazily keeps the CLI's start-up cheap.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .. import exceptions as exc

__all__ = ["require"]

_EXTRA_OF = {"requests": "legacy", "zeep": "legacy", "requests_gssapi": "kerberos"}
_DISTRIBUTION_OF = {"requests_gssapi": "requests-gssapi"}


def require(module: str, *, purpose: str, host: str | None = None) -> ModuleType:
    """Import ``module`` or raise :class:`~amtkit.exceptions.FeatureUnavailableError` naming the extra."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        top = module.split(".", 1)[0]
        extra = _EXTRA_OF.get(top)
        distribution = _DISTRIBUTION_OF.get(top, top)
        install = f"pip install 'amtkit[{extra}]'" if extra else f"pip install {distribution}"
        raise exc.FeatureUnavailableError(
            f"{purpose} needs the Python package {distribution}, which is not installed", host=host,
            hint=install) from error
