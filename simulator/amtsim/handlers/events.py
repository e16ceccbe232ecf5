"""AMT_MessageLog (the event log), AMT_AuditLog (the audit log) and alert subscriptions over WS-Man.

The logs themselves are :mod:`amtsim.backends.eventlog`; this module answers for them the way the
recorded AMT answers do: the ``Get`` bodies field by field, ``GetRecords`` with the position of the
last record sent as its ``IterationIdentifier`` and ``NoMoreRecords``, ``ReadRecords`` ten records at
a time, oldest first. Subscriptions: ``Subscribe`` on ``CIM_FilterCollection`` (the SubscribeResponse
in DSP0226's form, AMT's own is not recorded), ``Unsubscribe`` and ``Renew`` on
``CIM_FilterCollectionSubscription`` addressed by Filter and Handler, the listeners as
``CIM_ListenerDestinationWSManagement``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from lxml import etree

from amtkit.codes import PTStatus
from amtkit.events.log import GetRecordsResult
from amtkit.events.records import RECORD_SIZE
from amtkit.events.subscriptions import (
    MAX_URL_LENGTH,
    DeliveryMode,
    subscribe_response_xml,
    subscription_selectors,
)
from amtkit.wsman import names
from amtkit.wsman.faults import FAULTS
from amtkit.wsman.names import Cls
from amtkit.wsman.requests import Request, format_duration, parse_duration
from amtkit.wsman.values import CimInstance, EndpointReference, Scalar, Selector, Value

from .. import errors
from ..backends.eventing import FILTERS, Listener, SubscribeRefused, eventing_of
from ..backends.eventlog import AUDIT_READ_BATCH, EVENT_LOG_CAPACITY
from .base import ClassHandler, register

if TYPE_CHECKING:
    from ..device import SimulatedDevice

Output = tuple[int, dict[str, Value]]


def _int(value: Value, default: int = -1) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


class MessageLog(ClassHandler):
    class_name = Cls.AMT_MessageLog
    methods: ClassVar[dict[str, str]] = {
        "PositionToFirstRecord": "position_to_first_record", "GetRecords": "get_records",
        "FreezeLog": "freeze_log", "ClearLog": "clear_log", "CancelIteration": "cancel_iteration",
    }

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        log = device.event_log
        count = len(log.records)
        return [CimInstance(self.class_name, {
            "Capabilities": [5, 6, 8, 7], "CharacterSet": 10, "CreationClassName": self.class_name,
            "CurrentNumberOfRecords": count, "ElementName": names.MESSAGE_LOG_NAME, "EnabledDefault": 2,
            "EnabledState": 2, "HealthState": 5, "IsFrozen": log.frozen, "LastChange": 0, "LogState": 4,
            "MaxLogSize": 0, "MaxNumberOfRecords": EVENT_LOG_CAPACITY, "MaxRecordSize": RECORD_SIZE,
            "Name": names.MESSAGE_LOG_NAME, "OperationalStatus": 2, "OverwritePolicy": 2,
            "PercentageNearFull": count * 100 // EVENT_LOG_CAPACITY, "RequestedState": 12, "SizeOfHeader": 0,
            "SizeOfRecordHeader": 0, "Status": "OK",
        })]

    def position_to_first_record(self, device: SimulatedDevice, selectors: Mapping[str, Selector],
                                 params: dict[str, Value]) -> Output:
        if not device.event_log.records:
            return 2, {}  # no record
        return 0, {"IterationIdentifier": 1}

    def get_records(self, device: SimulatedDevice, selectors: Mapping[str, Selector],
                    params: dict[str, Value]) -> Output:
        records = device.event_log.records
        start = _int(params.get("IterationIdentifier"), 1)
        wanted = _int(params.get("MaxReadRecords"), 1)
        if not records:
            return int(GetRecordsResult.NO_RECORD), {}
        if start < 1 or start > len(records) or wanted < 1:
            return int(GetRecordsResult.INVALID_RECORD), {}
        end = min(len(records), start - 1 + min(wanted, EVENT_LOG_CAPACITY))
        page: list[Scalar] = [records[i].to_base64() for i in range(start - 1, end)]
        last = start + len(page) - 1
        return int(GetRecordsResult.COMPLETED), {"IterationIdentifier": last, "NoMoreRecords": last >= len(records),
                                                 "RecordArray": page}

    def freeze_log(self, device: SimulatedDevice, selectors: Mapping[str, Selector],
                   params: dict[str, Value]) -> Output:
        text = str(params.get("Freeze", "")).strip().lower()
        if text not in ("true", "false", "1", "0"):
            return int(PTStatus.INVALID_PARAMETER), {}
        device.event_log.frozen = text in ("true", "1")
        return 0, {}

    def clear_log(self, device: SimulatedDevice, selectors: Mapping[str, Selector],
                  params: dict[str, Value]) -> Output:
        return (0 if device.event_log.clear() else int(PTStatus.EVENTLOG_FROZEN)), {}

    def cancel_iteration(self, device: SimulatedDevice, selectors: Mapping[str, Selector],
                         params: dict[str, Value]) -> Output:
        return 0, {}


class AuditLog(ClassHandler):
    class_name = Cls.AMT_AuditLog
    methods: ClassVar[dict[str, str]] = {"ReadRecords": "read_records", "ClearLog": "clear_log"}

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        log = device.event_log
        last = log.audit[-1].time if log.audit else _dt.datetime.fromtimestamp(0, _dt.timezone.utc)
        return [CimInstance(self.class_name, {
            "AuditState": 16, "CurrentNumberOfRecords": len(log.audit), "ElementName": names.AUDIT_LOG_ELEMENT_NAME,
            "EnabledState": 2, "MaxAllowedAuditors": 1, "MaxNumberOfRecords": 0, "Name": names.AUDIT_LOG_NAME,
            "OverwritePolicy": 2, "PercentageFree": log.audit_percentage_free, "RequestedState": 2,
            "StoragePolicy": 1, "TimeOfLastRecord": last,
        })]

    def read_records(self, device: SimulatedDevice, selectors: Mapping[str, Selector],
                     params: dict[str, Value]) -> Output:
        audit = device.event_log.audit
        start = _int(params.get("StartIndex"))
        total = len(audit)
        if start < 1 or (start > total and not (start == 1 and total == 0)):
            return int(PTStatus.INVALID_INDEX), {}
        page: list[Scalar] = [audit[i].to_base64() for i in range(start - 1, min(total, start - 1 + AUDIT_READ_BATCH))]
        return 0, {"TotalRecordCount": total, "RecordsReturned": len(page), "EventRecords": page}

    def clear_log(self, device: SimulatedDevice, selectors: Mapping[str, Selector],
                  params: dict[str, Value]) -> Output:
        device.event_log.clear_audit(device.requester)
        return 0, {}


for _handler in (MessageLog(), AuditLog()):
    register(_handler)


# -- alert subscriptions (amtsim.backends.eventing) ----------------------------------------------------

def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _child(element: etree._Element | None, name: str) -> etree._Element | None:
    if element is None:
        return None
    return next((c for c in element if isinstance(c.tag, str) and _local(c.tag) == name), None)


def _credentials(request: Request) -> tuple[str, str] | None:
    """The user name token of an ``IssuedTokens`` header, if the Subscribe carries one."""
    tokens = request.issued_tokens
    if tokens is None:
        return None
    user = password = None
    for element in tokens.iter():
        if not isinstance(element.tag, str):
            continue
        if _local(element.tag) == "Username":
            user = (element.text or "").strip()
        elif _local(element.tag) == "Password":
            password = element.text or ""
    if not user or password is None:
        raise errors.SimFault(FAULTS.INVALID_PARAMETER, "IssuedTokens without a user name and password")
    return user, password


def _subscription(request: Request) -> dict[str, Any]:
    """What a Subscribe body asks for: listener, mode, reference parameters, authentication, expiry."""
    body = request.body
    if body is None or _local(body.tag) != "Subscribe":
        raise errors.SimFault(FAULTS.INVALID_PARAMETER, "a Subscribe without its body")
    delivery = _child(body, "Delivery")
    notify = _child(delivery, "NotifyTo")
    address = _child(notify, "Address")
    if delivery is None or address is None or not (address.text or "").strip():
        raise errors.SimFault(FAULTS.INVALID_PARAMETER, "a Subscribe without Delivery/NotifyTo/Address")
    mode_uri = str(delivery.get("Mode", names.DELIVERY_PUSH)).strip()
    if mode_uri not in (names.DELIVERY_PUSH, names.DELIVERY_PUSH_WITH_ACK):
        raise errors.SimFault(FAULTS.UNSUPPORTED_FEATURE, f"delivery mode {mode_uri}")
    references = _child(notify, "ReferenceParameters")
    reference = {_local(c.tag): (c.text or "").strip() for c in (references if references is not None else ())
                 if isinstance(c.tag, str)}
    auth = _child(delivery, "Auth")
    expires = _child(body, "Expires")
    seconds = None
    if expires is not None:
        try:
            seconds = parse_duration(expires.text or "")
        except ValueError as error:
            raise errors.SimFault(FAULTS.INVALID_PARAMETER, f"Expires {expires.text!r}") from error
    return {"destination": (address.text or "").strip(), "mode": DeliveryMode.from_uri(mode_uri),
            "reference": reference, "auth_profile": None if auth is None else auth.get("Profile"),
            "credentials": _credentials(request), "expires": seconds}


def _addressed(device: SimulatedDevice, selectors: Mapping[str, Selector]) -> Listener:
    filter_ref, handler_ref = selectors.get("Filter"), selectors.get("Handler")
    if not isinstance(filter_ref, EndpointReference) or not isinstance(handler_ref, EndpointReference):
        raise errors.invalid_selectors("a subscription is addressed by its Filter and Handler references")
    listener = eventing_of(device).find(str(filter_ref.selectors.get("InstanceID", "")),
                                        str(handler_ref.selectors.get("Name", "")))
    if listener is None:
        raise errors.invalid_selectors()
    return listener


class FilterCollection(ClassHandler):
    class_name = Cls.CIM_FilterCollection
    actions: ClassVar[dict[str, str]] = {names.Action.SUBSCRIBE: "subscribe"}

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        return [CimInstance(self.class_name, {
            "CollectionName": instance_id.removeprefix(names.ALERT_FILTER_PREFIX), "ElementName": instance_id,
            "InstanceID": instance_id}) for instance_id in FILTERS]

    def subscribe(self, device: SimulatedDevice, request: Request) -> tuple[str, list[str]]:
        self.get(device, request.selectors)  # the filter collection must exist
        filter_id = str(request.selectors.get("InstanceID", ""))
        wanted = _subscription(request)
        if len(wanted["destination"]) > MAX_URL_LENGTH:
            raise errors.SimFault(FAULTS.INVALID_PARAMETER, f"NotifyTo is longer than {MAX_URL_LENGTH} characters")
        try:
            listener = eventing_of(device).subscribe(filter_id, **wanted)
        except SubscribeRefused as refused:
            if refused.exists:
                raise errors.SimFault(FAULTS.ALREADY_EXISTS, str(refused)) from refused
            raise errors.internal_error(int(PTStatus.MAX_LIMIT_REACHED)) from refused
        body = subscribe_response_xml(filter_id, listener.name, wanted["expires"])
        return body, [names.WSEVT]


class FilterCollectionSubscription(ClassHandler):
    class_name = Cls.CIM_FilterCollectionSubscription
    actions: ClassVar[dict[str, str]] = {names.Action.UNSUBSCRIBE: "unsubscribe", names.Action.RENEW: "renew"}

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        eventing = eventing_of(device)
        eventing.settle()
        found = []
        for listener in eventing.listeners.values():
            properties: dict[str, Value] = {**subscription_selectors(listener.filter_id, listener.name),
                                            "SubscriptionState": 2}
            remaining = eventing.remaining(listener)
            if remaining is not None:
                properties["SubscriptionTimeRemaining"] = remaining
            found.append(CimInstance(self.class_name, properties))
        return found

    def unsubscribe(self, device: SimulatedDevice, request: Request) -> tuple[str, list[str]]:
        eventing_of(device).remove(_addressed(device, request.selectors).name)
        return "", []

    def renew(self, device: SimulatedDevice, request: Request) -> tuple[str, list[str]]:
        listener = _addressed(device, request.selectors)
        expires = _child(request.body, "Expires")
        try:
            seconds = parse_duration((expires.text or "") if expires is not None else "")
        except ValueError as error:
            raise errors.SimFault(FAULTS.INVALID_PARAMETER, "Renew needs Expires as a duration") from error
        eventing_of(device).renew(listener, seconds)
        return f"<g:RenewResponse><g:Expires>{format_duration(seconds)}</g:Expires></g:RenewResponse>", [names.WSEVT]


class ListenerDestination(ClassHandler):
    class_name = Cls.CIM_ListenerDestinationWSManagement

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        eventing = eventing_of(device)
        eventing.settle()
        return [CimInstance(self.class_name, {
            "CreationClassName": names.LISTENER_CREATION_CLASS, "DeliveryMode": int(listener.mode),
            "Destination": listener.destination, "Name": listener.name, "Protocol": 2,
            **names.AMT_SYSTEM_SELECTORS,
        }) for listener in eventing.listeners.values()]


for _eventing in (FilterCollection(), FilterCollectionSubscription(), ListenerDestination()):
    register(_eventing)
