"""The simulator's BIOS boots real images from the console's IDERDriveSet, all in memory."""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Iterator

import pytest
from ider_images import BOOT_IMAGE_LBA, FailingFile, boot_catalog, el_torito_iso, floppy_image

from amtkit.ider import IDERDriveSet, IDERReply, ScsiOpcode, scsi
from amtkit.redirection.messages import (
    Device,
    Direction,
    IDERCommandEndResponse,
    IDERCommandWritten,
    IDERDataToHost,
    IDERHeartbeat,
    RedirectionDecoder,
    RedirectionMessage,
    RedirectionProtocolError,
    SequenceCounter,
)
from amtsim.atapi import run_boot
from amtsim.bios import (
    BiosBoot,
    BootResult,
    CommandOutcome,
    ElToritoEmulation,
    ReplyAssembler,
    parse_boot_catalog,
)

CD, FLOPPY = Device.CD, Device.FLOPPY


def boot(
    device: Device, *, cd: bytes | None = None, floppy: bytes | None = None, read_buffer_size: int = 8192
) -> BootResult:
    drives = IDERDriveSet(
        cd=io.BytesIO(cd) if cd is not None else None,
        floppy=io.BytesIO(floppy) if floppy is not None else None,
        read_buffer_size=read_buffer_size,
    )
    return run_boot(BiosBoot(device), drives.handle, read_buffer_size=read_buffer_size)


def pycdlib_iso(*, el_torito: bool, boot_size: int = 2048) -> bytes:
    pycdlib = pytest.importorskip("pycdlib")
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=1, vol_ident="AMTKIT_LIVE")
    code = b"\xfa\xeb\xfe".ljust(boot_size, b"\x90")
    iso.add_fp(io.BytesIO(code), len(code), "/BOOT.IMG;1")
    iso.add_fp(io.BytesIO(b"hello\n"), 6, "/README.TXT;1")
    if el_torito:
        iso.add_eltorito("/BOOT.IMG;1", bootcatfile="/BOOT.CAT;1")
    out = io.BytesIO()
    iso.write_fp(out)
    iso.close()
    return out.getvalue()


# -- CDs


def test_pycdlib_el_torito_iso_boots() -> None:
    result = boot(CD, cd=pycdlib_iso(el_torito=True))
    assert result.booted and result.reason is None
    assert result.volume_id == "AMTKIT_LIVE"
    assert result.boot_image_found and result.emulation is ElToritoEmulation.NO_EMULATION
    assert result.boot_image_sectors == 4 and result.boot_image_lba is not None and result.loaded_bytes == 2048


def test_pycdlib_iso_without_el_torito_fails_with_a_clear_reason() -> None:
    result = boot(CD, cd=pycdlib_iso(el_torito=False))
    assert not result.booted and not result.boot_image_found
    assert result.volume_id == "AMTKIT_LIVE"
    assert result.reason is not None and "no El Torito boot record at sector 17" in result.reason


def test_hand_built_iso_boots_and_reads_the_whole_boot_image() -> None:
    iso = el_torito_iso(volume_id="HANDMADE", boot_image_sectors=5)
    bios = BiosBoot(CD, max_sectors_per_read=2)
    drives = IDERDriveSet(cd=io.BytesIO(iso), read_buffer_size=1024)
    reads: list[int] = []

    def transact(command: IDERCommandWritten) -> list[IDERReply]:
        replies = list(drives.handle(command))
        if command.opcode == ScsiOpcode.READ_10:
            reads.append(int.from_bytes(command.cdb[7:9], "big"))
            assert all(len(r.data) <= 1024 for r in replies if isinstance(r, IDERDataToHost))
        return replies

    result = run_boot(bios, transact, read_buffer_size=1024)
    assert result == BootResult(
        booted=True, device=CD, volume_id="HANDMADE", boot_image_found=True, boot_image_lba=BOOT_IMAGE_LBA,
        boot_image_sectors=20, emulation=ElToritoEmulation.NO_EMULATION, loaded_bytes=5 * 2048,
    )
    assert reads == [1, 1, 1, 2, 2, 1]  # PVD, boot record, catalog, then the image 2 sectors at a time


def test_boot_sequence_is_what_a_bios_sends() -> None:
    drives = IDERDriveSet(cd=io.BytesIO(el_torito_iso()))
    opcodes: list[int] = []

    def transact(command: IDERCommandWritten) -> Iterator[IDERReply]:
        assert command.command == 0xA0 and command.drive_select == 0xB0
        opcodes.append(command.opcode)
        return drives.handle(command)

    assert run_boot(BiosBoot(CD), transact).booted
    tur, capacity, read = 0x00, 0x25, 0x28
    # A fresh medium answers UNIT ATTENTION first; the BIOS asks why (REQUEST SENSE, answered by the
    # firmware from the console's sense), then retries; INQUIRY is the firmware's too.
    assert opcodes == [tur, tur, capacity, read, read, read, read]


