"""IDERDriveSet: the ATAPI answers a BIOS gets from the console, as IDE-R messages."""

from __future__ import annotations

import io
import struct
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

import pytest
from ider_images import CountingReader, FailingFile, el_torito_iso, floppy_image

from amtkit.ider import IDERDriveSet, IDERReply, ScsiOpcode, Sense, SenseKey, scsi
from amtkit.redirection.messages import (
    AtaStatus,
    Device,
    IDERCommandEndResponse,
    IDERCommandWritten,
    IDERDataToHost,
    StartIDERRedirectionReply,
    decode_message,
)

CD, FLOPPY = Device.CD, Device.FLOPPY


def send(drives: IDERDriveSet, device: Device, cdb: bytes, *, dma: bool = False) -> list[IDERReply]:
    replies = list(drives.handle(IDERCommandWritten.packet(device, cdb, dma=dma)))
    for reply in replies:  # everything the console sends must survive the wire
        assert decode_message(reply.encode()) == reply
    assert replies[-1].completed and not any(r.completed for r in replies[:-1])
    return replies


def data_of(replies: Sequence[IDERReply]) -> bytes:
    assert all(isinstance(r, IDERDataToHost) for r in replies)
    return b"".join(r.data for r in replies if isinstance(r, IDERDataToHost))


def sense_of(replies: Sequence[IDERReply]) -> Sense:
    (reply,) = replies
    assert isinstance(reply, IDERCommandEndResponse) and reply.failed
    return Sense(*reply.sense)


def good(replies: Sequence[IDERReply]) -> bool:
    (reply,) = replies
    return isinstance(reply, IDERCommandEndResponse) and not reply.failed


@pytest.fixture
def iso() -> bytes:
    return el_torito_iso(boot_image_sectors=3, total_sectors=40)


@pytest.fixture
def drives(iso: bytes) -> IDERDriveSet:
    return IDERDriveSet(cd=io.BytesIO(iso), floppy=io.BytesIO(floppy_image()), report_media_change=False)


# -- readiness and sense


def test_empty_drives_report_medium_not_present() -> None:
    drives = IDERDriveSet()
    for device in (CD, FLOPPY):
        replies = send(drives, device, scsi.cdb_test_unit_ready())
        assert sense_of(replies) == scsi.MEDIUM_NOT_PRESENT
        (end,) = replies
        assert end.output.status == AtaStatus.DRDY | AtaStatus.DSC | AtaStatus.ERR
        assert end.output.error == SenseKey.NOT_READY << 4
        assert end.output.drive_select == device


def test_fresh_medium_reports_unit_attention_once(iso: bytes) -> None:
    drives = IDERDriveSet(cd=io.BytesIO(iso))
    assert sense_of(send(drives, CD, scsi.cdb_test_unit_ready())) == scsi.MEDIUM_MAY_HAVE_CHANGED
    assert good(send(drives, CD, scsi.cdb_test_unit_ready()))


def test_get_configuration_does_not_consume_the_unit_attention(iso: bytes) -> None:
    drives = IDERDriveSet(cd=io.BytesIO(iso))
    assert data_of(send(drives, CD, scsi.cdb_get_configuration()))
    assert sense_of(send(drives, CD, scsi.cdb_test_unit_ready())) == scsi.MEDIUM_MAY_HAVE_CHANGED


def test_no_unit_attention_when_disabled_or_empty(iso: bytes) -> None:
    assert good(send(IDERDriveSet(cd=io.BytesIO(iso), report_media_change=False), CD, scsi.cdb_test_unit_ready()))
    assert sense_of(send(IDERDriveSet(), CD, scsi.cdb_test_unit_ready())) == scsi.MEDIUM_NOT_PRESENT


@pytest.mark.parametrize("opcode", [0x12, 0x03], ids=["INQUIRY", "REQUEST-SENSE"])
@pytest.mark.parametrize("device", [CD, FLOPPY])
def test_commands_the_firmware_answers_are_unknown_to_the_console(drives: IDERDriveSet, device: Device,
                                                                  opcode: int) -> None:
    # Real AMT never forwards these; every public console refuses them as 05/20/00, and so do we.
    (end,) = send(drives, device, bytes((opcode, 0, 0, 0, 36)) + bytes(7))
    assert isinstance(end, IDERCommandEndResponse) and end.failed
    assert end.sense == (0x05, 0x20, 0x00)


# -- identification


def test_read_capacity(drives: IDERDriveSet) -> None:
    assert scsi.parse_read_capacity(data_of(send(drives, CD, scsi.cdb_read_capacity()))) == (39, 2048)
    assert scsi.parse_read_capacity(data_of(send(drives, FLOPPY, scsi.cdb_read_capacity()))) == (2879, 512)
    assert sense_of(send(IDERDriveSet(), FLOPPY, scsi.cdb_read_capacity())) == scsi.MEDIUM_NOT_PRESENT


