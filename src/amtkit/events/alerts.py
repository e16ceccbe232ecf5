"""AMT's pushed alerts: the ``CIM_AlertIndication`` a subscribed device posts, built and read (sans-IO).

A device posts one SOAP envelope per event to each subscriber (Intel AMT SDK "WS-Eventing Event
Example"; MeshCentral's sample): action ``.../wsman/Event``, ResourceURI ``CIM_AlertIndication``, a
``uuid:`` MessageID, the subscription's reference parameters copied into the header, ``AckRequested``
for PushWithAck, and a body whose properties come in alphabetical order. What an alert means is keyed
by its ``MessageID`` (``iAMT0050``) and first argument; :data:`MESSAGES` holds the ones Intel and LMS
document publicly.

Simulated firmware only: alerts for events that have no public WS-Event message ID (failed logins,
power changes, boots) carry :data:`RECORD_MESSAGE_ID` and the event log record in base64 as their
first argument, so the manager can describe them; real AMT uses IDs from Intel's
WSEventAndPetTableReplacement table, which is not public.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from lxml import etree

from ..wsman import names
from ..wsman.values import parse_datetime
from ..wsman.xmlsafe import escape, parse_xml
from .records import EventRecord, RecordError, SensorType, decode_event_record

__all__ = ["MESSAGES", "RECORD_MESSAGE_ID", "Alert", "AlertError", "PushedAlert", "build_ack", "build_alert",
           "parse_alert"]

RECORD_MESSAGE_ID = "AMTSIM-RECORD"
"""The simulator's MessageID for alerts that carry an event log record (see the module docstring)."""
ALERT_URI = names.resource_uri(names.Cls.CIM_AlertIndication)
REFERENCE_NAMESPACE = "urn:amtkit:events"
"""Namespace of the reference parameters amtkit subscribes with (``<r:Device>``: who the device is)."""

MESSAGES: dict[tuple[str, str | None], tuple[str, str]] = {
    ("iAMT0001", None): ("system-defense", "System Defense policy triggered"),
    ("iAMT0002", None): ("agent", "Agent presence: agent not started"),
    ("iAMT0003", None): ("agent", "Agent presence: agent stopped"),
    ("iAMT0004", None): ("agent", "Agent presence: agent running"),
    ("iAMT0005", None): ("agent", "Agent presence: agent expired"),
    ("iAMT0006", None): ("agent", "Agent presence: agent suspended"),
    ("iAMT0007", None): ("network", "Host software tried to disable the AMT network link"),
    ("iAMT0029", None): ("audit-log", "Audit log storage is 50% full"),
    ("iAMT0030", None): ("audit-log", "Audit log storage is 75% full"),
    ("iAMT0031", None): ("audit-log", "Audit log storage is 85% full"),
    ("iAMT0032", None): ("audit-log", "Audit log storage is 95% full"),
    ("iAMT0033", None): ("audit-log", "Audit log storage is full"),
    ("iAMT0034", None): ("firmware", "Firmware update: partial"),
    ("iAMT0035", None): ("firmware", "Firmware update failed"),
    ("iAMT0036", None): ("remote-access", "Remote connectivity initiated"),
    ("iAMT0050", "16"): ("system-defense", "System Defense dropped transmitted traffic"),
    ("iAMT0050", "17"): ("system-defense", "System Defense rate-limited transmitted traffic"),
    ("iAMT0050", "18"): ("system-defense", "System Defense dropped received traffic"),
    ("iAMT0050", "19"): ("system-defense", "System Defense rate-limited received traffic"),
    ("iAMT0050", "48"): ("redirection", "SOL session started"),
    ("iAMT0050", "49"): ("redirection", "SOL session stopped"),
    ("iAMT0050", "50"): ("redirection", "IDE-R session started"),
    ("iAMT0050", "51"): ("redirection", "IDE-R session stopped"),
    ("iAMT0052", "0"): ("redirection", "KVM session requested"),
    ("iAMT0052", "1"): ("redirection", "KVM session started"),
    ("iAMT0052", "2"): ("redirection", "KVM session stopped"),
    ("iAMT0055", "0"): ("provisioning", "Provisioning state: pre-configuration"),
    ("iAMT0055", "1"): ("provisioning", "Provisioning state: in configuration"),
    ("iAMT0055", "2"): ("provisioning", "Provisioning state: post-configuration"),
    ("iAMT0055", "3"): ("provisioning", "Unprovisioning started"),
    ("iAMT0056", None): ("system-defense", "System Defense settings changed"),
    ("iAMT0057", None): ("network", "Network state changed"),
    ("iAMT0059", "0"): ("settings", "KVM disabled"),
    ("iAMT0059", "1"): ("settings", "KVM enabled"),
    ("iAMT0061", None): ("firmware", "Intel ME firmware reset"),
    ("iAMT0064", "1"): ("consent", "User consent granted"),
    ("iAMT0064", "2"): ("consent", "User consent ended"),
    ("iAMT0067", "0"): ("power", "Graceful power off requested"),
    ("iAMT0067", "1"): ("power", "Graceful reboot requested"),
    ("iAMT0067", "2"): ("power", "Graceful sleep requested"),
    ("iAMT0067", "3"): ("power", "Graceful hibernate requested"),
}
"""``(MessageID, first argument)`` -> (kind, meaning), from Intel's SDK and the LMS alert tables; a
``None`` argument matches any."""

