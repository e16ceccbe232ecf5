"""Wake-up alarms: ``AMT_AlarmClockService.AddAlarm`` stores an ``IPS_AlarmClockOccurrence`` (named,
with a start time and an interval), listed by Enumerate and removed by Delete. The simulated host is
not woken by them (nothing in the simulator runs on wall-clock time)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from amtkit.codes import PTStatus
from amtkit.wsman import names, schema
from amtkit.wsman.names import Cls
from amtkit.wsman.values import CimInstance, Selector, Value

from .base import ClassHandler, StoredClass, register
from .common import SERVICE_KEYS, MethodOutput, amt_service, text_param

if TYPE_CHECKING:
    from ..device import SimulatedDevice

SERVICE_NAME = "Intel(r) AMT Alarm Clock Service"
MAX_ALARMS = 5

ALARMS = StoredClass(Cls.IPS_AlarmClockOccurrence, keys=("InstanceID",), types={"DeleteOnCompletion": "bool"})


class AlarmClockService(ClassHandler):
    class_name = Cls.AMT_AlarmClockService
    methods = {"AddAlarm": "add_alarm"}

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        properties = amt_service(self.class_name, SERVICE_NAME, system=names.HOST_SYSTEM_SELECTORS)
        del properties["EnabledState"], properties["RequestedState"]  # AMT lists neither for this service
        return [CimInstance(self.class_name, properties)]

    def add_alarm(self, device: SimulatedDevice, selectors: Mapping[str, Selector],
                  params: dict[str, Value]) -> MethodOutput:
        def field(name: str) -> str:
            return text_param(params, f"AlarmTemplate.{name}")

        name, start = field("InstanceID"), field("StartTime")
        if not name or not start:
            return int(PTStatus.INVALID_PARAMETER), {}
        stored = ALARMS.stored(device)
        if any(a["InstanceID"] == name for a in stored):
            return int(PTStatus.DUPLICATE), {}
        if len(stored) >= MAX_ALARMS:
            return int(PTStatus.MAX_LIMIT_REACHED), {}
        created = ALARMS.add(device, {
            "DeleteOnCompletion": field("DeleteOnCompletion").lower() != "false",
            "ElementName": field("ElementName") or name, "InstanceID": name,
            "Interval": field("Interval") or "P0DT0H0M", "StartTime": start,
        })
        return int(PTStatus.SUCCESS), {"AlarmClock": created}


schema.register(Cls.AMT_AlarmClockService, dict(schema.ENABLED_ELEMENT_DATES), SERVICE_KEYS)
register(AlarmClockService())
register(ALARMS)
