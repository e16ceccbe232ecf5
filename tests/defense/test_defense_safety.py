"""System Defense changes that never leave a machine unfiltered or unreachable.

* Re-applying makes before it breaks: the new set is written, activated and read back beside the
  previous one, and only then is the previous one removed. A failure injected at every single
  request of an apply leaves the machine filtered by the previous set or by the new one, never by
  neither. Without room for both sets (AMT holds 8 policies and 80 filters) the apply is refused
  unless forced; forced, it replaces in place and puts the previous set back when a write fails.
* The lockout check checks the same flows whether the manager is given (``--manager``) or only
  named in the file.
* One precedence rule decides which activated policy is in force, for the client and the simulator.
"""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import ip_address

import pytest

import amtkit
from amtkit import exceptions as exc
from amtkit.defense.cbfilters import parse_bytes
from amtkit.defense.model import EtherType, FilterDirection, IPProtocol, Packet, Policy, policy_in_force
from amtkit.defense.plan import prepare
from amtkit.pytest_plugin import AMTDeviceInfo
from amtsim.backends.defense import DefenseBackend, defense_of

TX, RX = FilterDirection.TRANSMIT, FilterDirection.RECEIVE
MANAGER = "10.0.0.5"

FIRST_SET = b"""<?xml version="1.0" encoding="UTF-8"?>
<filterSet xmlns="urn:amtkit:cbfilters:1" name="first" precedence="5">
  <defaults><transmit action="drop"/><receive action="drop"/></defaults>
  <peer name="mgr" role="management" address="10.0.0.5"><allow protocol="tcp" remotePorts="443"/></peer>
  <ethernetFilter name="arp" direction="both" profile="pass" etherType="0x0806"/>
</filterSet>
"""
# Also lets DNS out: tells the two sets apart on the wire of the host.
SECOND_SET = FIRST_SET.replace(b'name="first"', b'name="second"').replace(
    b'<ethernetFilter', b'<peer name="dns" address="0.0.0.0/0"><allow protocol="udp" remotePorts="53"/></peer>\n'
                        b'  <ethernetFilter')
# Names its manager in the file, drops everything by default and has no ARP filter: the host cannot
# resolve its gateway, so the manager cannot reach it, whichever way the manager is named.
NO_ARP_SET = b"""<?xml version="1.0" encoding="UTF-8"?>
<filterSet xmlns="urn:amtkit:cbfilters:1" name="no-arp" precedence="5">
  <defaults><transmit action="drop"/><receive action="drop"/></defaults>
  <peer name="mgr" role="management" address="10.0.0.5"><allow protocol="tcp" remotePorts="443"/></peer>
</filterSet>
"""


@pytest.fixture
def device(make_device) -> AMTDeviceInfo:  # type: ignore[no-untyped-def]
    return make_device()


@pytest.fixture
def amt(device: AMTDeviceInfo) -> Iterator[amtkit.Client]:
    with amtkit.Client(device.host, port=device.port, username=device.username, password=device.password,
                       retries=0, timeout=5.0) as client:
        yield client


def backend(device: AMTDeviceInfo) -> DefenseBackend:
    return defense_of(device.device)  # type: ignore[arg-type]


def in_force(device: AMTDeviceInfo) -> str | None:
    """The PolicyName System Defense enforces on the wired port now (None: the host is unfiltered)."""
    policy = backend(device).active_policy(0)
    return policy.name if policy is not None else None


def dns_passes(device: AMTDeviceInfo) -> bool:
    return device.control.offer_flow(TX, IPProtocol.UDP, dst=ip_address("192.0.2.53"), dst_port=53).passed == 1


def requests_of(device: AMTDeviceInfo) -> int:
    return device.control.stats()["wsman_requests"]


def add_foreign(device: AMTDeviceInfo, policies: int = 0, filters: int = 0) -> None:
    """Objects another console left on the device, not activated (they filter nothing)."""
    sim = backend(device)
    for n in range(filters):
        sim.create_filter("AMT_IPHeadersFilter", {
            "Name": f"other-{n}", "HdrIPVersion": 4, "HdrProtocolID": 6, "HdrDestPortStart": 3000 + n,
            "HdrDestPortEnd": 3000 + n, "FilterProfile": 4, "FilterDirection": 1, "ActionEventOnMatch": False})
    for n in range(policies):
        sim.create_policy({"PolicyName": f"other-{n}", "PolicyPrecedence": 1, **{
            f"{side}Default{what}": False for side in ("Tx", "Rx") for what in ("Drop", "Count", "MatchEvent")}})


