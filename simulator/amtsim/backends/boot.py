"""Boot settings of a device and what its firmware boots: state and rules, no XML.

Theory of operation:

* Rule 1: the override is one-time.  ``AMT_BootSettingData`` flags (``UseIDER``, ``BIOSSetup``...)
  and the source forced with ``ChangeBootOrder`` apply to the next power-up only; that power-up
  consumes them (:meth:`BootBackend.consume`) whether or not it could use them, and
  ``OptionsCleared`` reads true again.
* Rule 2: the override needs ``SetBootConfigRole(Role=1)``.  Settings made without it are ignored
  by the BIOS (the boot record says so) and cleared all the same.
* Rule 3: the forced source cannot be read back.  ``CIM_BootConfigSetting`` has no property for it;
  only the boot record shows where the host went.
* Rule 4: every power-up leaves a :class:`BootRecord`: at once for PXE, disk, CD, BIOS setup and
  default boots; at the end of the IDE-R transfer for IDE-R boots, with the simulated BIOS's
  :class:`~amtsim.bios.BootResult` (volume id, boot image found, or why the boot failed).

The power-up hook and the IDE-R hand-off are wired by :func:`boot_backend_of`; the firmware half of an
IDE-R session (:mod:`amtsim.redirection`) registers itself with the redirection backend.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from amtkit.boot import READ_ONLY_SETTINGS, BootConfigRole, BootSource, BootTarget, IDERBootDevice
from amtkit.codes import PowerAction, ReturnValue
from amtkit.redirection.messages import Device
from amtkit.wsman import names
from amtkit.wsman.values import Value

from ..bios import BootResult

if TYPE_CHECKING:
    from ..device import SimulatedDevice

__all__ = [
    "BOOT_KEY",
    "CAPABILITY_DEFAULTS",
    "SETTING_DEFAULTS",
    "BootBackend",
    "BootPlan",
    "BootRecord",
    "SequentialReadPlan",
    "boot_backend_of",
]

BOOT_KEY = "boot"

SETTING_DEFAULTS: dict[str, Value] = {
    "BIOSLastStatus": [2, 0], "BIOSPause": False, "BIOSSetup": False, "BootMediaIndex": 0,
    "ConfigurationDataReset": False, "ElementName": "Intel(r) AMT Boot Configuration Settings",
    "EnforceSecureBoot": False, "FirmwareVerbosity": 0, "ForcedProgressEvents": False, "IDERBootDevice": 0,
    "InstanceID": names.BOOT_SETTING_DATA_INSTANCE_ID, "LockKeyboard": False, "LockPowerButton": False,
    "LockResetButton": False, "LockSleepButton": False, "OptionsCleared": True, "OwningEntity": "Intel(r) AMT",
    "ReflashBIOS": False, "SecureErase": False, "UseIDER": False, "UseSOL": False, "UseSafeMode": False,
    "UserPasswordBypass": False,
}
"""``AMT_BootSettingData`` as a freshly booted AMT 16 reports it (recorded Get, trimmed to what AMT 11+ all send)."""

_IDENTITY = ("ElementName", "InstanceID", "OwningEntity")
"""Sent back in a Put (AMT wants the whole object) but not changeable."""

CAPABILITY_DEFAULTS: dict[str, Value] = {
    "BIOSPause": False, "BIOSReflash": True, "BIOSSecureBoot": True, "BIOSSetup": True,
    "ConfigurationDataReset": False, "ElementName": "Intel(r) AMT: Boot Capabilities", "ForceCDorDVDBoot": True,
    "ForceDiagnosticBoot": False, "ForceHardDriveBoot": True, "ForceHardDriveSafeModeBoot": False,
    "ForcePXEBoot": True, "ForcedProgressEvents": True, "IDER": True,
    "InstanceID": names.BOOT_CAPABILITIES_INSTANCE_ID, "KeyboardLock": True, "PowerButtonLock": False,
    "ResetButtonLock": False, "SOL": True, "SecureErase": False, "SleepButtonLock": False,
    "UserPasswordBypass": True, "VerbosityQuiet": False, "VerbosityScreenBlank": False, "VerbosityVerbose": False,
}
"""``AMT_BootCapabilities`` of a recorded AMT answer."""

_SOURCE_TARGETS = {BootSource.PXE.value: BootTarget.PXE, BootSource.HARD_DRIVE.value: BootTarget.DISK,
                   BootSource.CD_DVD.value: BootTarget.CD}


@dataclass(frozen=True)
class SequentialReadPlan:
    """Bench mode (control API): at the next IDE-R boot the firmware reads the drive instead of booting."""

    blocks: int | None = None
    """Blocks to read from 0 (``None``: the whole drive)."""
    sectors_per_read: int = 512


@dataclass(frozen=True)
class BootPlan:
    """What the firmware does at one power-up: where it boots and, for IDE-R, from which drive."""

    action: PowerAction
    target: BootTarget | None
    """``None``: the default boot order."""
    ider_device: Device | None = None
    sequential_read: SequentialReadPlan | None = None
    note: str = ""

    @property
    def target_name(self) -> str:
        return self.target.value if self.target is not None else "default"


@dataclass(frozen=True)
class BootRecord:
    """One power-up of the host: what it booted (Rule 4)."""

    number: int
    action: PowerAction
    target: str
    """``default`` or a :class:`~amtkit.boot.BootTarget` value (``pxe``, ``ider-cd``...)."""
    result: BootResult | None = None
    """The simulated BIOS's verdict for IDE-R boots; ``None`` for the others (they always succeed)."""
    note: str = ""
    started_at: float = 0.0
    finished_at: float = 0.0
    """Device clock: for IDE-R, from the first command to the last reply."""

    @property
    def booted(self) -> bool:
        return self.result is None or self.result.booted

    @property
    def reason(self) -> str | None:
        return None if self.result is None else self.result.reason

    @property
    def volume_id(self) -> str | None:
        return None if self.result is None else self.result.volume_id

    @property
    def boot_image_found(self) -> bool:
        return self.result is not None and self.result.boot_image_found

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"number": self.number, "action": self.action.cli_name, "target": self.target,
                                   "booted": self.booted, "note": self.note or None}
        if self.result is not None:
            result = self.result
            data.update(volume_id=result.volume_id, boot_image_found=result.boot_image_found,
                        loaded_bytes=result.loaded_bytes, reason=result.reason,
                        seconds=round(self.finished_at - self.started_at, 6))
        return data


