"""The simulator's System Defense: AMT's objects and limits, and a host network that obeys the filters.

Backend rules are tested directly (no I/O); the wire mapping with requests other consoles send.
End-to-end behaviour with the client is in test_defense_end_to_end.py.
"""

from __future__ import annotations

from ipaddress import ip_address, ip_network

import pytest

from amtkit.codes import ControlMode, PTStatus
from amtkit.defense import wsman
from amtkit.defense.engine import compile_policy
from amtkit.defense.model import (
    DefaultAction,
    EthernetFilter,
    EtherType,
    Filter,
    FilterDirection,
    FilterProfile,
    IPHeaderFilter,
    IPProtocol,
    Packet,
    Policy,
    PortRange,
)
from amtkit.wsman.responses import parse_response
from amtsim import DeviceConfig
from amtsim.backends.defense import DefenseBackend, DefenseRefused, StoredPolicy
from amtsim.device import SimulatedDevice
from amtsim.dispatch import dispatch_wsman

TX, RX = FilterDirection.TRANSMIT, FilterDirection.RECEIVE
HOST = ip_address("10.0.0.7")
MANAGER = ip_address("10.0.0.5")
OTHER = ip_address("198.51.100.9")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def backend(clock: Clock) -> DefenseBackend:
    return DefenseBackend(host_addresses=(HOST,), clock=clock)


def to_manager(port: int = 443) -> IPHeaderFilter:
    return IPHeaderFilter(direction=TX, profile=FilterProfile.PASS_WITH_STATISTICS, protocol=IPProtocol.TCP,
                          dst=ip_network(f"{MANAGER}/32"), dst_ports=PortRange.single(port), name="mgr")


def add_policy(backend: DefenseBackend, filters: list[Filter], *, name: str = "amtkit:test", precedence: int = 10,
               drop: bool = True, count: bool = True, event: bool = False, timeout: int | None = None,
               anti_spoofing: bool = False) -> StoredPolicy:
    handles = []
    for index, f in enumerate(filters):
        class_name, props = wsman.filter_properties(f, index)
        handles.append(backend.create_filter(class_name, props).handle)
    default = DefaultAction(drop=drop, count=count, event=event)
    policy = Policy(name=name, precedence=precedence, transmit_default=default, receive_default=default,
                    anti_spoofing=anti_spoofing)
    props = wsman.policy_properties(policy, handles)
    props["PolicyName"] = name
    stored = backend.create_policy(props)
    if timeout is not None:
        backend.set_timeout(stored.handle, timeout)
    return stored


def out(dst: object = MANAGER, port: int | None = 443, protocol: int = IPProtocol.TCP, src: object = None) -> Packet:
    return Packet.ip(TX, protocol, src=src, dst=dst, dst_port=port)  # type: ignore[arg-type]


# -- objects, identities, limits -----------------------------------------------------------------------


def test_filters_get_amt_style_handles_shared_by_both_filter_classes(backend: DefenseBackend) -> None:
    ip_cls, ip_props = wsman.filter_properties(to_manager(), 0)
    eth_cls, eth_props = wsman.filter_properties(EthernetFilter(direction=TX, profile=FilterProfile.PASS,
                                                                ethertype=EtherType.ARP), 1)
    first, second = backend.create_filter(ip_cls, ip_props), backend.create_filter(eth_cls, eth_props)
    assert (first.instance_id, second.instance_id) == ("Intel(r) AMT:Handle: 1", "Intel(r) AMT:Handle: 2")


def test_the_81st_filter_is_refused_with_max_limit_reached(backend: DefenseBackend) -> None:
    class_name, props = wsman.filter_properties(to_manager(), 0)
    for _ in range(80):
        backend.create_filter(class_name, props)
    with pytest.raises(DefenseRefused) as refused:
        backend.create_filter(class_name, props)
    assert refused.value.status == PTStatus.MAX_LIMIT_REACHED


def test_the_ninth_policy_is_refused_with_max_limit_reached(backend: DefenseBackend) -> None:
    for n in range(8):
        add_policy(backend, [], name=f"p{n}")
    with pytest.raises(DefenseRefused) as refused:
        add_policy(backend, [], name="p9")
    assert refused.value.status == PTStatus.MAX_LIMIT_REACHED


def test_a_policy_of_more_than_62_filters_is_refused(backend: DefenseBackend) -> None:
    class_name, props = wsman.filter_properties(to_manager(), 0)
    handles = [backend.create_filter(class_name, props).handle for _ in range(63)]
    policy_props = wsman.policy_properties(Policy(name="big"), handles)
    with pytest.raises(DefenseRefused) as refused:
        backend.create_policy(policy_props)
    assert refused.value.status == PTStatus.MAX_LIMIT_REACHED


