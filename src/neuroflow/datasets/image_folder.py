"""Folders of images with one sub-folder per class (``cats/001.png``, ``dogs/a.jpg``, ...).

:func:`scan_image_folder` only lists files, so a reader's ``configure`` can count images per
class cheaply; as it runs after every edit of a workflow, the listing is cached until the
folder or one of its class folders changes (their modification times). Decoding and resizing
use TensorFlow, imported inside :func:`load_image_folder` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neuroflow.core.errors import DataError

from .idx import Progress

#: File name endings read as images (compared case-insensitively).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")

_CACHE_SIZE = 16
_cache: dict[Path, tuple[tuple[Any, ...], FolderScan]] = {}


@dataclass(frozen=True)
class FolderScan:
    """The classes of an image folder (sorted sub-folder names) and their image files."""

    folder: Path
    class_names: tuple[str, ...]
    files: tuple[tuple[Path, ...], ...]  # per class, sorted by name

    def selected(self, limit_per_class: int = 0) -> tuple[tuple[Path, ...], ...]:
        """The first ``limit_per_class`` files of each class in name order (0 keeps all)."""
        if limit_per_class <= 0:
            return self.files
        return tuple(paths[:limit_per_class] for paths in self.files)

    def count(self, limit_per_class: int = 0) -> int:
        return sum(len(paths) for paths in self.selected(limit_per_class))


def scan_image_folder(folder: str | Path) -> FolderScan:
    """List the classes and image files of ``folder``; refuse folders a reader cannot use."""
    path = Path(folder).expanduser()
    if not path.exists():
        raise DataError(f"image folder not found: {path}")
    if not path.is_dir():
        raise DataError(f"{path} is a file; expected a folder with one sub-folder per class")
    entries = list(path.iterdir())
    class_dirs = sorted(
        (entry for entry in entries if entry.is_dir() and not entry.name.startswith(".")),
        key=lambda entry: entry.name,
    )
    if not class_dirs:
        if not entries:
            raise DataError(f"image folder {path} is empty; expected one sub-folder of images per class")
        raise DataError(
            f"image folder {path} has no class sub-folders; put each class's images in a "
            "sub-folder named after the class"
        )
    key = (path.stat().st_mtime_ns, tuple((d.name, d.stat().st_mtime_ns) for d in class_dirs))
    cached = _cache.get(path)
    if cached is not None and cached[0] == key:
        return cached[1]
    files = []
    for class_dir in class_dirs:
        images = sorted(
            (f for f in class_dir.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file()),
            key=lambda f: f.name,
        )
        if not images:
            raise DataError(f"class folder {class_dir} holds no PNG or JPEG images")
        files.append(tuple(images))
    scan = FolderScan(path, tuple(d.name for d in class_dirs), tuple(files))
    if len(_cache) >= _CACHE_SIZE:
        _cache.clear()
    _cache[path] = (key, scan)
    return scan


def load_image_folder(
    scan: FolderScan,
    *,
    size: tuple[int, int],
    channels: int,
    limit_per_class: int = 0,
    progress: Progress | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Decode and resize the selected images: ``(N, H, W, channels)`` uint8 and labels int64.

    Images are stretched to ``size`` (height, width) with antialiased bilinear resampling;
    PNG and JPEG are told apart by their content, not their names.
    """
    import tensorflow as tf

    selected = scan.selected(limit_per_class)
    total = sum(len(paths) for paths in selected)
    images = np.empty((total, size[0], size[1], channels), dtype=np.uint8)
    labels = np.empty(total, dtype=np.int64)
    index = 0
    for label, paths in enumerate(selected):
        for path in paths:
            images[index] = _decode(tf, path, size, channels)
            labels[index] = label
            index += 1
            if progress is not None and (index % 64 == 0 or index == total):
                progress(index / total, f"decoded {index:,} of {total:,} images")
    return images, labels


def _decode(tf: Any, path: Path, size: tuple[int, int], channels: int) -> np.ndarray:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        image = tf.io.decode_image(data, channels=channels, dtype=tf.uint8, expand_animations=False)
    except tf.errors.OpError as exc:
        reason = (exc.message or "").strip().splitlines()
        raise DataError(f"cannot decode image {path}: {reason[0] if reason else type(exc).__name__}") from None
    if tuple(image.shape[:2]) != tuple(size):
        image = tf.image.resize(image, size, method="bilinear", antialias=True)
        image = tf.clip_by_value(tf.round(image), 0.0, 255.0)
    return image.numpy()