# -- make before break --------------------------------------------------------------------------------


def test_reapplying_writes_and_activates_the_new_set_before_removing_the_old(amt, device) -> None:  # type: ignore[no-untyped-def]
    amt.defense.apply(parse_bytes(FIRST_SET))
    seen: list[str | None] = []
    sim = backend(device)
    original_delete = sim.delete_policy

    def watching_delete(handle: int) -> None:
        seen.append(in_force(device))  # what is in force when the old policy goes
        original_delete(handle)

    sim.delete_policy = watching_delete  # type: ignore[method-assign]
    result = amt.defense.apply(parse_bytes(SECOND_SET))
    assert result.changed and result.active and result.forced == ()
    assert seen == ["amtkit:second"]
    assert [p.name for p in sim.policies.values()] == ["amtkit:second"]
    assert dns_passes(device)


def _requests_of_a_reapply(make_device) -> int:  # type: ignore[no-untyped-def]
    device = make_device()
    with amtkit.Client(device.host, port=device.port, username=device.username, password=device.password) as amt:
        amt.defense.apply(parse_bytes(FIRST_SET))
        before = requests_of(device)
        amt.defense.apply(parse_bytes(SECOND_SET))
        return requests_of(device) - before


def test_a_failure_at_any_step_of_a_reapply_leaves_a_set_in_force(make_device) -> None:  # type: ignore[no-untyped-def]
    steps = _requests_of_a_reapply(make_device)
    assert steps >= 12  # reads, filter/policy/activation creates, read-back, deletes of the old set
    outcomes = []
    for step in range(1, steps + 1):
        device = make_device()
        with amtkit.Client(device.host, port=device.port, username=device.username, password=device.password,
                           retries=0) as amt:
            amt.defense.apply(parse_bytes(FIRST_SET))
            device.control.inject(fail_request_number=step)
            try:
                amt.defense.apply(parse_bytes(SECOND_SET))
                outcomes.append("applied")
            except exc.AMTError:
                outcomes.append("failed")
            assert in_force(device) in ("amtkit:first", "amtkit:second"), f"step {step}: unfiltered"
            if in_force(device) == "amtkit:first":
                assert not dns_passes(device), f"step {step}: the first set is in force only in name"
            device.control.clear_faults()
            amt.defense.apply(parse_bytes(SECOND_SET))  # a retry completes the change and cleans up
            assert [p.name for p in backend(device).policies.values()] == ["amtkit:second"], f"step {step}"
            assert dns_passes(device)
    assert "failed" in outcomes


def test_a_device_that_breaks_down_mid_reapply_keeps_the_previous_set(amt, device) -> None:  # type: ignore[no-untyped-def]
    amt.defense.apply(parse_bytes(FIRST_SET))
    device.control.inject(fail_request_number=6, fail_following=True)  # after the survey and two creates
    with pytest.raises(exc.AMTError):
        amt.defense.apply(parse_bytes(SECOND_SET))
    assert in_force(device) == "amtkit:first"
    assert not dns_passes(device)


def test_without_room_for_both_sets_the_apply_is_refused_and_nothing_written(amt, device) -> None:  # type: ignore[no-untyped-def]
    amt.defense.apply(parse_bytes(FIRST_SET))
    add_foreign(device, policies=7)  # 8 policies: AMT's limit
    before = len(backend(device).filters)
    with pytest.raises(exc.DefenseLimitError) as refused:
        amt.defense.apply(parse_bytes(SECOND_SET))
    assert "make before break" in str(refused.value) and "--force" in refused.value.hint
    assert (refused.value.limit, refused.value.actual) == (8, 9)
    assert in_force(device) == "amtkit:first" and len(backend(device).filters) == before


def test_forced_without_room_the_set_is_replaced_in_place_and_says_so(amt, device) -> None:  # type: ignore[no-untyped-def]
    amt.defense.apply(parse_bytes(FIRST_SET))
    second = len(parse_bytes(SECOND_SET).to_policy().filters)
    add_foreign(device, filters=80 - second)  # room for the second set, but not beside the first
    result = amt.defense.apply(parse_bytes(SECOND_SET), force=True)
    assert result.active and any("replaced in place" in line for line in result.forced)
    assert in_force(device) == "amtkit:second" and dns_passes(device)