IDERLauncher = Callable[[BootPlan], str | None]
"""Hands an IDE-R boot to the open session; returns why it cannot (``None``: it started)."""


class BootBackend:
    """Boot settings, capabilities, the one-time override and the boot records of one device.

    ``lock`` is the device lock: :attr:`changed` is a condition on it, so a test can wait for the
    next boot record (:meth:`wait_for_record`).
    """

    def __init__(self, lock: threading.RLock, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings: dict[str, Value] = dict(SETTING_DEFAULTS)
        self.capabilities: dict[str, Value] = dict(CAPABILITY_DEFAULTS)
        self.source: str | None = None
        """The ``CIM_BootSourceSetting`` forced for the next boot (Rule 3: never reported)."""
        self.role_is_next = False
        self.records: list[BootRecord] = []
        self.sequential_read: SequentialReadPlan | None = None
        self.ider_launcher: IDERLauncher | None = None
        self.on_plan: list[Callable[[BootPlan], None]] = []
        """Called at each power-up with what the firmware boots (the host console prints it)."""
        self.on_record: list[Callable[[BootRecord], None]] = []
        """Called with each new boot record (an IDE-R boot's outcome arrives here)."""
        self.clock = clock
        self.changed = threading.Condition(lock)

    # -- settings -------------------------------------------------------------------------------
    @property
    def writable(self) -> list[str]:
        return [name for name in self.settings if name not in READ_ONLY_SETTINGS and name not in _IDENTITY]

    def put_settings(self, new: dict[str, Value]) -> None:
        """Apply a Put: every writable property must be there (AMT takes whole objects); read-only
        ones are ignored; identity ones must not change. Raises ``ValueError`` saying what is wrong."""
        missing = [name for name in self.writable + list(_IDENTITY) if name not in new]
        if missing:
            raise ValueError("AMT needs the whole object in a Put; missing: " + ", ".join(sorted(missing)))
        for name in _IDENTITY:
            if new[name] != self.settings[name]:
                raise ValueError(f"{name} cannot be changed")
        device = new["IDERBootDevice"]
        if device not in (IDERBootDevice.FLOPPY, IDERBootDevice.CD):
            raise ValueError(f"IDERBootDevice must be 0 (floppy) or 1 (CD), not {device!r}")
        for name in self.writable:
            if isinstance(self.settings[name], bool) and not isinstance(new[name], bool):
                raise ValueError(f"{name} must be true or false, not {new[name]!r}")
        for name in self.writable:
            self.settings[name] = new[name]
        self.settings["OptionsCleared"] = not self._options_set()

    def _options_set(self) -> bool:
        return any(self.settings.get(flag) is True for flag in ("UseIDER", "BIOSSetup", "BIOSPause"))

    def change_boot_order(self, source: object) -> int:
        """``ChangeBootOrder``: ``None`` clears; else an EPR's InstanceID. Returns the ReturnValue."""
        if source is None:
            self.source = None
            return int(ReturnValue.COMPLETED)
        if not isinstance(source, str) or source not in _SOURCE_TARGETS:
            return int(ReturnValue.INVALID_PARAMETER)
        target = _SOURCE_TARGETS[source]
        if self.capabilities.get(target.capability) is not True:
            return int(ReturnValue.NOT_SUPPORTED)
        self.source = source
        return int(ReturnValue.COMPLETED)

    def set_role(self, role: int) -> int:
        """``SetBootConfigRole``: AMT's one configuration can only be made the next one."""
        if role not in (BootConfigRole.IS_NEXT, BootConfigRole.IS_NEXT_SINGLE_USE):
            return int(ReturnValue.NOT_SUPPORTED)
        self.role_is_next = True
        return int(ReturnValue.COMPLETED)

    # -- the boot --------------------------------------------------------------------------------
    def consume(self, action: PowerAction) -> BootPlan:
        """What this power-up boots; clears the one-time override (Rules 1 and 2)."""
        plan = self._plan(action)
        for flag in ("UseIDER", "BIOSSetup", "BIOSPause"):
            self.settings[flag] = False
        self.settings["IDERBootDevice"] = 0
        self.settings["OptionsCleared"] = True
        self.source = None
        self.role_is_next = False
        return plan

    def _plan(self, action: PowerAction) -> BootPlan:
        overridden = self._options_set() or self.source is not None
        if not self.role_is_next:
            note = ("boot options were set but SetBootConfigRole(Role=1) was not called: the BIOS ignored them"
                    if overridden else "")
            return BootPlan(action, None, note=note)
        if self.settings.get("UseIDER") is True:
            cd = self.settings.get("IDERBootDevice") == IDERBootDevice.CD
            target = BootTarget.IDER_CD if cd else BootTarget.IDER_FLOPPY
            plan, self.sequential_read = self.sequential_read, None
            return BootPlan(action, target, ider_device=Device.CD if cd else Device.FLOPPY, sequential_read=plan)
        if self.settings.get("BIOSSetup") is True:
            return BootPlan(action, BootTarget.BIOS)
        if self.source is not None:
            return BootPlan(action, _SOURCE_TARGETS[self.source])
        return BootPlan(action, None)

    def power_up(self, action: PowerAction) -> None:
        """The host (re)starts: boot per the plan (the power backend's ``on_power_up`` hook)."""
        plan = self.consume(action)
        for hook in self.on_plan:
            hook(plan)
        if plan.ider_device is None:
            now = self.clock()
            self.record(plan, note=plan.note, started_at=now, finished_at=now)
            return
        launcher = self.ider_launcher
        problem = "no IDE-R session is open" if launcher is None else launcher(plan)
        if problem is not None:
            now = self.clock()
            self.record(plan, BootResult(booted=False, device=plan.ider_device,
                                         reason=f"UseIDER is set but {problem}: the IDE-R drive is absent"),
                        started_at=now, finished_at=now)

    def record(self, plan: BootPlan, result: BootResult | None = None, *, note: str = "",
               started_at: float = 0.0, finished_at: float = 0.0) -> BootRecord:
        """Add a boot record and wake whoever waits for one (call with the device lock held)."""
        record = BootRecord(number=len(self.records) + 1, action=plan.action, target=plan.target_name,
                            result=result, note=note, started_at=started_at, finished_at=finished_at)
        self.records.append(record)
        self.changed.notify_all()
        for hook in self.on_record:
            hook(record)
        return record

    def wait_for_record(self, count: int, timeout: float) -> BootRecord | None:
        """Wait (device lock held by the caller) until there are ``count`` records; the last, or ``None``."""
        self.changed.wait_for(lambda: len(self.records) >= count, timeout)
        return self.records[count - 1] if len(self.records) >= count else None


def boot_backend_of(device: SimulatedDevice) -> BootBackend:
    """The device's boot backend, created on first use and hooked to its power-ups."""
    backend = device.extensions.get(BOOT_KEY)
    if not isinstance(backend, BootBackend):
        backend = BootBackend(device.lock, device.clock)
        device.extensions[BOOT_KEY] = backend
        device.power.on_power_up.append(backend.power_up)
    return backend
