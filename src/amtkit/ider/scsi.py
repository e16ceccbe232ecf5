"""The console side of IDE-R: an ATAPI CD-ROM and floppy answering the host's SCSI commands.

When the host BIOS (or an OS driver) talks to the IDE-R drives, AMT forwards each ATA
PACKET command to the console as an IDE-R "command written" message (0x50) carrying the
12-byte SCSI CDB.  :class:`IDERDriveSet` plays the drives: it answers every command with
IDE-R messages, either

* one or more "data to host" messages (0x54), each at most the firmware's read buffer, the
  last flagged COMPLETED and carrying the good status; or
* one "command end" message (0x51): GOOD, or CHECK CONDITION with sense key / ASC / ASCQ.

The console answers only what the firmware forwards: everything that needs the medium.  AMT
answers INQUIRY and REQUEST SENSE itself (no public console implements them, and they work with
real firmware): a failed command's sense travels in the "command end" message, and the firmware
hands it to the host on REQUEST SENSE.  So :class:`ScsiDrive` refuses both as unknown commands,
like MeshCommander does (see ``docs/ider.md``).  A newly inserted medium reports UNIT ATTENTION
"medium may have changed" once (BIOSes retry on it).

The same module also builds CDBs and parses the responses (``cdb_*``, ``parse_*``), so the
firmware side (the simulator's BIOS) speaks exactly the layouts the console answers.

Standards: SPC-3 (INQUIRY, REQUEST SENSE, MODE SENSE, sense keys), SBC-2 (READ, READ
CAPACITY), MMC-3 (GET CONFIGURATION, READ TOC, CD mode pages), SFF-8070i (floppy pages,
READ FORMAT CAPACITIES).  All CDB and response integers are big-endian.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, NamedTuple, TypeAlias

from amtkit.ider.image import DiskImage, FloppyGeometry, ImageRangeError
from amtkit.redirection.messages import (
    DescribedIntEnum,
    Device,
    IDERCommandEndResponse,
    IDERCommandWritten,
    IDERDataToHost,
    StartIDERRedirectionReply,
)

__all__ = [
    "IDERDriveSet",
    "IDERReply",
    "InquiryData",
    "PeripheralType",
    "ScsiDrive",
    "ScsiOpcode",
    "ScsiResponse",
    "Sense",
    "SenseKey",
    "NO_SENSE",
    "MEDIUM_NOT_PRESENT",
    "MEDIUM_MAY_HAVE_CHANGED",
    "INVALID_COMMAND_OPERATION_CODE",
    "LBA_OUT_OF_RANGE",
    "INVALID_FIELD_IN_CDB",
    "SAVING_PARAMETERS_NOT_SUPPORTED",
    "MEDIUM_REMOVAL_PREVENTED",
    "WRITE_PROTECTED",
    "UNRECOVERED_READ_ERROR",
    "cdb_get_configuration",
    "cdb_inquiry",
    "cdb_mode_sense6",
    "cdb_mode_sense10",
    "cdb_prevent_allow_medium_removal",
    "cdb_read10",
    "cdb_read12",
    "cdb_read_capacity",
    "cdb_read_toc",
    "cdb_request_sense",
    "cdb_start_stop_unit",
    "cdb_test_unit_ready",
    "lba_to_msf",
    "parse_inquiry",
    "parse_read_capacity",
    "parse_sense",
    "read_extent",
]


class ScsiOpcode(DescribedIntEnum):
    """Byte 0 of a CDB: the commands a BIOS or OS sends to the IDE-R drives."""

    TEST_UNIT_READY = 0x00, "is a medium present and ready? (no data)"
    REQUEST_SENSE = 0x03, "fetch the sense of the last failed command"
    READ_6 = 0x08, "read blocks, 21-bit LBA, 8-bit count (0 = 256)"
    INQUIRY = 0x12, "device type, removable bit, vendor/product strings"
    MODE_SELECT_6 = 0x15, "change mode parameters (not supported: read-only drives)"
    MODE_SENSE_6 = 0x1A, "read mode parameter pages, 6-byte form"
    START_STOP_UNIT = 0x1B, "spin up/down, load/eject"
    PREVENT_ALLOW_MEDIUM_REMOVAL = 0x1E, "lock/unlock the tray"
    READ_FORMAT_CAPACITIES = 0x23, "floppy: formatted capacity list (SFF-8070i)"
    READ_CAPACITY_10 = 0x25, "last LBA and block size"
    READ_10 = 0x28, "read blocks, 32-bit LBA, 16-bit count"
    WRITE_10 = 0x2A, "write blocks (refused: the media are write-protected)"
    WRITE_AND_VERIFY_10 = 0x2E, "write and verify (refused: write-protected)"
    READ_TOC = 0x43, "CD table of contents / session info"
    GET_CONFIGURATION = 0x46, "MMC profiles and features"
    GET_EVENT_STATUS_NOTIFICATION = 0x4A, "media events (not supported)"
    READ_DISC_INFORMATION = 0x51, "recordable disc info (not supported)"
    MODE_SELECT_10 = 0x55, "change mode parameters (not supported)"
    MODE_SENSE_10 = 0x5A, "read mode parameter pages, 10-byte form"
    READ_12 = 0xA8, "read blocks, 32-bit LBA, 32-bit count"


class SenseKey(DescribedIntEnum):
    """SPC sense keys (bits 3-0 of byte 2 of fixed sense data)."""

    NO_SENSE = 0x0, "no error"
    RECOVERED_ERROR = 0x1, "succeeded after recovery"
    NOT_READY = 0x2, "medium absent or not ready"
    MEDIUM_ERROR = 0x3, "unrecoverable error reading the medium"
    HARDWARE_ERROR = 0x4, "device failure"
    ILLEGAL_REQUEST = 0x5, "bad opcode, field or address in the command"
    UNIT_ATTENTION = 0x6, "medium changed or device reset since last command"
    DATA_PROTECT = 0x7, "write-protected"
    BLANK_CHECK = 0x8, "blank medium"
    VENDOR_SPECIFIC = 0x9, "vendor specific"
    COPY_ABORTED = 0xA, "copy aborted"
    ABORTED_COMMAND = 0xB, "command aborted by the device"
    VOLUME_OVERFLOW = 0xD, "end of partition reached"
    MISCOMPARE = 0xE, "verify mismatch"


_ASC_MEANINGS: dict[tuple[int, int], str] = {
    (0x00, 0x00): "no additional sense information",
    (0x11, 0x00): "unrecovered read error",
    (0x20, 0x00): "invalid command operation code",
    (0x21, 0x00): "logical block address out of range",
    (0x24, 0x00): "invalid field in CDB",
    (0x27, 0x00): "write protected",
    (0x28, 0x00): "not ready to ready change, medium may have changed",
    (0x39, 0x00): "saving parameters not supported",
    (0x3A, 0x00): "medium not present",
    (0x53, 0x02): "medium removal prevented",
}


class Sense(NamedTuple):
    """Sense key, additional sense code and qualifier of a CHECK CONDITION."""

    key: int
    asc: int = 0
    ascq: int = 0

    @property
    def meaning(self) -> str:
        return _ASC_MEANINGS.get((self.asc, self.ascq), f"ASC {self.asc:#04x}/{self.ascq:#04x}")

    def __str__(self) -> str:
        try:
            key = SenseKey(self.key).name.replace("_", " ")
        except ValueError:
            key = f"sense key {self.key:#x}"
        return f"{key}: {self.meaning} ({self.asc:02X}/{self.ascq:02X})"


NO_SENSE = Sense(SenseKey.NO_SENSE)
MEDIUM_NOT_PRESENT = Sense(SenseKey.NOT_READY, 0x3A, 0x00)
MEDIUM_MAY_HAVE_CHANGED = Sense(SenseKey.UNIT_ATTENTION, 0x28, 0x00)
INVALID_COMMAND_OPERATION_CODE = Sense(SenseKey.ILLEGAL_REQUEST, 0x20, 0x00)
LBA_OUT_OF_RANGE = Sense(SenseKey.ILLEGAL_REQUEST, 0x21, 0x00)
INVALID_FIELD_IN_CDB = Sense(SenseKey.ILLEGAL_REQUEST, 0x24, 0x00)
SAVING_PARAMETERS_NOT_SUPPORTED = Sense(SenseKey.ILLEGAL_REQUEST, 0x39, 0x00)
MEDIUM_REMOVAL_PREVENTED = Sense(SenseKey.ILLEGAL_REQUEST, 0x53, 0x02)
WRITE_PROTECTED = Sense(SenseKey.DATA_PROTECT, 0x27, 0x00)
UNRECOVERED_READ_ERROR = Sense(SenseKey.MEDIUM_ERROR, 0x11, 0x00)


class PeripheralType(DescribedIntEnum):
    """INQUIRY byte 0, bits 4-0."""

    DIRECT_ACCESS = 0x00, "block device (the IDE-R floppy)"
    CD_DVD = 0x05, "CD/DVD device (the IDE-R CD-ROM)"


# MMC profile and feature codes used by GET CONFIGURATION.
_PROFILE_CD_ROM = 0x0008
_FEATURE_PROFILE_LIST = 0x0000
_FEATURE_CORE = 0x0001
_FEATURE_MORPHING = 0x0002
_FEATURE_REMOVABLE_MEDIUM = 0x0003
_FEATURE_RANDOM_READABLE = 0x0010
_FEATURE_CD_READ = 0x001E
_INTERFACE_ATAPI = 0x00000002
_LEADOUT_TRACK = 0xAA
_TOC_CONTROL_DATA_TRACK = 0x14  # ADR 1 (position), control 4 (data track)


# --------------------------------------------------------------------------------------------
# CDB builders and response parsers (used by the firmware side and by tests)


def cdb_test_unit_ready() -> bytes:
    return bytes(12)


def cdb_request_sense(allocation_length: int = 18) -> bytes:
    return struct.pack(">B3xB7x", ScsiOpcode.REQUEST_SENSE, allocation_length)


def cdb_inquiry(allocation_length: int = 36) -> bytes:
    return struct.pack(">B2xH7x", ScsiOpcode.INQUIRY, allocation_length)


def cdb_read_capacity() -> bytes:
    return struct.pack(">B11x", ScsiOpcode.READ_CAPACITY_10)


def cdb_read10(lba: int, count: int) -> bytes:
    return struct.pack(">BxIxH3x", ScsiOpcode.READ_10, lba, count)


def cdb_read12(lba: int, count: int) -> bytes:
    return struct.pack(">BxII2x", ScsiOpcode.READ_12, lba, count)


def cdb_mode_sense6(page: int, allocation_length: int = 0xFF, *, page_control: int = 0) -> bytes:
    return struct.pack(">BxBxB7x", ScsiOpcode.MODE_SENSE_6, (page_control << 6) | page, allocation_length)


def cdb_mode_sense10(page: int, allocation_length: int = 0xFFFF, *, page_control: int = 0) -> bytes:
    return struct.pack(">BxB4xH3x", ScsiOpcode.MODE_SENSE_10, (page_control << 6) | page, allocation_length)


def cdb_get_configuration(request_type: int = 0, start_feature: int = 0, allocation_length: int = 0xFFFF) -> bytes:
    return struct.pack(">BBH3xH3x", ScsiOpcode.GET_CONFIGURATION, request_type, start_feature, allocation_length)


def cdb_read_toc(fmt: int = 0, *, msf: bool = False, track: int = 0, allocation_length: int = 0xFFFF) -> bytes:
    return struct.pack(
        ">BBB3xBH3x", ScsiOpcode.READ_TOC, 0x02 if msf else 0, fmt, track, allocation_length
    )


def cdb_prevent_allow_medium_removal(prevent: bool) -> bytes:
    return struct.pack(">B3xB7x", ScsiOpcode.PREVENT_ALLOW_MEDIUM_REMOVAL, 1 if prevent else 0)


def cdb_start_stop_unit(*, start: bool, load_eject: bool = False) -> bytes:
    return struct.pack(">B3xB7x", ScsiOpcode.START_STOP_UNIT, (0x02 if load_eject else 0) | (0x01 if start else 0))


_READ_OPCODES = (ScsiOpcode.READ_6, ScsiOpcode.READ_10, ScsiOpcode.READ_12)


def read_extent(cdb: bytes) -> tuple[int, int] | None:
    """(first LBA, block count) of a READ(6/10/12) CDB; ``None`` for any other command."""
    opcode = cdb[0]
    if opcode not in _READ_OPCODES:
        return None
    if opcode == ScsiOpcode.READ_6:
        return int.from_bytes(cdb[1:4], "big") & 0x1FFFFF, cdb[4] or 256
    if opcode == ScsiOpcode.READ_10:
        lba, count = struct.unpack_from(">IxH", cdb, 2)
    else:
        lba, count = struct.unpack_from(">II", cdb, 2)
    return int(lba), int(count)


def parse_read_capacity(data: bytes) -> tuple[int, int]:
    """(last LBA, block size) from READ CAPACITY(10) data. Raises ``ValueError`` if short."""
    if len(data) < 8:
        raise ValueError(f"READ CAPACITY data is {len(data)} bytes, expected 8")
    last_lba, block_size = struct.unpack_from(">II", data)
    return int(last_lba), int(block_size)


@dataclass(frozen=True)
class InquiryData:
    """The fields of standard INQUIRY data a BIOS looks at."""

    peripheral_type: int
    removable: bool
    vendor: str
    product: str
    revision: str


def parse_inquiry(data: bytes) -> InquiryData:
    """Parse standard INQUIRY data (at least 36 bytes). Raises ``ValueError`` if short."""
    if len(data) < 36:
        raise ValueError(f"INQUIRY data is {len(data)} bytes, expected 36")

    def text(raw: bytes) -> str:
        return raw.decode("ascii", "replace").strip()

    return InquiryData(
        peripheral_type=data[0] & 0x1F, removable=bool(data[1] & 0x80), vendor=text(data[8:16]),
        product=text(data[16:32]), revision=text(data[32:36]),
    )


def parse_sense(data: bytes) -> Sense:
    """Sense from fixed-format sense data (REQUEST SENSE). Raises ``ValueError`` if short."""
    if len(data) < 14:
        raise ValueError(f"sense data is {len(data)} bytes, expected at least 14")
    return Sense(data[2] & 0x0F, data[12], data[13])


def lba_to_msf(lba: int) -> tuple[int, int, int]:
    """Minute/second/frame of a logical block (75 frames a second, 2-second lead-in)."""
    frames = lba + 150
    return frames // (60 * 75), (frames // 75) % 60, frames % 75


# --------------------------------------------------------------------------------------------
# the SCSI target


class _CheckCondition(Exception):
    def __init__(self, sense: Sense) -> None:
        super().__init__(str(sense))
        self.sense = sense


@dataclass
class ScsiResponse:
    """What one command produced: ``length`` bytes of data in ``chunks`` (lazy), or a sense.

    ``sense`` other than :data:`NO_SENSE` means CHECK CONDITION (and then there is no data).
    """

    sense: Sense = NO_SENSE
    length: int = 0
    chunks: Iterator[bytes] = field(default_factory=lambda: iter(()))

    @property
    def good(self) -> bool:
        return self.sense == NO_SENSE


def _split(data: bytes, chunk_size: int) -> Iterator[bytes]:
    for offset in range(0, len(data), chunk_size):
        yield data[offset : offset + chunk_size]


class ScsiDrive:
    """One read-only ATAPI drive (CD-ROM or floppy) over an optional :class:`DiskImage`.

    :meth:`execute` runs one CDB the firmware forwarded; state kept between commands: the pending
    unit attention and the medium-removal lock.
    """

    def __init__(self, device: Device, image: DiskImage | None, *, report_media_change: bool = True) -> None:
        self.device = device
        self.image = image
        self.unit_attention = report_media_change and self.has_medium
        self.removal_prevented = False
        self._handlers: dict[int, Callable[[bytes, int], ScsiResponse]] = {
            ScsiOpcode.TEST_UNIT_READY: self._test_unit_ready,
            ScsiOpcode.READ_CAPACITY_10: self._read_capacity,
            ScsiOpcode.READ_6: self._read,
            ScsiOpcode.READ_10: self._read,
            ScsiOpcode.READ_12: self._read,
            ScsiOpcode.MODE_SENSE_6: self._mode_sense,
            ScsiOpcode.MODE_SENSE_10: self._mode_sense,
            ScsiOpcode.PREVENT_ALLOW_MEDIUM_REMOVAL: self._prevent_allow,
            ScsiOpcode.START_STOP_UNIT: self._start_stop,
            ScsiOpcode.WRITE_10: self._write,
            ScsiOpcode.WRITE_AND_VERIFY_10: self._write,
        }
        if device is Device.CD:
            self._handlers[ScsiOpcode.GET_CONFIGURATION] = self._get_configuration
            self._handlers[ScsiOpcode.READ_TOC] = self._read_toc
        else:
            self._handlers[ScsiOpcode.READ_FORMAT_CAPACITIES] = self._read_format_capacities

    @property
    def has_medium(self) -> bool:
        return self.image is not None and self.image.block_count > 0

    @property
    def is_cd(self) -> bool:
        return self.device is Device.CD

    def execute(self, cdb: bytes, *, chunk_size: int) -> ScsiResponse:
        """Run one command; data comes back in chunks of at most ``chunk_size`` bytes."""
        opcode = cdb[0]
        handler = self._handlers.get(opcode)
        try:
            if handler is None:  # INQUIRY and REQUEST SENSE land here too: the firmware answers them
                raise _CheckCondition(INVALID_COMMAND_OPERATION_CODE)
            # GET CONFIGURATION never reports a unit attention (MMC-3).
            if self.unit_attention and opcode != ScsiOpcode.GET_CONFIGURATION:
                self.unit_attention = False
                raise _CheckCondition(MEDIUM_MAY_HAVE_CHANGED)
            return handler(cdb, chunk_size)
        except _CheckCondition as check:
            return ScsiResponse(sense=check.sense)

    # -- helpers

    def _require_medium(self) -> DiskImage:
        if self.image is None or not self.has_medium:
            raise _CheckCondition(MEDIUM_NOT_PRESENT)
        return self.image

    @staticmethod
    def _data(data: bytes, allocation_length: int, chunk_size: int) -> ScsiResponse:
        data = data[:allocation_length]
        return ScsiResponse(length=len(data), chunks=_split(data, chunk_size))

    # -- commands

    def _test_unit_ready(self, cdb: bytes, chunk_size: int) -> ScsiResponse:
        self._require_medium()
        return ScsiResponse()

    def _read_capacity(self, cdb: bytes, chunk_size: int) -> ScsiResponse:
        image = self._require_medium()
        return self._data(struct.pack(">II", image.block_count - 1, image.block_size), 8, chunk_size)

    def _read(self, cdb: bytes, chunk_size: int) -> ScsiResponse:
        image = self._require_medium()
        extent = read_extent(cdb)
        assert extent is not None  # only READ opcodes are routed here
        lba, count = extent
        try:
            chunks = image.read(lba, count, chunk_size=chunk_size)
        except ImageRangeError as error:
            raise _CheckCondition(LBA_OUT_OF_RANGE) from error
        return ScsiResponse(length=count * image.block_size, chunks=chunks)

    def _write(self, cdb: bytes, chunk_size: int) -> ScsiResponse:
        self._require_medium()
        raise _CheckCondition(WRITE_PROTECTED)

    def _prevent_allow(self, cdb: bytes, chunk_size: int) -> ScsiResponse:
        self.removal_prevented = bool(cdb[4] & 0x01)
        return ScsiResponse()

    def _start_stop(self, cdb: bytes, chunk_size: int) -> ScsiResponse:
        load_eject, start = bool(cdb[4] & 0x02), bool(cdb[4] & 0x01)
        if load_eject and not start and self.removal_prevented:
            raise _CheckCondition(MEDIUM_REMOVAL_PREVENTED)
        # The image stays inserted: an eject from the host does not end the IDE-R session.
        return ScsiResponse()

    # -- mode pages

    def _mode_pages(self, page: int, changeable: bool) -> bytes:
        pages: dict[int, bytes] = {0x01: bytes((0x01, 0x0A)) + bytes(10)}  # read(-write) error recovery
        if self.is_cd:
            pages[0x1A] = bytes((0x1A, 0x0A)) + bytes(10)  # power condition: timers off
            lock = 0x01 | (0x02 if self.removal_prevented else 0) | 0x08 | (0x01 << 5)  # lock, eject, tray
            pages[0x2A] = bytes((0x2A, 0x14, 0, 0, 0, 0, lock)) + bytes(15)  # MM capabilities
        else:
            blocks = self.image.block_count if self.image is not None else 2880
            geometry = FloppyGeometry.for_blocks(blocks)
            pages[0x05] = struct.pack(
                ">BBHBBHH18xH2x", 0x05, 0x1E, geometry.transfer_rate_kbps, geometry.heads,
                geometry.sectors_per_track, 512, geometry.cylinders, geometry.rotation_rpm,
            )
        if page == 0x3F:
            selected = [pages[code] for code in sorted(pages)]
        elif page in pages:
            selected = [pages[page]]
        else:
            raise _CheckCondition(INVALID_FIELD_IN_CDB)
        if changeable:  # nothing can be changed: every parameter bit 0
            selected = [p[:2] + bytes(len(p) - 2) for p in selected]
        return b"".join(selected)

    def _mode_sense(self, cdb: bytes, chunk_size: int) -> ScsiResponse:
        page_control, page, subpage = cdb[2] >> 6, cdb[2] & 0x3F, cdb[3]
        if page_control == 3:
            raise _CheckCondition(SAVING_PARAMETERS_NOT_SUPPORTED)
        if subpage:
            raise _CheckCondition(INVALID_FIELD_IN_CDB)
        body = self._mode_pages(page, changeable=page_control == 1)
        device_specific = 0x00 if self.is_cd else 0x80  # WP: the floppy is write-protected
        if cdb[0] == ScsiOpcode.MODE_SENSE_6:
            header = struct.pack(">BBBB", 3 + len(body), 0, device_specific, 0)
            allocation_length = cdb[4]
        else:
            header = struct.pack(">HBB2xH", 6 + len(body), 0, device_specific, 0)
            (allocation_length,) = struct.unpack_from(">H", cdb, 7)
        return self._data(header + body, allocation_length, chunk_size)

    # -- CD only

    def _get_configuration(self, cdb: bytes, chunk_size: int) -> ScsiResponse:
        request_type = cdb[1] & 0x03
        (start,) = struct.unpack_from(">H", cdb, 2)
        (allocation_length,) = struct.unpack_from(">H", cdb, 7)
        if request_type == 3:
            raise _CheckCondition(INVALID_FIELD_IN_CDB)
        medium = self.has_medium

        def feature(
            code: int, data: bytes, *, current: bool = True, persistent: bool = True, version: int = 0
        ) -> tuple[int, bool, bytes]:
            flags = (version << 2) | (0x02 if persistent else 0) | (0x01 if current else 0)
            return code, current, struct.pack(">HBB", code, flags, len(data)) + data

        removable = 0x01 | 0x08 | (0x01 << 5)  # lock, eject, tray loading mechanism
        features = [
            feature(_FEATURE_PROFILE_LIST, struct.pack(">HBx", _PROFILE_CD_ROM, int(medium))),
            feature(_FEATURE_CORE, struct.pack(">I", _INTERFACE_ATAPI)),
            feature(_FEATURE_MORPHING, bytes(4), version=1),
            feature(_FEATURE_REMOVABLE_MEDIUM, bytes((removable, 0, 0, 0))),
            feature(_FEATURE_RANDOM_READABLE, struct.pack(">IHBx", 2048, 1, 0), current=medium, persistent=False),
            feature(_FEATURE_CD_READ, bytes(4), current=medium, persistent=False),
        ]
        if request_type == 2:
            chosen = [f for f in features if f[0] == start]
        else:
            chosen = [f for f in features if f[0] >= start and (request_type == 0 or f[1])]
        body = struct.pack(">2xH", _PROFILE_CD_ROM if medium else 0) + b"".join(f[2] for f in chosen)
        return self._data(struct.pack(">I", len(body)) + body, allocation_length, chunk_size)

    def _read_toc(self, cdb: bytes, chunk_size: int) -> ScsiResponse:
        image = self._require_medium()
        msf = bool(cdb[1] & 0x02)
        fmt = cdb[2] & 0x0F or cdb[9] >> 6  # old drives put the format in the control byte
        track = cdb[6]
        (allocation_length,) = struct.unpack_from(">H", cdb, 7)

        def address(lba: int) -> bytes:
            if msf:
                return bytes((0, *lba_to_msf(lba)))
            return struct.pack(">I", lba)

        def descriptor(number: int, lba: int) -> bytes:
            return bytes((0, _TOC_CONTROL_DATA_TRACK, number, 0)) + address(lba)

        if fmt == 0:  # TOC: one data track plus the lead-out
            if track not in (0, 1, _LEADOUT_TRACK):
                raise _CheckCondition(INVALID_FIELD_IN_CDB)
            descriptors = b"" if track == _LEADOUT_TRACK else descriptor(1, 0)
            descriptors += descriptor(_LEADOUT_TRACK, image.block_count)
        elif fmt == 1:  # session info: one session starting at track 1
            descriptors = descriptor(1, 0)
        else:
            raise _CheckCondition(INVALID_FIELD_IN_CDB)
        data = struct.pack(">HBB", 2 + len(descriptors), 1, 1) + descriptors
        return self._data(data, allocation_length, chunk_size)

    # -- floppy only

    def _read_format_capacities(self, cdb: bytes, chunk_size: int) -> ScsiResponse:
        (allocation_length,) = struct.unpack_from(">H", cdb, 7)
        if self.image is not None and self.has_medium:
            blocks, descriptor_type = self.image.block_count, 0x02  # formatted medium
        else:
            blocks, descriptor_type = 2880, 0x03  # no medium: maximum capacity
        descriptor = struct.pack(">IB", blocks, descriptor_type) + (512).to_bytes(3, "big")
        return self._data(bytes((0, 0, 0, len(descriptor))) + descriptor, allocation_length, chunk_size)


# --------------------------------------------------------------------------------------------
# IDE-R glue

IDERReply: TypeAlias = IDERDataToHost | IDERCommandEndResponse
"""What the console sends back for a command: data-to-host chunks, or one command end."""


class IDERDriveSet:
    """The IDE-R CD-ROM and floppy of a console session, as pure logic.

    ``cd`` and ``floppy`` are binary files opened for reading (or ``None`` for an empty
    drive); they are read on demand and never closed here.  Feed every
    :class:`~amtkit.redirection.messages.IDERCommandWritten` to :meth:`handle` and send what it
    yields, in order, after stamping sequence numbers
    (:class:`~amtkit.redirection.messages.SequenceCounter`).

    ``read_buffer_size`` bounds each data-to-host message; set it from the firmware's
    StartIDERRedirectionReply with :meth:`configure`.
    """

    def __init__(
        self,
        cd: BinaryIO | None = None,
        floppy: BinaryIO | None = None,
        *,
        read_buffer_size: int = 8192,
        report_media_change: bool = True,
    ) -> None:
        self._drives = {
            Device.CD: ScsiDrive(
                Device.CD, DiskImage.cd(cd) if cd is not None else None, report_media_change=report_media_change
            ),
            Device.FLOPPY: ScsiDrive(
                Device.FLOPPY, DiskImage.floppy(floppy) if floppy is not None else None,
                report_media_change=report_media_change,
            ),
        }
        self.read_buffer_size = read_buffer_size

    @property
    def read_buffer_size(self) -> int:
        return self._read_buffer_size

    @read_buffer_size.setter
    def read_buffer_size(self, size: int) -> None:
        if not 1 <= size <= 0xFFFF:
            raise ValueError(f"read buffer size must be 1..65535 bytes, got {size}")
        self._read_buffer_size = size

    def configure(self, reply: StartIDERRedirectionReply) -> None:
        """Adopt the firmware's read buffer size from its open reply."""
        self.read_buffer_size = reply.read_buffer_size

    def drive(self, device: Device) -> ScsiDrive:
        return self._drives[device]

    def handle(self, command: IDERCommandWritten) -> Iterator[IDERReply]:
        """Answer one command written (0x50).

        The command runs (and drive state such as sense changes) at once; data is read from the
        image lazily as the returned iterator is consumed, one chunk at a time, so memory stays
        bounded for any transfer size.  Consume it fully before handling the next command.
        """
        device = command.device
        if command.command != IDERCommandWritten.ATA_PACKET:  # only ATAPI packets reach the console
            return iter((_check_condition(device, INVALID_COMMAND_OPERATION_CODE),))
        drive = self._drives[device]
        response = drive.execute(command.cdb, chunk_size=self._read_buffer_size)
        if not response.good:
            return iter((_check_condition(device, response.sense),))
        if response.length == 0:
            return iter((IDERCommandEndResponse.good(device),))
        return self._stream(drive, response, command.dma)

    @staticmethod
    def _stream(drive: ScsiDrive, response: ScsiResponse, dma: bool) -> Iterator[IDERReply]:
        sent = 0
        try:
            for chunk in response.chunks:
                sent += len(chunk)
                yield IDERDataToHost.chunk(drive.device, chunk, completed=sent >= response.length, dma=dma)
        except OSError:  # the image file failed under us: the host sees a medium error
            yield _check_condition(drive.device, UNRECOVERED_READ_ERROR)


def _check_condition(device: Device, sense: Sense) -> IDERCommandEndResponse:
    return IDERCommandEndResponse.check_condition(device, sense.key, sense.asc, sense.ascq)
