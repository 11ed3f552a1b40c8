"""``neuroflow runs``: a workflow's run history on the command line.

    neuroflow runs FILE                      the runs, newest first (--json for programs)
    neuroflow runs FILE --show ID            everything recorded about one run
    neuroflow runs FILE --compare ID ID ...  settings that differ, metrics side by side
    neuroflow runs FILE --label ID TEXT | --star ID | --unstar ID | --delete ID
    neuroflow runs FILE --csv RUNS.csv --curves-csv CURVES.csv
    neuroflow runs export FILE --mlflow [URI]   (also: neuroflow runs FILE --export-mlflow [URI])

FILE is the workflow (its history is found as ``neuroflow run`` records it: beside it, in
``--runs-dir`` or in ``$NEUROFLOW_RUNS_DIR``) or a ``.runs.sqlite`` file itself. Kept out of
``cli.py``, which only registers it, so the command grows without touching the other commands.
Errors are :class:`~neuroflow.core.errors.NeuroFlowError`: one line on stderr, exit 1.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import sys
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import HistoryError, NeuroFlowError
from .location import SUFFIX, default_store_path

if TYPE_CHECKING:
    from .store import Run, RunStore

#: Narrowest table the list is fitted to, whatever the terminal says (its fixed columns need 65).
MIN_WIDTH = 70


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``runs`` to the ``neuroflow`` command's sub-parsers."""
    runs = commands.add_parser(
        "runs", help="list, show, compare, label and export a workflow's run history",
        description="A workflow's run history: every Network Learner training 'neuroflow run' recorded.",
    )
    runs.add_argument("words", nargs="+", metavar="FILE",
                      help="the .workflow file (or its .runs.sqlite history); 'export FILE --mlflow' "
                           "exports to MLflow")
    runs.add_argument("--runs-dir", metavar="FOLDER",
                      help="the history is in FOLDER, not beside the workflow ($NEUROFLOW_RUNS_DIR works too)")
    runs.add_argument("--all", action="store_true",
                      help="also runs of other workflows with the same file name sharing this history")
    runs.add_argument("--only", nargs="+", metavar="ID", help="only these runs (list, CSV, MLflow export)")
    runs.add_argument("--json", action="store_true", help="print JSON instead of text")
    action = runs.add_mutually_exclusive_group()
    action.add_argument("--show", metavar="ID", help="print everything recorded about run ID")
    action.add_argument("--compare", nargs="+", metavar="ID", help="settings diff and metrics of two or more runs")
    action.add_argument("--label", nargs=2, metavar=("ID", "TEXT"), help="label a run ('' removes the label)")
    action.add_argument("--star", metavar="ID", help="star a run")
    action.add_argument("--unstar", metavar="ID", help="remove a run's star")
    action.add_argument("--delete", metavar="ID", help="forget a run (its model file stays)")
    action.add_argument("--export-mlflow", "--mlflow", dest="mlflow", nargs="?", const="", metavar="URI",
                        help="push the runs to an MLflow tracking store (default: $MLFLOW_TRACKING_URI "
                             "or MLflow's own default); needs 'pip install neuroflow[mlflow]'")
    runs.add_argument("--csv", metavar="RUNS.csv", help="write the listed runs as a table (one row per run)")
    runs.add_argument("--curves-csv", metavar="CURVES.csv",
                      help="write the listed runs' per-epoch curves (run_id, epoch, metric, value)")
    runs.set_defaults(handler=run_command)
    return runs