def test_empty_file_counts_as_no_medium() -> None:
    drives = IDERDriveSet(cd=io.BytesIO(b""), report_media_change=False)
    assert sense_of(send(drives, CD, scsi.cdb_read_capacity())) == scsi.MEDIUM_NOT_PRESENT


# -- reads


@pytest.mark.parametrize(
    "cdb",
    [scsi.cdb_read10(16, 3), scsi.cdb_read12(16, 3), bytes((0x08, 0, 0, 16, 3))],
    ids=["READ(10)", "READ(12)", "READ(6)"],
)
def test_reads_return_the_image_bytes(drives: IDERDriveSet, iso: bytes, cdb: bytes) -> None:
    assert data_of(send(drives, CD, cdb)) == iso[16 * 2048 : 19 * 2048]


def test_large_read_is_split_at_the_read_buffer(drives: IDERDriveSet, iso: bytes) -> None:
    drives.read_buffer_size = 3000
    replies = send(drives, CD, scsi.cdb_read10(0, 10))
    assert [len(r.data) for r in replies if isinstance(r, IDERDataToHost)] == [3000] * 6 + [2480]
    assert data_of(replies) == iso[: 10 * 2048]
    last = replies[-1]
    assert last.output.status == AtaStatus.DRDY | AtaStatus.DSC and last.output.sector_count == 3
    first = replies[0]
    assert first.input.byte_count == 3000 and first.input.status & AtaStatus.DRQ and first.attributes == 0


def test_dma_reads_flag_dma(drives: IDERDriveSet) -> None:
    (reply,) = send(drives, FLOPPY, scsi.cdb_read10(0, 1), dma=True)
    assert isinstance(reply, IDERDataToHost)
    assert reply.attributes == 3 and reply.input.byte_count == 0 and reply.input.mask == 0xB4


def test_configure_adopts_firmware_read_buffer(drives: IDERDriveSet) -> None:
    drives.configure(StartIDERRedirectionReply(read_buffer_size=1024))
    replies = send(drives, CD, scsi.cdb_read10(0, 1))
    assert [len(r.data) for r in replies if isinstance(r, IDERDataToHost)] == [1024, 1024]
    with pytest.raises(ValueError):
        drives.read_buffer_size = 0


def test_read_past_the_end_is_lba_out_of_range(drives: IDERDriveSet) -> None:
    assert sense_of(send(drives, CD, scsi.cdb_read10(39, 2))) == scsi.LBA_OUT_OF_RANGE
    assert sense_of(send(drives, FLOPPY, scsi.cdb_read12(2880, 1))) == scsi.LBA_OUT_OF_RANGE


def test_zero_length_read_is_good_without_data(drives: IDERDriveSet) -> None:
    assert good(send(drives, CD, scsi.cdb_read10(5, 0)))


def test_read_without_medium(iso: bytes) -> None:
    drives = IDERDriveSet(floppy=io.BytesIO(floppy_image()), report_media_change=False)
    assert sense_of(send(drives, CD, scsi.cdb_read10(0, 1))) == scsi.MEDIUM_NOT_PRESENT


def test_writes_are_refused_as_write_protected(drives: IDERDriveSet) -> None:
    assert sense_of(send(drives, FLOPPY, bytes((0x2A, 0, 0, 0, 0, 0, 0, 0, 1)))) == scsi.WRITE_PROTECTED


def test_io_error_mid_read_ends_with_medium_error(iso: bytes) -> None:
    drives = IDERDriveSet(cd=FailingFile(iso, fail_after=4096), read_buffer_size=2048, report_media_change=False)
    replies = list(drives.handle(IDERCommandWritten.packet(CD, scsi.cdb_read10(0, 4))))
    assert [type(r) for r in replies] == [IDERDataToHost, IDERDataToHost, IDERCommandEndResponse]
    assert not any(r.completed for r in replies[:-1])
    assert Sense(*replies[-1].sense) == scsi.UNRECOVERED_READ_ERROR