def test_a_failure_at_any_step_of_an_in_place_replacement_puts_the_previous_set_back(make_device) -> None:  # type: ignore[no-untyped-def]
    put_back = 0
    for step in range(1, 40):
        device = make_device()
        with amtkit.Client(device.host, port=device.port, username=device.username, password=device.password,
                           retries=0) as amt:
            amt.defense.apply(parse_bytes(FIRST_SET))
            add_foreign(device, policies=7)
            device.control.inject(fail_request_number=step)
            try:
                amt.defense.apply(parse_bytes(SECOND_SET), force=True)
            except exc.AMTError as error:
                put_back += "was put back" in error.hint
                assert in_force(device) == "amtkit:first", f"step {step}: {error}"
                assert not dns_passes(device)
            else:
                assert in_force(device) == "amtkit:second"
                if device.device.faults.fail_request_number:  # the apply needed fewer requests: all covered
                    assert put_back >= 5
                    return
    pytest.fail("an in-place replacement took more than 40 requests")


def test_when_even_putting_back_fails_the_error_says_the_host_is_unfiltered(amt, device) -> None:  # type: ignore[no-untyped-def]
    amt.defense.apply(parse_bytes(FIRST_SET))
    add_foreign(device, policies=7)
    state_reads = 4
    device.control.inject(fail_request_number=state_reads + 4, fail_following=True)  # after removing the old set
    with pytest.raises(exc.AMTError) as failed:
        amt.defense.apply(parse_bytes(SECOND_SET), force=True)
    assert "no amtkit filter now" in failed.value.hint
    assert in_force(device) is None


# -- the lockout check, whichever way the manager is named ---------------------------------------------


def test_a_set_dropping_arp_is_refused_with_the_manager_named_only_in_the_file() -> None:
    plan = prepare(parse_bytes(NO_ARP_SET))
    assert not plan.safe
    assert "transmit EtherType 0x0806 (ARP): blocked by default transmit action drop" in plan.refusal()
    assert [str(m) for m in plan.managers] == ["10.0.0.5:443"]


def test_the_manager_in_the_file_and_on_the_command_line_check_the_same_flows() -> None:
    named = prepare(parse_bytes(NO_ARP_SET))
    given = prepare(parse_bytes(NO_ARP_SET), [f"{MANAGER}:443"])
    assert set(named.flows) == set(given.flows)
    assert named.refusal() == given.refusal()
    assert Packet(TX, EtherType.ARP) in named.flows and Packet(RX, EtherType.ARP) in named.flows


def test_apply_refuses_the_arp_dropping_set_without_manager_and_writes_nothing(amt, device) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(exc.LockoutError) as refused:
        amt.defense.apply(parse_bytes(NO_ARP_SET))
    assert any("ARP" in line for line in refused.value.blocked)
    assert backend(device).policies == {}


# -- one precedence rule ------------------------------------------------------------------------------


def test_the_highest_precedence_wins_and_the_earlier_activation_breaks_a_tie() -> None:
    activated = [("a", 5), ("b", 9), ("c", 9), ("d", 1)]
    assert policy_in_force(activated, lambda p: p[1]) == ("b", 9)
    assert policy_in_force([], lambda p: 0) is None


def test_client_and_simulator_agree_on_the_policy_in_force_on_a_tie(amt, device) -> None:  # type: ignore[no-untyped-def]
    # Created first but activated second: a rule ordering by creation would pick it.
    early = amt.defense.apply(Policy(name="early", precedence=3), force=True).policy_id
    sim = backend(device)
    late_handle = sim.create_policy({"PolicyName": "other", "PolicyPrecedence": 3, **{
        f"{side}Default{what}": False for side in ("Tx", "Rx") for what in ("Drop", "Count", "MatchEvent")}}).handle
    early_handle = int(early.rsplit(" ", 1)[-1])
    sim.deactivate(0, early_handle)
    sim.activate(0, late_handle)
    sim.activate(0, early_handle)
    assert in_force(device) == "other"
    assert amt.defense.show().active.name == "other"  # type: ignore[union-attr]
