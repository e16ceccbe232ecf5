"""``client.power`` against simulated devices: status, actions, waiting, and AMT's refusals."""

from __future__ import annotations

import time

import pytest

from amtkit import exceptions as exc
from amtkit.codes import PowerAction, PowerState
from amtsim import Timing


def test_status_reports_on_and_the_actions_offered(amt_device, connect) -> None:
    status = connect(amt_device).power.status()
    assert status.state is PowerState.ON
    assert {"off", "cycle", "reset", "sleep", "hibernate"} <= set(status.available_names)
    assert "on" not in status.available_names
    assert status.to_dict()["state"] == "on"


def test_off_device_offers_only_power_on(make_device, connect) -> None:
    device = make_device(power_state=PowerState.OFF_SOFT)
    status = connect(device).power.status()
    assert status.state is PowerState.OFF_SOFT
    assert status.available == (PowerAction.ON,) == (2,)  # DSP1027: only Power On from Off - Soft


def test_off_then_on_reaches_each_state(amt_device, connect) -> None:
    power = connect(amt_device).power
    power.off()
    assert power.wait_for(PowerState.OFF_SOFT, timeout=2, interval=0.05) is PowerState.OFF_SOFT
    power.on()
    assert power.wait_for(PowerState.ON, timeout=2, interval=0.05) is PowerState.ON
    assert amt_device.control.power_history() == [8, 2]  # DSP1027 Off - Soft, then On


def test_actions_are_accepted_by_name_and_by_raw_code(amt_device, connect) -> None:
    power = connect(amt_device).power
    power.request("nmi")
    power.request(8)
    assert amt_device.control.power_history() == [11, 8]  # DSP1027 Diagnostic Interrupt (NMI), Off - Soft


def test_unknown_action_name_is_a_usage_error_listing_the_valid_names(amt_device, connect) -> None:
    with pytest.raises(exc.UsageError) as caught:
        connect(amt_device).power.request("explode")
    assert "cycle" in str(caught.value)
    assert caught.value.category == "usage"


def test_a_reported_power_state_is_refused_as_a_request(amt_device, connect) -> None:
    with pytest.raises(exc.UsageError, match="PowerAction"):
        connect(amt_device).power.request(PowerState.POWER_CYCLE_OFF_SOFT)
    assert amt_device.control.power_history() == []


def test_cycle_while_off_is_not_supported_and_names_what_is(make_device, connect) -> None:
    device = make_device(power_state=PowerState.OFF_SOFT)
    with pytest.raises(exc.PowerActionNotSupported) as caught:
        connect(device).power.cycle()
    assert caught.value.valid == ["on"]
    assert "valid now: on" in caught.value.hint
    assert device.control.power_history() == []


def test_cycle_while_off_sent_unchecked_is_refused_by_the_device(make_device, connect) -> None:
    device = make_device(power_state=PowerState.OFF_SOFT)
    with pytest.raises(exc.PowerActionNotSupported):
        connect(device).power.request("cycle", check_offered=False)
    assert device.control.power_history() == []


def test_off_then_on_back_to_back_both_succeed_the_second_waiting_for_the_first(make_device, connect) -> None:
    device = make_device(timing=Timing(power_transition=0.4, power_off_phase=0))
    power = connect(device).power
    started = time.monotonic()
    power.off()
    power.on()  # the device holds this request until the off has completed, then carries it out
    waited = time.monotonic() - started
    assert device.control.power_history() == [8, 2]  # DSP1027 Off - Soft, then On
    assert waited >= 0.3
    assert power.wait_for(PowerState.ON, timeout=2, interval=0.05) is PowerState.ON


def test_a_change_that_the_first_change_makes_invalid_is_refused_after_waiting(make_device, connect) -> None:
    device = make_device(timing=Timing(power_transition=0.3, power_off_phase=0))
    power = connect(device).power
    power.off()
    with pytest.raises(exc.PowerActionNotSupported):
        power.request("off", check_offered=False)  # judged once the first off is done: off again is not offered
    assert device.control.power_history() == [8]  # DSP1027 Off - Soft


def test_power_state_unknown_is_its_own_error(amt_device, connect) -> None:
    amt_device.control.inject(power_state_unknown=True)
    power = connect(amt_device).power
    with pytest.raises(exc.PowerStateUnknownError) as caught:
        power.status()
    assert caught.value.category == "power-state-unknown"
    with pytest.raises(exc.PowerStateUnknownError):
        power.cycle()


@pytest.mark.parametrize("action", [PowerAction.CYCLE, PowerAction.RESET])
def test_cycle_and_reset_pass_through_off_and_end_on(make_device, connect, action: PowerAction) -> None:
    device = make_device(timing=Timing(power_transition=0.05, power_off_phase=0.5))
    power = connect(device).power
    power.request(action)
    seen = [power.state()]
    deadline = time.monotonic() + 3
    while seen[-1] is not PowerState.ON and time.monotonic() < deadline:
        time.sleep(0.02)
        state = power.state()
        if state is not seen[-1]:
            seen.append(state)
    assert seen == [PowerState.OFF_SOFT, PowerState.ON]


def test_sleep_and_hibernate_are_not_offered_without_platform_support(make_device, connect) -> None:
    device = make_device(sleep_supported=False)
    power = connect(device).power
    assert not {"sleep", "hibernate"} & set(power.status().available_names)
    with pytest.raises(exc.PowerActionNotSupported):
        power.request("sleep")


def test_wait_for_times_out_naming_the_last_state(amt_device, connect) -> None:
    with pytest.raises(exc.PowerWaitTimeout, match="last seen: on"):
        connect(amt_device).power.wait_for(PowerState.OFF_SOFT, timeout=0.2, interval=0.05)


def test_wait_for_rides_out_an_unknown_state(amt_device, connect) -> None:
    amt_device.control.inject(power_state_unknown=True)
    with pytest.raises(exc.PowerWaitTimeout, match="last seen: unknown"):
        connect(amt_device).power.wait_for(PowerState.ON, timeout=0.1, interval=0.05)
