"""``client.boot`` against a simulated device: one-time boots, their clearing, capability checks.

Each test reads as a rule: what a console asks, what the firmware then boots, what is left after.
"""

from __future__ import annotations

import pytest

from amtkit import exceptions as exc
from amtkit.boot import (
    READ_ONLY_SETTINGS,
    BootCapabilities,
    BootSettings,
    BootSource,
    BootTarget,
    IDERBootDevice,
)
from amtkit.client import Client
from amtkit.codes import PowerAction, PowerState
from amtkit.pytest_plugin import AMTDeviceInfo
from amtkit.wsman import names
from amtkit.wsman.names import Cls
from amtkit.wsman.requests import build_invoke, parse_request
from amtkit.wsman.responses import parse_response
from amtkit.wsman.values import CimInstance

# -- reading


def test_capabilities_list_the_one_time_targets(client: Client) -> None:
    capabilities = client.boot.capabilities()
    assert capabilities.targets == list(BootTarget)
    assert capabilities.ider and capabilities.force_pxe and capabilities.bios_setup


def test_settings_are_typed(client: Client) -> None:
    settings = client.boot.settings()
    assert (settings.use_ider, settings.ider_boot_device, settings.bios_setup) == (False, IDERBootDevice.FLOPPY, False)
    assert settings.instance["InstanceID"] == "Intel(r) AMT:BootSettingData 0"


# -- read-modify-write


def test_change_settings_puts_the_whole_object_back_and_keeps_other_values(client: Client,
                                                                         device: AMTDeviceInfo) -> None:
    client.boot.change_settings({"UseSOL": True})
    stored = client.boot.change_settings({"LockKeyboard": True})
    assert stored.use_sol and stored.instance["LockKeyboard"] is True
    assert device.control.boot_settings()["UseSOL"] is True


def test_read_only_settings_cannot_be_changed(client: Client) -> None:
    with pytest.raises(exc.LocalProtocolError, match="OptionsCleared"):
        client.boot.change_settings({"OptionsCleared": False})


def test_a_partial_put_is_refused_by_the_device(client: Client) -> None:
    partial = CimInstance(Cls.AMT_BootSettingData, {"InstanceID": names.BOOT_SETTING_DATA_INSTANCE_ID,
                                                    "UseIDER": True})
    with pytest.raises(exc.WSManFault, match="whole object"):
        client.put(partial, {"InstanceID": names.BOOT_SETTING_DATA_INSTANCE_ID})


# -- one-time boots


@pytest.mark.parametrize("target", [BootTarget.PXE, BootTarget.DISK, BootTarget.CD, BootTarget.BIOS],
                         ids=lambda t: t.value)
def test_boot_once_then_reset_boots_the_target(client: Client, device: AMTDeviceInfo, target: BootTarget) -> None:
    done = client.boot.boot_once(target, then="reset")
    assert done.action is PowerAction.RESET
    record = device.control.wait_for_boot(1)
    assert (record.target, record.booted, record.action) == (target.value, True, PowerAction.RESET)


def test_the_override_is_used_once_then_cleared(client: Client, device: AMTDeviceInfo) -> None:
    client.boot.boot_once("bios", then="reset")
    device.control.wait_for_boot(1)
    settings = client.boot.settings()
    assert not settings.bios_setup and settings.instance["OptionsCleared"] is True
    client.power.reset()
    assert device.control.wait_for_boot(2).target == "default"


def test_a_forced_source_waits_for_the_next_boot(client: Client, device: AMTDeviceInfo) -> None:
    client.boot.boot_once("pxe")
    assert device.control.pending_boot_source() == "Intel(r) AMT: Force PXE Boot"
    assert device.control.boot_results() == []
    client.power.cycle()
    assert device.control.wait_for_boot(1).target == "pxe"
    assert device.control.pending_boot_source() is None


def test_the_forced_source_cannot_be_read_back(client: Client) -> None:
    client.boot.boot_once("cd")
    setting = client.get(Cls.CIM_BootConfigSetting, {"InstanceID": "Intel(r) AMT: Boot Configuration 0"})
    assert dict(setting) == {"ElementName": "Intel(r) AMT: Boot Configuration",
                             "InstanceID": "Intel(r) AMT: Boot Configuration 0"}
    assert {s["InstanceID"] for s in client.enumerate(Cls.CIM_BootSourceSetting)} == {
        "Intel(r) AMT: Force Hard-drive Boot", "Intel(r) AMT: Force PXE Boot", "Intel(r) AMT: Force CD/DVD Boot"}


def test_ider_boot_settings_set_use_ider_and_the_drive(client: Client, device: AMTDeviceInfo) -> None:
    done = client.boot.boot_once("ider-floppy")
    assert done.settings.use_ider and done.settings.ider_boot_device is IDERBootDevice.FLOPPY
    assert device.control.boot_settings()["IDERBootDevice"] == 0
    assert client.boot.boot_once("ider-cd").settings.ider_boot_device is IDERBootDevice.CD


