"""client.defense against the simulator over loopback: quarantine semantics, idempotency, ownership,
limits, refusals, read-back verification and round trips. The host's traffic is offered through the
simulator's control API and decided by the policy the client applied."""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import ip_address

import pytest

import amtkit
from amtkit import exceptions as exc
from amtkit.codes import ControlMode, ProvisioningState, PTStatus
from amtkit.defense.cbfilters import FilterSet, load, parse_bytes
from amtkit.defense.model import (
    EtherType,
    FilterDirection,
    FilterProfile,
    IPHeaderFilter,
    IPProtocol,
    Packet,
    Policy,
    PortRange,
)
from amtkit.pytest_plugin import AMTDeviceInfo
from amtkit.wsman.names import Cls
from amtsim.backends.defense import defense_of

TX, RX = FilterDirection.TRANSMIT, FilterDirection.RECEIVE
TCP, UDP, ICMP = IPProtocol.TCP, IPProtocol.UDP, IPProtocol.ICMP
MANAGER = "10.0.0.5"
MANAGER_IP = ip_address(MANAGER)
ELSEWHERE = ip_address("198.51.100.9")

COUNTING_SET = b"""<?xml version="1.0" encoding="UTF-8"?>
<filterSet xmlns="urn:amtkit:cbfilters:1" name="counting" precedence="5">
  <defaults><transmit action="drop" count="true"/><receive action="drop" count="true"/></defaults>
  <ipFilter name="web-out" direction="transmit" profile="passWithStatistics" protocol="tcp" dstPorts="80"/>
  <peer name="mgr" role="management" address="10.0.0.5"><allow protocol="tcp" remotePorts="443"/></peer>
  <ethernetFilter name="arp" direction="both" profile="pass" etherType="0x0806"/>
</filterSet>
"""

# Drops HTTPS before the management peer lets it through: locks the manager out.
LOCKOUT_SET = b"""<?xml version="1.0" encoding="UTF-8"?>
<filterSet xmlns="urn:amtkit:cbfilters:1" name="bad" precedence="5">
  <defaults><transmit action="drop"/><receive action="drop"/></defaults>
  <ipFilter name="no-https" direction="transmit" profile="drop" protocol="tcp" dstPorts="443"/>
  <peer name="mgr" role="management" address="10.0.0.5"><allow protocol="tcp" remotePorts="443"/></peer>
  <ethernetFilter name="arp" direction="both" profile="pass" etherType="0x0806"/>
</filterSet>
"""


@pytest.fixture
def amt(amt_device: AMTDeviceInfo) -> Iterator[amtkit.Client]:
    with amtkit.Client(amt_device.host, **amt_device.client_kwargs()) as client:  # type: ignore[arg-type]
        yield client


def passes(device: AMTDeviceInfo, direction: FilterDirection, protocol: int, peer: object = None,
           port: int | None = None, local_port: int | None = None) -> bool:
    """Offer one flow of the host's traffic with ``peer`` (its ``port``, the host's ``local_port``)."""
    if direction is TX:
        result = device.control.offer_flow(TX, protocol, dst=peer, dst_port=port, src_port=local_port)  # type: ignore[arg-type]
    else:
        result = device.control.offer_flow(RX, protocol, src=peer, src_port=port, dst_port=local_port)  # type: ignore[arg-type]
    return result.passed == 1


def arp_passes(device: AMTDeviceInfo) -> bool:
    return device.control.offer_packet(Packet(TX, EtherType.ARP)).passed


