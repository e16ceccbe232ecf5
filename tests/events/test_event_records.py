"""Event log records (AMT_MessageLog): 21 bytes decoded field by field and described in words.

Expectations are literals: the recorded GetRecords answer's records decoded by hand from the layout
in Intel's SDK (little-endian time, then one byte per field, then 8 data bytes), and descriptions as
consoles word them.
"""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amtkit.events.records import EventRecord, RecordError, decode_event_record
from amtkit.wsman.responses import parse_response

UTC = dt.timezone.utc


def test_recorded_get_records_answer_decodes_to_a_lockout_and_two_bios_progress_records(wire) -> None:
    output = parse_response(wire.envelope("AMT_MessageLog.GetRecords.response.xml")).method_output()
    records = [decode_event_record(text) for text in output.outputs["RecordArray"]]

    assert output.outputs["IterationIdentifier"] == "3" and output.outputs["NoMoreRecords"] == "true"
    first = records[0]
    assert first.time == dt.datetime(2024, 1, 6, 3, 26, 27, tzinfo=UTC)
    assert (first.sensor_type, first.event_type, first.event_offset, first.source_type) == (0x06, 0x6F, 0x05, 0x68)
    assert (first.severity, first.entity, first.entity_instance) == (0x10, 0x26, 0x61)
    assert first.data == bytes.fromhex("aa0a000000000000")
    assert first.description == "Authentication failed 10 times; the system may be under attack"
    assert first.severity_name == "critical"
    bios = records[1]
    assert bios.time == dt.datetime(2023, 9, 13, 0, 45, 22, tzinfo=UTC)
    assert (bios.sensor_type, bios.event_offset, bios.severity, bios.entity) == (0x0F, 0x02, 0x01, 0x22)
    assert bios.entity_name == "BIOS"
    assert bios.description == "BIOS progress: PCI resource configuration"
    assert records[2] == bios


def test_a_record_encodes_back_to_the_recorded_base64() -> None:
    assert decode_event_record("Y8iYZf8GbwVoEP8mYaoKAAAAAAAA").to_base64() == "Y8iYZf8GbwVoEP8mYaoKAAAAAAAA"


records = st.builds(
    EventRecord, timestamp=st.integers(0, 0xFFFFFFFF), device_address=st.integers(0, 255),
    sensor_type=st.integers(0, 255), event_type=st.integers(0, 255), event_offset=st.integers(0, 255),
    source_type=st.integers(0, 255), severity=st.integers(0, 255), sensor_number=st.integers(0, 255),
    entity=st.integers(0, 255), entity_instance=st.integers(0, 255), data=st.binary(min_size=8, max_size=8))


@given(records)
def test_decode_inverts_encode(record: EventRecord) -> None:
    assert len(record.encode()) == 21
    assert decode_event_record(record.encode()) == record
    assert decode_event_record(record.to_base64()) == record


@given(st.binary(min_size=21, max_size=21))
def test_any_21_bytes_decode_and_describe_without_error(data: bytes) -> None:
    record = decode_event_record(data)
    assert record.encode() == data
    assert isinstance(record.description, str) and record.description
    assert record.to_dict()["record"] == base64.b64encode(data).decode()


@given(st.binary().filter(lambda b: len(b) != 21))
def test_other_lengths_are_refused(data: bytes) -> None:
    with pytest.raises(RecordError):
        decode_event_record(data)


def test_text_that_is_not_base64_is_refused() -> None:
    with pytest.raises(RecordError, match="base64"):
        decode_event_record("not base64!")


def test_an_unset_clock_has_no_time() -> None:
    assert decode_event_record(bytes(21)).time is None
    assert decode_event_record(b"\xff\xff\xff\xff" + bytes(17)).time is None


def _record(sensor: int, offset: int, data: str) -> EventRecord:
    return EventRecord(1700000000, sensor_type=sensor, event_offset=offset, data=bytes.fromhex(data.ljust(16, "0")))


@pytest.mark.parametrize(("sensor", "offset", "data", "text"), [
    (0x24, 0, "aa0000002a", "System Defense filter 42 was matched on the wired interface"),
    (0x24, 0, "aafffffffd", "All inbound packets were dropped (System Defense default rule) on the wired interface"),
    (0x24, 0, "aafffffffa", "A spoofed packet was dropped (anti-spoofing filter) on the wired interface"),
    (0xC0, 0, "aa3000", "SOL session established"),
    (0xC0, 0, "aa3003", "IDE-R session finished"),
    (0x06, 5, "aa0301", "Authentication failed 259 times; the system may be under attack"),
    (0x0F, 0, "0008", "BIOS error: removable boot media not found"),
    (0x0F, 2, "4013", "BIOS progress: starting the operating system boot"),
    (0x0F, 0, "eb", "Invalid data"),
    (0x12, 0, "aa78563412cdab04", "Agent watchdog 12345678-abcd-... changed to running"),
    (0x1E, 0, "", "No bootable media"),
    (0x23, 0, "40", "BIOS POST watchdog timeout"),
    (0x25, 0, "", "System firmware started (at least one CPU is executing)"),
    (0x05, 0, "", "Case intrusion"),
    (0xC1, 0, "aa300000", "Remote connection request"),
    (0x22, 5, "", "Power state changed: S5/G2 soft off"),
    (0x77, 3, "", "Unknown sensor type 0x77 (offset 3)"),
])
def test_descriptions_follow_the_sensor_type_and_data(sensor: int, offset: int, data: str, text: str) -> None:
    assert _record(sensor, offset, data).description == text
