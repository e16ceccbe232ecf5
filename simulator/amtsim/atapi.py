"""The firmware's own half of the IDE-R drives: what AMT answers itself, and what it forwards.

AMT, not the console, emulates the IDE channel and the two ATAPI devices the host sees (a CD-ROM
as slave, a floppy as master).  Only what needs the medium travels to the console as a "command
written" (0x50).  Which commands those are is read off the public consoles used with real
firmware for years: MeshCommander (``amt-ider-ws``), MeshCentral (``amt/amt-ider-module.js``),
Intel's ui-toolkit (``IDERDataProcessor.ts``) and amtterm's ``amtider`` (``ider.c``).  Between
them they answer

    TEST UNIT READY 00, READ(6) 08, WRITE(6) 0A, MODE SENSE(6) 1A, START STOP UNIT 1B,
    PREVENT/ALLOW MEDIUM REMOVAL 1E, READ FORMAT CAPACITIES 23, READ CAPACITY 25, READ(10) 28,
    WRITE(10) 2A, WRITE AND VERIFY 2E, READ TOC 43, GET CONFIGURATION 46,
    GET EVENT STATUS NOTIFICATION 4A, READ DISC INFORMATION 51, MODE SELECT(10) 55,
    MODE SENSE(10) 5A, GET PERFORMANCE AC

and every one of them lacks INQUIRY (0x12) and REQUEST SENSE (0x03), commands no BIOS boots
without.  So the firmware answers those two itself, for CD and floppy alike:

* **INQUIRY**: the firmware knows what it emulates (peripheral type, removable medium); the
  identity strings of real firmware are not public, the simulator's are its own.
* **REQUEST SENSE**: the console reports a failure in its "command end" (0x51) with sense key,
  ASC and ASCQ; the firmware keeps that sense per drive and hands it out on REQUEST SENSE, once
  (SPC: sense is cleared when read, and by the next command that succeeds).

amtterm's ``amtider`` also refuses any ATA command other than PACKET (0xA0): commands on the ATA
level (IDENTIFY PACKET DEVICE and the like) never reach a console either.  The simulated BIOS
issues none, so nothing here models them.

:func:`firmware_flow` puts this front end between a BIOS flow (:class:`amtsim.bios.BiosBoot`) and
the console: the BIOS sees every answer, the console only the forwarded commands.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable

from amtkit.ider.scsi import INVALID_FIELD_IN_CDB, NO_SENSE, PeripheralType, ScsiOpcode, Sense
from amtkit.redirection.messages import (
    AtaStatus,
    Device,
    IDERCommandWritten,
    RedirectionMessage,
    RedirectionProtocolError,
)

from .bios import BiosBoot, BootResult, CommandOutcome, FirmwareFlow, ReplyAssembler

__all__ = ["FIRMWARE_OPCODES", "FirmwareDrives", "firmware_flow", "run_boot"]

FIRMWARE_OPCODES = frozenset({ScsiOpcode.INQUIRY, ScsiOpcode.REQUEST_SENSE})
"""SCSI commands the firmware answers itself; every other PACKET command goes to the console."""

_GOOD = AtaStatus.DRDY | AtaStatus.DSC
_CHECK_CONDITION = AtaStatus.DRDY | AtaStatus.DSC | AtaStatus.ERR
_VENDOR = b"AMTSIM  "
_PRODUCTS = {Device.CD: b"Virtual CDROM", Device.FLOPPY: b"Virtual Floppy"}
_REVISION = b"1.00"


def inquiry_data(device: Device) -> bytes:
    """36 bytes of standard INQUIRY data for the emulated ``device`` (removable, SPC-3)."""
    peripheral = PeripheralType.CD_DVD if device is Device.CD else PeripheralType.DIRECT_ACCESS
    header = bytes((peripheral, 0x80, 0x05, 0x02, 31, 0, 0, 0))  # RMB; version 5; format 2; 31 more bytes
    return header + _VENDOR + _PRODUCTS[device].ljust(16) + _REVISION


def fixed_sense_data(sense: Sense) -> bytes:
    """18 bytes of fixed-format sense data: current error (0x70), additional length 10."""
    return struct.pack(">BxB4xB4xBB4x", 0x70, sense.key, 10, sense.asc, sense.ascq)


class FirmwareDrives:
    """The firmware's state of the two drives: the sense each console failure left behind."""

    def __init__(self) -> None:
        self._sense: dict[Device, Sense] = {Device.CD: NO_SENSE, Device.FLOPPY: NO_SENSE}

    def sense(self, device: Device) -> Sense:
        """What REQUEST SENSE would report for ``device`` now."""
        return self._sense[device]

    def answer(self, command: IDERCommandWritten) -> CommandOutcome | None:
        """The firmware's own answer to ``command``, or ``None`` when it goes to the console."""
        if command.command != IDERCommandWritten.ATA_PACKET or command.opcode not in FIRMWARE_OPCODES:
            return None
        device = command.device
        cdb = command.cdb
        if command.opcode == ScsiOpcode.REQUEST_SENSE:
            sense, self._sense[device] = self._sense[device], NO_SENSE
            return CommandOutcome(data=fixed_sense_data(sense)[: cdb[4]], status=_GOOD)
        if cdb[1] & 0x01:  # EVPD: the emulated drives have no vital product data pages
            self._sense[device] = INVALID_FIELD_IN_CDB
            return CommandOutcome(data=b"", status=_CHECK_CONDITION, sense=INVALID_FIELD_IN_CDB)
        (allocation_length,) = struct.unpack_from(">H", cdb, 3)
        self._sense[device] = NO_SENSE
        return CommandOutcome(data=inquiry_data(device)[:allocation_length], status=_GOOD)

    def observe(self, command: IDERCommandWritten, outcome: CommandOutcome) -> None:
        """Remember how a forwarded command ended (its sense, for the next REQUEST SENSE)."""
        self._sense[command.device] = NO_SENSE if outcome.ok else outcome.sense


def firmware_flow(flow: FirmwareFlow, drives: FirmwareDrives) -> FirmwareFlow:
    """``flow`` as the console sees it: commands in :data:`FIRMWARE_OPCODES` are answered by
    ``drives`` on the spot, the others are yielded (forwarded) and their outcomes observed."""
    try:
        command = next(flow)
        while True:
            outcome = drives.answer(command)
            if outcome is None:
                outcome = yield command
                drives.observe(command, outcome)
            command = flow.send(outcome)
    except StopIteration as stop:
        result: BootResult = stop.value
        return result


def run_boot(
    boot: BiosBoot,
    transact: Callable[[IDERCommandWritten], Iterable[RedirectionMessage]],
    *,
    read_buffer_size: int = 8192,
    drives: FirmwareDrives | None = None,
) -> BootResult:
    """Drive ``boot`` to its result through the firmware front end: each forwarded command goes to
    ``transact``, which returns the console's reply messages for it (sequence numbers are the
    transport's business).

    Raises :class:`RedirectionProtocolError` if a reply is malformed or never completes.
    """
    flow = firmware_flow(boot.run(), drives or FirmwareDrives())
    try:
        command = next(flow)
        while True:
            assembler = ReplyAssembler(max_chunk=read_buffer_size, collect=boot.collects_data)
            outcome: CommandOutcome | None = None
            for message in transact(command):
                outcome = assembler.feed(message)
            if outcome is None:
                raise RedirectionProtocolError("the console's reply never completed the command")
            command = flow.send(outcome)
    except StopIteration as stop:
        result: BootResult = stop.value
        return result
