"""What an image file is, read from its first and last bytes - no decoding.

A reader of tens of thousands of photos must find the unreadable ones (an empty file, a web
page saved as ``.jpg``, a download that broke off) before training starts, and it must know
whether the images are colour, without decoding every one of them. The formats TensorFlow
decodes (PNG, JPEG, GIF, BMP, WebP) all state their size and colour type in a header of a few
dozen bytes and end in a recognisable trailer, so :func:`probe` opens a file, reads those
bytes and says what it is or why it cannot be used. Results are cached by path, size and
modification time, and :func:`probe_many` runs probes on a thread pool (the work is waiting
for the disk).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from stat import S_ISREG
from typing import BinaryIO

from neuroflow.core.userfiles import NotARegularFile, describe_kind, open_regular_file

#: File name endings read as images (compared case-insensitively).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
FORMATS_TEXT = "PNG, JPEG, GIF, BMP or WebP"

_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_CACHE_LIMIT = 400_000
_cache: dict[tuple[str, int, int], ImageInfo | str] = {}


@dataclass(frozen=True)
class ImageInfo:
    """Format and size of an image file; ``channels`` is 1 for grayscale, 3 for colour."""

    format: str
    height: int
    width: int
    channels: int


class UnreadableImage(Exception):
    """Why a file cannot be used as an image (a short reason, e.g. "truncated")."""


def probe(path: str) -> ImageInfo:
    """The image's format, size and channels; raises :class:`UnreadableImage` with the reason."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        raise UnreadableImage("missing (or a broken link)") from None
    except OSError as exc:
        raise UnreadableImage(f"cannot read: {exc.strerror or exc}") from None
    if not S_ISREG(stat.st_mode):  # a named pipe would block the probe, a device never end
        raise UnreadableImage(f"{describe_kind(stat.st_mode)}, not an image file")
    key = (path, stat.st_size, stat.st_mtime_ns)
    cached = _cache.get(key)
    if cached is None:
        try:
            cached = _probe_file(path, stat.st_size)
        except UnreadableImage as exc:
            cached = str(exc)
        if len(_cache) >= _CACHE_LIMIT:
            _cache.clear()
        _cache[key] = cached
    if isinstance(cached, str):
        raise UnreadableImage(cached)
    return cached


def probe_many(
    paths: Sequence[str],
    progress: Callable[[int], None] | None = None,
    workers: int = 8,
) -> list[ImageInfo | str]:
    """:func:`probe` for every path, in order: an :class:`ImageInfo` or the reason it failed.

    ``progress(done)`` is called now and then from the calling thread (it may raise to stop).
    """

    def one(path: str) -> ImageInfo | str:
        try:
            return probe(path)
        except UnreadableImage as exc:
            return str(exc)

    results: list[ImageInfo | str] = []
    step = 512
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for start in range(0, len(paths), step):
            results.extend(pool.map(one, paths[start:start + step]))
            if progress is not None:
                progress(len(results))
    return results


def _probe_file(path: str, size: int) -> ImageInfo:
    if size == 0:
        raise UnreadableImage("empty file")
    try:
        with open_regular_file(path) as handle:
            head = handle.read(32)
            info = _header(handle, head, size)
            _check_trailer(handle, info.format, head, size)
            return info
    except NotARegularFile:  # swapped for a pipe or a device since it was looked at
        raise UnreadableImage("not a regular file") from None
    except OSError as exc:
        raise UnreadableImage(f"cannot read: {exc.strerror or exc}") from None
    except struct.error:
        raise UnreadableImage("truncated header") from None


def _header(handle: BinaryIO, head: bytes, size: int) -> ImageInfo:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        if head[12:16] != b"IHDR":
            raise UnreadableImage("damaged PNG header")
        width, height = struct.unpack(">II", head[16:24])
        color_type = head[25]
        return ImageInfo("PNG", height, width, 1 if color_type in (0, 4) else 3)
    if head.startswith(b"\xff\xd8"):
        return _jpeg(handle)
    if head[:6] in (b"GIF87a", b"GIF89a"):
        width, height = struct.unpack("<HH", head[6:10])
        return ImageInfo("GIF", height, width, 3)
    if head.startswith(b"BM") and len(head) >= 26:
        declared = struct.unpack("<I", head[2:6])[0]
        if declared > size:
            raise UnreadableImage("truncated (shorter than its header says)")
        width, height = struct.unpack("<ii", head[18:26])
        return ImageInfo("BMP", abs(height), abs(width), 3)
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return _webp(handle, head, size)
    raise UnreadableImage(f"not an image ({FORMATS_TEXT})")


def _jpeg(handle: BinaryIO) -> ImageInfo:
    handle.seek(2)
    while True:
        marker = handle.read(2)
        if len(marker) < 2:
            raise UnreadableImage("truncated JPEG (no frame header)")
        if marker[0] != 0xFF:
            raise UnreadableImage("damaged JPEG header")
        kind = marker[1]
        if kind == 0xFF:  # fill byte: the marker starts one byte later
            handle.seek(-1, os.SEEK_CUR)
            continue
        if kind in (0xD8, 0x01) or 0xD0 <= kind <= 0xD7:  # markers without a length
            continue
        length = struct.unpack(">H", handle.read(2))[0]
        if kind in _JPEG_SOF:
            _precision, height, width, components = struct.unpack(">BHHB", handle.read(6))
            return ImageInfo("JPEG", height, width, 1 if components == 1 else 3)
        if kind == 0xD9 or length < 2:
            raise UnreadableImage("damaged JPEG header")
        handle.seek(length - 2, os.SEEK_CUR)


def _webp(handle: BinaryIO, head: bytes, size: int) -> ImageInfo:
    declared = struct.unpack("<I", head[4:8])[0] + 8
    if declared > size:
        raise UnreadableImage("truncated (shorter than its header says)")
    chunk = head[12:16]
    body = head[20:32] + handle.read(8)
    if chunk == b"VP8X":
        width = int.from_bytes(body[4:7], "little") + 1
        height = int.from_bytes(body[7:10], "little") + 1
    elif chunk == b"VP8 ":
        width, height = (v & 0x3FFF for v in struct.unpack("<HH", body[6:10]))
    elif chunk == b"VP8L":
        bits = int.from_bytes(body[1:5], "little")
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    else:
        raise UnreadableImage("damaged WebP header")
    return ImageInfo("WebP", height, width, 3)


def _check_trailer(handle: BinaryIO, fmt: str, head: bytes, size: int) -> None:
    """Refuse files whose end is missing: the usual damage of an interrupted copy or download."""
    if fmt in ("BMP", "WebP"):
        return  # their headers state the file size, already checked
    tail_size = min(size, 64)
    handle.seek(size - tail_size)
    tail = handle.read(tail_size)
    if fmt == "PNG" and b"IEND" not in tail[-12:]:
        raise UnreadableImage("truncated (no PNG end chunk)")
    if fmt == "JPEG" and b"\xff\xd9" not in tail:
        raise UnreadableImage("truncated (no JPEG end marker)")
    if fmt == "GIF" and not tail.rstrip(b"\x00").endswith(b";"):
        raise UnreadableImage("truncated (no GIF trailer)")
