"""The run history store: one SQLite file per workflow, safe for several writers at once.

Why SQLite and these settings: the editor, its execution worker and ``neuroflow run`` on the
command line may all record runs of one workflow at the same time, and a killed process must
neither corrupt the file nor lose the runs already written. So:

* WAL journal mode: readers never block the writer and a crash leaves the last committed state;
  ``synchronous=NORMAL`` keeps commits cheap (no fsync per epoch) and still never corrupts the
  file - at worst a power cut forgets the last few commits.
* every write is one ``BEGIN IMMEDIATE`` transaction, which takes the write lock up front, so two
  writers queue instead of failing with "database is locked" half way; the busy timeout (30 s)
  is how long one waits for the other.
* ``AUTOINCREMENT`` ids: a deleted run's id is never given to a later run.

WAL works among the processes of one machine only. A history in a folder shared by several
machines (NFS, SMB, ...: :mod:`.filesystem` tells) uses SQLite's rollback journal instead, with
``synchronous=FULL``: every write then takes the file system's own lock, which network file
systems carry between machines, so two machines recording into one history queue instead of
corrupting it. Where SQLite cannot switch to WAL on a local disk, it keeps the rollback journal
too, which is just as safe and only slower.

Values: timestamps are seconds since the epoch (UTC); metric values are floats, NaN stored as
NULL and read back as NaN; versions, devices, settings and scores are JSON.
"""

from __future__ import annotations

import json
import math
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from ..core.errors import HistoryError
from .filesystem import is_network_folder
from .schema import migrate

#: Seconds a writer waits for another process's transaction before giving up.
BUSY_TIMEOUT = 30.0

#: Distributions whose versions decide whether two runs are comparable; read from package
#: metadata, so TensorFlow is never imported to learn its version.
TRACKED_LIBRARIES = ("neuroflow", "tensorflow", "tensorflow-cpu", "keras", "numpy", "h5py")

_RUN_COLUMNS = (
    "id, workflow, workflow_name, started, ended, label, starred, stop_reason, duration, seed, "
    "versions, devices, settings, data_fingerprint, model_path, scores, host, pid"
)


def library_versions() -> dict[str, str]:
    """Installed versions of :data:`TRACKED_LIBRARIES` and of Python itself."""
    import platform

    versions = {"python": platform.python_version()}
    for name in TRACKED_LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


@dataclass(frozen=True)
class Run:
    """One recorded run. ``curves`` (metric -> [(epoch, value)]) is ``None`` in listings."""

    id: int
    workflow: str
    workflow_name: str
    started: float
    ended: float | None
    label: str
    starred: bool
    stop_reason: str | None
    duration: float | None
    seed: int | None
    versions: dict[str, str]
    devices: list[str]
    settings: dict[str, Any]
    data_fingerprint: str | None
    model_path: str | None
    scores: dict[str, Any] | None
    host: str | None
    pid: int | None
    curves: dict[str, list[tuple[int, float]]] | None = None
    #: metric -> its best epoch value (lowest for a loss, highest otherwise); filled by listings.
    best: dict[str, float] | None = None

    @property
    def state(self) -> str:
        """``finished``; ``running`` or ``interrupted`` (its process on this machine is alive or
        gone); ``unfinished`` when that cannot be told (another machine, or an old record).
        A process id the system has since given to another program reads as ``running``: rare,
        and a Runs view can offer to mark such a run ended by hand."""
        if self.ended is not None:
            return "finished"
        if self.pid is None or self.host != socket.gethostname():
            return "unfinished"
        alive = _process_alive(self.pid)
        if alive is None:
            return "unfinished"
        return "running" if alive else "interrupted"


