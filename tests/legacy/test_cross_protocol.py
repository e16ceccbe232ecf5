"""One device, two protocols: what is changed through legacy SOAP is what WS-Man reads, and back."""

from __future__ import annotations

from amtkit.codes import PowerState, SystemPowerState
from amtkit.defense.model import FilterDirection, FilterProfile, IPHeaderFilter, IPProtocol, PortRange
from amtkit.eoi import names
from amtkit.wsman.names import Cls

CB = names.CIRCUIT_BREAKER
DEFAULTS = {"ActionEventOnMatch": False, "ActionCount": False, "ActionDrop": True}


def test_power_off_through_soap_is_seen_through_wsman(legacy, wsman_view) -> None:
    legacy.power.off()
    assert wsman_view.power.state() is PowerState.OFF_SOFT
    assert wsman_view.power.status().available_names == ["on"]


def test_power_off_through_wsman_is_seen_through_soap_as_asf_s5(legacy, wsman_view) -> None:
    wsman_view.power.off()
    assert legacy.power_legacy.system_power_state() is SystemPowerState.S5_SOFT_OFF
    legacy.power.on()
    assert wsman_view.power.state() is PowerState.ON


def test_a_circuit_breaker_filter_is_a_system_defense_filter(legacy, wsman_view) -> None:
    cb_filter = {"FilterName": "dns", "FilterDirection": 0, "FilterProfile": 1, "FilterProfileData": 0,
                 "FilterPacket": {"PacketUDP": {
                     "IPPacket": {"IPv4": {"IPv4Desc": {"IPAddressDirection": 1, "Address": "192.168.1.53",
                                                        "AddressMask": "255.255.255.255"}}},
                     "IPLayeredPort": {"IPLayeredPortRangeDestination": {"PortMin": 53, "PortMax": 53}}}},
                 "ActionEventOnMatch": True}
    handle = legacy.eoi.call(CB, "CbFilterCreate", Filter=cb_filter)["FilterCreationHandle"]
    [seen] = wsman_view.enumerate(Cls.AMT_IPHeadersFilter)
    assert seen["Name"] == "dns"
    assert seen["InstanceID"].endswith(f" {handle}")
    assert (seen["HdrIPVersion"], seen["HdrProtocolID"], seen["FilterDirection"], seen["FilterProfile"]) == (4, 17, 0, 1)
    assert (seen["HdrDestAddress"], seen["HdrDestMask"]) == ("c0a80135", "ffffffff")
    assert (seen["HdrDestPortStart"], seen["HdrDestPortEnd"]) == (53, 53)
    assert seen["ActionEventOnMatch"] is True


def test_a_system_defense_filter_is_read_through_circuit_breaker(legacy, wsman_view) -> None:
    from amtkit.defense.wsman import filter_properties

    https = IPHeaderFilter(direction=FilterDirection.RECEIVE, profile=FilterProfile.PASS, protocol=IPProtocol.TCP,
                           dst_ports=PortRange(443, 443), name="https")
    class_name, properties = filter_properties(https, 0)
    wsman_view.create(class_name, properties)
    [row] = legacy.eoi.call(CB, "CbFilterEnumerate")["Filters"]
    packet = row["Filter"]["FilterPacket"]["PacketTCP"]
    assert packet["IPLayeredPort"]["IPLayeredPortRangeDestination"] == {"PortMin": 443, "PortMax": 443}
    assert row["Filter"]["FilterDirection"] == 1 and row["Filter"]["FilterProfile"] == 3


def test_a_policy_enabled_through_circuit_breaker_is_the_active_system_defense_policy(legacy, wsman_view) -> None:
    policy = {"PolicyName": "quarantine", "PolicyPrecedence": 10, "DefaultTXFilter": DEFAULTS,
              "DefaultRXFilter": DEFAULTS}
    handle = legacy.eoi.call(CB, "CbPolicyCreate", Policy=policy)["PolicyCreationHandle"]
    legacy.eoi.call(CB, "CbPolicyEnable", EnablePolicies=[{"HardwareID": 0, "PolicyCreationHandle": handle}])
    state = wsman_view.defense.state()
    active = state.active_policy(0)
    assert active is not None and active.name == "quarantine"
    assert active.model().transmit_default.drop is True


def test_defense_apply_through_circuit_breaker_is_what_wsman_defense_shows(legacy, wsman_view) -> None:
    applied = legacy.defense.ping(manager=["10.0.0.5"])
    shown = wsman_view.defense.show()
    assert shown.active is not None and shown.active.name == "amtkit:ping"
    assert len(shown.counters) == len(applied.filter_ids)
    # and WS-Man's apply of the same set finds it already there: nothing is written
    again = wsman_view.defense.ping(manager=["10.0.0.5"])
    assert not again.changed
