"""``AMT_TimeSynchronizationService``: AMT's clock read and set by consoles (:mod:`amtsim.backends.clock`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from amtkit.codes import PTStatus
from amtkit.wsman import schema
from amtkit.wsman.names import Cls
from amtkit.wsman.values import CimInstance, Selector, Value

from ..backends.clock import clock_of
from .base import ClassHandler, register
from .common import SERVICE_KEYS, MethodOutput, amt_service, int_param

if TYPE_CHECKING:
    from ..device import SimulatedDevice

SERVICE_NAME = "Intel(r) AMT Time Synchronization Service"
TIME_SOURCE_RTC = 1


class TimeSynchronizationService(ClassHandler):
    class_name = Cls.AMT_TimeSynchronizationService
    methods = {"GetLowAccuracyTimeSynch": "get_time", "SetHighAccuracyTimeSynch": "set_time"}

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        return [CimInstance(self.class_name, amt_service(self.class_name, SERVICE_NAME, LocalTimeSyncEnabled=0,
                                                         TimeSource=TIME_SOURCE_RTC))]

    def get_time(self, device: SimulatedDevice, selectors: Mapping[str, Selector],
                 params: dict[str, Value]) -> MethodOutput:
        return int(PTStatus.SUCCESS), {"Ta0": clock_of(device).read()}

    def set_time(self, device: SimulatedDevice, selectors: Mapping[str, Selector],
                 params: dict[str, Value]) -> MethodOutput:
        ta0, tm1 = int_param(params, "Ta0"), int_param(params, "Tm1")
        if ta0 is None or tm1 is None:
            return int(PTStatus.INVALID_PARAMETER), {}
        return clock_of(device).set(ta0, tm1), {}


schema.register(Cls.AMT_TimeSynchronizationService, {
    "EnabledState": "int", "RequestedState": "int", "LocalTimeSyncEnabled": "int", "TimeSource": "int",
    **schema.ENABLED_ELEMENT_DATES}, SERVICE_KEYS)
register(TimeSynchronizationService())
