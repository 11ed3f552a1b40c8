"""Downloading data files safely: verified, atomic, cancellable, with progress.

:func:`download_file` fetches one URL into a target file. The bytes go to a hidden partial
file beside the target (``.NAME.part-XXXX``) while a SHA-256 digest is computed on the fly;
only when the digest matches the expected one is the partial file renamed over the target,
so the target is either absent or complete and verified - never half-written, never corrupt.
Any failure (no network, an HTTP error, a wrong checksum, a cancel) removes the partial file
and raises one :class:`~neuroflow.core.errors.DataError` (or ``Cancelled``) that says what
happened and where.

:func:`download_first` tries several sources (an official host and mirrors) in order. Only
the standard library is used: ``urllib`` understands ``http``, ``https`` and ``file`` URLs and
honours the usual proxy environment variables.
"""

from __future__ import annotations

import hashlib
import os
import socket
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from neuroflow.core.errors import DataError

#: ``progress(fraction or None, message)``; may raise ``Cancelled`` to stop the download.
Progress = Callable[[float | None, str], None]

CHUNK = 1 << 16
#: Seconds to wait for a connection or for the next bytes before giving up.
TIMEOUT = 30.0


def download_file(
    url: str,
    target: Path,
    *,
    sha256: str | None = None,
    progress: Progress | None = None,
    what: str | None = None,
) -> Path:
    """Fetch ``url`` into ``target`` atomically, verifying ``sha256`` when given.

    ``what`` names the file in messages (default: its file name). Creates missing folders.
    """
    target = Path(target)
    shown = what or target.name
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create the folder {target.parent} for {shown}: {exc.strerror or exc}") from None
    partial = target.with_name(f".{target.name}.part-{uuid.uuid4().hex[:8]}")
    digest = hashlib.sha256()
    try:
        try:
            response = urllib.request.urlopen(url, timeout=TIMEOUT)  # noqa: S310 - user-set mirrors may be file://
        except urllib.error.HTTPError as exc:
            raise DataError(f"cannot download {shown} from {url}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DataError(f"cannot download {shown} from {url}: {_reason(reason)}") from None
        with response, open(partial, "wb") as handle:
            total = _length(response)
            done = 0
            size_text = f" of {_megabytes(total)}" if total else ""
            if progress is not None:
                progress(0.0 if total else None, f"downloading {shown}")
            while True:
                try:
                    chunk = response.read(CHUNK)
                except (TimeoutError, OSError) as exc:
                    raise DataError(f"download of {shown} from {url} broke off: {_reason(exc)}") from None
                if not chunk:
                    break
                handle.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    fraction = min(done / total, 1.0) if total else None
                    progress(fraction, f"downloading {shown}: {_megabytes(done)}{size_text}")
            if total and done < total:
                raise DataError(f"download of {shown} from {url} broke off after {done:,} of {total:,} bytes")
            handle.flush()
            os.fsync(handle.fileno())
        actual = digest.hexdigest()
        if sha256 is not None and actual != sha256.lower():
            raise DataError(
                f"{shown} downloaded from {url} does not match its SHA-256 checksum (expected "
                f"{sha256.lower()[:16]}..., got {actual[:16]}...); the file was removed"
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def download_first(
    urls: Sequence[str],
    target: Path,
    *,
    sha256: str | None = None,
    progress: Progress | None = None,
    what: str | None = None,
) -> Path:
    """Try ``urls`` in order; the first that delivers a verified file wins.

    When all fail, the error lists each source's reason; a checksum mismatch from one mirror
    does not stop the next from being tried.
    """
    if not urls:
        raise DataError(f"no download source for {what or Path(target).name}")
    problems = []
    for url in urls:
        try:
            return download_file(url, target, sha256=sha256, progress=progress, what=what)
        except DataError as exc:
            problems.append(str(exc))
    if len(problems) == 1:
        raise DataError(problems[0])
    raise DataError("; ".join(problems))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _length(response: object) -> int:
    value = getattr(response, "headers", {}).get("Content-Length") if hasattr(response, "headers") else None
    try:
        return max(int(value), 0) if value is not None else 0
    except ValueError:
        return 0


def _megabytes(count: int) -> str:
    return f"{count / 1e6:.1f} MB"


def _reason(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return f"no answer within {TIMEOUT:g} s"
    if isinstance(reason, socket.gaierror):
        return "the host name cannot be resolved (offline?)"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__