_RECORD_KINDS: dict[int, str] = {
    SensorType.ACPI_POWER_STATE: "power", SensorType.FIRMWARE_PROGRESS: "boot", SensorType.BOOT_ERROR: "boot",
    SensorType.ENTITY_PRESENCE: "boot", SensorType.WATCHDOG: "boot", SensorType.PLATFORM_ALERT: "system-defense",
    SensorType.REDIRECTION: "redirection", SensorType.PHYSICAL_SECURITY: "intrusion",
}


class AlertError(ValueError):
    """A posted body that is not an AMT alert."""


@dataclass(frozen=True)
class Alert:
    """One ``CIM_AlertIndication``: what a device says happened."""

    message_id: str
    arguments: tuple[str, ...] = ()
    time: _dt.datetime | None = None
    identifier: str = ""
    """``IndicationIdentifier`` (``Intel(r):2950234687``): unique per device and alert."""
    alert_type: int = 1
    """1 other, 2 communications, 3 quality of service, 4 processing, 5 device, 6 environmental,
    7 model change, 8 security."""
    severity: int = 2
    """PerceivedSeverity: 0 unknown, 1 other, 2 information, 3 warning, 4 minor, 5 major, 6 critical, 7 fatal."""
    filter_name: str = names.ALERT_FILTER_PREFIX + "AllEvents"
    message: str = ""
    system_name: str = names.ALERT_SYSTEM_NAME

    @cached_property
    def record(self) -> EventRecord | None:
        """The event log record an alert of the simulator carries, else ``None``."""
        if self.message_id != RECORD_MESSAGE_ID or not self.arguments:
            return None
        try:
            return decode_event_record(self.arguments[0])
        except RecordError:
            return None

    @property
    def kind(self) -> str:
        """What it is about: ``system-defense``, ``redirection``, ``login``, ``lockout``, ``power``, ``boot``..."""
        record = self.record
        if record is not None:
            if record.sensor_type == SensorType.PLATFORM_SECURITY:
                return "lockout" if record.severity >= 16 else "login"
            return _RECORD_KINDS.get(record.sensor_type, "platform")
        known = self._known()
        return known[0] if known else "other"

    @property
    def description(self) -> str:
        record = self.record
        if record is not None:
            return record.description
        known = self._known()
        if known is not None:
            return known[1]
        return self.message or f"{self.message_id}" + (f" ({', '.join(self.arguments)})" if self.arguments else "")

    def _known(self) -> tuple[str, str] | None:
        first = self.arguments[0] if self.arguments else None
        return MESSAGES.get((self.message_id, first)) or MESSAGES.get((self.message_id, None))

    @property
    def severity_name(self) -> str:
        return ("unknown", "other", "information", "warning", "minor", "major", "critical", "fatal")[self.severity] \
            if 0 <= self.severity <= 7 else f"severity-{self.severity}"

    def key(self, device: str) -> str:
        """The identity of this alert from ``device``: the same for every retry and every manager it reaches."""
        when = self.time.isoformat() if self.time else ""
        text = "\n".join((device, self.identifier, when, self.message_id, *self.arguments))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return {"message_id": self.message_id, "arguments": list(self.arguments),
                "time": self.time.isoformat() if self.time else None, "identifier": self.identifier,
                "kind": self.kind, "severity": self.severity_name, "alert_type": self.alert_type,
                "filter": self.filter_name, "description": self.description}


