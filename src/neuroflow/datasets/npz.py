"""``.npz`` archives (numpy's zip of ``.npy`` files), such as Keras's ``mnist.npz``.

:func:`read_npz_headers` opens each member only as far as its ``.npy`` header, so a node can
learn shapes and types at configure time without inflating the arrays; :func:`read_npz_array`
loads one array, or only its first rows. Pickled object arrays are never loaded.

**A header is a claim, checked against the archive.** The zip directory states how many bytes
each member holds (and, compressed, how many it stores, which bounds what it can expand to), so
a header whose shape needs more is refused as truncated or corrupt at configure time; and
reading takes only the rows asked for, into a buffer that grows with the data that arrives.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from neuroflow.core.errors import DataError
from neuroflow.core.userfiles import open_regular_file

from .idx import MAX_GZIP_RATIO, read_bytes

_NPY_HEADER_READERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}
_UNREADABLE = (zipfile.BadZipFile, ValueError, OSError, EOFError)


@dataclass(frozen=True)
class NpyHeader:
    """Shape and value type of one array inside an ``.npz`` archive."""

    key: str
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool = False
    #: Bytes of the ``.npy`` header before the values.
    offset: int = 0

    @property
    def row_bytes(self) -> int:
        """Bytes per item along the first axis."""
        return math.prod(self.shape[1:]) * self.dtype.itemsize

    @property
    def data_bytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


def read_npz_headers(path: str | Path) -> dict[str, NpyHeader]:
    """Shapes and types of every array in the archive, keyed like ``np.load`` keys them."""
    path = Path(path)
    headers: dict[str, NpyHeader] = {}
    try:
        with _open(path) as raw, zipfile.ZipFile(raw) as archive:
            for info in archive.infolist():
                if info.filename.endswith(".npy"):
                    header = _member_header(archive, info, path)
                    headers[header.key] = header
    except _UNREADABLE as exc:
        raise DataError(f"{path} is not a readable .npz archive: {exc}") from None
    return headers


def read_npz_array(path: str | Path, key: str, *, limit: int | None = None) -> np.ndarray:
    """Load the array ``key`` (its first ``limit`` items when given) from an ``.npz`` archive,
    reading only those items."""
    path = Path(path)
    try:
        with _open(path) as raw, zipfile.ZipFile(raw) as archive:
            try:
                info = archive.getinfo(f"{key}.npy")
            except KeyError:
                found = ", ".join(n[: -len(".npy")] for n in archive.namelist() if n.endswith(".npy"))
                raise DataError(f"{path} has no array '{key}' (it holds {found or 'no arrays'})") from None
            header = _member_header(archive, info, path)
            count = header.shape[0] if header.shape else 1
            if limit is not None and header.shape and not header.fortran_order:
                count = min(limit, count)
            shape = (count, *header.shape[1:]) if header.shape else ()
            wanted = math.prod(shape) * header.dtype.itemsize
            with archive.open(info) as stream:
                stream.read(header.offset)
                values = read_bytes(stream, wanted, info.file_size - header.offset)  # type: ignore[arg-type]
    except _UNREADABLE as exc:
        raise DataError(f"{path} is not a readable .npz archive: {exc}") from None
    if len(values) < wanted:
        raise DataError(
            f"{path} is truncated or corrupt: the header of '{key}' says shape {header.shape}, but "
            f"the archive holds only {len(values):,} of the {wanted:,} bytes needed"
        )
    order = "F" if header.fortran_order else "C"
    array = values.view(header.dtype).reshape(shape, order=order)
    if header.fortran_order and limit is not None and array.shape:
        array = array[:limit].copy()
    return array


def _open(path: Path) -> IO[bytes]:
    """The archive, opened only when it is a regular file (a named pipe would block)."""
    try:
        return open_regular_file(path)
    except FileNotFoundError:
        raise DataError(f"file not found: {path}") from None
    except OSError as exc:
        raise DataError(f"cannot open {path}: {exc.strerror or exc}") from None


def _member_header(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> NpyHeader:
    """The ``.npy`` header of one member, checked against the member's size in the directory."""
    member = info.filename
    with archive.open(info) as stream:
        version = np.lib.format.read_magic(stream)
        reader = _NPY_HEADER_READERS.get(version)
        if reader is None:
            raise DataError(f"{path}: array '{member}' uses unsupported .npy version {version}")
        shape, fortran_order, dtype = reader(stream)
        offset = stream.tell()
    key = member[: -len(".npy")]
    header = NpyHeader(key, tuple(int(d) for d in shape), np.dtype(dtype), bool(fortran_order), offset)
    if header.dtype.hasobject:
        raise DataError(f"{path}: array '{key}' holds Python objects (pickled), which NeuroFlow never loads")
    held = info.file_size - offset
    stored_bound = info.compress_size * MAX_GZIP_RATIO if info.compress_type != zipfile.ZIP_STORED else held
    if header.data_bytes > min(held, stored_bound):
        raise DataError(
            f"{path} is truncated or corrupt: the header of '{key}' says shape {header.shape} "
            f"({header.data_bytes:,} bytes), but the archive holds {max(held, 0):,} bytes for it"
        )
    return header