def foreign_policy(amt: amtkit.Client, name: str = "console-q", precedence: int = 10, filters: int = 1,
                   activate: bool = True) -> str:
    """A policy another console made: its own names, written with plain WS-Man calls."""
    handles = []
    for n in range(filters):
        created = amt.create(Cls.AMT_IPHeadersFilter, {
            "InstanceID": "0", "Name": f"{name}-{n}", "CreationClassName": Cls.AMT_IPHeadersFilter,
            "SystemName": "Intel(r) AMT", "SystemCreationClassName": "CIM_ComputerSystem", "HdrIPVersion": 4,
            "HdrProtocolID": 6, "HdrDestPortStart": 3000 + n, "HdrDestPortEnd": 3000 + n, "FilterProfile": 4,
            "FilterDirection": 1, "ActionEventOnMatch": False})
        handles.append(int(str(created.selectors["InstanceID"]).rsplit(" ", 1)[-1]))
    policy = amt.create(Cls.AMT_SystemDefensePolicy, {
        "InstanceID": "0", "PolicyName": name, "PolicyPrecedence": precedence, "TxDefaultCount": False,
        "TxDefaultDrop": False, "TxDefaultMatchEvent": False, "RxDefaultCount": False, "RxDefaultDrop": False,
        "RxDefaultMatchEvent": False, **({"FilterCreationHandles": handles} if handles else {})})
    policy_id = str(policy.selectors["InstanceID"])
    if activate:
        from amtkit.defense.wsman import ethernet_port_epr, policy_epr

        amt.create(Cls.AMT_NetworkPortSystemDefensePolicy,
                   {"Antecedent": ethernet_port_epr(0), "Dependent": policy_epr(policy_id)})
    return policy_id


def n_filter_policy(n: int) -> Policy:
    """``n`` IP filters dropping unused inbound ports; everything else passes (keeps the manager)."""
    return Policy(name=f"n{n}", filters=tuple(
        IPHeaderFilter(direction=RX, profile=FilterProfile.DROP, protocol=TCP, dst_ports=PortRange.single(2000 + i))
        for i in range(n)))


# -- quarantine semantics -------------------------------------------------------------------------------


def test_a_strict_quarantine_lets_only_the_managers_flows_through(amt: amtkit.Client,
                                                                  amt_device: AMTDeviceInfo) -> None:
    amt.defense.apply(load("quarantine-strict"), manager=[MANAGER])
    assert passes(amt_device, TX, TCP, MANAGER_IP, 443)
    assert passes(amt_device, RX, TCP, MANAGER_IP, 443)
    assert passes(amt_device, TX, TCP, MANAGER_IP, 50122)
    assert arp_passes(amt_device)
    assert not passes(amt_device, TX, TCP, ELSEWHERE, 443)
    assert not passes(amt_device, TX, TCP, MANAGER_IP, 22)
    assert not passes(amt_device, TX, UDP, ELSEWHERE, 53)
    assert not passes(amt_device, RX, ICMP, ELSEWHERE)


def test_the_default_set_also_keeps_dhcp_and_dns(amt: amtkit.Client, amt_device: AMTDeviceInfo) -> None:
    amt.defense.apply(load("default"), manager=[MANAGER])
    assert passes(amt_device, TX, UDP, None, 67, local_port=68)
    assert passes(amt_device, TX, UDP, ELSEWHERE, 53)
    assert passes(amt_device, RX, UDP, ELSEWHERE, 53)
    assert not passes(amt_device, TX, TCP, ELSEWHERE, 80)


def test_after_removal_everything_passes_again(amt: amtkit.Client, amt_device: AMTDeviceInfo) -> None:
    amt.defense.apply(load("quarantine-strict"), manager=[MANAGER])
    result = amt.defense.remove()
    assert (result.activations, result.policies, result.filters) == (1, 1, 6)
    assert passes(amt_device, TX, TCP, ELSEWHERE, 80)
    assert passes(amt_device, RX, ICMP, ELSEWHERE)
    assert amt.defense.show().active is None


def test_amt_management_ports_stay_reachable_in_quarantine(amt: amtkit.Client, amt_device: AMTDeviceInfo) -> None:
    amt.defense.apply(load("quarantine-strict"), manager=[MANAGER])
    assert passes(amt_device, RX, TCP, ELSEWHERE, 50000, local_port=16993)
    assert amt.defense.show().active is not None  # and the console still manages the device


