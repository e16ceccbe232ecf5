"""Devices push alerts to the manager over real sockets; the manager authenticates them and stores each once.

The simulator posts as AMT does (digest answered with the subscription's credentials, one alert a post,
retries while the listener is down); the manager is amtkit's aiohttp receiver writing to a store file.
"""

from __future__ import annotations

import socket

import pytest

from amtkit.events import storage
from amtkit.events.manager import Manager, ManagerThread
from amtkit.events.subscriptions import DeliveryMode
from amtkit.store import Store
from amtsim import Timing

FAST_RETRY = Timing(power_transition=0, power_off_phase=0, alert_retry_interval=0.05, alert_retry_attempts=200,
                    alert_delivery_timeout=2.0)


@pytest.fixture
def store(tmp_path):  # type: ignore[no-untyped-def]
    with Store.open(tmp_path / "alerts.db") as opened:
        yield opened


@pytest.fixture
def manager(store):  # type: ignore[no-untyped-def]
    with ManagerThread(Manager(store, host="127.0.0.1", port=0, users={"amt": "listener-secret"})) as running:
        yield running


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_alerts_reach_the_manager_once_each_with_their_meaning(make_device, connect, manager, store) -> None:
    device = make_device()
    client = connect(device)
    client.events.subscribe(manager.url, device="pc-17", credentials=("amt", "listener-secret"))
    client.power.request("cycle")
    device.control.raise_events(3)
    assert manager.wait_for_stored(6, timeout=20)

    alerts = storage.query(store, devices=["pc-17"])
    kinds = [a.kind for a in alerts]
    assert kinds[0] == "power" and alerts[0].description == "Power state changed: S5/G2 soft off"
    assert kinds.count("boot") == 2 and kinds.count("platform") == 3
    assert {a.sender for a in alerts} == {"127.0.0.1"}
    assert manager.stats.refused >= 1  # the first post of the connection earned the digest challenge
    assert manager.stats.duplicates == 0 and len({a.key for a in alerts}) == len(alerts)


def test_a_device_with_wrong_listener_credentials_stores_nothing(make_device, connect, manager, store) -> None:
    device = make_device(timing=Timing(power_transition=0, power_off_phase=0, alert_retry_attempts=0))
    client = connect(device)
    sub = client.events.subscribe(manager.url, credentials=("amt", "not-it"))
    device.control.raise_events(1)
    device.control.wait_for_alerts(lambda alerts: alerts.listeners[sub.handler].dropped == 1)
    assert storage.count(store) == 0 and manager.stats.refused >= 2


def test_redirection_and_lockout_alerts_carry_amt_message_ids(make_device, connect, manager, store) -> None:
    from amtkit import exceptions as exc

    device = make_device(timing=Timing(power_transition=0, power_off_phase=0, lockout_seconds=0))
    owner = connect(device)
    owner.events.subscribe(manager.url, device="pc-2", credentials=("amt", "listener-secret"))
    intruder = connect(device, password="wrong", retries=0)
    for _ in range(5):
        with pytest.raises(exc.AuthenticationError):
            intruder.get("AMT_GeneralSettings")
    assert manager.wait_for_stored(5, timeout=20)
    kinds = [a.kind for a in storage.query(store)]
    assert kinds == ["login"] * 4 + ["lockout"]
    assert storage.query(store, kinds=["lockout"])[0].description.startswith("Authentication failed 5 times")


def test_push_with_ack_is_answered_with_the_ack_of_each_alert(make_device, connect, manager, store) -> None:
    device = make_device()
    client = connect(device)
    sub = client.events.subscribe(manager.url, mode=DeliveryMode.PUSH_WITH_ACK,
                                  credentials=("amt", "listener-secret"))
    device.control.raise_events(4)
    assert manager.wait_for_stored(4, timeout=20)
    device.control.wait_for_alerts(lambda alerts: alerts.listeners[sub.handler].delivered == 4)


def test_alerts_wait_while_the_manager_is_down_and_arrive_once_after_its_restart(make_device, connect,
                                                                                  tmp_path) -> None:
    port = free_port()
    path = tmp_path / "restart.db"
    device = make_device(timing=FAST_RETRY)
    client = connect(device)
    client.events.subscribe(f"http://127.0.0.1:{port}/events", device="pc-9")
    device.control.raise_events(2)  # nobody listens: the device retries
    with Store.open(path) as store, ManagerThread(Manager(store, host="127.0.0.1", port=port)) as first:
        assert first.wait_for_stored(2, timeout=20)
    device.control.raise_events(2)  # down again
    with Store.open(path) as store, ManagerThread(Manager(store, host="127.0.0.1", port=port)) as second:
        assert second.wait_for_stored(2, timeout=20)
        numbers = [storage_record_number(a.arguments[0]) for a in storage.query(store)]
    assert numbers == [0, 1, 0, 1]