@pytest.mark.parametrize(
    ("catalog", "reason"),
    [
        (boot_catalog(bootable=False), "initial entry is not bootable"),
        (boot_catalog(corrupt_checksum=True), "checksum"),
        (boot_catalog(key=b"\x00\x00"), "key is 0000"),
        (boot_catalog(platform=0xEF), "platform 0xef"),
        (boot_catalog(media=7), "unknown media type 7"),
        (boot_catalog(load_rba=5000), "runs past the end"),
    ],
    ids=["not-bootable", "bad-checksum", "bad-key", "efi-only", "bad-media", "image-past-end"],
)
def test_broken_boot_catalogs_fail_with_reasons(catalog: bytes, reason: str) -> None:
    result = boot(CD, cd=el_torito_iso(catalog=catalog))
    assert not result.booted
    assert result.reason is not None and reason in result.reason
    assert result.volume_id == "AMTKIT_BOOT"


def test_emulated_floppy_boot_image() -> None:
    result = boot(CD, cd=el_torito_iso(catalog=boot_catalog(media=2, sector_count=1)))
    assert result.booted and result.emulation is ElToritoEmulation.FLOPPY_1_44M and result.loaded_bytes == 2048


def test_non_el_torito_boot_record() -> None:
    iso = bytearray(el_torito_iso())
    iso[17 * 2048 + 7 : 17 * 2048 + 39] = b"SOMETHING ELSE".ljust(32, b"\0")
    result = boot(CD, cd=bytes(iso))
    assert result.reason is not None and "not El Torito" in result.reason


def test_not_an_iso() -> None:
    result = boot(CD, cd=bytes(40 * 2048))
    assert not result.booted and result.volume_id is None
    assert result.reason == "not an ISO 9660 CD: no primary volume descriptor at sector 16"


def test_tiny_cd_image() -> None:
    result = boot(CD, cd=bytes(4 * 2048))
    assert result.reason is not None and "too small" in result.reason


def test_empty_cd_drive() -> None:
    result = boot(CD, floppy=floppy_image())
    assert not result.booted
    assert result.reason == "no medium in the IDE-R CD drive (NOT READY: medium not present (3A/00))"


# -- floppies


def test_floppy_with_boot_signature_boots() -> None:
    result = boot(FLOPPY, floppy=floppy_image(label="RESCUE"))
    assert result == BootResult(
        booted=True, device=FLOPPY, volume_id="RESCUE", boot_image_found=True, boot_image_lba=0,
        boot_image_sectors=1, loaded_bytes=512,
    )


def test_floppy_without_boot_signature_fails() -> None:
    result = boot(FLOPPY, floppy=floppy_image(signature=False))
    assert not result.booted and not result.boot_image_found
    assert result.reason == "floppy is not bootable: boot sector ends 0000, not 55aa"
    assert result.volume_id == "AMTKITBOOT"


def test_floppy_boot_ignores_the_cd() -> None:
    result = boot(FLOPPY, cd=el_torito_iso())
    assert result.reason is not None and "no medium in the IDE-R floppy drive" in result.reason


# -- the whole path as bytes, split at random points


def test_boot_over_encoded_bytes_with_sequence_numbers_and_random_splits() -> None:
    rng = random.Random(1994)
    drives = IDERDriveSet(cd=io.BytesIO(el_torito_iso(boot_image_sectors=6)), read_buffer_size=1500)
    console_in = RedirectionDecoder(direction=Direction.TO_CONSOLE)
    firmware_in = RedirectionDecoder(direction=Direction.TO_FIRMWARE)
    firmware_out, console_out = SequenceCounter(), SequenceCounter()
    console_expect, firmware_expect = SequenceCounter(), SequenceCounter()

    def split(raw: bytes) -> Iterator[bytes]:
        pos = 0
        while pos < len(raw):
            step = rng.randint(1, 700)
            yield raw[pos : pos + step]
            pos += step

    def transact(command: IDERCommandWritten) -> Iterator[RedirectionMessage]:
        wire = firmware_out.stamp(command).encode()
        for piece in split(wire):
            for received in console_in.feed(piece):
                assert isinstance(received, IDERCommandWritten)
                console_expect.check(received)
                reply_bytes = b"".join(console_out.stamp(r).encode() for r in drives.handle(received))
                # interleave a heartbeat, as a live session would; the transport filters it out
                reply_bytes += console_out.stamp(IDERHeartbeat()).encode()
                for chunk in split(reply_bytes):
                    for message in firmware_in.feed(chunk):
                        firmware_expect.check(message)  # type: ignore[arg-type]
                        if not isinstance(message, IDERHeartbeat):
                            yield message

    result = run_boot(BiosBoot(CD, max_sectors_per_read=4), transact, read_buffer_size=1500)
    assert result.booted and result.loaded_bytes == 6 * 2048
    console_in.close()
    firmware_in.close()


