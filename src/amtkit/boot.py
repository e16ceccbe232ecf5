"""Boot control: where the host boots next, once (PXE, disk, CD/DVD, BIOS setup, IDE-R).

AMT classes (``client.boot``):

* ``AMT_BootCapabilities``: what the platform's BIOS can be told (``ForcePXEBoot``, ``IDER``...);
* ``AMT_BootSettingData``: the boot options for the next boot (``UseIDER``, ``IDERBootDevice``,
  ``BIOSSetup``...).  AMT takes it only whole, so a change is a read-modify-write: Get, change,
  Put every writable property back (read-only ones such as ``BIOSLastStatus`` are left out);
* ``CIM_BootConfigSetting.ChangeBootOrder(Source)``: the one boot source to force, a
  ``CIM_BootSourceSetting`` reference (force PXE, hard drive, CD/DVD), or none to clear it;
* ``CIM_BootService.SetBootConfigRole(BootConfigSetting, Role=1)``: use that configuration for
  the next boot.

The override is one-time: the firmware clears it once the host has booted, and the chosen source
cannot be read back (``CIM_BootConfigSetting`` has no property for it).  :meth:`BootControl.boot_once`
does the whole sequence, checked against the capabilities first, optionally followed by the power
action that makes it happen, as one operation.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import exceptions as exc
from .codes import PowerAction, PowerState
from .redirection.messages import DescribedIntEnum
from .wsman import names
from .wsman.names import Cls
from .wsman.values import CimInstance, EndpointReference, Value

if TYPE_CHECKING:
    from .client import Client

__all__ = [
    "READ_ONLY_SETTINGS",
    "BootCapabilities",
    "BootConfigRole",
    "BootControl",
    "BootOnce",
    "BootSettings",
    "BootSource",
    "BootTarget",
    "IDERBootDevice",
    "THEN_ACTIONS",
]

READ_ONLY_SETTINGS: frozenset[str] = frozenset({
    "BIOSLastStatus", "OptionsCleared", "BootguardStatus", "RPEEnabled", "SecureBootControlEnabled",
    "UEFIHTTPSBootEnabled", "UEFILocalPBABootEnabled", "WinREBootEnabled",
})
"""``AMT_BootSettingData`` properties AMT reports but does not take back in a Put (what public
consoles leave out of the object they send)."""


class IDERBootDevice(DescribedIntEnum):
    """``AMT_BootSettingData.IDERBootDevice``: which IDE-R drive the host boots from."""

    FLOPPY = 0, "the IDE-R floppy"
    CD = 1, "the IDE-R CD/DVD"


class BootConfigRole(DescribedIntEnum):
    """``Role`` of ``CIM_BootService.SetBootConfigRole``."""

    IS_DEFAULT = 0, "the configuration used for every boot (AMT does not let consoles set it)"
    IS_NEXT = 1, "the configuration used for the next boot (what consoles send)"
    IS_NEXT_SINGLE_USE = 2, "the next boot only, then the default again"


class BootSource(enum.Enum):
    """The ``CIM_BootSourceSetting`` instances ``ChangeBootOrder`` accepts, by InstanceID."""

    HARD_DRIVE = names.BOOT_SOURCE_HARD_DRIVE
    PXE = names.BOOT_SOURCE_PXE
    CD_DVD = names.BOOT_SOURCE_CD_DVD

    @property
    def epr(self) -> EndpointReference:
        return EndpointReference(names.resource_uri(Cls.CIM_BootSourceSetting), {"InstanceID": self.value})

    @classmethod
    def from_instance_id(cls, instance_id: str) -> BootSource:
        return cls(instance_id)


class BootTarget(enum.Enum):
    """Where a one-time boot goes. ``value`` is the CLI spelling."""

    PXE = "pxe"
    DISK = "disk"
    CD = "cd"
    BIOS = "bios"
    IDER_FLOPPY = "ider-floppy"
    IDER_CD = "ider-cd"

    @property
    def meaning(self) -> str:
        return _TARGETS[self][0]

    @property
    def capability(self) -> str:
        """The ``AMT_BootCapabilities`` property that must be true for this target."""
        return _TARGETS[self][1]

    @property
    def source(self) -> BootSource | None:
        """The boot source forced with ``ChangeBootOrder`` (``None``: cleared)."""
        return _TARGETS[self][2]

    @property
    def is_ider(self) -> bool:
        return self in (BootTarget.IDER_FLOPPY, BootTarget.IDER_CD)

    @classmethod
    def parse(cls, value: BootTarget | str) -> BootTarget:
        if isinstance(value, BootTarget):
            return value
        text = value.strip().lower().replace("_", "-")
        aliases = {"hdd": "disk", "hard-drive": "disk", "dvd": "cd", "cd-dvd": "cd", "network": "pxe",
                   "bios-setup": "bios", "setup": "bios"}
        try:
            return cls(aliases.get(text, text))
        except ValueError as error:
            valid = ", ".join(member.value for member in cls)
            raise exc.UsageError(f"unknown boot target {value!r}; valid: {valid}") from error


_TARGETS: dict[BootTarget, tuple[str, str, BootSource | None]] = {
    BootTarget.PXE: ("the network (PXE)", "ForcePXEBoot", BootSource.PXE),
    BootTarget.DISK: ("the hard drive", "ForceHardDriveBoot", BootSource.HARD_DRIVE),
    BootTarget.CD: ("the local CD/DVD drive", "ForceCDorDVDBoot", BootSource.CD_DVD),
    BootTarget.BIOS: ("BIOS setup", "BIOSSetup", None),
    BootTarget.IDER_FLOPPY: ("the IDE-R floppy", "IDER", None),
    BootTarget.IDER_CD: ("the IDE-R CD/DVD", "IDER", None),
}

THEN_ACTIONS: dict[str, PowerAction | None] = {"reset": PowerAction.RESET, "on": PowerAction.ON, "auto": None}
"""Power actions that may follow a boot setting (``auto``: power on when off, reset otherwise)."""

_OFF_STATES = (PowerState.OFF_SOFT, PowerState.OFF_HARD, PowerState.HIBERNATE)


def _flag(instance: Mapping[str, Value], name: str) -> bool:
    return instance.get(name) is True


def _int(instance: Mapping[str, Value], name: str, default: int = 0) -> int:
    value = instance.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


@dataclass(frozen=True)
class BootCapabilities:
    """``AMT_BootCapabilities``: what the BIOS can be asked to do. ``instance`` has every property."""

    force_pxe: bool
    force_hard_drive: bool
    force_cd_dvd: bool
    bios_setup: bool
    bios_pause: bool
    ider: bool
    sol: bool
    instance: CimInstance

    @classmethod
    def from_instance(cls, instance: CimInstance) -> BootCapabilities:
        return cls(
            force_pxe=_flag(instance, "ForcePXEBoot"), force_hard_drive=_flag(instance, "ForceHardDriveBoot"),
            force_cd_dvd=_flag(instance, "ForceCDorDVDBoot"), bios_setup=_flag(instance, "BIOSSetup"),
            bios_pause=_flag(instance, "BIOSPause"), ider=_flag(instance, "IDER"), sol=_flag(instance, "SOL"),
            instance=instance,
        )

    def supports(self, target: BootTarget | str) -> bool:
        return _flag(self.instance, BootTarget.parse(target).capability)

    @property
    def targets(self) -> list[BootTarget]:
        """The one-time boot targets this device offers."""
        return [target for target in BootTarget if self.supports(target)]

    def to_dict(self) -> dict[str, object]:
        return {"targets": [t.value for t in self.targets],
                **{k: v for k, v in self.instance.properties.items() if isinstance(v, bool)}}


@dataclass(frozen=True)
class BootSettings:
    """``AMT_BootSettingData``: the options for the next boot. ``instance`` has every property."""

    use_ider: bool
    ider_boot_device: IDERBootDevice | int
    use_sol: bool
    bios_setup: bool
    bios_pause: bool
    use_safe_mode: bool
    boot_media_index: int
    instance: CimInstance

    @classmethod
    def from_instance(cls, instance: CimInstance) -> BootSettings:
        device = _int(instance, "IDERBootDevice")
        try:
            ider_device: IDERBootDevice | int = IDERBootDevice(device)
        except ValueError:
            ider_device = device
        return cls(
            use_ider=_flag(instance, "UseIDER"), ider_boot_device=ider_device, use_sol=_flag(instance, "UseSOL"),
            bios_setup=_flag(instance, "BIOSSetup"), bios_pause=_flag(instance, "BIOSPause"),
            use_safe_mode=_flag(instance, "UseSafeMode"), boot_media_index=_int(instance, "BootMediaIndex"),
            instance=instance,
        )

    def to_dict(self) -> dict[str, object]:
        device = self.ider_boot_device
        return {"use_ider": self.use_ider,
                "ider_boot_device": device.name.lower() if isinstance(device, IDERBootDevice) else device,
                "use_sol": self.use_sol, "bios_setup": self.bios_setup, "bios_pause": self.bios_pause,
                "use_safe_mode": self.use_safe_mode, "boot_media_index": self.boot_media_index}


@dataclass(frozen=True)
class BootOnce:
    """What :meth:`BootControl.boot_once` did."""

    target: BootTarget
    action: PowerAction | None
    """The power action requested after the settings (``None``: the next boot, whenever it comes)."""
    settings: BootSettings

    def to_dict(self) -> dict[str, object]:
        return {"target": self.target.value, "meaning": self.target.meaning,
                "then": self.action.cli_name if self.action is not None else None,
                "settings": self.settings.to_dict()}


BOOT_CONFIG = EndpointReference(names.resource_uri(Cls.CIM_BootConfigSetting),
                                {"InstanceID": names.BOOT_CONFIG_INSTANCE_ID})


class BootControl:
    """``client.boot``: the boot configuration of one device."""

    def __init__(self, client: Client) -> None:
        self._client = client

    # -- reading ---------------------------------------------------------------------------------
    def capabilities(self) -> BootCapabilities:
        instance = self._client.get(Cls.AMT_BootCapabilities, {"InstanceID": names.BOOT_CAPABILITIES_INSTANCE_ID})
        return BootCapabilities.from_instance(instance)

    def settings(self) -> BootSettings:
        return BootSettings.from_instance(self._settings_instance())

    def _settings_instance(self) -> CimInstance:
        return self._client.get(Cls.AMT_BootSettingData, {"InstanceID": names.BOOT_SETTING_DATA_INSTANCE_ID})

    # -- the three steps -------------------------------------------------------------------------
    def change_settings(self, changes: Mapping[str, Value]) -> BootSettings:
        """Read-modify-write of ``AMT_BootSettingData`` (wire property names, e.g. ``{"UseIDER": True}``).

        The whole object goes back, minus :data:`READ_ONLY_SETTINGS`; returns what AMT stored.
        """
        read_only = sorted(set(changes) & READ_ONLY_SETTINGS)
        if read_only:
            raise exc.LocalProtocolError(f"AMT_BootSettingData.{', '.join(read_only)} cannot be written",
                                         host=self._client.host)
        current = self._settings_instance()
        properties = {k: v for k, v in current.properties.items() if k not in READ_ONLY_SETTINGS}
        properties.update(changes)
        stored = self._client.put(CimInstance(Cls.AMT_BootSettingData, properties),
                                  {"InstanceID": names.BOOT_SETTING_DATA_INSTANCE_ID})
        return BootSettings.from_instance(stored)

    def change_boot_order(self, source: BootSource | None) -> None:
        """Force ``source`` for the next boot, or clear the forced source with ``None``."""
        params: dict[str, Value] = {} if source is None else {"Source": source.epr}
        self._client.invoke(Cls.CIM_BootConfigSetting, "ChangeBootOrder", params,
                            {"InstanceID": names.BOOT_CONFIG_INSTANCE_ID})

    def set_boot_config_role(self, role: BootConfigRole = BootConfigRole.IS_NEXT) -> None:
        """Make AMT's boot configuration the one used by the next boot."""
        self._client.invoke(Cls.CIM_BootService, "SetBootConfigRole",
                            {"BootConfigSetting": BOOT_CONFIG, "Role": int(role)}, names.BOOT_SERVICE_SELECTORS)

    # -- one operation ---------------------------------------------------------------------------
    def boot_once(self, target: BootTarget | str, *, then: PowerAction | str | None = None,
                  check: bool = True) -> BootOnce:
        """Boot the host once to ``target`` (``pxe``, ``disk``, ``cd``, ``bios``, ``ider-floppy``,
        ``ider-cd``), then optionally ``then`` (``"reset"``, ``"on"``, ``"auto"`` or a
        :class:`PowerAction`) to make it happen now.

        Checks first, changes nothing if a check fails: the target against ``AMT_BootCapabilities``
        (:class:`~amtkit.exceptions.FeatureUnavailableError`), the power action against what the
        device offers (:class:`~amtkit.exceptions.PowerActionNotSupported`).  If the power action
        fails after the settings were made, the override is cleared again before the error is raised,
        so a half-done operation does not surprise the next boot.  ``check=False`` skips the
        capability check (the escape hatch for firmware that misreports).
        """
        chosen = BootTarget.parse(target)
        host = self._client.host
        if check:
            capabilities = self.capabilities()
            if not capabilities.supports(chosen):
                offered = ", ".join(t.value for t in capabilities.targets) or "none"
                raise exc.FeatureUnavailableError(
                    f"this device cannot boot once to {chosen.meaning}: AMT_BootCapabilities.{chosen.capability} "
                    "is false", host=host, hint=f"one-time boot targets it offers: {offered}")
        action = self._then_action(then)
        settings = self.change_settings(self._flags(chosen))
        self.change_boot_order(chosen.source)
        self.set_boot_config_role(BootConfigRole.IS_NEXT)
        if action is not None:
            try:
                self._client.power.request(action, check_offered=False)
            except exc.AMTError:
                self._clear_quietly()
                raise
        return BootOnce(chosen, action, settings)

    def clear(self) -> BootSettings:
        """Remove a one-time override that has not been used yet (flags off, forced source cleared)."""
        settings = self.change_settings(self._flags(None))
        self.change_boot_order(None)
        return settings

    def _clear_quietly(self) -> None:
        try:
            self.clear()
        except exc.AMTError:
            pass  # the original error is the one to report

    @staticmethod
    def _flags(target: BootTarget | None) -> dict[str, Value]:
        """The option flags one target needs, every other boot flag off."""
        return {
            "UseIDER": target is not None and target.is_ider,
            "IDERBootDevice": int(IDERBootDevice.FLOPPY if target is BootTarget.IDER_FLOPPY else IDERBootDevice.CD)
            if target is not None and target.is_ider else 0,
            "BIOSSetup": target is BootTarget.BIOS,
            "BIOSPause": False,
        }

    def _then_action(self, then: PowerAction | str | None) -> PowerAction | None:
        """Resolve ``then`` and check that the device offers it now (before anything changes)."""
        if then is None:
            return None
        power = self._client.power
        status = power.status()
        if isinstance(then, PowerAction):
            action = then
        else:
            key = then.strip().lower()
            if key not in THEN_ACTIONS:
                raise exc.PowerActionNotSupported(f"unknown follow-up power action {then!r}",
                                                  valid=list(THEN_ACTIONS), host=self._client.host)
            chosen = THEN_ACTIONS[key]
            if chosen is None:
                chosen = PowerAction.ON if status.state in _OFF_STATES else PowerAction.RESET
            action = chosen
        if action not in status.available:
            raise exc.PowerActionNotSupported(
                f"the device does not offer power action {action.cli_name!r} while {status.state.name.lower()}; "
                "the boot settings were not changed", valid=status.available_names, host=self._client.host)
        return action
