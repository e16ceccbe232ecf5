"""How a client picks WS-Man or legacy SOAP: from the AMT version it learns, or as forced."""

from __future__ import annotations

import pytest

from amtkit import exceptions as exc
from amtkit.codes import PowerState


@pytest.mark.parametrize(("version", "generation"), [
    ("2.6.3", "eoi"),     # no WS-Man: its /wsman 404 carries the Server header
    ("3.0.2", "eoi"),     # a pre-DMTF WS-Man draft only
    ("3.2.1", "wsman"),   # both offered: WS-Man, the maintained interface
    ("5.0.1", "wsman"),
    ("8.1.40", "wsman"),
    ("16.1.25", "wsman"),
])
def test_auto_picks_the_generation_from_the_version(make_device, connect, version: str, generation: str) -> None:
    device = make_device(amt_version=version)
    client = connect(device)
    assert client.power.state() is PowerState.ON
    assert client.generation == generation
    stats = device.device.stats
    assert (stats.eoi_requests > 0) == (generation == "eoi")


def test_deciding_costs_no_request_on_a_wsman_device(make_device, connect) -> None:
    device = make_device(amt_version="16.1.25")
    connect(device).power.state()
    assert device.device.stats.http_requests == 2  # the challenge and the Get: no Identify


def test_a_device_without_wsman_costs_one_404_then_speaks_legacy_soap(make_device, connect) -> None:
    device = make_device(amt_version="2.6.3")
    client = connect(device)
    client.power.off()
    assert client.power.state() is PowerState.OFF_SOFT
    assert device.device.stats.wsman_requests == 0
    stats = device.device.stats
    http, eoi = stats.http_requests, stats.eoi_requests
    client.power.on()  # known now: no /wsman attempt, no new challenge
    assert stats.http_requests - http == stats.eoi_requests - eoi == 2  # state check, then the command


def test_defense_falls_back_to_circuit_breaker_on_a_device_without_wsman(make_device, connect) -> None:
    device = make_device(amt_version="2.6.3")
    result = connect(device).defense.ping(manager=["10.0.0.5"])
    assert result.active and result.policy_id.startswith("Circuit Breaker")


def test_forcing_wsman_on_a_device_without_it_says_so(make_device, connect) -> None:
    client = connect(make_device(amt_version="2.6.3"), generation="wsman")
    with pytest.raises(exc.NotDetectedError, match="no WS-Management") as caught:
        client.power.state()
    assert "eoi" in (caught.value.hint or "")


def test_identify_tells_the_version_too(make_device, connect) -> None:
    client = connect(make_device(amt_version="8.1.40"))
    client.identify()
    assert client.amt_version() == (8, 1)


@pytest.mark.parametrize("forced", ["wsman", "eoi"])
def test_a_forced_generation_is_used_as_is(make_device, connect, forced: str) -> None:
    device = make_device(amt_version="5.0.1")
    client = connect(device, generation=forced)
    assert client.generation == forced
    client.power.off()
    stats = device.device.stats
    assert (stats.eoi_requests > 0) == (forced == "eoi")


def test_an_unknown_generation_is_a_usage_error(amt_device, connect) -> None:
    with pytest.raises(exc.UsageError, match="wsman"):
        connect(amt_device, generation="soap")


def test_a_web_server_that_is_not_amt_is_not_detected(httpserver, connect) -> None:
    from types import SimpleNamespace

    from werkzeug import Response

    httpserver.expect_request("/wsman").respond_with_response(Response("<html/>", status=404,
                                                                       headers={"Server": "Apache"}))
    target = SimpleNamespace(host=httpserver.host, port=httpserver.port, username="admin", password="x")
    with pytest.raises(exc.NotDetectedError):
        connect(target).power.state()