def test_two_managers_fall_back_for_each_other_and_merge_without_doubles(make_device, connect, tmp_path) -> None:
    port_a = free_port()
    device = make_device(timing=FAST_RETRY)
    client = connect(device)
    with Store.open(tmp_path / "b.db") as store_b, \
            ManagerThread(Manager(store_b, host="127.0.0.1", port=0)) as manager_b:
        client.events.subscribe(f"http://127.0.0.1:{port_a}/events", device="pc-5")
        client.events.subscribe(manager_b.url, device="pc-5")
        device.control.raise_events(3)  # manager A is down: B has them
        assert manager_b.wait_for_stored(3, timeout=20)
        with Store.open(tmp_path / "a.db") as store_a, \
                ManagerThread(Manager(store_a, host="127.0.0.1", port=port_a)) as manager_a:
            assert manager_a.wait_for_stored(3, timeout=20)  # A gets the backlog when it comes up
            device.control.raise_events(2)
            assert manager_a.wait_for_stored(5, timeout=20) and manager_b.wait_for_stored(5, timeout=20)
            assert storage.merge(store_a, store_b) == (0, 5)
            assert storage.count(store_a) == 5


def test_a_subscriber_down_too_long_is_removed(make_device, connect) -> None:
    device = make_device(timing=Timing(power_transition=0, power_off_phase=0, alert_retry_interval=0.01,
                                       alert_retry_attempts=1000, alert_subscription_removal=0.2))
    client = connect(device)
    client.events.subscribe(f"http://127.0.0.1:{free_port()}/events")
    device.control.raise_events(1)
    device.control.wait_for_alerts(lambda alerts: not alerts.listeners)
    assert client.events.subscriptions() == []


def storage_record_number(record: str) -> int:
    from amtkit.events.records import decode_event_record

    return int.from_bytes(decode_event_record(record).data[4:], "big")


def test_https_listener_with_basic_credentials_is_trusted_only_through_the_device_s_ca(make_device, connect,
                                                                                       tmp_path) -> None:
    from amtkit.events.manager import tls_context
    from amtsim.tlscert import ensure_certificate

    certificate = ensure_certificate(tmp_path / "manager-cert")
    with Store.open(tmp_path / "tls.db") as store, ManagerThread(Manager(
            store, host="127.0.0.1", port=0, users={"amt": "tls-secret"}, auth="basic",
            ssl_context=tls_context(str(certificate.cert), str(certificate.key)))) as manager:
        assert manager.url.startswith("https://")
        trusting = make_device(alert_ca_file=str(certificate.cert))
        connect(trusting).events.subscribe(manager.url, device="trusting", credentials=("amt", "tls-secret"),
                                           auth="basic")
        stranger = make_device(timing=Timing(power_transition=0, power_off_phase=0, alert_retry_attempts=0))
        sub = connect(stranger).events.subscribe(manager.url, device="stranger", credentials=("amt", "tls-secret"),
                                                 auth="basic")
        trusting.control.raise_events(2)
        stranger.control.raise_events(1)
        assert manager.wait_for_stored(2, timeout=20)
        stranger.control.wait_for_alerts(lambda alerts: alerts.listeners[sub.handler].dropped == 1)
        assert [a.device for a in storage.query(store)] == ["trusting", "trusting"]


def test_basic_authentication_without_tls_is_refused(store) -> None:
    with pytest.raises(ValueError, match="TLS"):
        Manager(store, users={"amt": "x"}, auth="basic")


def test_posts_that_are_not_alerts_are_answered_400_and_stored_nowhere(manager, store) -> None:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", manager.port, timeout=5)
    connection.request("POST", "/events", body=b"<not-an-alert/>")
    challenge = connection.getresponse()
    challenge.read()
    assert challenge.status == 401 and challenge.getheader("WWW-Authenticate", "").startswith("Digest ")
    no_auth = Manager(store, host="127.0.0.1", port=0)
    with ManagerThread(no_auth) as open_manager:
        connection = http.client.HTTPConnection("127.0.0.1", open_manager.port, timeout=5)
        for body in (b"<not-an-alert/>", b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>", b"\xff"):
            connection.request("POST", "/events", body=body)
            reply = connection.getresponse()
            reply.read()
            assert reply.status == 400
        assert open_manager.stats.malformed == 3
    assert storage.count(store) == 0
