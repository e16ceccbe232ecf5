"""Alert subscriptions of a device and what it does with each alert (no XML, no sockets).

Rules:

* Rule 1: a subscription is a filter collection (``Intel(r) AMT:All`` every alert, ``Intel(r) AMT:Features``
  the feature alerts, those with an ``iAMT`` message ID) and a listener: URL, delivery mode, reference
  parameters, optional credentials. At most :data:`MAX_SUBSCRIBERS` (nine from AMT 6.0, Intel AMT
  SDK); subscribing the same listener to the same filter again is refused as AlreadyExists.
* Rule 2: each subscriber gets its own copy of every alert its filter passes, in order; a subscriber
  that is down does not hold up the others.
* Rule 3: delivery to a subscriber that cannot be reached (refused, reset, no answer, an HTTP error, a
  PushWithAck answer that is not the Ack) is retried every ``retry_interval`` seconds, ``retry_attempts``
  more times, then that alert is dropped; a subscriber that has failed without a success for
  ``removal_after`` seconds is removed (:class:`~amtsim.config.Timing` ``alert_*``). These are the ``CIM_IndicationService`` knobs
  (``DeliveryRetryAttempts``, ``DeliveryRetryInterval``, ``SubscriptionRemovalTimeInterval``, action
  Remove) with the defaults the DMTF indication profile's implementations use: 3 retries, 20 s apart,
  removal after 30 days. AMT documents neither its numbers nor its removal; it buffers alerts up to
  30 s before sending (Intel AMT SDK), the simulator sends at once.
* Rule 4: a subscription given ``Expires`` ends then unless renewed; without one it lasts until removed.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from amtkit.events.subscriptions import AlertFilter, DeliveryMode
from amtkit.wsman import names

__all__ = ["MAX_SUBSCRIBERS", "EventingBackend", "Listener", "SubscribeRefused", "eventing_of"]

MAX_SUBSCRIBERS = 9
FILTERS = (AlertFilter.ALL.value, AlertFilter.FEATURES.value)


class SubscribeRefused(Exception):
    def __init__(self, reason: str, *, exists: bool = False) -> None:
        super().__init__(reason)
        self.exists = exists


@dataclass
class Listener:
    """One subscription: its filter and its listener."""

    name: str
    filter_id: str
    destination: str
    mode: DeliveryMode = DeliveryMode.PUSH
    reference: dict[str, str] = field(default_factory=dict)
    credentials: tuple[str, str] | None = None
    auth_profile: str | None = None
    expires_at: float | None = None
    """Device clock (monotonic); ``None``: until removed."""
    delivered: int = 0
    dropped: int = 0
    failing_since: float | None = None

    @property
    def basic_auth(self) -> bool:
        return self.auth_profile in (names.HTTP_BASIC_SECURITY_PROFILE, names.HTTPS_BASIC_SECURITY_PROFILE)

    def passes(self, feature: bool) -> bool:
        return self.filter_id == AlertFilter.ALL.value or (self.filter_id == AlertFilter.FEATURES.value and feature)


@dataclass
class EventingBackend:
    clock: Callable[[], float] = time.monotonic
    removal_after: float = 30 * 24 * 3600.0
    """Rule 3: seconds of failed deliveries without a success before a subscriber is removed."""
    listeners: dict[str, Listener] = field(default_factory=dict)
    on_change: list[Callable[[Listener, bool], None]] = field(default_factory=list)
    """Called with a listener and whether it was added (True) or removed (the alert service)."""
    changed: threading.Condition | None = None
    """Notified (under the device lock) when a delivery succeeds, is dropped, or a subscriber goes."""

    def __post_init__(self) -> None:
        self._names = itertools.count(random.randrange(1, 1000))

    def settle(self) -> None:
        """Rule 4: end expired subscriptions."""
        now = self.clock()
        for listener in list(self.listeners.values()):
            if listener.expires_at is not None and listener.expires_at <= now:
                self.remove(listener.name)

    def subscribe(self, filter_id: str, destination: str, mode: DeliveryMode, *, reference: dict[str, str],
                  credentials: tuple[str, str] | None, auth_profile: str | None, expires: float | None) -> Listener:
        self.settle()
        if filter_id not in FILTERS:
            raise SubscribeRefused(f"no filter collection {filter_id!r}")
        if any(s.filter_id == filter_id and s.destination == destination for s in self.listeners.values()):
            raise SubscribeRefused(f"{destination} is already subscribed to {filter_id}", exists=True)
        if len(self.listeners) >= MAX_SUBSCRIBERS:
            raise SubscribeRefused(f"the device holds {MAX_SUBSCRIBERS} subscriptions already")
        name = f"{names.ALERT_FILTER_PREFIX}Listener {next(self._names)}"
        listener = Listener(name, filter_id, destination, mode, dict(reference), credentials, auth_profile,
                            None if expires is None else self.clock() + expires)
        self.listeners[name] = listener
        for hook in self.on_change:
            hook(listener, True)
        return listener

    def find(self, filter_id: str, name: str) -> Listener | None:
        self.settle()
        listener = self.listeners.get(name)
        return listener if listener is not None and listener.filter_id == filter_id else None

    def remove(self, name: str) -> bool:
        listener = self.listeners.pop(name, None)
        if listener is None:
            return False
        for hook in self.on_change:
            hook(listener, False)
        self.notify()
        return True

    def notify(self) -> None:
        if self.changed is not None:
            self.changed.notify_all()

    def renew(self, listener: Listener, seconds: float) -> None:
        listener.expires_at = self.clock() + seconds

    def remaining(self, listener: Listener) -> int | None:
        return None if listener.expires_at is None else max(0, int(listener.expires_at - self.clock()))

    # -- Rule 3 bookkeeping (the alert service reports each delivery) ---------------------------------
    def delivered(self, listener: Listener) -> None:
        listener.delivered += 1
        listener.failing_since = None
        self.notify()

    def failed(self, listener: Listener) -> bool:
        """A failed delivery attempt; ``True`` when the subscriber has now failed long enough to be removed."""
        now = self.clock()
        if listener.failing_since is None:
            listener.failing_since = now
        if now - listener.failing_since >= self.removal_after:
            self.remove(listener.name)
            return True
        return False


def eventing_of(device: object) -> EventingBackend:
    """The device's subscriptions, made on first use (kept in ``device.extensions``)."""
    from ..device import SimulatedDevice

    assert isinstance(device, SimulatedDevice)
    backend = device.extensions.get("eventing")
    if not isinstance(backend, EventingBackend):
        backend = EventingBackend(device.clock, device.config.timing.alert_subscription_removal,
                                  changed=threading.Condition(device.lock))
        device.extensions["eventing"] = backend
    return backend
