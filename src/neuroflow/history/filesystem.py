"""Whether a run history sits on a network share, where SQLite's WAL journal must not be used.

WAL keeps an index of the journal in shared memory (the ``-shm`` file mapped by every process),
which only works among processes of one machine. Two machines writing one history in a shared
folder (NFS, SMB, sshfs, ...) would each trust their own copy of that index and corrupt the
file. There SQLite's older rollback journal is the safe choice: every write takes the file
system's own lock on the database file, which network file systems carry between machines.
So :class:`~neuroflow.history.store.RunStore` asks :func:`is_network_folder` before choosing.

Linux reads the mount table (``/proc/self/mounts``: the file system type of the deepest mount
holding the folder); Windows asks whether the drive is remote (or the path is a UNC share);
elsewhere (macOS) a folder is taken as local unless ``$NEUROFLOW_RUNS_ON_NETWORK`` says so.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: Set to 1 to treat every history as shared by several machines (0: never).
NETWORK_ENV = "NEUROFLOW_RUNS_ON_NETWORK"

#: File system types whose files other machines may open at the same time.
NETWORK_TYPES = frozenset({
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "sshfs", "9p", "ceph", "fuse.ceph",
    "glusterfs", "fuse.glusterfs", "lustre", "afs", "gpfs", "beegfs", "fuse.s3fs", "davfs",
    "fuse.davfs2", "ncpfs", "virtiofs", "fuse.rclone",
})


def is_network_folder(folder: str | os.PathLike[str], mounts: str | None = None) -> bool:
    """Whether ``folder`` lies on a network file system (see the module docstring).

    ``mounts`` is the text of a Linux mount table (tests); by default it is read from the system.
    """
    forced = os.environ.get(NETWORK_ENV, "").strip()
    if forced in ("0", "1"):
        return forced == "1"
    path = Path(folder).expanduser().absolute()
    if mounts is not None or sys.platform.startswith("linux"):
        return _linux_type(path, mounts) in NETWORK_TYPES
    if sys.platform == "win32":
        return _windows_remote(path)
    return False


def _linux_type(path: Path, mounts: str | None) -> str:
    if mounts is None:
        try:
            mounts = Path("/proc/self/mounts").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
    try:
        path = path.resolve()
    except OSError:
        pass
    best, kind = -1, ""
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        # The mount table escapes spaces and tabs in mount points as octal (\040, \011).
        point = fields[1].encode().decode("unicode_escape")
        inside = path == Path(point) or Path(point) in path.parents
        if inside and len(point) > best:
            best, kind = len(point), fields[2]
    return kind


def _windows_remote(path: Path) -> bool:
    text = str(path)
    if text.startswith("\\\\"):
        return True  # \\server\share
    import ctypes

    drive = path.drive + "\\"
    return bool(ctypes.windll.kernel32.GetDriveTypeW(drive) == 4)  # type: ignore[attr-defined]  # DRIVE_REMOTE