def test_ider_boot_without_a_session_fails_and_says_so(client: Client, device: AMTDeviceInfo) -> None:
    client.boot.boot_once("ider-cd", then="reset")
    record = device.control.wait_for_boot(1)
    assert (record.target, record.booted) == ("ider-cd", False)
    assert record.reason == "UseIDER is set but no IDE-R session is open: the IDE-R drive is absent"
    assert not client.boot.settings().use_ider


def test_settings_without_set_boot_config_role_are_ignored_and_cleared(client: Client,
                                                                       device: AMTDeviceInfo) -> None:
    client.boot.change_settings({"BIOSSetup": True})
    client.boot.change_boot_order(BootSource.PXE)
    client.power.reset()
    record = device.control.wait_for_boot(1)
    assert record.target == "default" and "SetBootConfigRole" in record.note
    assert not client.boot.settings().bios_setup and device.control.pending_boot_source() is None


def test_clear_removes_an_unused_override(client: Client, device: AMTDeviceInfo) -> None:
    client.boot.boot_once("pxe")
    client.boot.clear()
    assert device.control.pending_boot_source() is None
    client.power.reset()
    assert device.control.wait_for_boot(1).target == "default"


def test_auto_powers_on_a_machine_that_is_off(client: Client, device: AMTDeviceInfo) -> None:
    device.control.set_power_state(PowerState.OFF_SOFT)
    assert client.boot.boot_once("disk", then="auto").action is PowerAction.ON
    assert device.control.wait_for_boot(1).action is PowerAction.ON


# -- refused before anything changes


def test_an_unsupported_target_is_refused_plainly_and_nothing_changes(client: Client,
                                                                      device: AMTDeviceInfo) -> None:
    device.control.set_boot_capabilities(ForcePXEBoot=False)
    before = device.control.boot_settings()
    with pytest.raises(exc.FeatureUnavailableError, match="cannot boot once to the network \\(PXE\\)") as raised:
        client.boot.boot_once("pxe", then="reset")
    assert "ForcePXEBoot is false" in str(raised.value) and "disk" in raised.value.hint
    assert device.control.boot_settings() == before and device.control.pending_boot_source() is None
    assert device.control.power_history() == []


def test_a_power_action_not_offered_is_refused_before_the_settings(client: Client, device: AMTDeviceInfo) -> None:
    device.control.set_power_state(PowerState.OFF_SOFT)
    with pytest.raises(exc.PowerActionNotSupported, match="'reset' while off_soft"):
        client.boot.boot_once("bios", then="reset")
    assert device.control.boot_settings()["BIOSSetup"] is False


def test_the_simulator_refuses_a_source_its_capabilities_deny(client: Client, device: AMTDeviceInfo) -> None:
    device.control.set_boot_capabilities(ForceCDorDVDBoot=False)
    with pytest.raises(exc.AMTReturnError) as raised:
        client.boot.change_boot_order(BootSource.CD_DVD)
    assert raised.value.return_value == 1


def test_unknown_targets_list_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="valid: pxe, disk, cd, bios, ider-floppy, ider-cd"):
        BootTarget.parse("usb")
    assert BootTarget.parse("HDD") is BootTarget.DISK


# -- recorded AMT answers


def test_recorded_boot_setting_data_is_read_and_put_back_without_read_only_properties(wire) -> None:
    instance = parse_response(wire.read("AMT_BootSettingData.Get.response.2.xml")).instance()
    settings = BootSettings.from_instance(instance)
    assert (settings.use_ider, settings.ider_boot_device, settings.use_sol) == (False, IDERBootDevice.FLOPPY, False)
    assert instance["BIOSLastStatus"] == [2, 0]
    sent = {k for k in instance.properties if k not in READ_ONLY_SETTINGS}
    recorded_put = parse_request(wire.read("AMT_BootSettingData.Put.request.xml")).body_instance()
    # What a public console sends back: the same, plus a write-only array AMT never reports.
    assert sent - set(recorded_put.properties) == set()
    assert set(recorded_put.properties) - sent == {"UefiBootParametersArray"}


def test_recorded_capabilities_parse(wire) -> None:
    capabilities = BootCapabilities.from_instance(
        parse_response(wire.read("AMT_BootCapabilities.Get.response.xml")).instance())
    assert capabilities.targets == list(BootTarget)


def test_change_boot_order_has_the_recorded_shape(wire) -> None:
    theirs = parse_request(wire.read("CIM_BootConfigSetting.ChangeBootOrder.request.xml")).method_params()
    ours = parse_request(build_invoke(Cls.CIM_BootConfigSetting, "ChangeBootOrder",
                                      {"Source": BootSource.HARD_DRIVE.epr})).method_params()
    assert ours["Source"].selectors == theirs["Source"].selectors  # type: ignore[union-attr]
    assert ours["Source"].resource_uri == theirs["Source"].resource_uri  # type: ignore[union-attr]