def test_sparse_256mb_image_is_served_with_flat_memory(tmp_path: Path) -> None:
    path = tmp_path / "sparse.iso"
    with path.open("wb") as f:
        f.truncate(256 * 1024 * 1024)
    with path.open("rb") as raw:
        reader = CountingReader(raw)
        drives = IDERDriveSet(cd=reader, report_media_change=False)  # type: ignore[arg-type]
        assert scsi.parse_read_capacity(data_of(send(drives, CD, scsi.cdb_read_capacity()))) == (131071, 2048)
        assert reader.bytes_read == 0

        assert len(data_of(send(drives, CD, scsi.cdb_read10(131070, 2)))) == 4096
        assert reader.bytes_read == 4096

        reader.bytes_read = 0
        replies = drives.handle(IDERCommandWritten.packet(CD, scsi.cdb_read12(0, 65536)))  # 128 MiB
        assert reader.bytes_read == 0  # the command is answered lazily
        tracemalloc.start()
        try:
            sizes = [len(r.data) for r in replies if isinstance(r, IDERDataToHost)]
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert sum(sizes) == reader.bytes_read == 128 * 1024 * 1024
        assert max(sizes) == 8192
        assert peak < 1024 * 1024


# -- mode sense


def test_mode_sense10_all_cd_pages(drives: IDERDriveSet) -> None:
    data = data_of(send(drives, CD, scsi.cdb_mode_sense10(0x3F)))
    length, medium, device_specific, block_descriptors = struct.unpack_from(">HBB2xH", data)
    assert length == len(data) - 2 and block_descriptors == 0 and device_specific == 0
    pages = []
    offset = 8
    while offset < len(data):
        pages.append(data[offset])
        offset += 2 + data[offset + 1]
    assert pages == [0x01, 0x1A, 0x2A] and offset == len(data)


def test_mode_sense_capabilities_page_shows_lock_state(drives: IDERDriveSet) -> None:
    before = data_of(send(drives, CD, scsi.cdb_mode_sense10(0x2A)))
    assert before[8] == 0x2A and before[9] == 0x14 and before[8 + 6] == 0x29
    send(drives, CD, scsi.cdb_prevent_allow_medium_removal(True))
    assert data_of(send(drives, CD, scsi.cdb_mode_sense10(0x2A)))[8 + 6] == 0x2B


def test_mode_sense6_floppy_geometry_page(drives: IDERDriveSet) -> None:
    data = data_of(send(drives, FLOPPY, scsi.cdb_mode_sense6(0x05)))
    assert data[0] == len(data) - 1 and data[2] == 0x80  # write-protected
    page = data[4:]
    assert page[0:2] == b"\x05\x1e" and len(page) == 32
    rate, heads, spt, sector_size, cylinders = struct.unpack_from(">HBBHH", page, 2)
    assert (rate, heads, spt, sector_size, cylinders) == (500, 2, 18, 512, 80)


def test_mode_sense_changeable_values_are_zero(drives: IDERDriveSet) -> None:
    data = data_of(send(drives, CD, scsi.cdb_mode_sense10(0x2A, page_control=1)))
    assert data[8:10] == b"\x2a\x14" and not any(data[10:])


@pytest.mark.parametrize(
    ("cdb", "sense"),
    [
        (scsi.cdb_mode_sense10(0x05), scsi.INVALID_FIELD_IN_CDB),  # floppy page on the CD
        (scsi.cdb_mode_sense10(0x2A, page_control=3), scsi.SAVING_PARAMETERS_NOT_SUPPORTED),
        (bytes((0x5A, 0, 0x2A, 0x01, 0, 0, 0, 0xFF, 0xFF)), scsi.INVALID_FIELD_IN_CDB),  # subpage
    ],
)
def test_mode_sense_errors(drives: IDERDriveSet, cdb: bytes, sense: Sense) -> None:
    assert sense_of(send(drives, CD, cdb)) == sense


def test_mode_sense_allocation_length(drives: IDERDriveSet) -> None:
    assert len(data_of(send(drives, CD, scsi.cdb_mode_sense10(0x3F, 8)))) == 8


# -- MMC: configuration and TOC


def _features(data: bytes) -> list[tuple[int, int]]:
    features, offset = [], 8
    while offset < len(data):
        code, flags, length = struct.unpack_from(">HBB", data, offset)
        features.append((code, flags))
        offset += 4 + length
    return features


def test_get_configuration_with_medium(drives: IDERDriveSet) -> None:
    data = data_of(send(drives, CD, scsi.cdb_get_configuration()))
    (length,) = struct.unpack_from(">I", data)
    assert length == len(data) - 4
    assert struct.unpack_from(">H", data, 6)[0] == 0x0008  # current profile CD-ROM
    assert [code for code, _ in _features(data)] == [0x0000, 0x0001, 0x0002, 0x0003, 0x0010, 0x001E]
    assert dict(_features(data))[0x0010] & 0x01  # random readable is current


def test_get_configuration_without_medium_and_request_types() -> None:
    drives = IDERDriveSet()
    data = data_of(send(drives, CD, scsi.cdb_get_configuration(request_type=1)))
    assert struct.unpack_from(">H", data, 6)[0] == 0  # no current profile
    assert 0x0010 not in dict(_features(data))  # not current without medium
    only = data_of(send(drives, CD, scsi.cdb_get_configuration(request_type=2, start_feature=0x0003)))
    assert [code for code, _ in _features(only)] == [0x0003]
    assert sense_of(send(drives, CD, scsi.cdb_get_configuration(request_type=3))) == scsi.INVALID_FIELD_IN_CDB


