"""Run history: every Learner run remembered in a small SQLite database.

Public API (everything else in this package is private)::

    from neuroflow.history import open_store, default_store_path

    with open_store(default_store_path("study.workflow")) as store:
        run = store.record_run(workflow="study.workflow", seed=7, settings={...})
        store.add_epoch(run, 1, {"loss": 0.31, "val_accuracy": 0.91})
        store.finish_run(run, stop_reason="completed", scores={"accuracy": 0.92})
        store.list_runs()

    # or let a recorder turn a workflow's training events into runs:
    Executor(workflow, RunRecorder(store, workflow, workflow_path="study.workflow")).run()

The store is plain stdlib ``sqlite3``: no Qt, no TensorFlow, safe to use from the editor, the
worker process and the command line at the same time (see :mod:`neuroflow.history.store`).
"""

from __future__ import annotations

from ..core.errors import HistoryError
from .location import RUNS_DIR_ENV, default_store_path
from .recorder import RunRecorder
from .schema import SCHEMA_VERSION
from .store import Run, RunStore, library_versions, open_store

__all__ = [
    "RUNS_DIR_ENV",
    "SCHEMA_VERSION",
    "HistoryError",
    "Run",
    "RunRecorder",
    "RunStore",
    "default_store_path",
    "library_versions",
    "open_store",
]
