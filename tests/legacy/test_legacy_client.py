"""The zeep client against the simulator, end to end, for every legacy service amtkit bundles."""

from __future__ import annotations

import pytest

from amtkit import exceptions as exc
from amtkit.codes import PowerAction, PowerState, SpecialCommand, SystemPowerState
from amtkit.eoi import names

SA, NA, GI, RC, CB = (names.SECURITY_ADMINISTRATION, names.NETWORK_ADMINISTRATION, names.GENERAL_INFO,
                      names.REMOTE_CONTROL, names.CIRCUIT_BREAKER)


def boot_records(device) -> list[str]:  # type: ignore[no-untyped-def]
    backend = device.device.extensions.get("boot")
    return [record.target for record in backend.records] if backend is not None else []


# -- security administration, general info, network administration ---------------------------------


def test_security_administration_reports_core_version_realm_and_admin(legacy, legacy_device) -> None:
    assert legacy.eoi.call(SA, "GetCoreVersion")["Version"] == "5.0.1"
    assert legacy.eoi.call(SA, "GetDigestRealm")["DigestRealm"] == legacy_device.device.config.realm
    assert legacy.eoi.call(SA, "GetAdminAclEntry")["Username"] == "admin"
    assert legacy.eoi.call(SA, "GetProvisioningMode")["ProvisioningMode"] == 1
    assert legacy.eoi.call(SA, "GetEnabledInterfaces")["EnabledInterfaces"] == ["WebUI", "SerialOverLAN",
                                                                                 "IdeRedirection"]


def test_general_info_reports_versions_host_name_and_provisioning(legacy, legacy_device) -> None:
    versions = legacy.eoi.call(GI, "GetCodeVersions")
    table = {row["Description"]: row["Version"] for row in versions["Versions"]}
    assert table["AMT"] == "5.0.1" and table["VendorID"] == "8086"
    assert versions["BiosVersion"] == legacy_device.device.config.bios_version
    assert legacy.eoi.call(GI, "GetHostName")["HostName"] == "amt-device"
    assert legacy.eoi.call(GI, "GetProvisioningState")["ProvisioningState"] == "ProvisioningStatePost"
    assert legacy.eoi.call(GI, "GetNetworkState")["IsEnabled"] is True


def test_network_administration_lists_the_wired_interface_with_its_addresses(make_device, connect) -> None:
    device = make_device(amt_version="4.0.1", dhcp_enabled=False, ip_address="10.1.2.3", default_gateway="10.1.2.1",
                         domain="lab.example", mac_address="00-be-43-d8-22-a4")
    client = connect(device, generation="eoi")
    assert client.eoi.call(NA, "EnumerateInterfaces")["InterfaceHandles"] == [0]
    descriptor = client.eoi.call(NA, "GetInterfaceSettings", InterfaceHandle=0)["InterfaceDescriptor"]
    assert descriptor["MACAddress"] == "00-be-43-d8-22-a4"
    assert descriptor["DhcpEnabled"] is False
    assert descriptor["IPv4Parameters"]["LocalAddress"] == 10 << 24 | 1 << 16 | 2 << 8 | 3  # first octet on top
    assert descriptor["IPv4Parameters"]["SubnetMask"] == 0xFFFFFF00
    tcpip = client.eoi.call(NA, "GetTcpIpParameters")
    assert tcpip["DhcpMode"] == 1 and tcpip["StaticIPv4Parameters"]["DomainName"] == "lab.example"
    assert client.eoi.call(NA, "GetDomainName")["DomainName"] == "lab.example"
    assert client.eoi.call(NA, "GetPingResponse")["enabled"] is True


def test_an_unknown_interface_handle_is_an_amt_return_error_naming_invalid_handle(legacy) -> None:
    with pytest.raises(exc.AMTReturnError, match="0x0805 INVALID_HANDLE") as caught:
        legacy.eoi.call(NA, "GetInterfaceSettings", InterfaceHandle=7)
    assert caught.value.return_value == 0x805


