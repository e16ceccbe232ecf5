"""A BIOS that boots from IDE-R: the firmware side of a remote boot, as a sans-IO state machine.

When AMT redirects the host's boot to IDE-R, the host BIOS drives the virtual ATAPI device
and every command travels to the console as an IDE-R "command written" (0x50).  The
simulator has no real BIOS, so :class:`BiosBoot` plays one: it issues what a BIOS issues and
judges the answers the way a BIOS would.

CD-ROM (El Torito, "bootable CD-ROM format specification" 1.0):

1. TEST UNIT READY until ready (a fresh medium answers UNIT ATTENTION first; the BIOS asks
   REQUEST SENSE after every CHECK CONDITION, as real ATAPI BIOS code only sees the ERR bit;
   the firmware answers that one itself, see :mod:`amtsim.atapi`);
2. INQUIRY (must be a CD/DVD device) and READ CAPACITY (2048-byte blocks);
3. sector 16: ISO 9660 primary volume descriptor (volume identifier);
4. sector 17: boot record volume descriptor ``EL TORITO SPECIFICATION`` -> boot catalog LBA;
5. boot catalog: validation entry (header 01, platform, checksum of the 16 words = 0,
   key 55 AA), then the initial/default entry (indicator 88 = bootable, media type, sector
   count in 512-byte virtual sectors, load RBA);
6. read the boot image.

Floppy: the same first two steps (direct-access device, 512-byte blocks), then sector 0 must
end with the boot signature 55 AA at bytes 510-511.

:class:`SequentialRead` is not a boot: it reads a whole drive (or its first N blocks) in large
READ(10)s and keeps nothing, the way a benchmark drives a console (see ``bench/ider.py``).

The ISO 9660 / El Torito layouts are parsed by :mod:`amtkit.ider.eltorito`, shared with the
console, which reads its own image to know where the boot image lies.

Shape (like h11 / httpx auth flows): :meth:`BiosBoot.run` is a generator that yields
:class:`~amtkit.redirection.messages.IDERCommandWritten` messages and is sent a
:class:`CommandOutcome` for each; it returns a :class:`BootResult`.  :class:`ReplyAssembler`
turns the console's reply messages into an outcome.  The BIOS talks to the drives the firmware
emulates: :mod:`amtsim.atapi` answers what the firmware answers itself and forwards the rest
(its :func:`~amtsim.atapi.run_boot` ties a boot to any ``transact`` callable, in memory for
tests; the simulator's redirection listener drives it over a socket).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import TypeVar

from amtkit.ider.eltorito import (
    BOOT_SIGNATURE,
    EL_TORITO_BOOT_RECORD_SECTOR,
    EL_TORITO_ID,
    ISO_PVD_SECTOR,
    VIRTUAL_SECTOR,
    BootCatalogEntry,
    ElToritoEmulation,
    fat_volume_label,
    parse_boot_catalog,
    parse_boot_record,
    parse_primary_volume_descriptor,
)
from amtkit.ider.image import CD_BLOCK_SIZE, FLOPPY_BLOCK_SIZE
from amtkit.ider.scsi import (
    NO_SENSE,
    Sense,
    SenseKey,
    cdb_inquiry,
    cdb_read10,
    cdb_read_capacity,
    cdb_request_sense,
    cdb_test_unit_ready,
    parse_read_capacity,
    parse_sense,
)
from amtkit.redirection.messages import (
    AtaStatus,
    Device,
    IDERCommandEndResponse,
    IDERCommandWritten,
    IDERDataToHost,
    RedirectionMessage,
    RedirectionProtocolError,
)

__all__ = [
    "BOOT_SIGNATURE",
    "EL_TORITO_BOOT_RECORD_SECTOR",
    "EL_TORITO_ID",
    "ISO_PVD_SECTOR",
    "VIRTUAL_SECTOR",
    "BiosBoot",
    "BootCatalogEntry",
    "BootResult",
    "CommandOutcome",
    "ElToritoEmulation",
    "FirmwareFlow",
    "ReplyAssembler",
    "SequentialRead",
    "parse_boot_catalog",
    "parse_boot_record",
    "parse_primary_volume_descriptor",
]


class _BootFailure(Exception):
    """Internal: ends :meth:`BiosBoot.run` with a failed :class:`BootResult`."""


# --------------------------------------------------------------------------------------------
# replies


@dataclass(frozen=True)
class CommandOutcome:
    """The console's whole answer to one command: data read and final ATA status/sense."""

    data: bytes
    status: int
    sense: Sense = NO_SENSE
    discarded: int = 0
    """Bytes received but not kept (an assembler with ``collect=False``)."""

    @property
    def ok(self) -> bool:
        return not self.status & AtaStatus.ERR

    @property
    def size(self) -> int:
        """Bytes the console sent for the command, kept or not."""
        return len(self.data) + self.discarded


