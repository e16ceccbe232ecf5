"""Disk images served over IDE-R, read on demand with bounded memory.

An IDE-R session can serve a multi-gigabyte ISO; the host only ever reads a few megabytes
of it to boot.  :class:`DiskImage` therefore never reads ahead: it measures the file with a
seek to its end (which reads nothing, even for a sparse file) and reads exactly the blocks
asked for, split into chunks no larger than the caller's limit (the firmware's IDE-R read
buffer), one chunk in memory at a time.

The file is read-only as far as amtkit is concerned and is not closed by this module.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

__all__ = [
    "CD_BLOCK_SIZE",
    "FLOPPY_BLOCK_SIZE",
    "DiskImage",
    "FloppyGeometry",
    "ImageRangeError",
]

CD_BLOCK_SIZE = 2048
"""Logical block of a CD/DVD (ISO 9660 sector)."""
FLOPPY_BLOCK_SIZE = 512
"""Logical block of a floppy (and of an ATAPI removable disk like the LS-120)."""


class ImageRangeError(ValueError):
    """A read outside the image (the SCSI layer answers LOGICAL BLOCK ADDRESS OUT OF RANGE)."""


@dataclass(frozen=True)
class FloppyGeometry:
    """CHS geometry reported in the flexible disk mode page (0x05)."""

    cylinders: int
    heads: int
    sectors_per_track: int
    transfer_rate_kbps: int
    rotation_rpm: int = 300

    @classmethod
    def for_blocks(cls, blocks: int) -> FloppyGeometry:
        """The standard PC geometry for a 512-byte-sector image of ``blocks`` sectors.

        Unknown sizes get an LS-120-like 8 heads x 32 sectors layout.
        """
        known = {
            720: cls(40, 2, 9, 250),  # 360 KB 5.25"
            1440: cls(80, 2, 9, 250),  # 720 KB 3.5"
            2400: cls(80, 2, 15, 500, 360),  # 1.2 MB 5.25"
            2880: cls(80, 2, 18, 500),  # 1.44 MB 3.5"
            5760: cls(80, 2, 36, 1000),  # 2.88 MB 3.5"
        }
        if blocks in known:
            return known[blocks]
        return cls(cylinders=max(1, -(-blocks // (8 * 32))), heads=8, sectors_per_track=32, transfer_rate_kbps=1000)


class DiskImage:
    """A read-only image of ``block_size``-byte blocks backed by a seekable binary file.

    A last partial block (a file whose size is not a multiple of the block size) counts as a
    block and reads back zero-padded.  ``OSError`` from the file propagates to the caller.
    """

    def __init__(self, file: BinaryIO, block_size: int) -> None:
        if block_size <= 0:
            raise ValueError("block_size must be positive")
        self.file = file
        self.block_size = block_size
        self.size = file.seek(0, io.SEEK_END)

    @classmethod
    def cd(cls, file: BinaryIO) -> DiskImage:
        return cls(file, CD_BLOCK_SIZE)

    @classmethod
    def floppy(cls, file: BinaryIO) -> DiskImage:
        return cls(file, FLOPPY_BLOCK_SIZE)

    @property
    def block_count(self) -> int:
        return -(-self.size // self.block_size)

    def __repr__(self) -> str:
        name = getattr(self.file, "name", None)
        return f"DiskImage({name!r}, block_size={self.block_size}, blocks={self.block_count})"

    def read(self, lba: int, count: int, *, chunk_size: int) -> Iterator[bytes]:
        """Yield blocks ``lba`` .. ``lba + count - 1`` as chunks of at most ``chunk_size`` bytes.

        The range is checked before anything is read (:class:`ImageRangeError`); the file is
        read lazily, chunk by chunk, as the iterator is consumed.
        """
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        if lba < 0 or count < 0 or lba + count > self.block_count:
            raise ImageRangeError(f"blocks {lba}+{count} outside an image of {self.block_count} blocks")
        return self._chunks(lba * self.block_size, count * self.block_size, chunk_size)

    def _chunks(self, offset: int, length: int, chunk_size: int) -> Iterator[bytes]:
        end = offset + length
        while offset < end:
            size = min(chunk_size, end - offset)
            yield self._read_at(offset, size)
            offset += size

    def _read_at(self, offset: int, size: int) -> bytes:
        """``size`` bytes at ``offset``, zero-filled past the end of the file."""
        self.file.seek(offset, os.SEEK_SET)
        data = bytearray()
        while len(data) < size:
            piece = self.file.read(size - len(data))
            if not piece:
                break
            data += piece
        if len(data) < size:
            data += bytes(size - len(data))
        return bytes(data)
