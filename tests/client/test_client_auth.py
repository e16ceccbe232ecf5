"""Digest authentication between amtkit.Client and simulated devices: one round trip per call in
the steady state, transparent re-signing, refusals that name host and user but never the password,
and AMT's anti-hammering lockout."""

from __future__ import annotations

import time

import pytest

from amtkit import exceptions as exc
from amtkit.codes import ProvisioningState
from amtkit.wsman import names
from amtsim import Timing

GENERAL = names.Cls.AMT_GeneralSettings


def test_fifty_gets_cost_fifty_one_round_trips(amt_device, connect) -> None:
    client = connect(amt_device)
    for _ in range(50):
        client.get(GENERAL)
    stats = amt_device.control.stats()
    assert client.transport.round_trips == 51
    assert stats["http_requests"] == 51
    assert stats["auth_challenges"] == 1
    assert stats["wsman_requests"] == 50


def test_steady_state_keeps_one_connection(amt_device, connect) -> None:
    client = connect(amt_device)
    client.get(GENERAL)
    connections = amt_device.control.stats()["connections"]
    for _ in range(10):
        client.get(GENERAL)
    assert amt_device.control.stats()["connections"] == connections


def test_wrong_password_is_an_authentication_error_naming_host_and_user(amt_device, connect) -> None:
    client = connect(amt_device, password="not-the-password")
    with pytest.raises(exc.AuthenticationError) as caught:
        client.get(GENERAL)
    error = caught.value
    assert error.host == amt_device.host and error.username == "admin"
    assert amt_device.host in str(error) and "admin" in str(error)
    for text in (str(error), repr(error), str(error.to_dict()), error.hint):
        assert "not-the-password" not in text
    assert error.category == "auth-failed"


def test_unknown_user_is_an_authentication_error(amt_device, connect) -> None:
    with pytest.raises(exc.AuthenticationError, match="'nobody'"):
        connect(amt_device, username="nobody").get(GENERAL)


def test_extra_user_can_log_in(make_device, connect) -> None:
    device = make_device(extra_users={"operator": "0perator!"})
    assert connect(device, username="operator", password="0perator!").get(GENERAL).class_name == GENERAL


def test_anti_hammering_locks_the_account_even_for_the_right_password(make_device, connect) -> None:
    device = make_device(timing=Timing(power_transition=0, power_off_phase=0, lockout_threshold=3,
                                       lockout_seconds=1.0))
    for _ in range(3):
        with pytest.raises(exc.AuthenticationError):
            connect(device, password="guess").get(GENERAL)
    assert device.control.stats()["auth_failures"] == 3
    with pytest.raises(exc.AuthenticationError):
        connect(device).get(GENERAL)
    time.sleep(1.05)
    assert connect(device).get(GENERAL).class_name == GENERAL


def test_failures_below_the_threshold_do_not_lock(make_device, connect) -> None:
    device = make_device(timing=Timing(power_transition=0, power_off_phase=0, lockout_threshold=3))
    for _ in range(2):
        with pytest.raises(exc.AuthenticationError):
            connect(device, password="guess").get(GENERAL)
    assert connect(device).get(GENERAL).class_name == GENERAL


def test_expired_nonce_is_re_signed_transparently(make_device, connect) -> None:
    device = make_device(timing=Timing(power_transition=0, power_off_phase=0, nonce_lifetime=0.5))
    client = connect(device)
    client.get(GENERAL)
    assert client.transport.round_trips == 2
    time.sleep(0.6)
    client.get(GENERAL)  # stale nonce: 401 stale=true, then the re-signed request
    assert client.transport.round_trips == 4
    client.get(GENERAL)  # the fresh nonce is reused again
    assert client.transport.round_trips == 5
    stats = device.control.stats()
    assert (stats["http_requests"], stats["auth_challenges"], stats["auth_failures"]) == (5, 2, 0)


def test_password_changed_on_the_device_fails_the_next_call(amt_device, connect) -> None:
    client = connect(amt_device)
    client.get(GENERAL)
    amt_device.control.set_password("N3w-passw0rd")
    with pytest.raises(exc.AuthenticationError):
        client.get(GENERAL)
    assert connect(amt_device, password="N3w-passw0rd").get(GENERAL).class_name == GENERAL


def test_unprovisioned_device_answers_identify_but_refuses_everything_else(make_device, connect) -> None:
    device = make_device(provisioning_state=ProvisioningState.PRE)
    client = connect(device)
    assert client.identify().amt_version
    with pytest.raises(exc.AuthenticationError):
        client.get(GENERAL)


def test_no_password_given_is_an_authentication_error(amt_device, connect) -> None:
    with pytest.raises(exc.AuthenticationError, match="none were given"):
        connect(amt_device, password=None).get(GENERAL)