def run_command(options: argparse.Namespace) -> int:
    if options.words == ["export"] and options.mlflow and options.mlflow.endswith((".workflow", SUFFIX)):
        # `runs export --mlflow FILE`: the optional URI took the file; the default URI is meant.
        options.words, options.mlflow = ["export", options.mlflow], ""
    file, exporting = _target(options.words)
    if exporting and options.mlflow is None:
        raise NeuroFlowError("'neuroflow runs export' needs --mlflow [URI]")
    path, workflow = history_path(file, options.runs_dir)
    if not path.exists():
        if _acts_on_a_run(options):
            raise HistoryError(f"{file}: no run history yet (looked for {path})")
        print(f"{file}: no runs recorded yet (its history would be {path})")
        return 0
    _check_is_history(path)
    from .store import open_store

    with open_store(path) as store:
        return _dispatch(options, store, file, workflow)


def history_path(file: str, runs_dir: str | None) -> tuple[Path, Path | None]:
    """The history FILE names, and the workflow path its runs were recorded under (``None`` when
    FILE is a history itself: then every run in it counts)."""
    if file.endswith(SUFFIX):
        return Path(file), None
    workflow = Path(file).resolve()
    return default_store_path(workflow, folder=runs_dir), workflow


def _target(words: list[str]) -> tuple[str, bool]:
    """FILE, and whether the ``export`` spelling was used (``runs export FILE`` or ``runs FILE export``)."""
    if len(words) == 1 and words[0] != "export":
        return words[0], False
    if len(words) == 2 and "export" in words:
        return words[1] if words[0] == "export" else words[0], True
    raise NeuroFlowError(f"runs: expected one FILE, got {' '.join(words)!r}")