def test_a_policy_name_longer_than_16_characters_is_refused(backend: DefenseBackend) -> None:
    props = wsman.policy_properties(Policy(name="x"), [])
    props["PolicyName"] = "seventeen-chars!!"
    with pytest.raises(DefenseRefused, match="PolicyName"):
        backend.create_policy(props)


def test_a_policy_naming_an_unknown_filter_is_refused(backend: DefenseBackend) -> None:
    with pytest.raises(DefenseRefused) as refused:
        backend.create_policy(wsman.policy_properties(Policy(name="x"), [42]))
    assert refused.value.status == PTStatus.INVALID_HANDLE


def test_a_filter_in_use_by_a_policy_cannot_be_deleted(backend: DefenseBackend) -> None:
    policy = add_policy(backend, [to_manager()])
    with pytest.raises(DefenseRefused):
        backend.delete_filter(policy.filter_handles[0])


def test_deleting_a_policy_deactivates_it(backend: DefenseBackend) -> None:
    policy = add_policy(backend, [])
    backend.activate(0, policy.handle)
    backend.delete_policy(policy.handle)
    assert backend.active_policy(0) is None


# -- which policy is in force ---------------------------------------------------------------------------


def test_the_activated_policy_with_the_highest_precedence_is_in_force(backend: DefenseBackend) -> None:
    low, high = add_policy(backend, [], name="low", precedence=1), add_policy(backend, [], name="high", precedence=9)
    backend.activate(0, low.handle)
    backend.activate(0, high.handle)
    assert backend.active_policy(0) is high
    backend.deactivate(0, high.handle)
    assert backend.active_policy(0) is low


def test_activation_is_per_port(backend: DefenseBackend) -> None:
    policy = add_policy(backend, [])
    backend.activate(1, policy.handle)
    assert backend.active_policy(0) is None
    assert backend.active_policy(1) is policy


def test_activating_the_same_policy_twice_on_a_port_is_a_duplicate(backend: DefenseBackend) -> None:
    policy = add_policy(backend, [])
    backend.activate(0, policy.handle)
    with pytest.raises(DefenseRefused) as refused:
        backend.activate(0, policy.handle)
    assert refused.value.status == PTStatus.DUPLICATE


def test_a_policy_timeout_lifts_the_policy_and_logs_it(backend: DefenseBackend) -> None:
    policy = add_policy(backend, [], timeout=2)
    backend.activate(0, policy.handle)
    backend.advance(119)
    assert backend.active_policy(0) is policy
    backend.advance(1)
    assert backend.active_policy(0) is None
    assert backend.events[-1].kind == "timeout"


def test_set_timeout_restarts_the_clock(backend: DefenseBackend) -> None:
    policy = add_policy(backend, [], timeout=1)
    backend.activate(0, policy.handle)
    backend.advance(50)
    backend.set_timeout(policy.handle, 1)
    backend.advance(50)
    assert backend.active_policy(0) is policy


# -- the host's traffic ---------------------------------------------------------------------------------


def test_without_a_policy_everything_passes(backend: DefenseBackend) -> None:
    verdict = backend.offer(out(OTHER, 25))
    assert (verdict.passed, verdict.reason) == (True, "no-policy")


def test_the_active_policy_decides_with_the_engine_the_lockout_check_uses(backend: DefenseBackend) -> None:
    policy = add_policy(backend, [to_manager()])
    backend.activate(0, policy.handle)
    engine = compile_policy(Policy(name="same", filters=(to_manager(),),
                                   transmit_default=DefaultAction(drop=True, count=True),
                                   receive_default=DefaultAction(drop=True, count=True)), (HOST,))
    for packet in (out(), out(OTHER), out(port=22), Packet(TX, EtherType.ARP)):
        assert backend.offer(packet).passed == engine.evaluate(packet).passes


@pytest.mark.parametrize(("direction", "protocol", "port"), [
    (RX, IPProtocol.TCP, 16992), (RX, IPProtocol.TCP, 16993), (RX, IPProtocol.TCP, 16994),
    (RX, IPProtocol.TCP, 16995), (RX, IPProtocol.UDP, 623), (RX, IPProtocol.UDP, 664),
])
def test_amt_management_traffic_is_never_filtered(backend: DefenseBackend, direction: FilterDirection,
                                                   protocol: int, port: int) -> None:
    policy = add_policy(backend, [])  # drop everything
    backend.activate(0, policy.handle)
    verdict = backend.offer(Packet.ip(direction, protocol, src=OTHER, dst_port=port))
    assert (verdict.passed, verdict.reason) == (True, "management")
    reply = backend.offer(Packet.ip(TX, protocol, src_port=port, dst=OTHER))
    assert reply.reason == "management"