# -- remote control ------------------------------------------------------------------------------


def test_power_status_reads_the_asf_state_as_a_cim_state(legacy) -> None:
    status = legacy.power.status()
    assert status.state is PowerState.ON
    assert status.system_power_state is SystemPowerState.S0_WORKING
    assert status.to_dict()["asf_state"] == 0
    assert status.available_names == ["reset", "off", "cycle"]


@pytest.mark.parametrize(("action", "history", "final"), [
    ("off", [PowerAction.OFF], PowerState.OFF_SOFT),
    ("cycle", [PowerAction.CYCLE], PowerState.ON),
    ("reset", [PowerAction.RESET], PowerState.ON),
])
def test_power_actions_become_remote_control_commands(legacy, legacy_device, action: str,
                                                     history: list[PowerAction], final: PowerState) -> None:
    legacy.power.request(action)
    assert legacy_device.control.power_history() == history
    assert legacy.power.state() is final


def test_power_up_from_soft_off(make_device, connect) -> None:
    device = make_device(amt_version="3.2.1", power_state=PowerState.OFF_SOFT)
    client = connect(device, generation="eoi")
    assert client.power.status().system_power_state is SystemPowerState.S5_SOFT_OFF
    client.power.on()
    assert client.power.state() is PowerState.ON


def test_an_action_legacy_soap_cannot_express_is_refused_before_sending(legacy, legacy_device) -> None:
    with pytest.raises(exc.PowerActionNotSupported, match="no command for power action 'hibernate'"):
        legacy.power.request("hibernate")
    assert legacy_device.device.stats.eoi_requests == 0


def test_power_up_while_on_is_refused_with_what_is_possible(legacy, legacy_device) -> None:
    with pytest.raises(exc.PowerActionNotSupported) as caught:
        legacy.power.on()
    assert "reset" in (caught.value.hint or "")
    assert legacy_device.control.power_history() == []


def test_capabilities_decode_the_bits(legacy) -> None:
    capabilities = legacy.power_legacy.capabilities()
    assert capabilities.iana_oem_number == 343
    data = capabilities.to_dict()
    assert {"ider", "sol", "bios_setup"} <= set(data["oem"])  # type: ignore[arg-type]
    assert {"pxe", "hard_drive", "cd_dvd"} <= set(data["special_commands"])  # type: ignore[arg-type]
    assert data["system"] == ["power_cycle_reset", "power_down", "power_up", "reset"]


@pytest.mark.parametrize(("target", "recorded"), [
    ("pxe", "pxe"), ("disk", "disk"), ("cd", "cd"), ("bios", "bios"),
])
def test_boot_once_rides_a_special_command_on_the_power_command(legacy, legacy_device, target: str,
                                                               recorded: str) -> None:
    legacy.power_legacy.boot_once(target)
    assert legacy_device.control.power_history() == [PowerAction.RESET]  # on: reset (off: power up)
    assert boot_records(legacy_device) == [recorded]


def test_a_boot_the_platform_cannot_do_is_refused_and_leaves_the_next_boot_alone(legacy, legacy_device) -> None:
    from amtkit.codes import RemoteControlCommand

    with pytest.raises(exc.FeatureUnavailableError, match="UNSUPPORTED_BOOT_OPTION"):
        legacy.power_legacy.remote_control(RemoteControlCommand.RESET, special=SpecialCommand.DIAGNOSTICS)
    legacy.power.reset()
    assert boot_records(legacy_device) == ["default"]


def test_power_actions_on_an_unknown_state_name_the_console_symptom(legacy, legacy_device) -> None:
    legacy_device.device.faults.power_state_unknown = True
    with pytest.raises(exc.PowerStateUnknownError) as caught:
        legacy.power.off()
    text = str(caught.value)
    assert "FromState detected as unknown:14" in text and "power down" in text
    assert caught.value.category == "power-state-unknown"
    assert "AC" in (caught.value.hint or "")
    assert legacy_device.control.power_history() == []