@dataclass(frozen=True)
class PushedAlert:
    """A posted alert with its envelope: what the receiver needs to acknowledge and file it."""

    alert: Alert
    message_id: str
    """The envelope's WS-Addressing MessageID (an Ack relates to it)."""
    ack_requested: bool
    reference: Mapping[str, str] = field(default_factory=dict)
    """The subscription's reference parameters, by local name (amtkit's ``Device``)."""


def _time_text(when: _dt.datetime) -> str:
    return when.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def build_alert(alert: Alert, message_id: str, *, reference: Mapping[str, str] | None = None,
                ack_requested: bool = False) -> bytes:
    """The envelope a device posts (prefixes and order as in AMT's sample)."""
    refs = "".join(f'<r:{name} xmlns:r="{REFERENCE_NAMESPACE}">{escape(value)}</r:{name}>'
                   for name, value in (reference or {}).items())
    args = "".join(f"<g:MessageArguments>{escape(a)}</g:MessageArguments>" for a in alert.arguments)
    when = f"<g:IndicationTime><h:Datetime>{_time_text(alert.time)}</h:Datetime></g:IndicationTime>" \
        if alert.time else ""
    element = (f"Interop:CIM_ComputerSystem.CreationClassName=&quot;CIM_ComputerSystem&quot;,"
               f"Name=&quot;{escape(alert.system_name)}&quot;")
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<a:Envelope xmlns:a="{names.SOAP_ENV}" xmlns:b="{names.WSA}" xmlns:c="{names.WSMAN}" '
        f'xmlns:d="{names.TRUST}" xmlns:e="{names.WSSE}" xmlns:f="{names.CIMBINDING}" xmlns:g="{ALERT_URI}" '
        f'xmlns:h="{names.CIM_COMMON}" xmlns:xsi="{names.XSI}"><a:Header>'
        f"<b:To>{names.ANONYMOUS}</b:To><b:ReplyTo><b:Address>{names.ANONYMOUS}</b:Address></b:ReplyTo>"
        + ("<c:AckRequested></c:AckRequested>" if ack_requested else "")
        + f'<b:Action a:mustUnderstand="true">{names.Action.EVENT}</b:Action>'
        f"<b:MessageID>{escape(message_id)}</b:MessageID><c:ResourceURI>{ALERT_URI}</c:ResourceURI>{refs}"
        f"</a:Header><a:Body><g:CIM_AlertIndication><g:AlertType>{alert.alert_type}</g:AlertType>"
        f"<g:AlertingElementFormat>2</g:AlertingElementFormat>"
        f"<g:AlertingManagedElement>{element}</g:AlertingManagedElement>"
        f"<g:IndicationFilterName>{escape(alert.filter_name)}</g:IndicationFilterName>"
        f"<g:IndicationIdentifier>{escape(alert.identifier)}</g:IndicationIdentifier>{when}"
        f"<g:Message>{escape(alert.message)}</g:Message>{args}"
        f"<g:MessageID>{escape(alert.message_id)}</g:MessageID>"
        f"<g:OtherAlertingElementFormat></g:OtherAlertingElementFormat><g:OtherSeverity></g:OtherSeverity>"
        f"<g:OwningEntity>{escape(names.ALERT_SYSTEM_NAME)}</g:OwningEntity>"
        f"<g:PerceivedSeverity>{alert.severity}</g:PerceivedSeverity><g:ProbableCause>0</g:ProbableCause>"
        f"<g:SystemName>{escape(alert.system_name)}</g:SystemName></g:CIM_AlertIndication></a:Body></a:Envelope>"
    )
    return text.encode("utf-8")


