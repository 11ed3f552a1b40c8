"""Runs as rows of plain values, and the two CSV files made of them.

Headless on purpose: ``neuroflow runs --csv/--curves-csv/--json`` and the editor's Runs panel
export the same files through these functions, so a spreadsheet gets the same columns whichever
way the user asked.

* :func:`run_table` - one row per run: id, star, start, label, state, the settings that differ
  between the runs given (:func:`~neuroflow.history.compare.settings_diff`), the headline
  scores, every scalar test score, duration, seed, data fingerprint, model file.
* :func:`write_runs_csv` - that table as CSV.
* :func:`write_curves_csv` - every run's per-epoch curves in long form (run_id, epoch, metric,
  value): one row per value, so runs with different metrics or epoch counts share one file and
  load straight into a pivot table or a data frame.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from .compare import ABSENT, headline_scores, key_title, settings_diff

if TYPE_CHECKING:
    from .store import Run

#: Columns of :func:`run_table` before the differing settings, and after them.
LEADING = ("id", "starred", "started", "label", "state", "stop_reason")
TRAILING = ("best_val_accuracy", "best_val_loss", "best_accuracy", "test_accuracy")
DETAILS = ("duration_s", "seed", "data_fingerprint", "model_path", "workflow")


@dataclass
class RunTable:
    """Runs as rows. ``keys`` are the differing settings (``node.setting``), ``titles`` their
    display names, ``scores`` the test scores any run has besides accuracy (``test_`` columns)."""

    keys: list[str]
    titles: dict[str, str]
    scores: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        """Every column of a row, in CSV order."""
        return [*LEADING, *self.keys, *TRAILING, *(f"test_{name}" for name in self.scores), *DETAILS]


def run_table(runs: Sequence[Run]) -> RunTable:
    """The rows of a table of ``runs`` (given newest first, as :meth:`RunStore.list_runs`)."""
    diff = settings_diff(runs)
    keys = [difference.key for difference in diff]
    titles = {key: _title(runs, key) for key in keys}
    scores = sorted({name for run in runs for name, value in (run.scores or {}).items()
                     if name != "accuracy" and _is_number(value)})
    table = RunTable(keys, titles, scores)
    for index, run in enumerate(runs):
        row: dict[str, Any] = {
            "id": run.id,
            "starred": run.starred,
            "started": run.started,
            "label": run.label,
            "state": run.state,
            "stop_reason": run.stop_reason,
        }
        for difference in diff:
            row[difference.key] = difference.values[index]
        row.update(headline_scores(run))
        for name in scores:
            value = (run.scores or {}).get(name)
            row[f"test_{name}"] = value if _is_number(value) else None
        row.update(duration_s=run.duration, seed=run.seed, data_fingerprint=run.data_fingerprint,
                   model_path=run.model_path, workflow=run.workflow)
        table.rows.append(row)
    return table


def write_runs_csv(target: str | os.PathLike[str] | TextIO, runs: Sequence[Run]) -> int:
    """Write the table of ``runs`` as CSV (a path or an open text stream); return the row count.
    Setting columns are headed ``node.setting`` (what ``--set`` accepts); times are local ISO."""
    table = run_table(runs)
    with _opened(target) as stream:
        writer = csv.writer(stream)
        writer.writerow(table.columns)
        for row in table.rows:
            writer.writerow([_cell(column, row[column]) for column in table.columns])
    return len(table.rows)


def write_curves_csv(target: str | os.PathLike[str] | TextIO, runs: Iterable[Run]) -> int:
    """Write every run's per-epoch curves as ``run_id, epoch, metric, value`` rows; return the
    row count. The runs must carry their curves (:meth:`RunStore.get_run`, not a listing)."""
    count = 0
    with _opened(target) as stream:
        writer = csv.writer(stream)
        writer.writerow(["run_id", "epoch", "metric", "value"])
        for run in runs:
            if run.curves is None:
                raise ValueError(f"run {run.id} was read without its curves (use RunStore.get_run)")
            for metric in sorted(run.curves):
                for epoch, value in run.curves[metric]:
                    writer.writerow([run.id, epoch, metric, _cell("value", value)])
                    count += 1
    return count


def plain(value: Any) -> Any:
    """A value as strict JSON can hold it: :data:`ABSENT` and NaN as ``None``, tuples as lists,
    inside lists and dicts too."""
    if value is ABSENT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {key: plain(v) for key, v in value.items()}
    return value


def local_time(seconds: float, spec: str = "seconds") -> str:
    """A recorded start time (seconds since the epoch) as local ISO time."""
    return datetime.fromtimestamp(seconds).isoformat(sep=" ", timespec=spec)


def _cell(column: str, value: Any) -> str:
    if column == "started" and isinstance(value, int | float):
        return local_time(value)
    if value is None or value is ABSENT:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple | list | dict):
        return json.dumps(plain(value))
    if isinstance(value, float):
        return repr(value)  # every digit: a CSV is read back by programs
    return str(value)


def _title(runs: Sequence[Run], key: str) -> str:
    """The key's display name from the newest run that has its node."""
    node_id = key.rpartition(".")[0]
    for run in runs:
        if node_id in run.settings:
            return key_title(run, key)
    return key


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@contextmanager
def _opened(target: str | os.PathLike[str] | TextIO) -> Iterator[TextIO]:
    """A path opened for CSV writing (``newline=""``, as the csv module wants), or a stream as is."""
    if isinstance(target, str | os.PathLike):
        with open(target, "w", newline="", encoding="utf-8") as stream:
            yield stream
    else:
        yield target