# -- protocol checks on the firmware side


def _outcome(messages: list[RedirectionMessage], **kwargs: int) -> CommandOutcome | None:
    assembler = ReplyAssembler(**kwargs)
    outcome = None
    for message in messages:
        outcome = assembler.feed(message)
    return outcome


def test_assembler_collects_chunks() -> None:
    outcome = _outcome([
        IDERDataToHost.chunk(CD, b"ab", completed=False),
        IDERDataToHost.chunk(CD, b"cd", completed=True),
    ])
    assert outcome == CommandOutcome(data=b"abcd", status=0x50)
    assert outcome.ok


def test_assembler_reports_sense() -> None:
    outcome = _outcome([IDERCommandEndResponse.check_condition(CD, 5, 0x24)])
    assert outcome is not None and not outcome.ok and outcome.sense == scsi.INVALID_FIELD_IN_CDB


@pytest.mark.parametrize(
    ("messages", "limits", "match"),
    [
        ([IDERDataToHost.chunk(CD, bytes(600), completed=True)], {"max_chunk": 512}, "read buffer"),
        ([IDERDataToHost.chunk(CD, bytes(600), completed=False)] * 2, {"max_total": 1000}, "limit"),
        ([IDERCommandEndResponse.good(CD), IDERCommandEndResponse.good(CD)], {}, "after the command completed"),
        ([IDERHeartbeat()], {}, "not a command reply"),
    ],
    ids=["chunk-too-big", "total-too-big", "after-completion", "not-a-reply"],
)
def test_assembler_rejects_misbehaving_consoles(
    messages: list[RedirectionMessage], limits: dict[str, int], match: str
) -> None:
    with pytest.raises(RedirectionProtocolError, match=match):
        _outcome(messages, **limits)


def test_run_boot_rejects_a_reply_that_never_completes() -> None:
    with pytest.raises(RedirectionProtocolError, match="never completed"):
        run_boot(BiosBoot(CD), lambda command: [IDERDataToHost.chunk(CD, b"x", completed=False)])


def _console(
    drives: IDERDriveSet, tamper: Callable[[IDERCommandWritten, list[IDERReply]], list[IDERReply]]
) -> Callable[[IDERCommandWritten], list[IDERReply]]:
    return lambda command: tamper(command, list(drives.handle(command)))


def test_device_that_keeps_reporting_unit_attention() -> None:
    unit_attention = scsi.MEDIUM_MAY_HAVE_CHANGED

    def console(command: IDERCommandWritten) -> list[IDERReply]:
        assert command.opcode == ScsiOpcode.TEST_UNIT_READY
        return [IDERCommandEndResponse.check_condition(CD, *unit_attention)]

    result = run_boot(BiosBoot(CD, unit_attention_retries=2), console)
    assert result.reason == "the IDE-R CD drive kept reporting UNIT ATTENTION"


def test_short_read_is_a_boot_failure() -> None:
    drives = IDERDriveSet(cd=io.BytesIO(el_torito_iso()))

    def tamper(command: IDERCommandWritten, replies: list[IDERReply]) -> list[IDERReply]:
        if command.opcode == ScsiOpcode.READ_10:
            return [IDERDataToHost.chunk(CD, b"short", completed=True)]
        return replies

    result = run_boot(BiosBoot(CD), _console(drives, tamper))
    assert result.reason == "reading the primary volume descriptor returned 5 bytes, expected 2048"


def test_failed_read_reports_the_sense_from_request_sense() -> None:
    failing = FailingFile(el_torito_iso(), fail_after=17 * 2048)
    result = run_boot(BiosBoot(CD), IDERDriveSet(cd=failing).handle)
    assert result.reason == "reading the boot record failed on the CD: MEDIUM ERROR: unrecovered read error (11/00)"
    assert result.volume_id == "AMTKIT_BOOT"


def test_catalog_parser_rejects_short_input() -> None:
    with pytest.raises(ValueError):
        parse_boot_catalog(b"\x01")


def test_bios_rejects_bad_options() -> None:
    with pytest.raises(ValueError):
        BiosBoot(CD, max_sectors_per_read=0)
