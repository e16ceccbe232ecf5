"""What a WS-Man request changed, as the audit log records it: one observer called by the dispatcher.

The dispatcher calls :func:`observe` after a write answered 200 (a Put, Create or Delete, or a method
whose ReturnValue is 0); this module maps it to the audit event AMT records for that change (Intel AMT
SDK, "Security Audit Log" events by application) and, for power requests, to the event log too. Reads
are never audited. Power requests are logged by the power backend's own hook (before the boot they cause).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from amtkit.events.audit import AuditEvent
from amtkit.wsman import names
from amtkit.wsman.names import Cls
from amtkit.wsman.requests import Request

if TYPE_CHECKING:
    from .device import SimulatedDevice

__all__ = ["observe"]

_CREATED = {Cls.AMT_IPHeadersFilter: AuditEvent.FILTER_ADDED, Cls.AMT_Hdr8021Filter: AuditEvent.FILTER_ADDED,
            Cls.AMT_SystemDefensePolicy: AuditEvent.POLICY_ADDED}
_DELETED = {Cls.AMT_IPHeadersFilter: AuditEvent.FILTER_REMOVED, Cls.AMT_Hdr8021Filter: AuditEvent.FILTER_REMOVED,
            Cls.AMT_SystemDefensePolicy: AuditEvent.POLICY_REMOVED}
_BOOT_CHANGES = {(Cls.CIM_BootConfigSetting, "ChangeBootOrder"), (Cls.CIM_BootService, "SetBootConfigRole")}
_REDIRECTION_IDER = 1
_REDIRECTION_SOL = 2


def _counted(text: object) -> bytes:
    data = str(text).encode("utf-8")[:255]
    return bytes([len(data)]) + data


def _method(device: SimulatedDevice, request: Request, method: str) -> None:
    log, who, params = device.event_log, device.requester, request.method_params()
    cls = request.class_name
    if (cls, method) in _BOOT_CHANGES:
        log.add_audit(AuditEvent.BOOT_OPTIONS_SET, who)
    elif cls == Cls.AMT_RedirectionService and method == "RequestStateChange":
        try:
            state = int(str(params.get("RequestedState"))) - 32768
        except ValueError:
            return
        log.add_audit(AuditEvent.IDER_ENABLED if state & _REDIRECTION_IDER else AuditEvent.IDER_DISABLED, who)
        log.add_audit(AuditEvent.SOL_ENABLED if state & _REDIRECTION_SOL else AuditEvent.SOL_DISABLED, who)
    elif cls == Cls.AMT_MessageLog and method == "ClearLog":
        log.add_audit(AuditEvent.EVENT_LOG_CLEARED, who)
    elif cls == Cls.AMT_MessageLog and method == "FreezeLog":
        frozen = str(params.get("Freeze", "")).strip().lower() in ("true", "1")
        log.add_audit(AuditEvent.EVENT_LOG_FROZEN, who, bytes([frozen]))


def _put(device: SimulatedDevice, request: Request) -> None:
    log, who = device.event_log, device.requester
    if request.class_name == Cls.AMT_GeneralSettings:
        body = request.body_instance()
        if "HostName" in body:
            log.add_audit(AuditEvent.HOST_NAME_SET, who, _counted(body["HostName"]))
        if "DomainName" in body:
            log.add_audit(AuditEvent.DOMAIN_NAME_SET, who, _counted(body["DomainName"]))
    elif request.class_name == Cls.AMT_BootSettingData:
        log.add_audit(AuditEvent.BOOT_OPTIONS_SET, who)


_INTRINSIC: dict[str, Callable[[SimulatedDevice, Request], None]] = {
    names.Action.PUT: _put,
    names.Action.CREATE: lambda device, request: _simple(device, _CREATED.get(request.class_name)),
    names.Action.DELETE: lambda device, request: _simple(device, _DELETED.get(request.class_name)),
    names.Action.SUBSCRIBE: lambda device, request: _simple(device, AuditEvent.ALERT_SUBSCRIBED),
    names.Action.UNSUBSCRIBE: lambda device, request: _simple(device, AuditEvent.ALERT_UNSUBSCRIBED),
}


def _simple(device: SimulatedDevice, event: AuditEvent | None) -> None:
    if event is not None:
        device.event_log.add_audit(event, device.requester)


def observe(device: SimulatedDevice, request: Request, outcome: str) -> None:
    """Record what an answered write changed (``outcome``: the reply's, ``ok`` or ``ReturnValue <n>``)."""
    intrinsic = _INTRINSIC.get(request.action)
    if intrinsic is not None:
        intrinsic(device, request)
        return
    method = request.method
    if method is not None and outcome == "ReturnValue 0":
        _method(device, request, method)
