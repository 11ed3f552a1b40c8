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


class DownloadError(DataError):
    """A download failed; ``str()`` is the full one-line message.

    The parts are kept so that a caller can summarise several failures in one line (e.g.
    "cannot reach HOST (offline?)" once per host instead of once per file): ``url`` the source,
    ``reason`` why it failed, and ``unreachable`` when no connection could be made at all.
    ``problems`` holds each source's error when :func:`download_first` tried several.
    """

    def __init__(
        self, message: str, *, url: str = "", reason: str = "", unreachable: bool = False,
        problems: Sequence[DownloadError] = (),
    ) -> None:
        super().__init__(message)
        self.url = url
        self.reason = reason or message
        self.unreachable = unreachable
        self.problems: tuple[DownloadError, ...] = tuple(problems) or (self,)

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
            reason = f"HTTP {exc.code} {exc.reason}"
            raise DownloadError(f"cannot download {shown} from {url}: {reason}", url=url, reason=reason) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = _reason(getattr(exc, "reason", exc))
            raise DownloadError(
                f"cannot download {shown} from {url}: {reason}", url=url, reason=reason,
                unreachable=not isinstance(exc, ValueError),
            ) from None
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
                    reason = f"broke off: {_reason(exc)}"
                    raise DownloadError(f"download of {shown} from {url} {reason}", url=url, reason=reason) from None
                if not chunk:
                    break
                handle.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    fraction = min(done / total, 1.0) if total else None
                    progress(fraction, f"downloading {shown}: {_megabytes(done)}{size_text}")
            if total and done < total:
                reason = f"broke off after {done:,} of {total:,} bytes"
                raise DownloadError(f"download of {shown} from {url} {reason}", url=url, reason=reason)
            handle.flush()
            os.fsync(handle.fileno())
        actual = digest.hexdigest()
        if sha256 is not None and actual != sha256.lower():
            reason = (
                f"does not match its SHA-256 checksum (expected {sha256.lower()[:16]}..., "
                f"got {actual[:16]}...); the file was removed"
            )
            raise DownloadError(f"{shown} downloaded from {url} {reason}", url=url, reason=reason)
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
    problems: list[DownloadError] = []
    for url in urls:
        try:
            return download_file(url, target, sha256=sha256, progress=progress, what=what)
        except DownloadError as exc:
            problems.append(exc)
        except DataError as exc:  # e.g. the folder cannot be created: no other source helps
            raise exc from None
    if len(problems) == 1:
        raise problems[0]
    raise DownloadError(
        "; ".join(str(p) for p in problems), url=problems[-1].url, reason=problems[-1].reason,
        unreachable=all(p.unreachable for p in problems), problems=problems,
    )


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
