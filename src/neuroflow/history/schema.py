"""The run history's schema and the migrations that bring an older database up to date.

The version lives in SQLite's own header field ``PRAGMA user_version`` (0 = a new, empty file).
:data:`MIGRATIONS` is an ordered list: step *n* turns a version *n-1* database into version *n*.
:func:`migrate` runs every missing step in one write transaction, reading the version again
inside it, so two processes opening the same new file at the same moment cannot both create the
tables, and a crash half way leaves the old version intact. Steps are never edited once released:
a change to the schema is a new step at the end.

Version 1: ``runs`` (one row per Learner run) and ``epochs`` (one value per run, metric and epoch).
Version 2: ``batches`` (per-batch curves, written in bulk once per epoch), the ``host`` and
``pid`` of the process that recorded a run (so an unfinished run can be told apart as still
running or interrupted) and an index for listing one workflow's runs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from ..core.errors import HistoryError

_V1 = [
    """
    CREATE TABLE runs (
        id               INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: old references stay wrong, not misleading
        workflow         TEXT NOT NULL,      -- the workflow file's path as recorded ('' if unsaved)
        workflow_name    TEXT NOT NULL,      -- its display name (file stem)
        started          REAL NOT NULL,      -- seconds since the epoch, UTC
        ended            REAL,               -- NULL while running (or when the run was killed)
        label            TEXT NOT NULL DEFAULT '',
        starred          INTEGER NOT NULL DEFAULT 0,
        stop_reason      TEXT,               -- 'completed', 'early stopping', 'cancelled', 'failed: ...'
        duration         REAL,               -- seconds of training, as measured by the recorder
        seed             INTEGER,
        versions         TEXT NOT NULL DEFAULT '{}',  -- JSON: library -> version
        devices          TEXT NOT NULL DEFAULT '[]',  -- JSON: list of device names
        settings         TEXT NOT NULL DEFAULT '{}',  -- JSON: node id -> settings the learner depends on
        data_fingerprint TEXT,
        model_path       TEXT,
        scores           TEXT                -- JSON: test scores, NULL until scored
    )
    """,
    """
    CREATE TABLE epochs (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        epoch  INTEGER NOT NULL,
        metric TEXT NOT NULL,
        value  REAL,                         -- NULL stands for NaN (SQLite stores NaN as NULL)
        PRIMARY KEY (run_id, metric, epoch)
    ) WITHOUT ROWID
    """,
]

_V2 = [
    """
    CREATE TABLE batches (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        epoch  INTEGER NOT NULL,
        batch  INTEGER NOT NULL,
        metric TEXT NOT NULL,
        value  REAL,
        PRIMARY KEY (run_id, metric, epoch, batch)
    ) WITHOUT ROWID
    """,
    "ALTER TABLE runs ADD COLUMN host TEXT",
    "ALTER TABLE runs ADD COLUMN pid INTEGER",
    "CREATE INDEX runs_by_workflow ON runs (workflow, started)",
]


def _statements(statements: list[str]) -> Callable[[sqlite3.Connection], None]:
    def step(connection: sqlite3.Connection) -> None:
        for statement in statements:
            connection.execute(statement)

    return step


#: Step ``i`` (0-based) upgrades version ``i`` to version ``i + 1``.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_statements(_V1), _statements(_V2)]

#: The version this code writes; a database with a higher one is refused, not damaged.
SCHEMA_VERSION = len(MIGRATIONS)


def user_version(connection: sqlite3.Connection) -> int:
    """The schema version recorded in the database header."""
    return int(connection.execute("PRAGMA user_version").fetchone()[0])


def migrate(connection: sqlite3.Connection, shown: str, *, target: int = SCHEMA_VERSION) -> int:
    """Bring the database up to ``target`` in one transaction; return the version found before.

    ``connection`` must be in autocommit mode (``isolation_level=None``); ``shown`` names the file
    in error messages. ``target`` below :data:`SCHEMA_VERSION` exists for tests that need a
    database as an older NeuroFlow wrote it.
    """
    if user_version(connection) == target:  # the common case, without taking the write lock
        return target
    connection.execute("BEGIN IMMEDIATE")
    try:
        found = user_version(connection)
        if found > SCHEMA_VERSION:
            raise HistoryError(
                f"{shown}: run history of schema version {found} was written by a newer NeuroFlow "
                f"(this one reads up to version {SCHEMA_VERSION})"
            )
        for version in range(found, target):
            MIGRATIONS[version](connection)
        # PRAGMA takes no parameters; target is an int from this module.
        connection.execute(f"PRAGMA user_version = {int(max(found, target))}")
        connection.execute("COMMIT")
        return found
    except BaseException:
        connection.execute("ROLLBACK")
        raise
