"""Folders of images with one sub-folder per class (``cats/001.png``, ``dogs/2019/a.jpg``, ...).

:func:`scan_image_folder` only lists files - nothing is opened - so a reader's ``configure`` can
count images per class after every edit of a workflow, even for a hundred thousand photos.
Class folders may hold images in nested sub-folders, and symbolic links are followed (to
folders and to files; a link that loops back is visited once). The listing is cached until
one of the folders visited changes (their modification times).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from neuroflow.core.errors import DataError

from .image_files import FORMATS_TEXT, IMAGE_SUFFIXES

_CACHE_SIZE = 16
#: A class folder deeper or larger than this is almost surely a link to somewhere it should not
#: go (a link to the home folder or to /): refuse rather than walk the whole disk.
MAX_DEPTH = 24
MAX_FILES = 5_000_000
_cache: dict[Path, tuple[tuple[tuple[str, int], ...], FolderScan]] = {}


@dataclass(frozen=True)
class FolderScan:
    """The classes of an image folder (sorted sub-folder names) and their image files."""

    folder: Path
    class_names: tuple[str, ...]
    files: tuple[tuple[str, ...], ...]  # per class, absolute paths sorted by relative path
    #: (folder, mtime_ns) of every folder visited: the listing is valid while these hold.
    key: tuple[tuple[str, int], ...] = ()

    def selected(self, limit_per_class: int = 0) -> tuple[tuple[str, ...], ...]:
        """The first ``limit_per_class`` files of each class in name order (0 keeps all)."""
        if limit_per_class <= 0:
            return self.files
        return tuple(paths[:limit_per_class] for paths in self.files)

    def count(self, limit_per_class: int = 0) -> int:
        return sum(len(paths) for paths in self.selected(limit_per_class))

    def counts(self, limit_per_class: int = 0) -> tuple[int, ...]:
        return tuple(len(paths) for paths in self.selected(limit_per_class))


def scan_image_folder(folder: str | Path) -> FolderScan:
    """List the classes and image files of ``folder``; refuse folders a reader cannot use."""
    path = Path(folder).expanduser()
    if not path.exists():
        raise DataError(f"image folder not found: {path}")
    if not path.is_dir():
        raise DataError(f"{path} is a file; expected a folder with one sub-folder per class")
    cached = _cache.get(path)
    if cached is not None and _still_valid(cached[0]):
        return cached[1]
    try:
        entries = sorted(os.scandir(path), key=lambda entry: entry.name)
    except OSError as exc:
        raise DataError(f"cannot list image folder {path}: {exc.strerror or exc}") from None
    class_dirs = [e for e in entries if not e.name.startswith(".") and e.is_dir(follow_symlinks=True)]
    if not class_dirs:
        if not entries:
            raise DataError(f"image folder {path} is empty; expected one sub-folder of images per class")
        raise DataError(
            f"image folder {path} has no class sub-folders; put each class's images in a "
            "sub-folder named after the class"
        )
    key: list[tuple[str, int]] = [(str(path), path.stat().st_mtime_ns)]
    files = []
    for class_dir in class_dirs:
        images = _list_images(Path(class_dir.path), key)
        if not images:
            raise DataError(f"class folder {class_dir.path} holds no images ({FORMATS_TEXT})")
        files.append(tuple(images))
    scan = FolderScan(path, tuple(d.name for d in class_dirs), tuple(files), tuple(key))
    if len(_cache) >= _CACHE_SIZE:
        _cache.clear()
    _cache[path] = (scan.key, scan)
    return scan


def _list_images(class_dir: Path, key: list[tuple[str, int]]) -> list[str]:
    """Image files under ``class_dir`` (nested folders and links followed), by relative path."""
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    for root, dirs, names in os.walk(class_dir, followlinks=True):
        real = os.path.realpath(root)
        if real in seen:  # a link back up the tree: visit each real folder once
            dirs[:] = []
            continue
        seen.add(real)
        if os.path.relpath(root, class_dir).count(os.sep) >= MAX_DEPTH:
            raise DataError(f"class folder {class_dir} nests folders more than {MAX_DEPTH} deep (at {root}); "
                            "does a link in it point to a parent folder or the whole disk?")
        key.append((root, os.stat(root).st_mtime_ns))
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        relative = os.path.relpath(root, class_dir)
        for name in names:
            if name.startswith(".") or not name.lower().endswith(IMAGE_SUFFIXES):
                continue
            full = os.path.join(root, name)
            found.append((os.path.normpath(os.path.join(relative, name)), full))
            if len(found) > MAX_FILES:
                raise DataError(f"class folder {class_dir} holds more than {MAX_FILES:,} images; "
                                "does a link in it point to a parent folder or the whole disk?")
    found.sort()
    return [os.path.abspath(full) for _, full in found]


def _still_valid(key: tuple[tuple[str, int], ...]) -> bool:
    try:
        return all(os.stat(folder).st_mtime_ns == mtime for folder, mtime in key)
    except OSError:
        return False