# -- circuit breaker -----------------------------------------------------------------------------

WEB_FILTER = {"FilterName": "web", "FilterDirection": 1, "FilterProfile": 4, "FilterProfileData": 0,
              "FilterPacket": {"PacketTCP": {
                  "IPPacket": {"IPv4": {"IPv4Desc": {"IPAddressDirection": 0, "Address": "10.0.0.0",
                                                     "AddressMask": "255.0.0.0"}}},
                  "IPLayeredPort": {"IPLayeredPortRangeDestination": {"PortMin": 80, "PortMax": 80}}}},
              "ActionEventOnMatch": False}
DEFAULTS = {"ActionEventOnMatch": False, "ActionCount": True, "ActionDrop": False}


def test_circuit_breaker_filters_are_created_read_listed_and_deleted(legacy) -> None:
    handle = legacy.eoi.call(CB, "CbFilterCreate", Filter=WEB_FILTER)["FilterCreationHandle"]
    got = legacy.eoi.call(CB, "CbFilterGet", FilterCreationHandle=handle)["Filter"]
    assert got["FilterName"] == "web" and got["FilterProfile"] == 4
    ports = got["FilterPacket"]["PacketTCP"]["IPLayeredPort"]["IPLayeredPortRangeDestination"]
    assert (ports["PortMin"], ports["PortMax"]) == (80, 80)
    listed = legacy.eoi.call(CB, "CbFilterEnumerate")["Filters"]
    assert [row["FilterCreationHandle"] for row in listed] == [handle]
    legacy.eoi.call(CB, "CbFilterDelete", FilterCreationHandle=handle)
    assert legacy.eoi.call(CB, "CbFilterEnumerate").get("Filters") in (None, [])


def test_a_policy_is_enabled_on_an_interface_and_counts_matches(legacy, legacy_device) -> None:
    from ipaddress import ip_address

    from amtkit.defense.model import FilterDirection, IPProtocol

    handle = legacy.eoi.call(CB, "CbFilterCreate", Filter=WEB_FILTER)["FilterCreationHandle"]
    policy = {"PolicyName": "lab", "PolicyPrecedence": 5, "FilterCreationHandles": [handle],
              "DefaultTXFilter": DEFAULTS, "DefaultRXFilter": DEFAULTS}
    policy_handle = legacy.eoi.call(CB, "CbPolicyCreate", Policy=policy)["PolicyCreationHandle"]
    active = legacy.eoi.call(CB, "CbPolicyEnable", EnablePolicies=[{"HardwareID": 0,
                                                                     "PolicyCreationHandle": policy_handle}])
    assert active["ActivePolicies"] == [{"HardwareID": 0, "PolicyCreationHandle": policy_handle}]
    verdict = legacy_device.control.offer_flow(FilterDirection.RECEIVE, IPProtocol.TCP, src=ip_address("10.9.9.9"),
                                               dst_port=80)
    assert verdict.passed == 0
    statistics = legacy.eoi.call(CB, "CbPolicyGetActiveStatistics", HardwareID=0, ResetStatisticsOnRead=True)
    assert statistics["PolicyCreationHandle"] == policy_handle
    assert statistics["Statistics"] == [{"FilterCreationHandle": handle, "ReadCount": 0, "FilterMatched": True}]
    assert legacy.eoi.call(CB, "CbPolicyGetEnabled")["HwPolicies"][0]["PolicyCreationHandle"] == policy_handle
    legacy.eoi.call(CB, "CbPolicyDisable", HardwareID=0)
    assert legacy.eoi.call(CB, "CbPolicyGetEnabled").get("HwPolicies") in (None, [])