def test_counters_match_the_traffic_offered(amt: amtkit.Client, amt_device: AMTDeviceInfo) -> None:
    amt.defense.apply(parse_bytes(COUNTING_SET), manager=[f"{MANAGER}:443"])
    for _ in range(5):
        passes(amt_device, TX, TCP, ELSEWHERE, 80)
    for _ in range(3):
        passes(amt_device, TX, UDP, ELSEWHERE, 9999)
    passes(amt_device, TX, TCP, MANAGER_IP, 443)
    status = amt.defense.show()
    counts = {c.name: (c.count, c.matched) for c in status.counters}
    assert counts["amtkit:0:web-out"] == (5, True)
    assert counts["amtkit:1:mgr"] == (0, True)  # a plain pass filter matches but does not count
    assert counts["amtkit:3:arp"] == (0, False)
    assert amt_device.control.counters()["defaults"] == {"transmit": 3}


def test_statistics_can_be_reset_on_reading(amt: amtkit.Client, amt_device: AMTDeviceInfo) -> None:
    amt.defense.apply(parse_bytes(COUNTING_SET), manager=[f"{MANAGER}:443"])
    passes(amt_device, TX, TCP, ELSEWHERE, 80)
    assert amt.defense.show(reset=True).counters[0].count == 1
    assert amt.defense.show().counters[0].count == 0


def test_reapplying_without_timeout_clears_a_timeout_left_from_before(amt: amtkit.Client) -> None:
    amt.defense.apply(load("quarantine-strict"), manager=[MANAGER], timeout=600)
    result = amt.defense.apply(load("quarantine-strict"), manager=[MANAGER], timeout=0)
    assert not result.changed
    assert amt.defense.show().timeout_minutes == 0


def test_a_timeout_lifts_the_quarantine_by_itself(amt: amtkit.Client, amt_device: AMTDeviceInfo) -> None:
    result = amt.defense.apply(load("quarantine-strict"), manager=[MANAGER], timeout=90)
    assert result.timeout_minutes == 2
    assert amt.defense.show().timeout_minutes == 2
    amt_device.control.advance_defense_clock(119)
    assert not passes(amt_device, TX, TCP, ELSEWHERE, 80)
    amt_device.control.advance_defense_clock(1)
    assert passes(amt_device, TX, TCP, ELSEWHERE, 80)
    assert amt.defense.show().active is None


def test_anti_spoofing_can_be_turned_off_for_one_apply(amt: amtkit.Client, amt_device: AMTDeviceInfo) -> None:
    spoofed = Packet.ip(TX, TCP, src=ELSEWHERE, dst=MANAGER_IP, dst_port=443)
    amt.defense.apply(load("quarantine-strict"), manager=[MANAGER])
    assert amt_device.control.offer_packet(spoofed).reason == "anti-spoofing"
    amt.defense.apply(load("quarantine-strict"), manager=[MANAGER], anti_spoofing=False)
    assert amt_device.control.offer_packet(spoofed).passed


# -- idempotency and ownership --------------------------------------------------------------------------


def test_applying_the_same_set_twice_writes_nothing_the_second_time(amt: amtkit.Client) -> None:
    first = amt.defense.apply(load("default"), manager=[MANAGER])
    second = amt.defense.apply(load("default"), manager=[MANAGER])
    assert first.changed and not second.changed
    assert second.round_trips == 4 + 1  # the survey reads and GetTimeout; nothing written
    state = amt.defense.state()
    assert (len(state.policies), len(state.filters)) == (1, 12)
    assert second.policy_id == first.policy_id


