"""The console reads its own image to find the boot image, the way the simulated BIOS finds it."""

from __future__ import annotations

import io

import pytest
from ider_images import BOOT_IMAGE_LBA, CountingReader, boot_catalog, el_torito_iso, floppy_image

from amtkit.ider import DiskImage
from amtkit.ider.eltorito import BootCatalogEntry, ElToritoEmulation, inspect_image
from amtkit.redirection.messages import Device


def test_bootable_cd_names_the_boot_image_range_and_volume() -> None:
    info = inspect_image(DiskImage.cd(io.BytesIO(el_torito_iso(volume_id="RESCUE", boot_image_sectors=3))), Device.CD)
    assert info.bootable and info.reason is None
    assert (info.volume_id, info.lba, info.blocks) == ("RESCUE", BOOT_IMAGE_LBA, 3)
    assert info.emulation is ElToritoEmulation.NO_EMULATION
    assert info.describe() == "El Torito boot image of volume 'RESCUE': 6144 bytes at block 20"


def test_inspection_reads_only_the_boot_records() -> None:
    reader = CountingReader(io.BytesIO(el_torito_iso(boot_image_sectors=50)))
    inspect_image(DiskImage.cd(reader), Device.CD)  # type: ignore[arg-type]
    assert reader.bytes_read == 3 * 2048  # volume descriptor, boot record, catalog


def test_cd_without_el_torito_says_why() -> None:
    info = inspect_image(DiskImage.cd(io.BytesIO(el_torito_iso(el_torito=False))), Device.CD)
    assert not info.bootable and info.volume_id == "AMTKIT_BOOT"
    assert info.reason is not None and info.reason.startswith("CD is not bootable: no El Torito boot record at sector 17")


@pytest.mark.parametrize(
    ("catalog", "reason"),
    [(boot_catalog(platform=0xEF), "platform 0xef"), (boot_catalog(bootable=False), "not bootable"),
     (boot_catalog(load_rba=9000), "runs past the end"), (boot_catalog(key=b"\0\0"), "key is 0000")],
    ids=["efi-only", "not-bootable", "past-end", "bad-key"],
)
def test_broken_catalogs_are_explained(catalog: bytes, reason: str) -> None:
    info = inspect_image(DiskImage.cd(io.BytesIO(el_torito_iso(catalog=catalog))), Device.CD)
    assert not info.bootable and info.reason is not None and reason in info.reason


def test_not_an_iso_at_all() -> None:
    info = inspect_image(DiskImage.cd(io.BytesIO(bytes(40 * 2048))), Device.CD)
    assert info.reason == "not an ISO 9660 CD: no primary volume descriptor at sector 16"


def test_floppy_boot_sector_with_signature() -> None:
    info = inspect_image(DiskImage.floppy(io.BytesIO(floppy_image(label="RESCUE"))), Device.FLOPPY)
    assert info.bootable and (info.volume_id, info.lba, info.blocks) == ("RESCUE", 0, 1)


def test_floppy_without_signature_is_not_bootable() -> None:
    info = inspect_image(DiskImage.floppy(io.BytesIO(floppy_image(signature=False))), Device.FLOPPY)
    assert info.reason == "floppy is not bootable: boot sector ends 0000, not 55aa"


def test_a_zero_sector_count_loads_one_virtual_sector() -> None:
    entry = BootCatalogEntry(platform_id=0, bootable=True, emulation=ElToritoEmulation.NO_EMULATION,
                             load_segment=0, system_type=0, sector_count=0, load_rba=20)
    assert entry.cd_blocks == 1
