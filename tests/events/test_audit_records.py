"""Audit log records (AMT_AuditLog): who did what, from where, when.

Expectations are literals: the recorded ReadRecords answer decoded by hand from the layout in Intel's
SDK (big-endian IDs and time), and application/event numbers from the SDK's event tables.
"""

from __future__ import annotations

import datetime as dt
import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amtkit.events.audit import (
    AuditApp,
    AuditEvent,
    AuditRecord,
    AuditRecordError,
    decode_audit_record,
    sid_text,
)
from amtkit.wsman.responses import parse_response

UTC = dt.timezone.utc


def test_recorded_read_records_answer_is_two_firmware_updates_by_the_host_itself(wire) -> None:
    output = parse_response(wire.envelope("AMT_AuditLog.ReadRecords.response.xml")).method_output()
    assert output.outputs["TotalRecordCount"] == "2" and output.outputs["RecordsReturned"] == "2"
    first, second = (decode_audit_record(text) for text in output.outputs["EventRecords"])

    assert (first.app, first.event_id) == (19, 0)
    assert first.app_name == "Firmware Update Manager" and first.event_name == "Firmware Updated"
    assert first.initiator_type == 2 and first.initiator == "local"
    assert first.timestamp == 0x3FF4CD6E and first.time == dt.datetime(2004, 1, 2, 1, 46, 22, tzinfo=UTC)
    assert first.location_type == 2 and first.address == ""
    assert first.extended_data == bytes.fromhex("000c000000280599000c000000240594")
    assert first.details == "from 12.0.40.1433 to 12.0.36.1428"
    assert second.timestamp == 0x3FF4CD6F
    assert first.to_base64() == "ABMAAAI/9M1uAgAQAAwAAAAoBZkADAAAACQFlA=="


def test_a_digest_user_and_an_ipv4_address_are_read_from_the_record() -> None:
    raw = bytes.fromhex("0011 0000 00 05 61646d696e 65000000 00 09 31302e302e302e3135 00".replace(" ", ""))
    record = decode_audit_record(raw)
    assert record.event is AuditEvent.POWER_UP
    assert record.user == "admin" and record.initiator == "admin"
    assert record.address == "10.0.0.15" and record.timestamp == 0x65000000
    assert record.description == "Remote Control: Power Up"


def test_amt_4_address_with_a_trailing_nul_and_a_full_ipv6_address_are_shown_plainly() -> None:
    ipv4 = bytes.fromhex("0011000102") + bytes(4) + b"\x00\x0a127.0.0.1\x00" + b"\x00"
    assert decode_audit_record(ipv4).address == "127.0.0.1"
    full = b"0000:0000:0000:0000:0000:0000:0000:0001"
    ipv6 = bytes.fromhex("0011000102") + bytes(4) + b"\x01" + bytes([len(full)]) + full + b"\x00"
    assert decode_audit_record(ipv6).address == "::1"


def test_a_kerberos_initiator_is_shown_as_its_sid() -> None:
    sid = bytes.fromhex("010500000000000515000000a1b2c3d4")
    assert sid_text(sid) == "S-1-5-21-3569595041"
    raw = bytes.fromhex("001200000100000000") + bytes([len(sid)]) + sid + bytes(4) + b"\x02\x00\x00"
    record = decode_audit_record(raw)
    assert record.initiator_type == 1 and record.user == "S-1-5-21-3569595041"


def test_application_and_event_ids_are_the_sdk_numbers() -> None:
    assert AuditApp.REDIRECTION_MANAGER == 18 and AuditApp.SYSTEM_DEFENSE == 25 and AuditApp.EVENT_MANAGER == 24
    assert AuditEvent.SOL_SESSION_OPENED == 1804 and AuditEvent.IDER_SESSION_CLOSED == 1801
    assert AuditEvent.ACL_ACCESS_INVALID_CREDENTIALS == 1605 and AuditEvent.AUDIT_LOG_CLEARED == 2000
    assert AuditEvent.EVENT_LOG_FROZEN == 2403 and AuditEvent.FILTER_ADDED == 2500
    assert AuditEvent.POWER_CYCLE.label == "Power Cycle" and AuditEvent.SOL_SESSION_OPENED.label == "SOL Session Opened"


def test_an_unknown_event_is_named_by_number() -> None:
    record = AuditRecord(app=99, event_id=7)
    assert record.event is None and record.description == "Application 99: Event 7"


@pytest.mark.parametrize("cut", [1, 4, 5, 9, 11])
def test_a_truncated_record_is_refused_with_where_it_ends(cut: int) -> None:
    raw = AuditRecord(17, 0, 0, "admin", 1, 0, "10.0.0.1", b"\x01").encode()
    with pytest.raises(AuditRecordError, match="ends inside"):
        decode_audit_record(raw[:cut])


def test_bytes_after_the_record_are_refused() -> None:
    with pytest.raises(AuditRecordError, match="follow"):
        decode_audit_record(AuditRecord(17, 0).encode() + b"\x00")


names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20).filter(
    lambda s: len(s.encode()) <= 255)
ipv4 = st.ip_addresses(v=4).map(str)
ipv6 = st.ip_addresses(v=6).map(lambda a: str(ipaddress.IPv6Address(a)))


@st.composite
def audit_records(draw: st.DrawFn) -> AuditRecord:
    kind = draw(st.sampled_from([0, 2, 3]))
    location = draw(st.sampled_from([0, 1, 2]))
    address = {0: draw(ipv4), 1: draw(ipv6), 2: ""}[location]
    return AuditRecord(draw(st.integers(0, 0xFFFF)), draw(st.integers(0, 0xFFFF)), kind,
                       draw(names) if kind == 0 else "", draw(st.integers(0, 0xFFFFFFFF)), location, address,
                       draw(st.binary(max_size=255)))


@given(audit_records())
def test_decode_inverts_encode(record: AuditRecord) -> None:
    assert decode_audit_record(record.encode()) == record
    assert decode_audit_record(record.to_base64()) == record
    assert record.to_dict()["description"]


@given(st.binary(max_size=64))
def test_arbitrary_bytes_decode_or_are_refused_never_crash(data: bytes) -> None:
    try:
        record = decode_audit_record(data)
    except AuditRecordError:
        return
    assert record.description