def test_a_different_set_replaces_ours(amt: amtkit.Client) -> None:
    amt.defense.apply(load("default"), manager=[MANAGER])
    result = amt.defense.ping(manager=[MANAGER])
    assert result.replaced_policies == 1
    state = amt.defense.state()
    assert [p.name for p in state.policies] == ["amtkit:ping"]
    assert len(state.filters) == len(load("ping").with_manager(MANAGER_IP).filters())


def test_foreign_policies_are_left_alone(amt: amtkit.Client) -> None:
    foreign = foreign_policy(amt, precedence=1, filters=2)
    amt.defense.apply(load("default"), manager=[MANAGER])
    amt.defense.ping(manager=[MANAGER])
    amt.defense.remove()
    state = amt.defense.state()
    assert [(p.instance_id, p.name, p.ports) for p in state.policies] == [(foreign, "console-q", (0,))]
    assert [f.name for f in state.filters] == ["console-q-0", "console-q-1"]


def test_a_foreign_policy_of_higher_precedence_stays_in_force_and_is_reported(amt: amtkit.Client) -> None:
    foreign_policy(amt, precedence=1000)
    result = amt.defense.apply(load("default"), manager=[MANAGER])
    assert (result.active, result.outranked_by) == (False, "console-q")


def test_remove_with_nothing_of_ours_writes_nothing(amt: amtkit.Client) -> None:
    foreign_policy(amt)
    result = amt.defense.remove()
    assert not result.changed
    assert result.round_trips == 4


# -- limits ---------------------------------------------------------------------------------------------


def test_no_room_for_a_ninth_policy_is_refused_before_writing(amt: amtkit.Client) -> None:
    for n in range(8):
        foreign_policy(amt, name=f"other{n}", filters=0, activate=False)
    with pytest.raises(exc.DefenseLimitError) as refused:
        amt.defense.apply(load("default"), manager=[MANAGER])
    assert (refused.value.what, refused.value.limit) == ("policies", 8)
    assert len(amt.defense.state().filters) == 0


def test_no_room_for_the_filters_is_refused_before_writing(amt: amtkit.Client) -> None:
    foreign_policy(amt, filters=62, activate=False)
    foreign_policy(amt, name="more", filters=10, activate=False)
    with pytest.raises(exc.DefenseLimitError) as refused:
        amt.defense.apply(load("default"), manager=[MANAGER])
    assert (refused.value.what, refused.value.limit, refused.value.actual) == ("filters", 80, 84)
    assert len(amt.defense.state().policies) == 2


def test_a_set_larger_than_one_amt_policy_is_refused_offline(amt: amtkit.Client) -> None:
    start = amt.transport.round_trips
    with pytest.raises(exc.DefenseLimitError, match="62"):
        amt.defense.apply(n_filter_policy(63), manager=[MANAGER])
    assert amt.transport.round_trips == start


def test_the_device_itself_refuses_the_81st_filter(amt: amtkit.Client) -> None:
    foreign_policy(amt, filters=62, activate=False)
    foreign_policy(amt, name="more", filters=18, activate=False)
    with pytest.raises(exc.WSManFault) as refused:
        foreign_policy(amt, name="last", filters=1)
    assert refused.value.amt_status == PTStatus.MAX_LIMIT_REACHED


# -- refusals -------------------------------------------------------------------------------------------


def test_client_control_mode_is_said_plainly(amt: amtkit.Client, amt_device: AMTDeviceInfo) -> None:
    amt_device.control.set_provisioning(ProvisioningState.POST, ControlMode.CLIENT)
    with pytest.raises(exc.FeatureUnavailableError, match="Client Control Mode"):
        amt.defense.apply(load("default"), manager=[MANAGER])
    with pytest.raises(exc.FeatureUnavailableError, match="Client Control Mode"):
        amt.defense.show()


