"""Runs as text for a terminal: the list, one run in full, and runs side by side.

Used by ``neuroflow runs``; pure functions from runs to lines, so they are tested without a
terminal. The list has to stay readable in 80-120 columns while the settings that differ can be
many and long, so :func:`fit_columns` shrinks the widest flexible column first (labels, stop
reasons, setting values), shortens a setting's heading on its node part (the setting name is the
informative half) and, when even that is not enough, leaves out the last setting columns and
says how many it left out.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .compare import ABSENT, headline_scores, node_title, settings_diff
from .export import RunTable, local_time

if TYPE_CHECKING:
    from .store import Run

ELLIPSIS = "…"


@dataclass
class Column:
    """One column of a text table: heading, cells, and how narrow it may become."""

    heading: str
    cells: list[str]
    minimum: int  #: narrowest it may be shrunk to; equal to its width for fixed columns
    right: bool = False  #: numbers are right-aligned
    setting: bool = False  #: a differing setting's column: the first to go when nothing else helps

    @property
    def width(self) -> int:
        return max([len(self.heading), *(len(cell) for cell in self.cells)])


# -- the list -------------------------------------------------------------------------------


def list_lines(table: RunTable, width: int) -> list[str]:
    """The table of :func:`~neuroflow.history.export.run_table` as lines at most ``width`` wide."""
    rows = table.rows
    columns = [
        Column("id", [str(r["id"]) for r in rows], 2, right=True),
        Column("*", ["*" if r["starred"] else "" for r in rows], 1),
        Column("started", [short_time(r["started"]) for r in rows], 11),
        Column("label", [r["label"] or "" for r in rows], 5),
        Column("state", [state_text(r["state"], r["stop_reason"]) for r in rows], 9),
    ]
    for key in table.keys:
        # Never narrower than the setting's name (up to 14): a heading must say which setting it is.
        name = key.rpartition(".")[2]
        # A node that changed type (a layer added or swapped): its type's short name says enough.
        cells = [value_text(r[key]).rpartition(".")[2] if name == "type" else value_text(r[key]) for r in rows]
        columns.append(Column(table.titles[key], cells, max(6, min(len(name), 14)),
                              setting=True, right=all(_is_number(r[key]) for r in rows)))
    columns += [
        # The best epoch's validation accuracy (the heading is short to leave room for settings).
        Column("val acc", [score_text(r["best_val_accuracy"]) for r in rows], 7, right=True),
        Column("test acc", [score_text(r["test_accuracy"]) for r in rows], 8, right=True),
        Column("duration", [duration_text(r["duration_s"]) for r in rows], 8, right=True),
    ]
    shown, hidden = fit_columns(columns, width)
    lines = [_join([_cut(c.heading, w, heading=c.setting) for c, w in shown], shown)]
    for index in range(len(rows)):
        lines.append(_join([_cut(c.cells[index], w) for c, w in shown], shown))
    if hidden:
        names = ", ".join(c.heading for c in hidden)
        lines.append(_cut(f"({len(hidden)} more differing setting{'s' * (len(hidden) > 1)} not shown: "
                          f"{names}; see --compare or --csv)", width))
    return lines


def fit_columns(columns: list[Column], width: int) -> tuple[list[tuple[Column, int]], list[Column]]:
    """Widths that fit ``width`` (two spaces between columns), and the setting columns left out."""
    shown = list(columns)
    hidden: list[Column] = []
    while True:
        widths = [c.width for c in shown]
        excess = sum(widths) + 2 * (len(shown) - 1) - width
        while excess > 0:
            # Shrink the widest column that still can; ties go to the rightmost (settings first).
            candidates = [i for i, c in enumerate(shown) if widths[i] > c.minimum]
            if not candidates:
                break
            widest = max(candidates, key=lambda i: (widths[i], i))
            widths[widest] -= 1
            excess -= 1
        settings = [i for i, c in enumerate(shown) if c.setting]
        if excess <= 0 or not settings:
            return list(zip(shown, widths, strict=True)), hidden
        hidden.insert(0, shown.pop(settings[-1]))


def _join(cells: list[str], shown: list[tuple[Column, int]]) -> str:
    parts = [cell.rjust(w) if c.right else cell.ljust(w) for cell, (c, w) in zip(cells, shown, strict=True)]
    return "  ".join(parts).rstrip()


def _cut(text: str, width: int, *, heading: bool = False) -> str:
    """``text`` in at most ``width`` characters. A setting heading keeps its setting name and
    gives up the node's title first (``Network Le….learning_rate``)."""
    if len(text) <= width:
        return text
    if heading and "." in text:
        node, _, name = text.rpartition(".")
        room = width - len(name) - 2  # the ellipsis and the dot
        if room >= 1:
            return f"{node[:room]}{ELLIPSIS}.{name}"
        if len(name) <= width:
            return name
    return text[: max(width - 1, 0)] + ELLIPSIS


