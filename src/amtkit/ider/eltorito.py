"""Boot records of CD and floppy images (ISO 9660 + El Torito, and the PC boot sector), sans-IO.

Two readers need them: the simulated BIOS (:mod:`amtsim.bios`), which finds the boot image by
reading the served drive through IDE-R, and the console (:mod:`amtkit.ider.session`), which reads
its own image file before serving it, to know where the boot image lies (so it can tell when the
host has loaded it) and to say plainly when an image cannot boot.  Both parse with the functions
here, so a layout has one spelling.

Layouts: ECMA-119 (ISO 9660) puts the volume descriptors from sector 16, the primary one first;
the El Torito specification 1.0 puts its boot record volume descriptor at sector 17, pointing at a
boot catalog whose validation entry (header 01, platform, checksum, key 55 AA) is followed by the
initial/default entry (indicator 88, media type, sector count in 512-byte virtual sectors, load
RBA).  A floppy (and an emulated one) boots from sector 0, which must end with 55 AA.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from amtkit.ider.image import CD_BLOCK_SIZE, FLOPPY_BLOCK_SIZE, DiskImage
from amtkit.redirection.messages import DescribedIntEnum, Device

__all__ = [
    "BOOT_SIGNATURE",
    "EL_TORITO_BOOT_RECORD_SECTOR",
    "EL_TORITO_ID",
    "ISO_PVD_SECTOR",
    "VIRTUAL_SECTOR",
    "BootCatalogEntry",
    "BootImageInfo",
    "ElToritoEmulation",
    "fat_volume_label",
    "inspect_image",
    "parse_boot_catalog",
    "parse_boot_record",
    "parse_primary_volume_descriptor",
]

ISO_PVD_SECTOR = 16
"""ISO 9660: the volume descriptor set starts at sector 16 (the primary one first)."""
EL_TORITO_BOOT_RECORD_SECTOR = 17
"""El Torito: the boot record volume descriptor must be at sector 17."""
EL_TORITO_ID = b"EL TORITO SPECIFICATION".ljust(32, b"\0")
BOOT_SIGNATURE = b"\x55\xaa"
VIRTUAL_SECTOR = 512
"""El Torito counts the boot image in 512-byte virtual sectors."""


class ElToritoEmulation(DescribedIntEnum):
    """Boot media type of an El Torito catalog entry (low nibble of byte 1)."""

    NO_EMULATION = 0, "boot image is loaded and run as is"
    FLOPPY_1_2M = 1, "image emulates a 1.2 MB floppy as drive A:"
    FLOPPY_1_44M = 2, "image emulates a 1.44 MB floppy as drive A:"
    FLOPPY_2_88M = 3, "image emulates a 2.88 MB floppy as drive A:"
    HARD_DISK = 4, "image emulates a hard disk as drive C:"


def parse_primary_volume_descriptor(sector: bytes) -> str:
    """The volume identifier of an ISO 9660 primary volume descriptor.

    Raises ``ValueError`` if ``sector`` is not one (type 1, ``CD001``, version 1).
    """
    if len(sector) < 72 or sector[0] != 1 or sector[1:6] != b"CD001" or sector[6] != 1:
        raise ValueError("no ISO 9660 primary volume descriptor")
    return sector[40:72].decode("ascii", "replace").rstrip(" \0")


def parse_boot_record(sector: bytes) -> int:
    """The boot catalog LBA from an El Torito boot record volume descriptor.

    Raises ``ValueError`` if ``sector`` is not one (type 0, ``CD001``, version 1, boot system
    identifier ``EL TORITO SPECIFICATION``).
    """
    if len(sector) < 0x4B or sector[0] != 0 or sector[1:6] != b"CD001" or sector[6] != 1:
        raise ValueError("no boot record volume descriptor")
    if sector[7:39] != EL_TORITO_ID:
        raise ValueError(f"boot record is not El Torito (boot system id {sector[7:39].rstrip(bytes(1))!r})")
    return int(struct.unpack_from("<I", sector, 0x47)[0])


@dataclass(frozen=True)
class BootCatalogEntry:
    """The initial/default entry of an El Torito boot catalog."""

    platform_id: int
    """From the validation entry: 0 = 80x86, 1 = PowerPC, 2 = Mac, 0xEF = EFI."""
    bootable: bool
    emulation: ElToritoEmulation
    load_segment: int
    system_type: int
    sector_count: int
    """In 512-byte virtual sectors."""
    load_rba: int
    """First CD sector (2048 bytes) of the boot image."""

    @property
    def cd_blocks(self) -> int:
        """CD sectors a BIOS reads for the boot image (a count of 0 is read as one virtual sector,
        as lenient BIOSes do)."""
        return -(-max(self.sector_count, 1) * VIRTUAL_SECTOR // CD_BLOCK_SIZE)


def parse_boot_catalog(sector: bytes) -> BootCatalogEntry:
    """Check the validation entry and parse the initial/default entry.

    Raises ``ValueError`` naming what is wrong (header id, key bytes, checksum, media type).
    """
    if len(sector) < 64:
        raise ValueError("boot catalog shorter than two entries")
    validation = sector[:32]
    if validation[0] != 0x01:
        raise ValueError(f"validation entry header id is {validation[0]:#04x}, not 0x01")
    if validation[30:32] != BOOT_SIGNATURE:
        raise ValueError(f"validation entry key is {validation[30:32].hex()}, not 55aa")
    if sum(struct.unpack("<16H", validation)) & 0xFFFF:
        raise ValueError("validation entry checksum does not sum to zero")
    indicator, media, load_segment, system_type, _, count, rba = struct.unpack_from("<BBHBBHI", sector, 32)
    if indicator not in (0x88, 0x00):
        raise ValueError(f"initial entry boot indicator is {indicator:#04x}")
    try:
        emulation = ElToritoEmulation(media & 0x0F)
    except ValueError as error:
        raise ValueError(f"initial entry has unknown media type {media & 0x0F}") from error
    return BootCatalogEntry(
        platform_id=validation[1], bootable=indicator == 0x88, emulation=emulation, load_segment=load_segment,
        system_type=system_type, sector_count=count, load_rba=rba,
    )


def fat_volume_label(sector: bytes) -> str | None:
    """FAT12/16 volume label from the extended BIOS parameter block (signature 0x29 at 38)."""
    if len(sector) < 54 or sector[38] != 0x29:
        return None
    return sector[43:54].decode("ascii", "replace").rstrip() or None


# --------------------------------------------------------------------------------------------
# the console's look at its own image


@dataclass(frozen=True)
class BootImageInfo:
    """Where an image's boot code lies, as a BIOS would find it; or why it has none.

    ``lba`` and ``blocks`` count blocks of the drive (2048 bytes for a CD, 512 for a floppy):
    the range a host reads to load the boot image.  ``reason`` is ``None`` for a bootable image.
    """

    device: Device
    volume_id: str | None = None
    lba: int | None = None
    blocks: int = 0
    emulation: ElToritoEmulation | None = None
    reason: str | None = None

    @property
    def bootable(self) -> bool:
        return self.reason is None

    def describe(self) -> str:
        if self.reason is not None:
            return self.reason
        kind = "El Torito boot image" if self.device is Device.CD else "boot sector"
        size = self.blocks * (CD_BLOCK_SIZE if self.device is Device.CD else FLOPPY_BLOCK_SIZE)
        label = f" of volume {self.volume_id!r}" if self.volume_id else ""
        return f"{kind}{label}: {size} bytes at block {self.lba}"


def _block(image: DiskImage, lba: int) -> bytes:
    return b"".join(image.read(lba, 1, chunk_size=image.block_size))


def inspect_image(image: DiskImage, device: Device) -> BootImageInfo:
    """Find the boot image of ``image`` served as ``device``, reading only the boot records.

    Reads at most four blocks, never the boot image itself.  ``OSError`` from the file propagates.
    """
    if device is Device.FLOPPY:
        return _inspect_floppy(image)
    return _inspect_cd(image)


def _inspect_floppy(image: DiskImage) -> BootImageInfo:
    if image.block_count < 1:
        return BootImageInfo(Device.FLOPPY, reason="the floppy image is empty")
    sector = _block(image, 0)
    label = fat_volume_label(sector)
    if sector[510:512] != BOOT_SIGNATURE:
        return BootImageInfo(Device.FLOPPY, volume_id=label,
                             reason=f"floppy is not bootable: boot sector ends {sector[510:512].hex()}, not 55aa")
    return BootImageInfo(Device.FLOPPY, volume_id=label, lba=0, blocks=1)


def _inspect_cd(image: DiskImage) -> BootImageInfo:
    cd = Device.CD
    last_lba = image.block_count - 1
    if last_lba < EL_TORITO_BOOT_RECORD_SECTOR:
        return BootImageInfo(cd, reason=f"CD image too small to be ISO 9660 ({image.block_count} sectors)")
    try:
        volume_id = parse_primary_volume_descriptor(_block(image, ISO_PVD_SECTOR))
    except ValueError:
        return BootImageInfo(cd, reason=f"not an ISO 9660 CD: no primary volume descriptor at sector {ISO_PVD_SECTOR}")
    try:
        catalog_lba = parse_boot_record(_block(image, EL_TORITO_BOOT_RECORD_SECTOR))
    except ValueError as exc:
        return BootImageInfo(cd, volume_id=volume_id, reason=(
            f"CD is not bootable: no El Torito boot record at sector {EL_TORITO_BOOT_RECORD_SECTOR} ({exc})"))
    if catalog_lba > last_lba:
        return BootImageInfo(cd, volume_id=volume_id,
                             reason=f"El Torito boot catalog at sector {catalog_lba} is beyond the end of the CD")
    try:
        entry = parse_boot_catalog(_block(image, catalog_lba))
    except ValueError as exc:
        return BootImageInfo(cd, volume_id=volume_id, reason=f"invalid El Torito boot catalog: {exc}")
    reason = None
    if entry.platform_id != 0:
        reason = f"boot catalog is for platform {entry.platform_id:#04x}, not 80x86"
    elif not entry.bootable:
        reason = "El Torito initial entry is not bootable (indicator 0x00)"
    elif entry.load_rba + entry.cd_blocks - 1 > last_lba:
        reason = f"boot image at sector {entry.load_rba} runs past the end of the CD"
    return BootImageInfo(cd, volume_id=volume_id, lba=entry.load_rba, blocks=entry.cd_blocks,
                         emulation=entry.emulation, reason=reason)
