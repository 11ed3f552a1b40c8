"""Runs as CSV files, for a spreadsheet or a notebook: one table of runs, one of their curves.

Headless (no Qt): the editor's Runs panel writes these files, and so can the command line.
Both files are plain ``csv`` module output with a header row; numbers are written as Python
writes them (a dot for decimals), times as ISO 8601 in UTC, so a script reads them back the
same on any machine.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from .compare import ABSENT, flat_settings, headline_scores
from .store import Run

#: Columns of :func:`export_runs_csv` before the runs' settings.
RUN_COLUMNS = (
    "id", "workflow", "started_utc", "ended_utc", "label", "starred", "state", "stop_reason",
    "duration_s", "seed", "best_val_accuracy", "best_val_loss", "best_accuracy", "test_accuracy",
    "data_fingerprint", "model_path",
)


def _when(seconds: float | None) -> str:
    return "" if seconds is None else datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


def _cell(value: Any) -> Any:
    if value is None or value is ABSENT:
        return ""
    if isinstance(value, tuple):
        return " ".join(str(v) for v in value)
    return value


def export_runs_csv(runs: Sequence[Run], path: str | os.PathLike[str]) -> int:
    """Write one row per run: its identity, outcome and headline scores, then every setting it
    recorded as a ``node.setting`` column (empty where a run has no such setting). Returns the
    number of rows written."""
    flats = [flat_settings(run) for run in runs]
    keys = sorted(set().union(*flats)) if flats else []
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow([*RUN_COLUMNS, *keys])
        for run, flat in zip(runs, flats, strict=True):
            scores = headline_scores(run)
            writer.writerow([
                run.id, run.workflow_name, _when(run.started), _when(run.ended), run.label,
                int(run.starred), run.state, _cell(run.stop_reason), _cell(run.duration), _cell(run.seed),
                _cell(scores["best_val_accuracy"]), _cell(scores["best_val_loss"]),
                _cell(scores["best_accuracy"]), _cell(scores["test_accuracy"]),
                _cell(run.data_fingerprint), _cell(run.model_path),
                *(_cell(flat.get(key)) for key in keys),
            ])
    return len(runs)


def export_curves_csv(runs: Sequence[Run], path: str | os.PathLike[str]) -> int:
    """Write the runs' per-epoch curves in long form, ``run_id, metric, epoch, value``, one row
    per point (the shape plotting libraries group by). ``runs`` must carry their curves (from
    :meth:`RunStore.get_run`); a run listed without them is an error rather than an empty
    file that looks like a run without epochs. Returns the number of points written."""
    points = 0
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["run_id", "metric", "epoch", "value"])
        for run in runs:
            if run.curves is None:
                raise ValueError(f"run {run.id} was listed without its curves: read it with get_run")
            for metric, curve in sorted(run.curves.items()):
                for epoch, value in curve:
                    writer.writerow([run.id, metric, epoch, value])
                    points += 1
    return points