class ReplyAssembler:
    """Collects the reply messages of one command until the one that completes it.

    Data chunks larger than ``max_chunk`` (the read buffer the firmware announced) or a total
    above ``max_total`` are protocol errors: a firmware must not buffer without bound.  With
    ``collect=False`` the data is only counted (:attr:`CommandOutcome.discarded`), never kept.
    """

    def __init__(self, *, max_chunk: int = 8192, max_total: int = 64 * 1024 * 1024, collect: bool = True) -> None:
        self.max_chunk = max_chunk
        self.max_total = max_total
        self.collect = collect
        self._data = bytearray()
        self._discarded = 0
        self._done = False

    def feed(self, message: RedirectionMessage) -> CommandOutcome | None:
        """Add one message; returns the outcome once the command is complete.

        Raises :class:`RedirectionProtocolError` for anything but data-to-host / command-end,
        for messages after completion, and for oversize data.
        """
        if self._done:
            raise RedirectionProtocolError(f"{message.TYPE.name} after the command completed", message_type=message.TYPE)
        if isinstance(message, IDERDataToHost):
            if len(message.data) > self.max_chunk:
                raise RedirectionProtocolError(
                    f"data chunk of {len(message.data)} bytes exceeds the {self.max_chunk}-byte read buffer",
                    message_type=message.TYPE,
                )
            if not self.collect:
                self._discarded += len(message.data)
            elif len(self._data) + len(message.data) > self.max_total:
                raise RedirectionProtocolError("command data exceeds the firmware limit", message_type=message.TYPE)
            else:
                self._data += message.data
        elif not isinstance(message, IDERCommandEndResponse):
            raise RedirectionProtocolError(f"{message.TYPE.name} is not a command reply", message_type=message.TYPE)
        if not message.completed:
            return None
        self._done = True
        sense = Sense(*message.sense) if message.failed else NO_SENSE
        return CommandOutcome(data=bytes(self._data), status=message.output.status, sense=sense,
                              discarded=self._discarded)


# --------------------------------------------------------------------------------------------
# the boot driver


@dataclass(frozen=True)
class BootResult:
    """How a boot attempt from one IDE-R device went."""

    booted: bool
    device: Device
    volume_id: str | None = None
    """ISO 9660 volume identifier, or the FAT volume label of a floppy."""
    boot_image_found: bool = False
    boot_image_lba: int | None = None
    """CD: load RBA from the boot catalog (2048-byte sectors); floppy: 0."""
    boot_image_sectors: int | None = None
    """CD: sector count from the boot catalog (512-byte virtual sectors); floppy: 1."""
    emulation: ElToritoEmulation | None = None
    loaded_bytes: int = 0
    """Bytes of boot image read from the device."""
    reason: str | None = None
    """Why the boot failed (``None`` when it succeeded)."""


@dataclass
class _Progress:
    """What the boot found so far; becomes the :class:`BootResult` however the boot ends."""

    volume_id: str | None = None
    boot_image_found: bool = False
    boot_image_lba: int | None = None
    boot_image_sectors: int | None = None
    emulation: ElToritoEmulation | None = None
    loaded_bytes: int = 0

    def result(self, device: Device, reason: str | None = None) -> BootResult:
        return BootResult(
            booted=reason is None, device=device, volume_id=self.volume_id, boot_image_found=self.boot_image_found,
            boot_image_lba=self.boot_image_lba, boot_image_sectors=self.boot_image_sectors,
            emulation=self.emulation, loaded_bytes=self.loaded_bytes, reason=reason,
        )


_T = TypeVar("_T")
_Step = Generator[IDERCommandWritten, CommandOutcome, _T]
"""A piece of the boot: yields commands, is sent their outcomes, returns a ``_T``."""
FirmwareFlow = Generator[IDERCommandWritten, CommandOutcome, BootResult]
"""What :meth:`BiosBoot.run` (and :meth:`SequentialRead.run`) returns: a transport drives it."""


