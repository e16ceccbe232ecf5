"""client.events and client.audit read what the simulated firmware recorded, over real sockets.

The simulator records what happens to it (power changes, boots, failed logins, log changes) in AMT's
record formats; the client reads both logs back with GetRecords and ReadRecords.
"""

from __future__ import annotations

import time

import pytest

from amtkit import exceptions as exc
from amtkit.client import Client
from amtkit.codes import PowerState
from amtkit.events.audit import AuditEvent
from amtsim import Timing


def test_a_power_cycle_leaves_its_audit_record_and_the_boot_in_the_event_log(make_device, connect) -> None:
    device = make_device()
    client = connect(device)
    client.power.request("cycle")
    device.control.wait_for_boot(1, timeout=10)

    audit = client.audit.records()
    cycle = [r for r in audit if (r.app, r.event_id) == (17, 2)]
    assert len(cycle) == 1
    assert cycle[0].user == "admin" and cycle[0].initiator_type == 0 and cycle[0].address == "127.0.0.1"
    texts = [r.description for r in client.events.records()]
    assert texts[:2] == ["BIOS progress: starting the operating system boot",
                         "System firmware started (at least one CPU is executing)"]


def test_repeated_wrong_passwords_end_in_a_lockout_record_and_audited_failures(make_device, connect) -> None:
    device = make_device(timing=Timing(power_transition=0, power_off_phase=0, lockout_seconds=0))
    intruder = connect(device, password="wrong", retries=0)
    for _ in range(5):
        with pytest.raises(exc.AuthenticationError):
            intruder.get("AMT_GeneralSettings")

    owner = connect(device)
    lockout = owner.events.records()[0]
    assert lockout.sensor_type == 0x06 and lockout.event_offset == 5
    assert lockout.description == "Authentication failed 5 times; the system may be under attack"
    failures = [r for r in owner.audit.records() if r.event is AuditEvent.ACL_ACCESS_INVALID_CREDENTIALS]
    assert len(failures) == 5 and all(r.address == "127.0.0.1" for r in failures)


def test_pages_of_any_size_read_the_same_log_newest_first(make_device, connect) -> None:
    device = make_device()
    device.control.raise_events(25)
    client = connect(device)
    whole = client.events.records()
    assert len(whole) == 25
    assert [int.from_bytes(r.data[4:], "big") for r in whole] == list(range(24, -1, -1))
    assert client.events.records(page_size=7) == whole
    assert client.events.records(page_size=1) == whole


def test_the_event_log_keeps_the_newest_390_records(make_device, connect) -> None:
    device = make_device()
    device.control.raise_events(400)
    client = connect(device)
    status = client.events.status()
    assert (status.records, status.capacity, status.percentage_full, status.wraps) == (390, 390, 100, True)
    records = client.events.records()
    assert len(records) == 390
    assert int.from_bytes(records[0].data[4:], "big") == 399 and int.from_bytes(records[-1].data[4:], "big") == 10
    assert client.transport.round_trips >= 1


def test_a_frozen_log_keeps_nothing_new_and_refuses_to_be_cleared(make_device, connect) -> None:
    device = make_device()
    device.control.raise_events(3)
    client = connect(device)
    client.events.freeze()
    assert client.events.status().frozen
    device.control.raise_events(2)
    assert len(client.events.records()) == 3
    with pytest.raises(exc.AMTReturnError) as refused:
        client.events.clear()
    assert refused.value.return_value == 0x080B
    client.events.freeze(False)
    client.events.clear()
    assert client.events.records() == []
    audited = [r.event for r in client.audit.records()]
    assert audited[-3:] == [AuditEvent.EVENT_LOG_FROZEN, AuditEvent.EVENT_LOG_FROZEN, AuditEvent.EVENT_LOG_CLEARED]
    assert [r.details for r in client.audit.records()][-3:-1] == ["frozen", "unfrozen"]


def test_the_audit_log_is_read_ten_records_a_call_oldest_first(make_device, connect) -> None:
    device = make_device()
    client = connect(device)
    for _ in range(12):
        client.power.request("reset")
    before = client.transport.round_trips
    records = client.audit.records()
    assert [r.event for r in records] == [AuditEvent.RESET] * 12
    assert client.transport.round_trips - before == 2  # ReadRecords from 1, then from 11
    status = client.audit.status()
    assert status.records == 12 and 0 < status.percentage_free <= 100
    client.audit.clear()
    assert [r.event for r in client.audit.records()] == [AuditEvent.AUDIT_LOG_CLEARED]


def test_an_empty_event_log_reads_as_no_records(make_device, connect) -> None:
    assert connect(make_device()).events.records() == []


def _replayed(httpserver, wire, name: str) -> Client:  # type: ignore[no-untyped-def]
    httpserver.expect_request("/wsman", method="POST").respond_with_data(
        wire.envelope(name), headers={"Server": "Intel(R) Active Management Technology 16.1.25"},
        content_type="application/soap+xml")
    return Client(httpserver.host, port=httpserver.port, password=None, retries=0, timeout=5.0)


def test_the_client_reads_the_recorded_get_records_answer(httpserver, wire) -> None:
    with _replayed(httpserver, wire, "AMT_MessageLog.GetRecords.response.xml") as client:
        records = client.events.records()
    assert [r.description for r in records] == ["Authentication failed 10 times; the system may be under attack",
                                                "BIOS progress: PCI resource configuration",
                                                "BIOS progress: PCI resource configuration"]
    body = httpserver.log[0][0].get_data()
    assert b"<p:IterationIdentifier>1</p:IterationIdentifier>" in body
    assert b"<p:MaxReadRecords>390</p:MaxReadRecords>" in body


def test_the_client_reads_the_recorded_read_records_answer(httpserver, wire) -> None:
    with _replayed(httpserver, wire, "AMT_AuditLog.ReadRecords.response.xml") as client:
        records = client.audit.records()
    assert [(r.app, r.event_id, r.timestamp) for r in records] == [(19, 0, 0x3FF4CD6E), (19, 0, 0x3FF4CD6F)]
    assert len(httpserver.log) == 1


def test_the_client_reads_the_recorded_log_status_answers(httpserver, wire) -> None:
    with _replayed(httpserver, wire, "AMT_MessageLog.Get.response.2.xml") as client:
        status = client.events.status()
    assert (status.records, status.capacity, status.frozen, status.percentage_full) == (390, 390, False, 100)


def test_a_power_up_is_logged_when_it_completes_though_nobody_reads_the_state(make_device, connect) -> None:
    device = make_device(timing=Timing(power_transition=0.3, power_off_phase=0), power_state=PowerState.OFF_SOFT)
    connect(device).power.on()
    deadline = time.monotonic() + 10
    # event_log() and boot_results() only read what the device recorded: they move no transition on.
    while not device.control.boot_results() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(device.control.boot_results()) == 1
    sensors = [record.sensor_type for record in device.control.event_log()]
    assert 0x0F in sensors  # IPMI sensor type 0Fh: system firmware progress (the BIOS started)