def test_read_toc_lba_and_msf(drives: IDERDriveSet) -> None:
    data = data_of(send(drives, CD, scsi.cdb_read_toc()))
    assert data[:4] == b"\x00\x12\x01\x01"
    assert data[4:12] == bytes((0, 0x14, 1, 0, 0, 0, 0, 0))
    assert data[12:16] == bytes((0, 0x14, 0xAA, 0)) and struct.unpack_from(">I", data, 16)[0] == 40
    msf = data_of(send(drives, CD, scsi.cdb_read_toc(msf=True)))
    assert msf[8:12] == bytes((0, 0, 2, 0))  # track 1 at 00:02:00
    assert msf[16:20] == bytes((0, *scsi.lba_to_msf(40)))
    session = data_of(send(drives, CD, scsi.cdb_read_toc(1)))
    assert session[:4] == b"\x00\x0a\x01\x01"


def test_read_toc_errors(drives: IDERDriveSet) -> None:
    assert sense_of(send(drives, CD, scsi.cdb_read_toc(track=5))) == scsi.INVALID_FIELD_IN_CDB
    assert sense_of(send(drives, CD, scsi.cdb_read_toc(fmt=2))) == scsi.INVALID_FIELD_IN_CDB


def test_mmc_commands_are_invalid_on_the_floppy(drives: IDERDriveSet) -> None:
    for cdb in (scsi.cdb_get_configuration(), scsi.cdb_read_toc()):
        assert sense_of(send(drives, FLOPPY, cdb)) == scsi.INVALID_COMMAND_OPERATION_CODE


def test_read_format_capacities_floppy(drives: IDERDriveSet) -> None:
    data = data_of(send(drives, FLOPPY, bytes((0x23, 0, 0, 0, 0, 0, 0, 0, 0xFC))))
    assert data[3] == 8 and struct.unpack_from(">I", data, 4)[0] == 2880 and data[8] == 2
    assert int.from_bytes(data[9:12], "big") == 512


# -- tray


def test_prevent_then_eject_is_refused(drives: IDERDriveSet) -> None:
    assert good(send(drives, CD, scsi.cdb_prevent_allow_medium_removal(True)))
    eject = scsi.cdb_start_stop_unit(start=False, load_eject=True)
    assert sense_of(send(drives, CD, eject)) == scsi.MEDIUM_REMOVAL_PREVENTED
    assert good(send(drives, CD, scsi.cdb_prevent_allow_medium_removal(False)))
    assert good(send(drives, CD, eject))
    assert good(send(drives, CD, scsi.cdb_start_stop_unit(start=True)))
    assert good(send(drives, CD, scsi.cdb_test_unit_ready()))  # the image stays in


# -- unknown commands


@pytest.mark.parametrize("opcode", [0x15, 0x4A, 0x51, 0x55, 0xBB, 0xFF])
def test_unknown_or_unsupported_commands_are_illegal_requests(drives: IDERDriveSet, opcode: int) -> None:
    sense = sense_of(send(drives, CD, bytes((opcode,))))
    assert sense == scsi.INVALID_COMMAND_OPERATION_CODE
    assert sense.key == SenseKey.ILLEGAL_REQUEST
    assert str(sense) == "ILLEGAL REQUEST: invalid command operation code (20/00)"


def test_non_packet_ata_command_is_refused(drives: IDERDriveSet) -> None:
    command = IDERCommandWritten(drive_select=0xB0, command=0xEC)  # IDENTIFY DEVICE
    (reply,) = drives.handle(command)
    assert isinstance(reply, IDERCommandEndResponse) and Sense(*reply.sense) == scsi.INVALID_COMMAND_OPERATION_CODE


def test_opcode_enum_carries_meanings() -> None:
    assert ScsiOpcode.READ_10.meaning.startswith("read blocks")
    assert ScsiOpcode.describe(0x28) == "READ_10 (0x28): read blocks, 32-bit LBA, 16-bit count"
    assert SenseKey.UNIT_ATTENTION.meaning
    assert str(Sense(0x0C, 0x99, 0x01)) == "sense key 0xc: ASC 0x99/0x01 (99/01)"


def test_ready_reply_matches_meshcommander_bytes() -> None:
    reply = IDERCommandEndResponse.good(Device.CD)
    assert reply.encode().hex() == "51000002" "00000000" + "00" * 12 + "c5000300" "0000b050" "000000"
