"""``client.redirection``: the AMT_RedirectionService switches, read and changed against the simulator."""

from __future__ import annotations

import pytest

from amtkit import exceptions as exc
from amtkit.client import Client
from amtkit.pytest_plugin import AMTDeviceInfo
from amtkit.redirection.service import RedirectionState, RedirectionStatus
from amtkit.wsman.responses import parse_response


def test_status_reports_both_features_and_the_listener(client: Client) -> None:
    status = client.redirection.status()
    assert status.state is RedirectionState.IDER_AND_SOL and status.listener_enabled and status.accepts_ider
    assert status.to_dict() == {"state": "ider_and_sol", "enabled_state": 32771, "ider": True, "sol": True,
                                "listener": True}


def test_request_state_change_switches_features(client: Client) -> None:
    client.redirection.request_state(RedirectionState.SOL)
    status = client.redirection.status()
    assert (status.ider_enabled, status.sol_enabled) == (False, True)


def test_the_listener_is_switched_with_a_whole_object_put(client: Client) -> None:
    assert not client.redirection.set_listener(False).listener_enabled
    assert not client.redirection.status().accepts_ider


def test_enable_turns_on_what_is_missing_and_keeps_sol(client: Client, device: AMTDeviceInfo) -> None:
    device.control.set_redirection(ider=False, sol=True, listener=False)
    status = client.redirection.enable(ider=True)
    assert (status.state, status.listener_enabled) == (RedirectionState.IDER_AND_SOL, True)


def test_enable_sol_alone_keeps_ide_r_off(client: Client, device: AMTDeviceInfo) -> None:
    device.control.set_redirection(ider=False, sol=False)
    status = client.redirection.enable(ider=None, sol=True)
    assert (status.ider_enabled, status.sol_enabled) == (False, True)
    assert status.to_dict()["enabled_state"] == 32770  # SOL only


def test_an_out_of_range_state_is_refused(client: Client) -> None:
    with pytest.raises(exc.AMTReturnError) as raised:
        client.redirection.request_state(2)
    assert raised.value.return_value == 5


def test_recorded_redirection_service_answers_parse(wire) -> None:
    instance = parse_response(wire.read("AMT_RedirectionService.Get.response.2.xml")).instance()
    status = RedirectionStatus(RedirectionState(instance["EnabledState"]), instance["ListenerEnabled"] is True,
                               instance)
    assert (status.state, status.listener_enabled, status.accepts_ider) == (RedirectionState.DISABLED, True, False)
