"""IDX files, the format of MNIST and Fashion-MNIST, raw or gzip-compressed.

An IDX file is a 4-byte magic number - two zero bytes, a type code (0x08 = unsigned byte)
and the number of dimensions - then one big-endian int32 per dimension, then the values in
C order. :func:`read_idx_header` reads only those first bytes, so a reader node can describe
a 47 MB file in microseconds; :func:`read_idx` streams the values straight into a numpy
buffer (``readinto``), which reads all 60,000 MNIST training images in about a quarter of a
second, and stops early when only the first ``limit`` items are wanted.
"""

from __future__ import annotations

import gzip
import io
import math
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neuroflow.core.errors import DataError

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


def _open(path: Path) -> tuple[io.BufferedIOBase, bool]:
    """Open ``path`` for reading, decompressing on the fly when it starts like a gzip file.

    The content decides, not the name, so a raw file called ``.gz`` (browsers sometimes
    unpack downloads without renaming them) still reads correctly.
    """
    try:
        raw = open(path, "rb")  # the caller closes it, through _close
    except FileNotFoundError:
        raise DataError(f"file not found: {path}") from None
    except IsADirectoryError:
        raise DataError(f"expected a file but found a folder: {path}") from None
    except OSError as exc:
        raise DataError(f"cannot open {path}: {exc.strerror or exc}") from None
    if raw.peek(2)[:2] == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw, mode="rb"), True
    return raw, False


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
    if not compressed:
        expected = header.header_size + header.count * header.item_size
        actual = path.stat().st_size
        if actual != expected:
            what = "truncated" if actual < expected else "longer than its header says"
            raise DataError(
                f"{path} is {what}: header says shape {header.shape}, which needs {expected:,} "
                f"bytes, but the file has {actual:,}"
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
    buffer = np.empty(wanted, dtype=np.uint8)
    view = buffer.data  # a writable memoryview of the buffer
    stream, _ = _open(header.path)
    done = 0
    try:
        stream.read(header.header_size)
        while done < wanted:
            got = stream.readinto(view[done : done + _CHUNK])
            if not got:
                break
            done += got
            if progress is not None:
                progress(done / wanted, f"reading {header.path.name}")
        trailing = count == header.count and done == wanted and bool(stream.read(1))
    except _GZIP_ERRORS as exc:
        raise DataError(
            f"{header.path} is truncated or damaged after {done:,} of {wanted:,} data bytes: {exc}"
        ) from None
    finally:
        _close(stream)
    if done < wanted:
        raise DataError(
            f"{header.path} is truncated: header says shape {header.shape}, but the data ends "
            f"after {done:,} of {wanted:,} bytes"
        )
    if trailing:
        raise DataError(f"{header.path} is longer than its header says (shape {header.shape})")
    values = buffer.view(header.dtype).reshape((count, *header.shape[1:]))
    return values.astype(header.dtype.newbyteorder("="), copy=False)
