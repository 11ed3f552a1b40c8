"""``.npz`` archives (numpy's zip of ``.npy`` files), such as Keras's ``mnist.npz``.

:func:`read_npz_headers` opens each member only as far as its ``.npy`` header, so a node can
learn shapes and types at configure time without inflating the arrays; :func:`read_npz_array`
loads one array. Pickled object arrays are never loaded.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neuroflow.core.errors import DataError

_NPY_HEADER_READERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}


@dataclass(frozen=True)
class NpyHeader:
    """Shape and value type of one array inside an ``.npz`` archive."""

    key: str
    shape: tuple[int, ...]
    dtype: np.dtype


def read_npz_headers(path: str | Path) -> dict[str, NpyHeader]:
    """Shapes and types of every array in the archive, keyed like ``np.load`` keys them."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"file not found: {path}")
    headers: dict[str, NpyHeader] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if not member.endswith(".npy"):
                    continue
                with archive.open(member) as stream:
                    version = np.lib.format.read_magic(stream)
                    reader = _NPY_HEADER_READERS.get(version)
                    if reader is None:
                        raise DataError(f"{path}: array '{member}' uses unsupported .npy version {version}")
                    shape, _, dtype = reader(stream)
                key = member[: -len(".npy")]
                headers[key] = NpyHeader(key, tuple(int(d) for d in shape), np.dtype(dtype))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise DataError(f"{path} is not a readable .npz archive: {exc}") from None
    return headers


def read_npz_array(path: str | Path, key: str, *, limit: int | None = None) -> np.ndarray:
    """Load the array ``key`` (its first ``limit`` items when given) from an ``.npz`` archive."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            if key not in archive.files:
                found = ", ".join(archive.files) or "no arrays"
                raise DataError(f"{path} has no array '{key}' (it holds {found})")
            values = archive[key]
    except FileNotFoundError:
        raise DataError(f"file not found: {path}") from None
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise DataError(f"{path} is not a readable .npz archive: {exc}") from None
    # copy a prefix so the rest of the array can be freed
    return values if limit is None else values[:limit].copy()