def test_anti_spoofing_drops_packets_sent_from_a_foreign_address(backend: DefenseBackend) -> None:
    policy = add_policy(backend, [to_manager()], anti_spoofing=True)
    backend.activate(0, policy.handle)
    assert backend.offer(out(src=HOST)).passed
    verdict = backend.offer(out(src=OTHER))
    assert (verdict.passed, verdict.reason) == (False, "anti-spoofing")


def test_a_rate_limit_filter_passes_its_packets_per_second_then_drops(backend: DefenseBackend, clock: Clock) -> None:
    limited = IPHeaderFilter(direction=TX, profile=FilterProfile.RATE_LIMIT, rate_limit=3, protocol=IPProtocol.UDP)
    policy = add_policy(backend, [limited])
    backend.activate(0, policy.handle)
    assert backend.offer_flow(out(OTHER, 53, IPProtocol.UDP), packets=5).passed == 3
    clock.now += 1
    assert backend.offer_flow(out(OTHER, 53, IPProtocol.UDP), packets=5).passed == 3


def test_counters_follow_the_traffic_and_statistics_snapshot_them(backend: DefenseBackend) -> None:
    policy = add_policy(backend, [to_manager()])
    backend.activate(0, policy.handle)
    backend.offer_flow(out(), packets=4)
    backend.offer_flow(out(OTHER), packets=3)
    assert backend.counters(0)["counted"] == {policy.filter_handles[0]: 4}
    assert backend.counters(0)["defaults"] == {"transmit": 3}
    assert backend.statistics(0) == [(policy.handle, policy.filter_handles[0], 0, False)]
    backend.update_statistics(policy.handle, 0, reset=True)
    assert backend.statistics(0) == [(policy.handle, policy.filter_handles[0], 4, True)]
    assert backend.counters(0)["counted"] == {}


def test_a_filter_event_is_logged_on_every_match(backend: DefenseBackend) -> None:
    watched = IPHeaderFilter(direction=TX, profile=FilterProfile.DROP, protocol=IPProtocol.TCP,
                             dst_ports=PortRange.single(445), event_on_match=True)
    policy = add_policy(backend, [watched], drop=False)
    backend.activate(0, policy.handle)
    backend.offer_flow(out(OTHER, 445), packets=2)
    assert [e.kind for e in backend.events if e.kind == "match"] == ["match", "match"]


def test_a_default_event_is_logged_once_until_statistics_are_read(backend: DefenseBackend) -> None:
    policy = add_policy(backend, [], event=True)
    backend.activate(0, policy.handle)
    backend.offer_flow(out(OTHER), packets=3)
    backend.update_statistics(policy.handle, 0, reset=False)
    backend.offer(out(OTHER))
    assert [e.kind for e in backend.events if e.kind == "default"] == ["default", "default"]


# -- the wire, with what another console sends (vendored in tests/data/amt-wire) ----------------------


def test_meshcommander_style_requests_create_activate_and_deactivate(wire) -> None:
    device = SimulatedDevice(DeviceConfig())

    def replay(name: str) -> bytes:
        return dispatch_wsman(device, wire.read(name)).body

    for name in ("AMT_IPHeadersFilter.Create.request.xml", "AMT_Hdr8021Filter.Create.request.xml",
                 "AMT_SystemDefensePolicy.Create.request.xml", "AMT_SystemDefensePolicy.Create.request.xml"):
        assert parse_response(replay(name)).fault is None, name
    # The activation fixture names policy handle 2: the second policy just created.
    assert parse_response(replay("AMT_NetworkPortSystemDefensePolicy.Create.request.xml")).fault is None
    backend = device.extensions["defense"]
    assert isinstance(backend, DefenseBackend)
    assert backend.active_policy(0) is backend.policies[2]
    assert parse_response(replay("AMT_NetworkPortSystemDefensePolicy.Delete.request.xml")).fault is None
    assert backend.active_policy(0) is None


def test_system_defense_is_refused_in_client_control_mode(wire) -> None:
    device = SimulatedDevice(DeviceConfig(control_mode=ControlMode.CLIENT))
    fault = parse_response(dispatch_wsman(device, wire.read("AMT_IPHeadersFilter.Create.request.xml")).body).fault
    assert fault is not None
    assert (fault.subcode, fault.amt_status) == ("InternalError", PTStatus.INVALID_PT_MODE)