def _process_alive(pid: int) -> bool | None:
    """Whether process ``pid`` exists; ``None`` where that cannot be asked safely (Windows,
    where ``os.kill`` would terminate it)."""
    if os.name != "posix":
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _while_busy(step: Callable[[], object], timeout: float) -> None:
    """Run ``step``, again while SQLite reports the file busy, for up to ``timeout`` seconds.

    Needed for opening only: two processes opening a new file at once race to switch it to WAL
    and to create the tables, and SQLite answers "database is locked" at once to the loser of
    that race instead of waiting through the busy timeout (seen in the two-writer test).
    Ordinary writes start with ``BEGIN IMMEDIATE``, which does wait.
    """
    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            busy = "locked" in str(exc) or "busy" in str(exc)
            if not busy or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def open_store(path: str | os.PathLike[str], *, timeout: float = BUSY_TIMEOUT) -> RunStore:
    """Open (creating or migrating as needed) the run history at ``path``."""
    return RunStore(path, timeout=timeout)


class RunStore:
    """A connection to one run history file. Usable as a context manager; thread-safe."""

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = BUSY_TIMEOUT) -> None:
        self.path = Path(path)
        self._shown = str(path)
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HistoryError(f"{self._shown}: cannot create its folder ({exc.strerror or exc})") from None
        try:
            self._db = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise HistoryError(f"{self._shown}: cannot open the run history ({exc})") from None
        try:
            with self._errors("open"):
                shared = is_network_folder(self.path.parent)
                self._db.execute(f"PRAGMA synchronous = {'FULL' if shared else 'NORMAL'}")
                self._db.execute("PRAGMA foreign_keys = ON")
                mode = "DELETE" if shared else "WAL"
                _while_busy(lambda: self._db.execute(f"PRAGMA journal_mode = {mode}").fetchone(), timeout)
                _while_busy(lambda: migrate(self._db, self._shown), timeout)
        except BaseException:
            self._db.close()
            raise

    # -- lifetime -------------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- writing --------------------------------------------------------------------------------

    def record_run(
        self,
        *,
        workflow: str | os.PathLike[str] | None,
        seed: int | None = None,
        settings: Mapping[str, Any] | None = None,
        devices: Sequence[str] = (),
        versions: Mapping[str, str] | None = None,
        data_fingerprint: str | None = None,
        label: str = "",
        started: float | None = None,
    ) -> int:
        """Record the start of a run and return its id. ``versions`` defaults to
        :func:`library_versions`; ``settings`` maps node ids to the settings the learner used."""
        path = "" if workflow is None else os.fspath(workflow)
        row = (
            path,
            Path(path).stem if path else "untitled",
            time.time() if started is None else float(started),
            label,
            seed,
            self._json("versions", library_versions() if versions is None else dict(versions)),
            self._json("devices", list(devices)),
            self._json("settings", dict(settings or {})),
            data_fingerprint,
            socket.gethostname(),
            os.getpid(),
        )
        with self._write("record a run") as db:
            cursor = db.execute(
                "INSERT INTO runs (workflow, workflow_name, started, label, seed, versions, devices, "
                "settings, data_fingerprint, host, pid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            return int(cursor.lastrowid or 0)

    def add_epoch(self, run_id: int, epoch: int, metrics: Mapping[str, float]) -> None:
        """Store one epoch's metrics (e.g. ``{"loss": .3, "val_accuracy": .9}``) in one commit.
        Writing an epoch again replaces its values."""
        rows = [(run_id, int(epoch), str(name), _real(value)) for name, value in metrics.items()]
        with self._write(f"store epoch {epoch} of run {run_id}") as db:
            self._require(db, run_id)
            db.executemany(
                "INSERT OR REPLACE INTO epochs (run_id, epoch, metric, value) VALUES (?, ?, ?, ?)", rows
            )

    def add_batches(
        self, run_id: int, epoch: int, batches: Iterable[tuple[int, Mapping[str, float]]]
    ) -> None:
        """Store per-batch metrics of one epoch, ``[(batch, {metric: value}), ...]``, in one
        commit: a recorder buffers them during the epoch, so batches cost one write per epoch."""
        rows = [
            (run_id, int(epoch), int(batch), str(name), _real(value))
            for batch, metrics in batches
            for name, value in metrics.items()
        ]
        with self._write(f"store the batches of epoch {epoch} of run {run_id}") as db:
            self._require(db, run_id)
            db.executemany(
                "INSERT OR REPLACE INTO batches (run_id, epoch, batch, metric, value) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    def finish_run(
        self,
        run_id: int,
        *,
        stop_reason: str,
        duration: float | None = None,
        model_path: str | os.PathLike[str] | None = None,
        scores: Mapping[str, Any] | None = None,
        ended: float | None = None,
    ) -> None:
        """Mark a run ended. ``duration`` defaults to the time since it was recorded; a model
        path or scores given here are stored as by :meth:`set_results`."""
        end = time.time() if ended is None else float(ended)
        with self._write(f"finish run {run_id}") as db:
            started = self._require(db, run_id)
            db.execute(
                "UPDATE runs SET ended = ?, stop_reason = ?, duration = ? WHERE id = ?",
                (end, stop_reason, end - started if duration is None else float(duration), run_id),
            )
            self._set_results(db, run_id, model_path, scores)

    def set_results(
        self,
        run_id: int,
        *,
        model_path: str | os.PathLike[str] | None = None,
        scores: Mapping[str, Any] | None = None,
    ) -> None:
        """Attach what later nodes produce from a run: the saved model file, the test scores."""
        with self._write(f"store the results of run {run_id}") as db:
            self._require(db, run_id)
            self._set_results(db, run_id, model_path, scores)

    def set_label(self, run_id: int, label: str) -> None:
        with self._write(f"label run {run_id}") as db:
            self._require(db, run_id)
            db.execute("UPDATE runs SET label = ? WHERE id = ?", (label, run_id))

    def set_starred(self, run_id: int, starred: bool = True) -> None:
        with self._write(f"star run {run_id}") as db:
            self._require(db, run_id)
            db.execute("UPDATE runs SET starred = ? WHERE id = ?", (int(bool(starred)), run_id))

    def delete_run(self, run_id: int) -> bool:
        """Forget a run and its curves; ``False`` if there was no such run. The model file the
        run wrote is the user's and stays where it is."""
        with self._write(f"delete run {run_id}") as db:
            return db.execute("DELETE FROM runs WHERE id = ?", (run_id,)).rowcount > 0

    # -- reading --------------------------------------------------------------------------------

    def list_runs(self, workflow: str | os.PathLike[str] | None = None) -> list[Run]:
        """Every run, newest first, without curves but with each metric's best epoch value
        (:attr:`Run.best`); only ``workflow``'s when given."""
        where = ""
        params: tuple[str, ...] = ()
        if workflow is not None:
            where, params = " WHERE workflow = ?", (os.fspath(workflow),)
        with self._errors("list the runs"):
            self._db.execute("BEGIN")  # the runs and their best values seen at one instant
            try:
                rows = self._db.execute(
                    f"SELECT {_RUN_COLUMNS} FROM runs{where} ORDER BY started DESC, id DESC", params
                ).fetchall()
                extremes = self._db.execute(  # only the listed runs' epochs
                    "SELECT run_id, metric, MIN(value), MAX(value) FROM epochs "
                    f"WHERE run_id IN (SELECT id FROM runs{where}) GROUP BY run_id, metric", params
                ).fetchall()
            finally:
                self._db.execute("COMMIT")
        best: dict[int, dict[str, float]] = {}
        for run_id, metric, low, high in extremes:
            value = low if is_lower_better(metric) else high
            if value is not None:
                best.setdefault(run_id, {})[metric] = value
        return [self._run(row, best=best.get(row[0], {})) for row in rows]

    def get_run(self, run_id: int) -> Run:
        """One run with its epoch curves; :class:`HistoryError` if there is no such run."""
        with self._errors(f"read run {run_id}"):
            # One read transaction: the run and its curves are seen at the same instant.
            self._db.execute("BEGIN")
            try:
                row = self._db.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,)).fetchone()
                points = self._db.execute(
                    "SELECT metric, epoch, value FROM epochs WHERE run_id = ? ORDER BY metric, epoch",
                    (run_id,),
                ).fetchall()
            finally:
                self._db.execute("COMMIT")
        if row is None:
            raise HistoryError(f"{self._shown}: there is no run {run_id}")
        curves: dict[str, list[tuple[int, float]]] = {}
        for metric, epoch, value in points:
            curves.setdefault(metric, []).append((epoch, math.nan if value is None else value))
        return self._run(row, curves)

    def batch_curves(self, run_id: int) -> dict[str, list[tuple[int, int, float]]]:
        """Per-batch values of a run: metric -> [(epoch, batch, value)] in training order."""
        with self._errors(f"read the batches of run {run_id}"):
            rows = self._db.execute(
                "SELECT metric, epoch, batch, value FROM batches WHERE run_id = ? "
                "ORDER BY metric, epoch, batch",
                (run_id,),
            ).fetchall()
        curves: dict[str, list[tuple[int, int, float]]] = {}
        for metric, epoch, batch, value in rows:
            curves.setdefault(metric, []).append((epoch, batch, math.nan if value is None else value))
        return curves

    # -- private --------------------------------------------------------------------------------

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Turn SQLite's exceptions into one-line :class:`HistoryError` naming the file."""
        with self._lock:
            try:
                yield
            except sqlite3.Error as exc:
                raise HistoryError(f"{self._shown}: cannot {doing} ({exc})") from None

    @contextmanager
    def _write(self, doing: str) -> Iterator[sqlite3.Connection]:
        """One write transaction that takes the write lock at its start (see the module docstring)."""
        with self._errors(doing):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _require(self, db: sqlite3.Connection, run_id: int) -> float:
        """The start time of run ``run_id``; :class:`HistoryError` if it does not exist."""
        row = db.execute("SELECT started FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise HistoryError(f"{self._shown}: there is no run {run_id}")
        return float(row[0])

    def _set_results(
        self,
        db: sqlite3.Connection,
        run_id: int,
        model_path: str | os.PathLike[str] | None,
        scores: Mapping[str, Any] | None,
    ) -> None:
        if model_path is not None:
            db.execute("UPDATE runs SET model_path = ? WHERE id = ?", (os.fspath(model_path), run_id))
        if scores is not None:
            db.execute("UPDATE runs SET scores = ? WHERE id = ?", (self._json("scores", dict(scores)), run_id))

    def _json(self, field: str, value: Any) -> str:
        try:
            return json.dumps(value, sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise HistoryError(f"{self._shown}: the run's {field} cannot be stored as JSON ({exc})") from None

    @staticmethod
    def _run(
        row: Sequence[Any],
        curves: dict[str, list[tuple[int, float]]] | None = None,
        best: dict[str, float] | None = None,
    ) -> Run:
        (id_, workflow, name, started, ended, label, starred, stop_reason, duration, seed,
         versions, devices, settings, fingerprint, model_path, scores, host, pid) = row
        return Run(
            id=id_, workflow=workflow, workflow_name=name, started=started, ended=ended, label=label,
            starred=bool(starred), stop_reason=stop_reason, duration=duration, seed=seed,
            versions=json.loads(versions), devices=json.loads(devices), settings=json.loads(settings),
            data_fingerprint=fingerprint, model_path=model_path,
            scores=None if scores is None else json.loads(scores), host=host, pid=pid, curves=curves,
            best=best if best is not None or curves is None else best_values(curves),
        )


def is_lower_better(metric: str) -> bool:
    """Whether smaller values of ``metric`` are better: losses and errors; accuracies, AUCs and
    the rest are better higher."""
    name = metric.lower()
    return "loss" in name or "error" in name


def best_values(curves: Mapping[str, Sequence[tuple[int, float]]]) -> dict[str, float]:
    """Each metric's best epoch value (see :func:`is_lower_better`); NaN epochs are skipped."""
    best: dict[str, float] = {}
    for metric, points in curves.items():
        values = [v for _, v in points if not math.isnan(v)]
        if values:
            best[metric] = min(values) if is_lower_better(metric) else max(values)
    return best


def _real(value: float) -> float | None:
    """A metric value as SQLite stores it (NaN as NULL); numpy scalars become plain floats."""
    number = float(value)
    return None if math.isnan(number) else number
