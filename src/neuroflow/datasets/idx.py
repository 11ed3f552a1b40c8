"""IDX files, the format of MNIST and Fashion-MNIST, raw or gzip-compressed.

An IDX file is a 4-byte magic number - two zero bytes, a type code (0x08 = unsigned byte)
and the number of dimensions - then one big-endian int32 per dimension, then the values in
C order. :func:`read_idx_header` reads only those first bytes, so a reader node can describe
a 47 MB file in microseconds; :func:`read_idx` streams the values straight into a numpy
buffer (``readinto``), which reads all 60,000 MNIST training images in about a quarter of a
second, and stops early when only the first ``limit`` items are wanted.

**A header is a claim, checked against the file.** A raw file's size must match it exactly. A
gzipped file's uncompressed size is unknown until it is read, but deflate never expands data
more than about 1,032 times, so a header claiming more than that is refused at once; and the
buffer grows with the data that actually arrives (:func:`read_bytes`), so a header claiming a
billion images in a small file is refused as truncated or corrupt after reading what is there,
never by allocating a billion images' worth of memory.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neuroflow.core.errors import DataError
from neuroflow.core.userfiles import open_regular_file

#: Called as ``progress(fraction, message)``; may raise to cancel (as ``ctx.progress`` does).
Progress = Callable[[float, str], None]

#: IDX type codes and the (big-endian) numpy types they stand for.
IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 4 << 20  # bytes per read; also how often progress is reported
#: More than deflate can expand (at most 1,032 times, from 258-byte matches coded in 2 bits).
MAX_GZIP_RATIO = 1100
#: How many times its compressed size a gzipped file is first assumed to expand (MNIST: 4.8).
_FIRST_GUESS_RATIO = 8
#: What a damaged gzip stream raises from the standard library.
_GZIP_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile)


@dataclass(frozen=True)
class IdxHeader:
    """What the first bytes of an IDX file say: value type and shape."""

    path: Path
    magic: int
    dtype: np.dtype
    shape: tuple[int, ...]
    compressed: bool

    @property
    def count(self) -> int:
        """Number of items along the first axis (images or labels)."""
        return self.shape[0]

    @property
    def header_size(self) -> int:
        return 4 + 4 * len(self.shape)

    @property
    def item_size(self) -> int:
        """Bytes per item (one image, one label)."""
        return math.prod(self.shape[1:]) * self.dtype.itemsize

    @property
    def items(self) -> str:
        """What the items are called in messages: images (3 dimensions), labels (1) or items."""
        return {3: "images", 1: "labels"}.get(len(self.shape), "items")

    def claims(self, count: int | None = None) -> str:
        """``1,000,000,000 images`` (of ``28x28``)."""
        count = self.count if count is None else count
        inner = f" of {'x'.join(map(str, self.shape[1:]))}" if len(self.shape) > 1 else ""
        return f"{count:,} {self.items}{inner}"


def _open(path: Path) -> tuple[io.BufferedIOBase, bool]:
    """Open ``path`` for reading, decompressing on the fly when it starts like a gzip file.

    The content decides, not the name, so a raw file called ``.gz`` (browsers sometimes
    unpack downloads without renaming them) still reads correctly.
    """
    try:
        # the caller closes it, through _close; a named pipe or a device is refused unopened
        raw = open_regular_file(path)
    except FileNotFoundError:
        raise DataError(f"file not found: {path}") from None
    except OSError as exc:
        raise DataError(f"cannot open {path}: {exc.strerror or exc}") from None
    if raw.peek(2)[:2] == _GZIP_MAGIC:  # type: ignore[attr-defined]
        return gzip.GzipFile(fileobj=raw, mode="rb"), True
    return raw, False  # type: ignore[return-value]


def _close(stream: io.BufferedIOBase) -> None:
    inner = getattr(stream, "fileobj", None)
    stream.close()
    if inner is not None:
        inner.close()


def read_idx_header(path: str | Path) -> IdxHeader:
    """Read and validate the header of an IDX file (raw or gzipped) without reading its values.

    For a raw file the file size is checked against the header too, so a truncated or padded
    file is refused here; a gzipped file's size is only known after decompressing it, which
    :func:`read_idx` checks.
    """
    path = Path(path)
    stream, compressed = _open(path)
    try:
        start = stream.read(4)
        if len(start) < 4:
            raise DataError(f"{path} is not an IDX file: it holds only {len(start)} bytes")
        magic = struct.unpack(">I", start)[0]
        type_code, ndim = start[2], start[3]
        if start[:2] != b"\0\0" or type_code not in IDX_TYPES or ndim == 0:
            raise DataError(f"{path} is not an IDX file: bad magic number 0x{magic:08x}")
        dims_bytes = stream.read(4 * ndim)
        if len(dims_bytes) < 4 * ndim:
            raise DataError(f"{path} is truncated: its header ends after {4 + len(dims_bytes)} bytes")
        shape = struct.unpack(f">{ndim}I", dims_bytes)
    except _GZIP_ERRORS as exc:
        raise DataError(f"{path} is not a readable gzip file: {exc}") from None
    finally:
        _close(stream)
    header = IdxHeader(path, magic, IDX_TYPES[type_code], tuple(int(d) for d in shape), compressed)
    expected = header.header_size + header.count * header.item_size
    actual = path.stat().st_size
    if not compressed and actual != expected:
        held = max(actual - header.header_size, 0) // max(header.item_size, 1)
        what = "truncated or corrupt" if actual < expected else "longer than its header says"
        raise DataError(
            f"{path} is {what}: its header says {header.claims()} ({expected:,} bytes), but the "
            f"file holds {held:,} ({actual:,} bytes)"
        )
    if compressed and expected > actual * MAX_GZIP_RATIO:
        raise DataError(
            f"{path} is truncated or corrupt: its header says {header.claims()} ({expected:,} bytes), "
            f"more than a gzip file of {actual:,} bytes can hold"
        )
    return header


def read_idx(
    path: str | Path,
    *,
    limit: int | None = None,
    header: IdxHeader | None = None,
    progress: Progress | None = None,
) -> np.ndarray:
    """Read the values of an IDX file as a native-endian array of the header's shape.

    ``limit`` keeps only the first items (and stops reading there). ``progress`` is called
    after each chunk with the fraction read; it may raise to cancel.
    """
    header = header or read_idx_header(path)
    count = header.count if limit is None else min(limit, header.count)
    wanted = count * header.item_size
    stream, compressed = _open(header.path)
    try:
        size = os.fstat(_raw_stream(stream).fileno()).st_size
        stream.read(header.header_size)
        guess = size * _FIRST_GUESS_RATIO if compressed else size - header.header_size
        buffer = read_bytes(stream, wanted, guess, progress, f"reading {header.path.name}")
        trailing = count == header.count and len(buffer) == wanted and bool(stream.read(1))
    except _GZIP_ERRORS as exc:
        raise DataError(
            f"{header.path} is truncated or corrupt: its header says {header.claims()}, but the data "
            f"breaks off ({exc})"
        ) from None
    finally:
        _close(stream)
    if len(buffer) < wanted:
        raise DataError(
            f"{header.path} is truncated or corrupt: its header says {header.claims()}, but the file "
            f"holds {len(buffer) // max(header.item_size, 1):,}"
        )
    if trailing:
        raise DataError(f"{header.path} is longer than its header says ({header.claims()})")
    values = buffer.view(header.dtype).reshape((count, *header.shape[1:]))
    return values.astype(header.dtype.newbyteorder("="), copy=False)


def read_bytes(
    stream: io.BufferedIOBase, wanted: int, first_guess: int, progress: Progress | None = None,
    message: str = "reading",
) -> np.ndarray:
    """Up to ``wanted`` bytes of ``stream`` as a uint8 array, shorter when the stream ends first.

    The buffer starts at ``first_guess`` bytes (at least one chunk) and doubles as data keeps
    arriving, so the memory used follows the data read, not what a header claims.
    """
    capacity = min(wanted, max(first_guess, _CHUNK))
    buffer = np.empty(capacity, dtype=np.uint8)
    done = 0
    while done < wanted:
        if done == capacity:
            capacity = min(wanted, capacity * 2)
            grown = np.empty(capacity, dtype=np.uint8)
            grown[:done] = buffer[:done]
            buffer = grown
        got = stream.readinto(buffer.data[done : min(done + _CHUNK, capacity)])
        if not got:
            break
        done += got
        if progress is not None:
            progress(done / wanted, message)
    return buffer[:done]


def _raw_stream(stream: io.BufferedIOBase) -> Any:
    """The file under a gzip stream (or the stream itself)."""
    return getattr(stream, "fileobj", None) or stream