def test_a_set_that_locks_the_manager_out_is_refused_with_the_rule_and_flow(amt: amtkit.Client) -> None:
    start = amt.transport.round_trips
    with pytest.raises(exc.LockoutError) as refused:
        amt.defense.apply(parse_bytes(LOCKOUT_SET), manager=[f"{MANAGER}:443"])
    assert refused.value.blocked[0] == (
        "transmit tcp any -> 10.0.0.5:443: blocked by filters[0] "
        "(transmit drop: IPv4 tcp from any to any port 443 [no-https])")
    assert amt.transport.round_trips == start  # refused before anything was sent


def test_forcing_a_refused_set_applies_it_and_the_simulator_agrees_with_the_check(
        amt: amtkit.Client, amt_device: AMTDeviceInfo) -> None:
    result = amt.defense.apply(parse_bytes(LOCKOUT_SET), manager=[f"{MANAGER}:443"], force=True)
    assert result.forced and result.active
    assert not passes(amt_device, TX, TCP, MANAGER_IP, 443)


def test_a_placeholder_manager_is_refused_without_manager(amt: amtkit.Client) -> None:
    with pytest.raises(exc.LockoutError, match="placeholder address 192.0.2.10"):
        amt.defense.apply(load("default"))


# -- read-back verification -----------------------------------------------------------------------------


def test_a_filter_the_device_stores_differently_is_a_mismatch(amt: amtkit.Client,
                                                               amt_device: AMTDeviceInfo) -> None:
    def firmware(class_name: str, props: dict[str, object]) -> dict[str, object]:
        if class_name == Cls.AMT_IPHeadersFilter and props.get("HdrDestPortStart") == 53:
            return {**props, "HdrProtocolID": 17}  # TCP DNS stored as UDP
        return props

    defense_of(amt_device.device).stored_as = firmware
    with pytest.raises(exc.DefenseMismatchError) as mismatch:
        amt.defense.apply(load("default"), manager=[MANAGER])
    assert len(mismatch.value.differences) == 1
    assert "sent transmit pass: IPv4 tcp from any to any port 53" in mismatch.value.differences[0]


def test_a_policy_the_device_stores_differently_is_a_mismatch(amt: amtkit.Client,
                                                               amt_device: AMTDeviceInfo) -> None:
    def firmware(class_name: str, props: dict[str, object]) -> dict[str, object]:
        return {**props, "RxDefaultDrop": False} if class_name == Cls.AMT_SystemDefensePolicy else props

    defense_of(amt_device.device).stored_as = firmware
    with pytest.raises(exc.DefenseMismatchError, match="receive default"):
        amt.defense.apply(load("default"), manager=[MANAGER])


# -- round trips ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 20, 62])
def test_applying_n_filters_costs_n_creates_policy_activation_and_the_reads(amt: amtkit.Client, n: int) -> None:
    amt.defense.state()  # first contact: the digest challenge is paid here
    result = amt.defense.apply(n_filter_policy(n), manager=[MANAGER])
    survey = 3  # policies, IP filters, 802.1 filters: with nothing of amtkit's there, no activation to look at
    verification = 3  # policies, IP filters (the only class used), activations
    assert result.round_trips == n + 1 + 1 + survey + verification


def test_replacing_amtkits_set_also_reads_the_activations_first(amt: amtkit.Client) -> None:
    amt.defense.apply(n_filter_policy(2), manager=[MANAGER])
    result = amt.defense.apply(n_filter_policy(3), manager=[MANAGER])
    survey = 4  # policies, the activations (amtkit's policy is there), IP filters, 802.1 filters
    writes = 3 + 1 + 1  # filters, policy, activation
    verification = 3  # policies, IP filters, activations
    removal = 1 + 1 + 2  # the previous activation, policy and filters
    assert result.changed and result.replaced_policies == 1
    assert result.round_trips == survey + writes + verification + removal


def test_the_filter_set_object_is_what_apply_takes(amt: amtkit.Client) -> None:
    fs = load("default")
    assert isinstance(fs, FilterSet)
    assert amt.defense.plan(fs, manager=MANAGER).safe