_WSA_MESSAGE_ID = f"{{{names.WSA}}}MessageID"
_REFERENCE_PREFIX = f"{{{REFERENCE_NAMESPACE}}}"


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _int(text: str, default: int) -> int:
    try:
        return int(text.strip())
    except ValueError:
        return default


def _body_fields(indication: etree._Element) -> tuple[dict[str, str], list[str], _dt.datetime | None]:
    fields: dict[str, str] = {}
    arguments: list[str] = []
    when = None
    for child in indication:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        local = tag[tag.find("}") + 1:]  # the manager's hot loop: no QName objects
        if local == "MessageArguments":
            arguments.append((child.text or "").strip())
        elif local == "IndicationTime":
            text = "".join(str(part) for part in child.itertext()).strip()
            try:
                when = parse_datetime(text) if text else None
            except ValueError:
                when = None
        else:
            fields[local] = (child.text or "").strip()
    return fields, arguments, when


def parse_alert(data: bytes) -> PushedAlert:
    """Read a posted alert. Raises :class:`AlertError` for anything else (unsafe or malformed XML
    included: :func:`~amtkit.wsman.xmlsafe.parse_xml` bounds what it reads)."""
    try:
        root = parse_xml(data)
    except ValueError as error:
        raise AlertError(f"not an alert: {error}") from error
    if root.tag != f"{{{names.SOAP_ENV}}}Envelope":
        raise AlertError("not a SOAP 1.2 envelope")
    header = root.find(f"{{{names.SOAP_ENV}}}Header")
    body = root.find(f"{{{names.SOAP_ENV}}}Body")
    indication = None if body is None else next((c for c in body if _local(c.tag) == "CIM_AlertIndication"), None)
    if indication is None:
        raise AlertError("the body holds no CIM_AlertIndication")
    message_id, ack, reference = "", False, {}
    for element in header if header is not None else ():
        tag = element.tag
        if not isinstance(tag, str):
            continue
        if tag == _WSA_MESSAGE_ID:
            message_id = (element.text or "").strip()
        elif tag.endswith("}AckRequested"):
            ack = True
        elif tag.startswith(_REFERENCE_PREFIX):
            reference[tag[len(_REFERENCE_PREFIX):]] = (element.text or "").strip()
    fields, arguments, when = _body_fields(indication)
    if not fields.get("MessageID"):
        raise AlertError("the alert has no MessageID")
    alert = Alert(message_id=fields["MessageID"], arguments=tuple(arguments), time=when,
                  identifier=fields.get("IndicationIdentifier", ""),
                  alert_type=_int(fields.get("AlertType", ""), 1), severity=_int(fields.get("PerceivedSeverity", ""), 0),
                  filter_name=fields.get("IndicationFilterName", ""), message=fields.get("Message", ""),
                  system_name=fields.get("SystemName", ""))
    return PushedAlert(alert, message_id, ack, reference)


def build_ack(relates_to: str, message_id: str) -> bytes:
    """The acknowledgement of a PushWithAck alert (DSP0226 10.7): action ``.../wsman/Ack``, empty body."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<s:Envelope xmlns:s="{names.SOAP_ENV}" xmlns:a="{names.WSA}">'
        f"<s:Header><a:To>{names.ANONYMOUS}</a:To><a:Action>{names.Action.ACK}</a:Action>"
        f"<a:MessageID>{escape(message_id)}</a:MessageID><a:RelatesTo>{escape(relates_to)}</a:RelatesTo>"
        "</s:Header><s:Body></s:Body></s:Envelope>"
    ).encode()


def is_ack_for(data: bytes, message_id: str) -> bool:
    """Whether ``data`` acknowledges the alert posted as ``message_id``."""
    try:
        root = parse_xml(data)
    except ValueError:
        return False
    action = root.findtext(f".//{{{names.WSA}}}Action") or ""
    relates = root.findtext(f".//{{{names.WSA}}}RelatesTo") or ""
    return action.strip() == names.Action.ACK and relates.strip() == message_id

