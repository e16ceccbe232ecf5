"""The simulated firmware answers INQUIRY and REQUEST SENSE itself and forwards the rest.

Expectations are literal SCSI bytes (SPC-3) and the command set public consoles implement; see
``amtsim.atapi`` for the evidence.
"""

from __future__ import annotations

import io

import pytest
from ider_images import el_torito_iso, floppy_image

from amtkit.ider import IDERDriveSet, IDERReply, Sense
from amtkit.redirection.messages import Device, IDERCommandEndResponse, IDERCommandWritten
from amtsim.atapi import FIRMWARE_OPCODES, FirmwareDrives, firmware_flow, run_boot
from amtsim.bios import BiosBoot, CommandOutcome

CD, FLOPPY = Device.CD, Device.FLOPPY

# Every SCSI opcode MeshCommander, MeshCentral, ui-toolkit or amtider answer (the forwarded set).
CONSOLE_OPCODES = {0x00, 0x08, 0x0A, 0x1A, 0x1B, 0x1E, 0x23, 0x25, 0x28, 0x2A, 0x2E, 0x43, 0x46, 0x4A, 0x51, 0x55,
                   0x5A, 0xAC}
GOOD = 0x50  # DRDY | DSC
CHECK_CONDITION = 0x51  # DRDY | DSC | ERR


def packet(device: Device, *cdb: int) -> IDERCommandWritten:
    return IDERCommandWritten.packet(device, bytes(cdb).ljust(12, b"\0"))


def test_the_firmware_answers_exactly_inquiry_and_request_sense() -> None:
    assert set(FIRMWARE_OPCODES) == {0x12, 0x03}
    assert not CONSOLE_OPCODES & set(FIRMWARE_OPCODES)


@pytest.mark.parametrize(("device", "peripheral"), [(CD, 0x05), (FLOPPY, 0x00)], ids=["cd", "floppy"])
def test_inquiry_is_answered_by_the_firmware(device: Device, peripheral: int) -> None:
    outcome = FirmwareDrives().answer(packet(device, 0x12, 0, 0, 0, 36))
    assert outcome is not None and outcome.status == GOOD
    data = outcome.data
    assert len(data) == 36
    assert data[0] == peripheral and data[1] == 0x80  # device type; removable medium
    assert data[4] == 31  # additional length: 36-byte standard data


def test_inquiry_honours_the_allocation_length_and_refuses_vpd_pages() -> None:
    drives = FirmwareDrives()
    short = drives.answer(packet(CD, 0x12, 0, 0, 0, 5))
    assert short is not None and len(short.data) == 5
    vpd = drives.answer(packet(CD, 0x12, 0x01, 0x80, 0, 36))
    assert vpd is not None and vpd.status == CHECK_CONDITION and tuple(vpd.sense) == (0x05, 0x24, 0x00)


def test_request_sense_reports_the_consoles_last_failure_once() -> None:
    drives = FirmwareDrives()
    read = packet(CD, 0x28, 0, 0, 0, 0, 17, 0, 0, 1)
    drives.observe(read, CommandOutcome(data=b"", status=CHECK_CONDITION, sense=Sense(0x03, 0x11, 0x00)))
    first = drives.answer(packet(CD, 0x03, 0, 0, 0, 18))
    assert first is not None and first.status == GOOD
    assert first.data == bytes((0x70, 0, 0x03, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x11, 0x00, 0, 0, 0, 0))
    again = drives.answer(packet(CD, 0x03, 0, 0, 0, 18))
    assert again is not None and again.data[2] == 0 and again.data[12:14] == b"\0\0"


def test_sense_is_kept_per_drive_and_cleared_by_success() -> None:
    drives = FirmwareDrives()
    tur = packet(FLOPPY, 0x00)
    drives.observe(tur, CommandOutcome(data=b"", status=CHECK_CONDITION, sense=Sense(0x02, 0x3A, 0x00)))
    cd_sense = drives.answer(packet(CD, 0x03, 0, 0, 0, 18))
    assert cd_sense is not None and cd_sense.data[2] == 0
    drives.observe(tur, CommandOutcome(data=b"", status=GOOD))
    floppy_sense = drives.answer(packet(FLOPPY, 0x03, 0, 0, 0, 18))
    assert floppy_sense is not None and floppy_sense.data[2] == 0


def test_media_commands_and_non_packet_commands_are_not_the_firmwares() -> None:
    drives = FirmwareDrives()
    for opcode in CONSOLE_OPCODES:
        assert drives.answer(packet(CD, opcode)) is None
    assert drives.answer(IDERCommandWritten(drive_select=0xB0, command=0xEC, cdb=bytes(12))) is None


@pytest.mark.parametrize("device", [CD, FLOPPY], ids=["cd", "floppy"])
def test_a_boot_forwards_only_commands_public_consoles_implement(device: Device) -> None:
    image = {CD: el_torito_iso(), FLOPPY: floppy_image()}[device]
    drives = IDERDriveSet(**{"cd" if device is CD else "floppy": io.BytesIO(image)})
    forwarded: list[int] = []

    def console(command: IDERCommandWritten) -> list[IDERReply]:
        forwarded.append(command.opcode)
        return list(drives.handle(command))

    assert run_boot(BiosBoot(device), console).booted
    assert forwarded and set(forwarded) <= CONSOLE_OPCODES


def test_a_console_that_reports_failures_only_in_the_command_end_still_boots() -> None:
    # The consoles' way: a fresh medium answers TEST UNIT READY with UNIT ATTENTION in the 0x51
    # message and never sees a REQUEST SENSE; the BIOS learns the sense from the firmware.
    drives = IDERDriveSet(cd=io.BytesIO(el_torito_iso()))
    seen: list[tuple[int, tuple[int, int, int]]] = []

    def console(command: IDERCommandWritten) -> list[IDERReply]:
        replies = list(drives.handle(command))
        last = replies[-1]
        sense = last.sense if isinstance(last, IDERCommandEndResponse) else (0, 0, 0)
        seen.append((command.opcode, sense))
        return replies

    assert run_boot(BiosBoot(CD), console).booted
    assert seen[0] == (0x00, (0x06, 0x28, 0x00))  # UNIT ATTENTION: medium may have changed
    assert 0x03 not in [opcode for opcode, _ in seen]


def test_firmware_flow_returns_the_bios_result() -> None:
    flow = firmware_flow(BiosBoot(CD).run(), FirmwareDrives())
    command = next(flow)
    assert command.opcode == 0x00  # TEST UNIT READY goes out first; INQUIRY never does
    with pytest.raises(StopIteration) as stop:
        flow.send(CommandOutcome(data=b"", status=CHECK_CONDITION, sense=Sense(0x02, 0x3A, 0x00)))
    assert "no medium in the IDE-R CD drive" in (stop.value.value.reason or "")