def test_deleting_a_filter_a_policy_uses_is_refused_as_not_permitted(legacy) -> None:
    handle = legacy.eoi.call(CB, "CbFilterCreate", Filter=WEB_FILTER)["FilterCreationHandle"]
    legacy.eoi.call(CB, "CbPolicyCreate", Policy={"PolicyName": "p", "PolicyPrecedence": 1,
                                                  "FilterCreationHandles": [handle], "DefaultTXFilter": DEFAULTS,
                                                  "DefaultRXFilter": DEFAULTS})
    with pytest.raises(exc.AMTReturnError, match="NOT_PERMITTED"):
        legacy.eoi.call(CB, "CbFilterDelete", FilterCreationHandle=handle)


def test_defense_apply_ping_preset_through_circuit_breaker_is_idempotent_and_removable(legacy) -> None:
    first = legacy.defense.ping(manager=["10.0.0.5"])
    assert first.changed and first.active and first.policy_name == "amtkit-ping"
    again = legacy.defense.ping(manager=["10.0.0.5"])
    assert not again.changed
    assert again.round_trips == 3  # the survey only: policies, filters, enabled policies
    shown = legacy.defense.show()
    assert shown.active is not None and shown.active.name == "amtkit:ping"
    assert len(shown.counters) == len(first.filter_ids)
    removed = legacy.defense.remove()
    assert (removed.activations, removed.policies, removed.filters) == (1, 1, len(first.filter_ids))
    assert legacy.defense.state().policies == []


def test_defense_timeouts_have_no_circuit_breaker_form(legacy) -> None:
    with pytest.raises(exc.FeatureUnavailableError, match="no policy timeout"):
        legacy.defense.ping(manager=["10.0.0.5"], timeout=600)
    assert legacy.eoi.round_trips.count == 0


def test_a_filter_with_both_addresses_is_refused_before_writing(legacy) -> None:
    from ipaddress import ip_network

    from amtkit.defense.model import FilterDirection, FilterProfile, IPHeaderFilter, Policy

    both = IPHeaderFilter(direction=FilterDirection.RECEIVE, profile=FilterProfile.PASS,
                          src=ip_network("10.0.0.0/8"), dst=ip_network("192.168.0.0/16"))
    with pytest.raises(exc.FeatureUnavailableError, match="one address"):
        legacy.defense.apply(Policy(name="two", filters=(both,)), force=True)
    assert legacy.eoi.call(CB, "CbFilterEnumerate").get("Filters") in (None, [])


# -- transport-level failures ----------------------------------------------------------------------


def test_wrong_credentials_are_an_authentication_error(legacy_device, connect) -> None:
    client = connect(legacy_device, password="wrong", generation="eoi")
    with pytest.raises(exc.AuthenticationError, match="admin"):
        client.power.status()


def test_legacy_soap_on_amt_9_is_not_detected_with_a_hint(make_device, connect) -> None:
    client = connect(make_device(amt_version="9.0.30"), generation="eoi")
    with pytest.raises(exc.NotDetectedError, match="8.x and older") as caught:
        client.power.status()
    assert "wsman" in (caught.value.hint or "")


def test_an_unreachable_device_is_an_unreachable_error(connect) -> None:
    from types import SimpleNamespace

    from amtsim.server import free_port

    nowhere = SimpleNamespace(host="127.0.0.1", port=free_port(), username="admin", password="x")
    with pytest.raises(exc.UnreachableError, match="refused"):
        connect(nowhere, generation="eoi").power.status()


def test_a_second_set_replaces_the_first_through_circuit_breaker(legacy, legacy_device) -> None:
    from amtkit.defense.cbfilters import load

    first = legacy.defense.ping(manager=["10.0.0.5"])
    second = legacy.defense.apply(load("default"), manager=["10.0.0.5"])
    assert second.changed and second.active and second.replaced_policies == 1
    state = legacy.defense.state()
    assert [p.name for p in state.policies] == ["amtkit:default"]
    assert {f.instance_id for f in state.filters}.isdisjoint(first.filter_ids)
    enabled = legacy.eoi.call(CB, "CbPolicyGetEnabled")["HwPolicies"]
    assert [row["PolicyCreationHandle"] for row in enabled] == [int(second.policy_id.rsplit(" ", 1)[1])]
