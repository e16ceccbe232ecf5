"""IDE redirection (IDE-R), console side: serve a CD image or floppy image to an AMT host.

The host BIOS boots from a virtual ATAPI CD-ROM or floppy whose sectors travel over the
redirection connection.  This package is pure logic (no sockets): :class:`IDERDriveSet`
answers the firmware's "command written" messages with data and status messages; the
session layer moves the bytes.  See ``docs/ider.md``.
"""

from amtkit.ider.image import CD_BLOCK_SIZE, FLOPPY_BLOCK_SIZE, DiskImage, FloppyGeometry, ImageRangeError
from amtkit.ider.scsi import (
    IDERDriveSet,
    IDERReply,
    ScsiDrive,
    ScsiOpcode,
    ScsiResponse,
    Sense,
    SenseKey,
)

__all__ = [
    "CD_BLOCK_SIZE",
    "FLOPPY_BLOCK_SIZE",
    "DiskImage",
    "FloppyGeometry",
    "IDERDriveSet",
    "IDERReply",
    "ImageRangeError",
    "ScsiDrive",
    "ScsiOpcode",
    "ScsiResponse",
    "Sense",
    "SenseKey",
]
