"""Tiny disk images built by hand for the IDE-R tests (no pycdlib needed).

The CD layout is the minimum a BIOS looks at: ISO 9660 primary volume descriptor at sector
16, El Torito boot record at 17, terminator, boot catalog, boot image.
"""

from __future__ import annotations

import io
import struct
from typing import BinaryIO

CD = 2048
CATALOG_LBA = 19
BOOT_IMAGE_LBA = 20


def _both_endian32(value: int) -> bytes:
    return struct.pack("<I", value) + struct.pack(">I", value)


def primary_volume_descriptor(volume_id: str, total_sectors: int) -> bytes:
    pvd = bytearray(CD)
    pvd[0:7] = b"\x01CD001\x01"
    pvd[8:40] = b"AMTKIT".ljust(32)
    pvd[40:72] = volume_id.encode("ascii").ljust(32)
    pvd[80:88] = _both_endian32(total_sectors)
    pvd[128:132] = struct.pack("<H", CD) + struct.pack(">H", CD)
    return bytes(pvd)


def boot_record(catalog_lba: int, system_id: bytes = b"EL TORITO SPECIFICATION") -> bytes:
    record = bytearray(CD)
    record[0:7] = b"\x00CD001\x01"
    record[7:39] = system_id.ljust(32, b"\0")
    record[0x47:0x4B] = struct.pack("<I", catalog_lba)
    return bytes(record)


def terminator() -> bytes:
    return b"\xffCD001\x01".ljust(CD, b"\0")


def boot_catalog(
    *,
    platform: int = 0,
    bootable: bool = True,
    media: int = 0,
    sector_count: int = 4,
    load_rba: int = BOOT_IMAGE_LBA,
    corrupt_checksum: bool = False,
    key: bytes = b"\x55\xaa",
) -> bytes:
    validation = bytearray(32)
    validation[0] = 0x01
    validation[1] = platform
    validation[4:28] = b"AMTKIT TEST".ljust(24, b"\0")
    validation[30:32] = key
    checksum = (-sum(struct.unpack("<16H", bytes(validation)))) & 0xFFFF
    if corrupt_checksum:
        checksum ^= 0x0101
    validation[28:30] = struct.pack("<H", checksum)
    entry = struct.pack("<BBHBBHI", 0x88 if bootable else 0x00, media, 0, 0, 0, sector_count, load_rba)
    return (bytes(validation) + entry.ljust(32, b"\0")).ljust(CD, b"\0")


def boot_code(sectors: int) -> bytes:
    """A recognisable boot image: ``cli; jmp $`` then a counting pattern."""
    body = bytes(i & 0xFF for i in range(sectors * CD))
    return (b"\xfa\xeb\xfe" + body[3:])[: sectors * CD]


def el_torito_iso(
    *,
    volume_id: str = "AMTKIT_BOOT",
    el_torito: bool = True,
    boot_image_sectors: int = 1,
    total_sectors: int | None = None,
    catalog: bytes | None = None,
) -> bytes:
    """A bootable El Torito CD image; pass ``catalog=boot_catalog(...)`` to break it."""
    total = total_sectors or BOOT_IMAGE_LBA + boot_image_sectors + 2
    sectors = [bytes(CD)] * 16
    sectors.append(primary_volume_descriptor(volume_id, total))
    sectors.append(boot_record(CATALOG_LBA) if el_torito else terminator())
    sectors.append(terminator() if el_torito else bytes(CD))
    sectors.append((catalog or boot_catalog(sector_count=4 * boot_image_sectors)) if el_torito else bytes(CD))
    image = b"".join(sectors) + boot_code(boot_image_sectors)
    return image.ljust(total * CD, b"\0")


def floppy_image(*, signature: bool = True, label: str = "AMTKITBOOT") -> bytes:
    """A 1.44 MB floppy whose boot sector has a FAT12 extended BPB and (optionally) 55 AA."""
    sector = bytearray(512)
    sector[0:3] = b"\xeb\x3c\x90"
    sector[3:11] = b"AMTKIT  "
    sector[11:13] = struct.pack("<H", 512)
    sector[19:21] = struct.pack("<H", 2880)
    sector[24:26] = struct.pack("<H", 18)
    sector[26:28] = struct.pack("<H", 2)
    sector[38] = 0x29
    sector[43:54] = label.encode("ascii").ljust(11)
    sector[54:62] = b"FAT12   "
    if signature:
        sector[510:512] = b"\x55\xaa"
    return bytes(sector) + bytes(1474560 - 512)


class CountingReader(io.RawIOBase):
    """A read-only file wrapper that counts what is actually read from the underlying file."""

    def __init__(self, inner: BinaryIO) -> None:
        self.inner = inner
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self.inner.seek(offset, whence)

    def tell(self) -> int:
        return self.inner.tell()

    def read(self, size: int = -1) -> bytes:
        data = self.inner.read(size)
        self.bytes_read += len(data)
        return data


class FailingFile(io.BytesIO):
    """An image whose reads fail with EIO from byte ``fail_after`` on."""

    def __init__(self, data: bytes, fail_after: int) -> None:
        super().__init__(data)
        self.fail_after = fail_after

    def read(self, size: int | None = -1) -> bytes:
        if self.tell() >= self.fail_after:
            raise OSError(5, "Input/output error")
        return super().read(size)