class BiosBoot:
    """Boot from the IDE-R ``device``; see the module docstring for the steps.

    ``max_sectors_per_read`` is the largest READ(10) the BIOS issues (bigger images take several
    commands); ``unit_attention_retries`` how many UNIT ATTENTION answers to TEST UNIT READY it
    tolerates; ``dma`` sets the DMA bit of every command's feature register.
    """

    collects_data: bool = True
    """Whether the transport must keep the data of the command just yielded (see :class:`ReplyAssembler`)."""

    def __init__(
        self,
        device: Device,
        *,
        max_sectors_per_read: int = 32,
        unit_attention_retries: int = 3,
        dma: bool = False,
    ) -> None:
        if not 1 <= max_sectors_per_read <= 0xFFFF:
            raise ValueError("max_sectors_per_read must be 1..65535")
        self.device = device
        self.max_sectors_per_read = max_sectors_per_read
        self.unit_attention_retries = unit_attention_retries
        self.dma = dma

    @property
    def _block_size(self) -> int:
        return CD_BLOCK_SIZE if self.device is Device.CD else FLOPPY_BLOCK_SIZE

    @property
    def _name(self) -> str:
        return "CD" if self.device is Device.CD else "floppy"

    def run(self) -> Generator[IDERCommandWritten, CommandOutcome, BootResult]:
        """The boot as a generator: yields commands, is sent their outcomes, returns the result."""
        progress = _Progress()
        try:
            yield from self._wait_ready()
            last_lba = yield from self._identify()
            if self.device is Device.CD:
                yield from self._boot_cd(last_lba, progress)
            else:
                yield from self._boot_floppy(progress)
        except _BootFailure as failure:
            return progress.result(self.device, reason=str(failure))
        return progress.result(self.device)

    # -- commands

    def _command(self, cdb: bytes, byte_count: int = 0) -> _Step[CommandOutcome]:
        command = IDERCommandWritten.packet(self.device, cdb, dma=self.dma, byte_count=min(byte_count, 0xFFFE))
        return (yield command)

    def _checked(self, cdb: bytes, what: str, expected_length: int) -> _Step[bytes]:
        """Run a data-in command that must succeed and return exactly ``expected_length`` bytes."""
        outcome = yield from self._command(cdb, expected_length)
        if not outcome.ok:
            sense = yield from self._request_sense(outcome)
            raise _BootFailure(f"{what} failed on the {self._name}: {sense}")
        if len(outcome.data) != expected_length:
            raise _BootFailure(f"{what} returned {len(outcome.data)} bytes, expected {expected_length}")
        return outcome.data

    def _request_sense(self, failed: CommandOutcome) -> _Step[Sense]:
        """Ask the device why the last command failed (falls back to the sense in the reply)."""
        outcome = yield from self._command(cdb_request_sense(18), 18)
        if outcome.ok and len(outcome.data) >= 14:
            return parse_sense(outcome.data)
        return failed.sense

    def _read(self, lba: int, count: int, what: str) -> _Step[bytes]:
        """Read ``count`` blocks in READ(10) commands of at most ``max_sectors_per_read``."""
        data = bytearray()
        done = 0
        while done < count:
            step = min(self.max_sectors_per_read, count - done)
            data += yield from self._checked(cdb_read10(lba + done, step), what, step * self._block_size)
            done += step
        return bytes(data)

    # -- steps

    def _wait_ready(self) -> _Step[None]:
        for _ in range(self.unit_attention_retries + 1):
            outcome = yield from self._command(cdb_test_unit_ready())
            if outcome.ok:
                return
            sense = yield from self._request_sense(outcome)
            if sense.key == SenseKey.UNIT_ATTENTION:
                continue
            if sense.key == SenseKey.NOT_READY and sense.asc == 0x3A:
                raise _BootFailure(f"no medium in the IDE-R {self._name} drive ({sense})")
            raise _BootFailure(f"the IDE-R {self._name} drive is not ready: {sense}")
        raise _BootFailure(f"the IDE-R {self._name} drive kept reporting UNIT ATTENTION")

    def _identify(self) -> _Step[int]:
        yield from self._checked(cdb_inquiry(36), "INQUIRY", 36)  # the firmware's answer: it emulates the drive
        last_lba, block_size = parse_read_capacity((yield from self._checked(cdb_read_capacity(), "READ CAPACITY", 8)))
        if block_size != self._block_size:
            raise _BootFailure(f"{self._name} block size is {block_size}, expected {self._block_size}")
        return last_lba

    def _boot_cd(self, last_lba: int, progress: _Progress) -> _Step[None]:
        if last_lba < EL_TORITO_BOOT_RECORD_SECTOR:
            raise _BootFailure(f"CD image too small to be ISO 9660 ({last_lba + 1} sectors)")
        pvd = yield from self._read(ISO_PVD_SECTOR, 1, "reading the primary volume descriptor")
        try:
            progress.volume_id = parse_primary_volume_descriptor(pvd)
        except ValueError:
            raise _BootFailure(f"not an ISO 9660 CD: no primary volume descriptor at sector {ISO_PVD_SECTOR}") from None
        record = yield from self._read(EL_TORITO_BOOT_RECORD_SECTOR, 1, "reading the boot record")
        try:
            catalog_lba = parse_boot_record(record)
        except ValueError as exc:
            raise _BootFailure(
                f"CD is not bootable: no El Torito boot record at sector {EL_TORITO_BOOT_RECORD_SECTOR} ({exc})"
            ) from None
        if catalog_lba > last_lba:
            raise _BootFailure(f"El Torito boot catalog at sector {catalog_lba} is beyond the end of the CD")
        try:
            entry = parse_boot_catalog((yield from self._read(catalog_lba, 1, "reading the boot catalog")))
        except ValueError as exc:
            raise _BootFailure(f"invalid El Torito boot catalog: {exc}") from None
        progress.boot_image_lba, progress.boot_image_sectors = entry.load_rba, entry.sector_count
        progress.emulation = entry.emulation
        if entry.platform_id != 0:
            raise _BootFailure(f"boot catalog is for platform {entry.platform_id:#04x}, not 80x86")
        if not entry.bootable:
            raise _BootFailure("El Torito initial entry is not bootable (indicator 0x00)")
        cd_sectors = entry.cd_blocks
        if entry.load_rba + cd_sectors - 1 > last_lba:
            raise _BootFailure(f"boot image at sector {entry.load_rba} runs past the end of the CD")
        progress.boot_image_found = True
        image = yield from self._read(entry.load_rba, cd_sectors, "reading the boot image")
        progress.loaded_bytes = len(image)

    def _boot_floppy(self, progress: _Progress) -> _Step[None]:
        sector = yield from self._read(0, 1, "reading the boot sector")
        progress.volume_id = fat_volume_label(sector)
        progress.boot_image_lba, progress.boot_image_sectors, progress.loaded_bytes = 0, 1, len(sector)
        if sector[510:512] != BOOT_SIGNATURE:
            raise _BootFailure(f"floppy is not bootable: boot sector ends {sector[510:512].hex()}, not 55aa")
        progress.boot_image_found = True