# -- one run --------------------------------------------------------------------------------


def show_lines(run: Run, batches: Mapping[str, Sequence[tuple[int, int, float]]] | None = None) -> list[str]:
    """Everything recorded about one run (read with its curves)."""
    star = "  (starred)" if run.starred else ""
    lines = [f"run {run.id}{star}" + (f"  {run.label!r}" if run.label else "")]
    ended = local_time(run.ended) if run.ended is not None else "-"
    facts = [
        ("workflow", run.workflow or "(unsaved)"),
        ("started", local_time(run.started)),
        ("ended", ended),
        ("state", state_text(run.state, run.stop_reason, long=True)),
        ("duration", duration_text(run.duration)),
        ("seed", "-" if run.seed is None else str(run.seed)),
        ("devices", ", ".join(run.devices) or "-"),
        ("versions", ", ".join(f"{name} {version}" for name, version in sorted(run.versions.items())) or "-"),
        ("data", run.data_fingerprint or "- (no fingerprint)"),
        ("model", _model_text(run.model_path)),
        ("recorded by", f"{run.host or '?'} (process {run.pid or '?'})"),
    ]
    lines += [f"  {name:<12} {value}" for name, value in facts]
    lines.append("settings")
    for node_id, record in sorted(run.settings.items()):
        if not isinstance(record, Mapping):
            continue
        title = node_title(run, node_id)
        heading = f"{title} ({node_id})" if title != node_id else node_id
        lines.append(f"  {heading}: {record.get('type', '?')} v{record.get('version', '?')}")
        values = record.get("settings") or {}
        name_width = max((len(name) for name in values), default=0)
        lines += [f"    {name:<{name_width}}  {value_text(value)}" for name, value in sorted(values.items())]
    lines += ["epochs", *("  " + line for line in epoch_table(run.curves or {}))]
    if batches:
        counts = {metric: len(points) for metric, points in batches.items()}
        lines.append("batches")
        lines.append("  " + ", ".join(f"{metric}: {count} values" for metric, count in sorted(counts.items())))
    lines.append("test scores")
    scalar = {name: value for name, value in (run.scores or {}).items() if not isinstance(value, dict | list)}
    if scalar:
        name_width = max(len(name) for name in scalar)
        lines += [f"  {name:<{name_width}}  {_score_value(value)}" for name, value in sorted(scalar.items())]
    else:
        lines.append("  - (no Scorer after this run's learner)")
    return lines


