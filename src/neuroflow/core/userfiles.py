"""Files named by the user are read only when they are regular files.

A path in a setting can name anything: a named pipe (``mkfifo``), a device such as
``/dev/zero`` or ``/dev/stdin``, a socket. Opening a named pipe for reading blocks until some
other process writes to it - a ``validate`` that never returns, an editor that freezes - and a
device never ends. So every reader of a user's file asks here first: :func:`check_regular_file`
looks at the path without opening it, and :func:`open_regular_file` opens it in a way that cannot
block (``O_NONBLOCK``) and checks what it opened, so a file swapped for a pipe in between is
refused too. Neither says anything about a missing file: callers word that themselves.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from .errors import DataError


class NotARegularFile(DataError):
    """The path names a folder, a named pipe, a device or a socket, not a file to read."""


def describe_kind(mode: int) -> str:
    """What a ``st_mode`` is, for messages: ``"a folder"``, ``"a named pipe (FIFO)"``, ..."""
    if stat.S_ISREG(mode):
        return "a regular file"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def not_regular(shown: str | Path, mode: int, what: str = "file") -> NotARegularFile:
    """The one-line refusal of ``shown``, whose mode says it is no regular file."""
    return NotARegularFile(
        f"'{shown}' is {describe_kind(mode)}, not a {what}; NeuroFlow reads only regular files"
    )


def check_regular_file(path: str | os.PathLike[str], shown: str | Path | None = None,
                       what: str = "file") -> os.stat_result:
    """``os.stat`` of ``path`` (links followed), refusing anything but a regular file.

    ``FileNotFoundError`` and other ``OSError`` pass through for the caller to word.
    """
    try:
        info = os.stat(path)
    except ValueError:  # an embedded NUL character: no such file can exist
        raise DataError(f"'{shown or path}' is not a usable path: it contains a NUL character") from None
    if not stat.S_ISREG(info.st_mode):
        raise not_regular(shown or path, info.st_mode, what)
    return info


def open_regular_file(path: str | os.PathLike[str], shown: str | Path | None = None,
                      what: str = "file") -> BinaryIO:
    """``path`` opened for binary reading, refusing anything but a regular file - without ever
    blocking on a named pipe. The caller closes the returned file."""
    check_regular_file(path, shown, what)  # devices and pipes are never even opened
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    descriptor = os.open(path, flags)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):  # replaced between the two looks
            raise not_regular(shown or path, info.st_mode, what)
        if hasattr(os, "set_blocking"):
            os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise
