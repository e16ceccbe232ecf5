"""``client.redirection``: which redirection features AMT accepts sessions for (``AMT_RedirectionService``).

Two switches gate every SOL and IDE-R session on TCP 16994/16995:

* ``EnabledState``: 32768 none, 32769 IDE-R only, 32770 SOL only, 32771 both, changed with
  ``RequestStateChange(RequestedState)`` (:class:`RedirectionState`);
* ``ListenerEnabled``: whether AMT listens for redirection at all, changed with a Put of the whole
  object (read-modify-write).

Storage redirection must also be allowed in the MEBx, which cannot be done remotely.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..wsman import names
from ..wsman.names import Cls
from ..wsman.values import CimInstance
from .messages import DescribedIntEnum

if TYPE_CHECKING:
    from ..client import Client

__all__ = ["RedirectionControl", "RedirectionState", "RedirectionStatus"]

_IDER_BIT = 1
_SOL_BIT = 2


class RedirectionState(DescribedIntEnum):
    """``AMT_RedirectionService.EnabledState`` / ``RequestStateChange`` values (Intel vendor range)."""

    DISABLED = 32768, "IDE-R and SOL disabled"
    IDER = 32769, "IDE-R enabled, SOL disabled"
    SOL = 32770, "SOL enabled, IDE-R disabled"
    IDER_AND_SOL = 32771, "IDE-R and SOL enabled"

    @classmethod
    def of(cls, *, ider: bool, sol: bool) -> RedirectionState:
        return cls(cls.DISABLED | (_IDER_BIT if ider else 0) | (_SOL_BIT if sol else 0))

    @property
    def ider(self) -> bool:
        return bool(self & _IDER_BIT)

    @property
    def sol(self) -> bool:
        return bool(self & _SOL_BIT)


@dataclass(frozen=True)
class RedirectionStatus:
    """What ``AMT_RedirectionService`` reports."""

    state: RedirectionState | int
    """The ``EnabledState``; a raw int for values outside 32768..32771 (e.g. 2/3 on some firmware)."""
    listener_enabled: bool
    instance: CimInstance

    @property
    def ider_enabled(self) -> bool:
        return isinstance(self.state, RedirectionState) and self.state.ider

    @property
    def sol_enabled(self) -> bool:
        return isinstance(self.state, RedirectionState) and self.state.sol

    @property
    def accepts_ider(self) -> bool:
        """An IDE-R session can be opened now (feature on and listener on)."""
        return self.ider_enabled and self.listener_enabled

    def to_dict(self) -> dict[str, object]:
        state = self.state
        return {"state": state.name.lower() if isinstance(state, RedirectionState) else state,
                "enabled_state": int(state), "ider": self.ider_enabled, "sol": self.sol_enabled,
                "listener": self.listener_enabled}


class RedirectionControl:
    """``client.redirection``: read and change the redirection switches of one device."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def _instance(self) -> CimInstance:
        return self._client.get(Cls.AMT_RedirectionService, names.REDIRECTION_SERVICE_SELECTORS)

    def status(self) -> RedirectionStatus:
        instance = self._instance()
        raw = instance.get("EnabledState")
        code = raw if isinstance(raw, int) and not isinstance(raw, bool) else 0
        try:
            state: RedirectionState | int = RedirectionState(code)
        except ValueError:
            state = code
        return RedirectionStatus(state=state, listener_enabled=instance.get("ListenerEnabled") is True,
                                 instance=instance)

    def request_state(self, state: RedirectionState | int) -> None:
        """``RequestStateChange``: turn IDE-R and SOL on or off (ReturnValue != 0 raises)."""
        self._client.invoke(Cls.AMT_RedirectionService, "RequestStateChange", {"RequestedState": int(state)},
                            names.REDIRECTION_SERVICE_SELECTORS)

    def set_listener(self, enabled: bool) -> RedirectionStatus:
        """Put ``ListenerEnabled`` (the whole object, as AMT wants); returns the stored state."""
        current = self._instance()
        properties = dict(current.properties)
        properties["ListenerEnabled"] = enabled
        self._client.put(CimInstance(Cls.AMT_RedirectionService, properties), names.REDIRECTION_SERVICE_SELECTORS)
        return self.status()

    def enable(self, *, ider: bool | None = True, sol: bool | None = None, listener: bool = True) -> RedirectionStatus:
        """Make sure the features asked for are on (``None`` keeps a switch as it is: ``enable(ider=None,
        sol=True)`` turns SOL on and leaves IDE-R alone); changes only what differs and returns the
        resulting state."""
        status = self.status()
        keep_ider = status.ider_enabled if ider is None else ider
        keep_sol = status.sol_enabled if sol is None else sol
        wanted = RedirectionState.of(ider=keep_ider, sol=keep_sol)
        if status.state != wanted:
            self.request_state(wanted)
        if status.listener_enabled != listener:
            return self.set_listener(listener)
        return self.status() if status.state != wanted else status