def epoch_table(curves: Mapping[str, Sequence[tuple[int, float]]]) -> list[str]:
    """Per-epoch metrics as a table: one row per epoch, one column per metric."""
    if not curves:
        return ["- (no epoch finished)"]
    metrics = _metric_order(curves)
    by_epoch: dict[int, dict[str, float]] = {}
    for metric, points in curves.items():
        for epoch, value in points:
            by_epoch.setdefault(epoch, {})[metric] = value
    widths = [max(len(m), 8) for m in metrics]
    lines = ["epoch  " + "  ".join(m.rjust(w) for m, w in zip(metrics, widths, strict=True))]
    for epoch in sorted(by_epoch):
        values = by_epoch[epoch]
        cells = [metric_text(values.get(m)) for m in metrics]
        lines.append(f"{epoch:>5}  " + "  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)))
    return lines


# -- runs side by side ----------------------------------------------------------------------


def compare_lines(runs: Sequence[Run]) -> list[str]:
    """The settings that differ and the metrics of ``runs`` (read with curves), one column each."""
    heads = [f"run {run.id}" for run in runs]
    lines = [f"comparing runs {', '.join(str(run.id) for run in runs)}"]
    diff = settings_diff(runs)
    if diff:
        rows = [(_diff_title(runs, d.key), [value_text(v) for v in d.values]) for d in diff]
        lines += _side_by_side("settings that differ", heads, rows)
    else:
        lines.append("settings: the same in every run (paths aside)")
    rows = []
    for label, key in (("best val_accuracy", "best_val_accuracy"), ("best val_loss", "best_val_loss"),
                       ("best accuracy", "best_accuracy")):
        values = [headline_scores(run)[key] for run in runs]
        if any(v is not None for v in values):
            rows.append((label, [metric_text(v) for v in values]))
    finals = [_final_epoch(run) for run in runs]
    for metric in _metric_order({m: [] for final in finals for m in final[1]}):
        rows.append((f"final {metric}", [metric_text(final[1].get(metric)) for final in finals]))
    score_names = sorted({n for run in runs for n, v in (run.scores or {}).items() if _is_number(v)})
    for name in score_names:
        rows.append((f"test {name}", [_score_value((run.scores or {}).get(name)) for run in runs]))
    rows += [
        ("epochs", [str(final[0]) if final[0] else "-" for final in finals]),
        ("duration", [duration_text(run.duration) for run in runs]),
        ("stop reason", [state_text(run.state, run.stop_reason) for run in runs]),
    ]
    lines += _side_by_side("metrics", heads, rows)
    prints = {run.data_fingerprint for run in runs}
    if len(prints) > 1:
        shown = ", ".join(f"run {run.id}: {(run.data_fingerprint or 'none')[:12]}" for run in runs)
        lines.append(f"data: the data fingerprints differ ({shown}): these runs did not see the same data")
    else:
        lines.append("data: the same fingerprint in every run" if None not in prints
                     else "data: no fingerprint recorded")
    versions = _version_differences(runs)
    if versions:
        lines.append(f"versions differ: {versions}")
    return lines


def _side_by_side(title: str, heads: list[str], rows: list[tuple[str, list[str]]]) -> list[str]:
    label_width = max([len(title), *(len(label) + 2 for label, _ in rows)])
    widths = [max([len(head), *(len(values[i]) for _, values in rows)]) for i, head in enumerate(heads)]
    lines = [title.ljust(label_width) + "  " + "  ".join(h.rjust(w) for h, w in zip(heads, widths, strict=True))]
    for label, values in rows:
        cells = "  ".join(v.rjust(w) for v, w in zip(values, widths, strict=True))
        lines.append(f"  {label}".ljust(label_width) + "  " + cells)
    return [line.rstrip() for line in lines]


def _diff_title(runs: Sequence[Run], key: str) -> str:
    node_id = key.rpartition(".")[0]
    for run in runs:
        if node_id in run.settings:
            title = node_title(run, node_id)
            return f"{title}.{key.rpartition('.')[2]}" + (f" ({node_id})" if title != node_id else "")
    return key


def _final_epoch(run: Run) -> tuple[int, dict[str, float]]:
    """The last epoch of a run and its metric values."""
    curves = run.curves or {}
    last = max((epoch for points in curves.values() for epoch, _ in points), default=0)
    return last, {m: v for m, points in curves.items() for epoch, v in points if epoch == last}


def _version_differences(runs: Sequence[Run]) -> str:
    names = sorted({name for run in runs for name in run.versions})
    parts = []
    for name in names:
        values = [run.versions.get(name, "-") for run in runs]
        if len(set(values)) > 1:
            parts.append(f"{name} " + " / ".join(values))
    return "; ".join(parts)


# -- values ---------------------------------------------------------------------------------


def short_time(seconds: float) -> str:
    """A start time as a table shows it: month-day hour:minute this year, the date otherwise."""
    moment = datetime.fromtimestamp(seconds)
    if moment.year == datetime.fromtimestamp(time.time()).year:
        return moment.strftime("%m-%d %H:%M")
    return moment.strftime("%Y-%m-%d")


def state_text(state: str, stop_reason: str | None, *, long: bool = False) -> str:
    """A finished run's stop reason, else its state (running, interrupted, unfinished)."""
    if state == "finished":
        text = stop_reason or "finished"
        return f"finished: {text}" if long else text
    return state


def duration_text(seconds: float | None) -> str:
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def score_text(value: float | None) -> str:
    """An accuracy, to four decimals."""
    return "-" if value is None or math.isnan(value) else f"{value:.4f}"


def metric_text(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.4f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3g}"


def value_text(value: Any) -> str:
    """A setting or score value, as short as it reads unambiguously."""
    if value is ABSENT or value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, tuple | list):
        return "(" + ", ".join(value_text(v) for v in value) + ")"
    text = str(value)
    return text if text else '""'


def _score_value(value: Any) -> str:
    """A test score: fractions like the metrics, counts as whole numbers."""
    if isinstance(value, float):
        return metric_text(value)
    return value_text(ABSENT if value is None else value)


def _model_text(path: str | None) -> str:
    if not path:
        return "- (no Network Writer after this run's learner)"
    return path if os.path.exists(path) else f"{path} (missing now)"


def _metric_order(curves: Mapping[str, Any]) -> list[str]:
    """Training metrics first, their validation twins next, anything else (learning rate) last."""
    def rank(metric: str) -> tuple[bool, int, str]:
        base = metric.removeprefix("val_")
        known = ("loss", "accuracy")
        return (metric.startswith("val_"), known.index(base) if base in known else len(known), metric)

    return sorted(curves, key=rank)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