def _check_is_history(path: Path) -> None:
    """Refuse, without writing to it, a file that is not a run history: opening it as one would
    add our tables to someone else's database."""
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as probe:
            version = probe.execute("PRAGMA user_version").fetchone()[0]
            tables = {row[0] for row in probe.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error as exc:
        raise HistoryError(f"{path}: not a run history ({exc})") from None
    if tables and ("runs" not in tables or version == 0):
        raise HistoryError(f"{path}: not a run history (an SQLite database with other tables)")


def _acts_on_a_run(options: argparse.Namespace) -> bool:
    return any(value is not None for value in (options.show, options.compare, options.label, options.star,
                                               options.unstar, options.delete, options.mlflow))


def _dispatch(options: argparse.Namespace, store: RunStore, file: str, workflow: Path | None) -> int:
    if options.show is not None:
        return _show(store, run_id(options.show), options.json)
    if options.compare is not None:
        ids = [run_id(text) for text in options.compare]
        if len(ids) < 2:
            raise NeuroFlowError("--compare needs two or more run ids")
        return _compare(store, ids, options.json)
    if options.label is not None:
        number, text = run_id(options.label[0]), options.label[1]
        store.set_label(number, text)
        print(f"run {number} labelled {text!r}" if text else f"run {number}: label removed")
        return 0
    for flag, starred in (("star", True), ("unstar", False)):
        if getattr(options, flag) is not None:
            number = run_id(getattr(options, flag))
            store.set_starred(number, starred)
            print(f"run {number} {'starred' if starred else 'unstarred'}")
            return 0
    if options.delete is not None:
        number = run_id(options.delete)
        if not store.delete_run(number):
            raise HistoryError(f"{store.path}: there is no run {number}")
        print(f"run {number} deleted (its model file, if any, is left where it is)")
        return 0
    runs, others = _listed(store, workflow, options)
    if options.mlflow is not None:
        return _export_mlflow(store, runs, options.mlflow, file)
    return _list(store, runs, others, file, options)


def run_id(text: str) -> int:
    """A run id typed by the user, or a one-line error."""
    try:
        number = int(text)
    except ValueError:
        number = -1
    if number < 1:
        raise NeuroFlowError(f"{text!r} is not a run id (a whole number from 'neuroflow runs FILE')")
    return number


def _listed(store: RunStore, workflow: Path | None, options: argparse.Namespace) -> tuple[list[Run], int]:
    """The runs to list, and how many of other workflows sharing the history were left out.

    A history in a shared runs folder can hold runs of several workflows with the same file name;
    only FILE's are listed unless ``--all``. If none was recorded under FILE's path (the project
    folder was moved since), every run is listed: they are the runs of this file name.
    """
    runs = store.list_runs()
    others = 0
    if workflow is not None and not options.all:
        mine = [run for run in runs if run.workflow == str(workflow)]
        if mine:
            others = len(runs) - len(mine)
            runs = mine
    if options.only:
        wanted = [run_id(text) for text in options.only]
        known = {run.id for run in runs}
        missing = [str(number) for number in wanted if number not in known]
        if missing:
            raise HistoryError(f"{store.path}: there is no run {', '.join(missing)}")
        runs = [run for run in runs if run.id in set(wanted)]
    return runs, others


def _list(store: RunStore, runs: list[Run], others: int, file: str, options: argparse.Namespace) -> int:
    from .export import plain, run_table, write_curves_csv, write_runs_csv
    from .render import list_lines

    if options.csv:
        count = _writing(options.csv, lambda: write_runs_csv(options.csv, runs))
        print(f"{count} run{'s' * (count != 1)} written to {options.csv}", file=sys.stderr)
    if options.curves_csv:
        count = _writing(options.curves_csv,
                         lambda: write_curves_csv(options.curves_csv, (store.get_run(r.id) for r in runs)))
        print(f"{count} curve values written to {options.curves_csv}", file=sys.stderr)
    table = run_table(runs)
    if options.json:
        rows = [{column: plain(value) for column, value in row.items()} for row in table.rows]
        print(json.dumps({"history": str(store.path), "settings": table.titles, "runs": rows}, indent=2,
                         allow_nan=False))
        return 0
    if not runs:
        print(f"{file}: no runs recorded yet (history {store.path})")
        return 0
    width = max(shutil.get_terminal_size((100, 24)).columns, MIN_WIDTH)
    print("\n".join(list_lines(table, width)))
    if others:
        print(f"({others} run{'s' * (others != 1)} of other workflows named {Path(file).name} "
              "share this history: --all lists them too)")
    return 0


def _writing(path: str, write: Any) -> int:
    try:
        return int(write())
    except OSError as exc:
        raise NeuroFlowError(f"{path}: cannot write ({exc.strerror or exc})") from None


def _show(store: RunStore, number: int, as_json: bool) -> int:
    from .render import show_lines

    run = store.get_run(number)
    batches = store.batch_curves(number)
    if as_json:
        print(json.dumps(run_json(run, batches), indent=2, allow_nan=False))
    else:
        print("\n".join(show_lines(run, batches)))
    return 0


def run_json(run: Run, batches: dict[str, list[tuple[int, int, float]]] | None = None) -> dict[str, Any]:
    """Everything recorded about a run as JSON-ready values (NaN as null)."""
    from dataclasses import asdict

    from .export import plain

    data = asdict(run)
    data["state"] = run.state
    if batches is not None:
        data["batches"] = batches
    return plain(data)


def _compare(store: RunStore, ids: list[int], as_json: bool) -> int:
    from .compare import headline_scores, key_title, settings_diff
    from .export import plain
    from .render import compare_lines

    runs = [store.get_run(number) for number in ids]
    if as_json:
        differences = [{"key": d.key, "title": key_title(runs[0], d.key), "values": [plain(v) for v in d.values]}
                       for d in settings_diff(runs)]
        data = {
            "runs": ids,
            "differences": differences,
            "headline": [plain(headline_scores(run)) for run in runs],
            "scores": [plain(run.scores) for run in runs],
            "data_fingerprints": [run.data_fingerprint for run in runs],
        }
        print(json.dumps(data, indent=2, allow_nan=False))
    else:
        print("\n".join(compare_lines(runs)))
    return 0


def _export_mlflow(store: RunStore, runs: list[Run], uri: str, file: str) -> int:
    from .mlflow_export import export_runs

    result = export_runs(store, runs, uri or None)
    print(result.summary())
    return 0
