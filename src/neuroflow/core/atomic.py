"""Saving a file so that it is either the old file or the new one, never half of each.

Every file NeuroFlow writes (workflows, run reports, trained models) goes through
:func:`write_atomically`: the content is written to a hidden temporary file in the target's own
folder (``.NAME.<pid>-<random>.tmp``), flushed to disk, given the mode the target should have and
renamed over the target in one step. Around that step it keeps what a user expects of "save":

* the existing file's permission mode (a 0644 file stays 0644, a private 0600 file stays 0600);
  a new file follows the umask, as a file written by any other program does;
* a symbolic link stays a link: the file it points to is replaced, not the link;
* the temporary file is removed on every failure (including Ctrl+C), and temporary files of the
  same target left behind by a save that was killed (older than a minute, their process gone) are
  removed by the next save of that target;
* errors are one line naming the user's file and the reason ("cannot save study.workflow: the disk
  is full"), never the hidden temporary name or a raw ``OSError``.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import stat
import time
from collections.abc import Callable
from pathlib import Path

from .errors import NeuroFlowError

#: A temporary file older than this (seconds since its last write) whose process is gone is the
#: remains of a killed save; one still being written is touched far more often than this.
STALE_AFTER = 60.0


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` as UTF-8 to ``path`` atomically (see the module docstring)."""
    shown = str(path)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        context = exc.object[max(exc.start - 20, 0):exc.end + 20]
        raise NeuroFlowError(
            f"cannot save {shown}: the text is not valid Unicode (a lone surrogate in {context!r})"
        ) from None

    def write(temp: Path) -> None:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

    write_atomically(path, write)


def write_atomically(
    path: str | os.PathLike[str], write: Callable[[Path], None], *, suffix: str = ""
) -> Path:
    """Let ``write`` create the temporary file it is given, then put it in place of ``path``.

    ``write`` must create the file (a new file, so the umask applies); ``suffix`` ends the
    temporary name where the writer needs an extension (Keras chooses the format by it). Returns
    the file actually written (the target of a symbolic link). Any exception leaves the old file
    as it was and no temporary file; ``OSError`` becomes a one-line :class:`NeuroFlowError`.
    """
    shown = str(path)
    if "\0" in shown:
        raise NeuroFlowError(f"cannot save {shown!r}: the file name contains a NUL character")
    try:
        target = _real_target(Path(path), shown)
        folder = target.parent
        if not folder.is_dir():
            raise NeuroFlowError(f"cannot save {shown}: the folder {folder} does not exist")
        existing = _stat(target)
    except OSError as exc:  # a name too long, a folder we may not enter...
        raise NeuroFlowError(f"cannot save {shown}: {describe_os_error(exc)}") from None
    if existing is not None and stat.S_ISDIR(existing.st_mode):
        raise NeuroFlowError(f"cannot save {shown}: that is a folder")
    remove_stale_temporaries(target, suffix)
    temp = temporary_name(folder / target.name, suffix)
    try:
        write(temp)
        if existing is not None:
            _copy_mode(temp, existing)
        _fsync_file(temp)
        os.replace(temp, target)
    except BaseException as exc:
        _remove(temp)
        if isinstance(exc, OSError):
            raise NeuroFlowError(f"cannot save {shown}: {describe_os_error(exc, folder)}") from None
        raise
    _fsync_folder(folder)
    return target


def temporary_name(target: Path, suffix: str = "") -> Path:
    """A hidden sibling of ``target`` to write into before the rename: ``.NAME.<pid>-<random>.tmp``
    (the process id lets a later save tell a killed save's leftovers from a running one's)."""
    return target.parent / f"{_temp_prefix(target)}{os.getpid()}-{secrets.token_hex(4)}.tmp{suffix}"


def remove_stale_temporaries(target: Path, suffix: str = "", *, folders: bool = False) -> list[Path]:
    """Delete the temporary files of ``target`` that a killed save left behind; returns them.
    ``folders``: the temporary folders of a save that writes a folder (a SavedModel) instead."""
    removed: list[Path] = []
    prefix = _temp_prefix(target)
    ending = f".tmp{suffix}"
    now = time.time()
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(ending)):
            continue
        token = name[len(prefix):len(name) - len(ending)]
        if "." in token:  # a temporary file of another target whose name starts like this one's
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        right_kind = stat.S_ISDIR(info.st_mode) if folders else stat.S_ISREG(info.st_mode)
        if not right_kind or now - info.st_mtime < STALE_AFTER:
            continue
        if _process_alive(token.partition("-")[0]):
            continue  # another save of the same file, still at work
        path = Path(entry.path)
        if folders:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
        elif _remove(path):
            removed.append(path)
    return removed


def _temp_prefix(target: Path) -> str:
    """``.NAME.``: the start of the temporary files of ``target``; a name so long that the
    temporary name would pass the system's 255-byte limit is cut."""
    name = target.name
    if len(name.encode("utf-8", "surrogateescape")) > 200:
        name = name.encode("utf-8", "surrogateescape")[:200].decode("utf-8", "ignore")
    return f".{name}."


def describe_os_error(exc: OSError, folder: Path | None = None) -> str:
    """The reason of an ``OSError`` in words, without the file name it carries."""
    code = exc.errno
    if code in (errno.EACCES, errno.EPERM):
        return f"permission denied: the folder {folder} is read-only for you" if folder else "permission denied"
    if code == errno.EROFS:
        return "the disk is read-only" if folder is None else f"the folder {folder} is on a read-only disk"
    if code == errno.ENOSPC:
        return "the disk is full"
    if code == getattr(errno, "EDQUOT", -1):
        return "the disk quota is used up"
    if code == errno.ENAMETOOLONG:
        return "the file name is too long"
    if code == errno.EISDIR:
        return "that is a folder"
    if code == errno.ENOTDIR:
        return "a part of the path is not a folder"
    if code == errno.ENOENT:
        return f"the folder {folder} no longer exists" if folder else "no such file"
    if code == errno.EIO:
        return "the disk reported an input/output error"
    reason = exc.strerror or (exc.args[0] if exc.args else "") or type(exc).__name__
    return str(reason)[:1].lower() + str(reason)[1:]


def _real_target(path: Path, shown: str) -> Path:
    """``path``, or for a symbolic link (chain) the file it points to."""
    if not path.is_symlink():
        return path
    try:
        return Path(os.path.realpath(path, strict=False))
    except (OSError, RuntimeError) as exc:  # a loop of links
        raise NeuroFlowError(f"cannot save {shown}: the link cannot be followed ({exc})") from None


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except FileNotFoundError:
        return None


def _copy_mode(temp: Path, existing: os.stat_result) -> None:
    os.chmod(temp, stat.S_IMODE(existing.st_mode))
    if (existing.st_uid, existing.st_gid) != _owner(temp):
        try:  # keep the owner and group where we may (root, or a group we belong to)
            os.chown(temp, existing.st_uid, existing.st_gid)
        except OSError:
            try:
                os.chown(temp, -1, existing.st_gid)
            except OSError:
                pass
        os.chmod(temp, stat.S_IMODE(existing.st_mode))  # chown may clear set-id bits


def _owner(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_uid, info.st_gid


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable; not every system can open a folder, which is fine."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError:
        return False
    return True


def _process_alive(pid_text: str) -> bool:
    if not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False  # our own leftovers: this process is not writing them now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's live process; leave its file alone
    return True