class SequentialRead(BiosBoot):
    """Not a boot: read the drive from block 0 (its first ``blocks`` blocks, or all of it) in
    READ(10)s of ``sectors_per_read`` blocks and keep nothing.

    This is how the IDE-R benchmark makes the simulated firmware pull a whole image through a
    console as fast as the console serves it; a real BIOS never does this.  The same ready and
    identify steps as a boot come first.  In the result, ``loaded_bytes`` counts the bytes that
    arrived, ``booted`` means the read completed and ``reason`` says why it did not.
    """

    def __init__(self, device: Device, *, blocks: int | None = None, sectors_per_read: int = 512,
                 dma: bool = False) -> None:
        super().__init__(device, max_sectors_per_read=sectors_per_read, dma=dma)
        if blocks is not None and blocks < 0:
            raise ValueError("blocks must not be negative")
        self.blocks = blocks

    def run(self) -> FirmwareFlow:
        progress = _Progress()
        try:
            yield from self._wait_ready()
            last_lba = yield from self._identify()
            total = last_lba + 1 if self.blocks is None else min(self.blocks, last_lba + 1)
            done = 0
            self.collects_data = False  # from here on the data is only counted
            while done < total:
                step = min(self.max_sectors_per_read, total - done)
                expected = step * self._block_size
                outcome = yield from self._command(cdb_read10(done, step), expected)
                if not outcome.ok:
                    self.collects_data = True
                    sense = yield from self._request_sense(outcome)
                    raise _BootFailure(f"READ(10) of blocks {done}+{step} failed on the {self._name}: {sense}")
                if outcome.size != expected:
                    raise _BootFailure(f"READ(10) of blocks {done}+{step} returned {outcome.size} bytes, "
                                       f"expected {expected}")
                progress.loaded_bytes += expected
                done += step
        except _BootFailure as failure:
            return progress.result(self.device, reason=str(failure))
        return progress.result(self.device)
