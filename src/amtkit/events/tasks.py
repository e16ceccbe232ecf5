"""Fleet tasks of the events area (:mod:`amtkit.fleet.tasks` lists them): read logs, manage subscriptions.

Parameters are JSON data without secrets, as every fleet task's: the listener password of a
subscription is read from ``AMTKIT_LISTENER_PASSWORD`` when the task is made (and again on resume).
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .. import exceptions as exc
from ..fleet.tasks import Task

if TYPE_CHECKING:
    from ..client import Client

__all__ = ["LISTENER_PASSWORD_ENV", "audit_log", "events_log", "events_subscribe", "events_subscriptions",
           "events_unsubscribe", "parse_since"]

LISTENER_PASSWORD_ENV = "AMTKIT_LISTENER_PASSWORD"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str | None, now: _dt.datetime | None = None) -> _dt.datetime | None:
    """``2024-01-06``, ``2024-01-06T03:00``, ``2024-01-06T03:00:00+01:00`` or a span back from now: ``90s``,
    ``30m``, ``12h``, ``7d``, ``2w``. Naive times are UTC (AMT's clock)."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    unit = _UNITS.get(value[-1:].lower())
    if unit is not None and value[:-1].isdigit():
        return (now or _dt.datetime.now(_dt.timezone.utc)) - _dt.timedelta(seconds=int(value[:-1]) * unit)
    try:
        when = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise exc.UsageError(f"--since takes a date/time (2024-01-06T03:00) or a span (30m, 12h, 7d), "
                             f"not {text!r}") from error
    return when if when.tzinfo is not None else when.replace(tzinfo=_dt.timezone.utc)


def events_log(*, since: str | None = None) -> Task:
    """The event log, newest first, decoded (``since``: as :func:`parse_since` reads it)."""
    cutoff = parse_since(since)

    def run(client: Client) -> dict[str, Any]:
        records = client.events.records(since=cutoff)
        return {"records": [record.to_dict() for record in records]}

    return Task("events.log", run, parameters={"since": since} if since else {})


def audit_log(*, since: str | None = None) -> Task:
    """The audit log, oldest first, decoded."""
    cutoff = parse_since(since)

    def run(client: Client) -> dict[str, Any]:
        return {"records": [record.to_dict() for record in client.audit.records(since=cutoff)]}

    return Task("audit.log", run, parameters={"since": since} if since else {})


def events_subscribe(urls: Sequence[str], *, alert_filter: str = "all", ack: bool = False,
                     listener_user: str | None = None, auth: str = "digest", expires: float | None = None) -> Task:
    """Subscribe each listener URL (two managers: fallback) to the host's alerts; one already subscribed
    counts as done, so the task is idempotent."""
    from .subscriptions import AlertFilter, DeliveryMode

    if not urls:
        raise exc.UsageError("give at least one listener --url")
    try:
        filter_id = AlertFilter.named(alert_filter)
    except ValueError as error:
        raise exc.UsageError(str(error)) from error
    credentials = None
    if listener_user:
        password = os.environ.get(LISTENER_PASSWORD_ENV)
        if not password:
            raise exc.UsageError(f"a listener user needs its password in {LISTENER_PASSWORD_ENV}")
        credentials = (listener_user, password)
    mode = DeliveryMode.PUSH_WITH_ACK if ack else DeliveryMode.PUSH
    wanted = list(urls)

    def run(client: Client) -> dict[str, Any]:
        held = {(s.filter, s.destination): s for s in client.events.subscriptions()}
        done = []
        for url in wanted:
            existing = held.get((filter_id, url))
            if existing is None:
                existing = client.events.subscribe(url, alert_filter=filter_id, mode=mode, credentials=credentials,
                                                   auth=auth, expires=expires)
            done.append(existing.to_dict())
        return {"subscriptions": done}

    parameters: dict[str, Any] = {"urls": wanted, "alert_filter": alert_filter, "ack": ack,
                                  "listener_user": listener_user, "auth": auth, "expires": expires}
    return Task("events.subscribe", run, parameters=parameters)


def events_unsubscribe(urls: Sequence[str] = (), *, every: bool = False) -> Task:
    """Remove the subscriptions of the listener URLs (``every``: all of them)."""
    if not urls and not every:
        raise exc.UsageError("name the listener --url to unsubscribe, or --all")
    wanted = set(urls)

    def run(client: Client) -> dict[str, Any]:
        removed = []
        for subscription in client.events.subscriptions():
            if every or subscription.destination in wanted:
                client.events.unsubscribe(subscription)
                removed.append(subscription.to_dict())
        return {"removed": removed}

    return Task("events.unsubscribe", run, parameters={"urls": sorted(wanted), "every": every})


def events_subscriptions() -> Task:
    """The subscribers each host holds."""
    return Task("events.subscriptions",
                lambda client: {"subscriptions": [s.to_dict() for s in client.events.subscriptions()]})
