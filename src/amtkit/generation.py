"""Which AMT generation a feature speaks: WS-Man, or legacy SOAP (EOI) where WS-Man is not there.

:func:`legacy_aware` wraps the public operations of a feature (``client.power``, ``client.defense``)
whose legacy SOAP twin is a subclass: the call goes to the twin when the client speaks legacy SOAP
(forced, or an AMT version without WS-Man already seen), and is repeated there once when the WS-Man
attempt shows that the device has no ``/wsman`` (AMT before 3.2: a 404 whose ``Server`` header names
the version). Deciding costs no request of its own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from . import exceptions as exc

__all__ = ["legacy_aware"]

P = ParamSpec("P")
T = TypeVar("T")


class _HasLegacy(Protocol):
    def _legacy(self) -> object | None: ...


S = TypeVar("S", bound=_HasLegacy)


def legacy_aware(method: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], T]:
    """Run ``method`` on the legacy SOAP twin when the device speaks only that (see the module)."""

    @functools.wraps(method)
    def dispatch(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        legacy = self._legacy()
        if legacy is not None:
            return getattr(legacy, method.__name__)(*args, **kwargs)  # type: ignore[no-any-return]
        try:
            return method(self, *args, **kwargs)
        except exc.NotDetectedError:
            legacy = self._legacy()  # the failed attempt may have shown a version without WS-Man
            if legacy is None:
                raise
            return getattr(legacy, method.__name__)(*args, **kwargs)  # type: ignore[no-any-return]

    return dispatch
