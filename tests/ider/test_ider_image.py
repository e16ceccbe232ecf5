"""DiskImage: sizes, lazy chunked reads, padding, bounded memory on a large sparse file."""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path

import pytest
from ider_images import CountingReader

from amtkit.ider.image import DiskImage, FloppyGeometry, ImageRangeError


def test_block_count_and_partial_last_block_is_zero_padded() -> None:
    image = DiskImage(io.BytesIO(b"\x01" * 2048 + b"\x02" * 100), 2048)
    assert image.size == 2148 and image.block_count == 2
    (tail,) = image.read(1, 1, chunk_size=4096)
    assert tail == b"\x02" * 100 + bytes(1948)


def test_reads_are_split_into_chunks() -> None:
    data = bytes(range(256)) * 64  # 16 KiB = 8 CD blocks
    image = DiskImage.cd(io.BytesIO(data))
    chunks = list(image.read(2, 5, chunk_size=3000))
    assert [len(c) for c in chunks] == [3000, 3000, 3000, 1240]
    assert b"".join(chunks) == data[2 * 2048 : 7 * 2048]


@pytest.mark.parametrize(("lba", "count"), [(-1, 1), (0, 9), (8, 1), (3, -1)])
def test_out_of_range_reads_fail_before_reading(lba: int, count: int) -> None:
    reader = CountingReader(io.BytesIO(bytes(8 * 2048)))
    image = DiskImage.cd(reader)  # type: ignore[arg-type]
    with pytest.raises(ImageRangeError):
        image.read(lba, count, chunk_size=2048)
    assert reader.bytes_read == 0


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError):
        DiskImage(io.BytesIO(), 0)
    with pytest.raises(ValueError):
        DiskImage.floppy(io.BytesIO(bytes(512))).read(0, 1, chunk_size=0)


def test_floppy_geometries() -> None:
    assert FloppyGeometry.for_blocks(2880) == FloppyGeometry(80, 2, 18, 500)
    assert FloppyGeometry.for_blocks(1440).sectors_per_track == 9
    odd = FloppyGeometry.for_blocks(10000)
    assert odd.heads * odd.sectors_per_track * odd.cylinders >= 10000


def test_sparse_256mb_image_reads_only_what_is_asked(tmp_path: Path) -> None:
    path = tmp_path / "big.iso"
    with path.open("wb") as f:
        f.truncate(256 * 1024 * 1024)  # sparse: nothing written
    with path.open("rb") as raw:
        reader = CountingReader(raw)
        image = DiskImage.cd(reader)  # type: ignore[arg-type]
        assert image.block_count == 131072 and reader.bytes_read == 0  # measuring reads nothing

        lazy = image.read(131068, 4, chunk_size=8192)
        assert reader.bytes_read == 0  # nothing read until consumed
        assert b"".join(lazy) == bytes(4 * 2048)
        assert reader.bytes_read == 4 * 2048

        # 64 MiB streamed through 8 KiB chunks: memory stays at a chunk or two.
        reader.bytes_read = 0
        tracemalloc.start()
        try:
            total = 0
            for chunk in image.read(1000, 32768, chunk_size=8192):
                assert len(chunk) == 8192
                total += len(chunk)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert total == reader.bytes_read == 64 * 1024 * 1024
        assert peak < 256 * 1024
