"""``neuroflow sweep``: the command line of :mod:`neuroflow.sweep`.

    neuroflow sweep FILE --param SPEC [--param SPEC ...] [--trials N] [--sampler tpe|random|grid]
                    [--prune] [--metric NAME] [--storage URL] [--study NAME]
                    [--set NODE.SETTING=VALUE ...] [--json] [--quiet]

Without ``--json``, stdout gets one line per finished trial as it ends, then a table of every
trial in the study and ``best: trial #N value=... NAME=VALUE ...``; progress (each trial's
parameters, each epoch's metric) goes to stderr unless ``--quiet``. With ``--json``, stdout
carries only the contract's events, one JSON object per line, and nothing human is printed
except an error line on stderr.

Ctrl+C ends the sweep cleanly: the running trial stops after its current batch and is marked
failed ("interrupted"), the table so far is printed and the exit code is 130. SIGTERM does the
same (exit code 143). A second signal quits at once, as if the process were killed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
from collections.abc import Callable
from typing import Any, TextIO

from ..core.errors import NeuroFlowError

EXIT_INTERRUPTED = 130


def add_parser(commands: Any) -> None:
    """Register ``sweep`` on the ``neuroflow`` command's subparsers."""
    sweep = commands.add_parser(
        "sweep", help="search settings with Optuna: every trial is a run in the history",
        description="Train the workflow once per trial with settings chosen by Optuna, and report the best. "
                    "RANGE: log:LOW..HIGH, LOW..HIGH, int:LOW..HIGH[:STEP], float:LOW..HIGH[:STEP] or A,B,C.")
    sweep.add_argument("file", help="the .workflow file")
    sweep.add_argument("--param", dest="params", action="append", default=[], required=True,
                       metavar="NODE.SETTING=RANGE", help="a setting to vary (repeatable)")
    sweep.add_argument("--trials", type=_positive, default=10, metavar="N",
                       help="trials this process runs (default 10)")
    sweep.add_argument("--sampler", choices=("tpe", "random", "grid"), default="tpe",
                       help="how trials choose values (default tpe)")
    sweep.add_argument("--prune", action="store_true", help="stop trials that fall behind, by epoch")
    sweep.add_argument("--prune-startup", type=_positive, default=3, metavar="N",
                       help="with --prune: trials that must complete before any is pruned (default 3)")
    sweep.add_argument("--prune-after", type=_positive, default=1, metavar="EPOCHS",
                       help="with --prune: the first epoch after which a trial may be pruned (default 1)")
    sweep.add_argument("--metric", metavar="NAME",
                       help="what to optimise: val_accuracy, test_accuracy, val_loss, accuracy, ... "
                            "(default: val_accuracy when the learner validates, else test_accuracy when a "
                            "Scorer follows it, else accuracy)")
    sweep.add_argument("--storage", metavar="URL",
                       help="Optuna storage URL (default: sqlite beside the workflow, <stem>.sweeps.sqlite); "
                            "a PostgreSQL or MySQL URL lets several machines share the study")
    sweep.add_argument("--study", metavar="NAME", help="study name (default: the workflow's stem)")
    sweep.add_argument("--runs-dir", metavar="FOLDER",
                       help="keep the run history (and the default study) in FOLDER instead of beside the "
                            "workflow, as 'neuroflow run --runs-dir' does")
    sweep.add_argument("--set", dest="overrides", action="append", default=[], metavar="NODE.SETTING=VALUE",
                       help="override a setting for every trial (repeatable)")
    sweep.add_argument("--json", action="store_true", help="one JSON event per line on stdout")
    sweep.add_argument("--quiet", action="store_true", help="no progress on stderr")
    sweep.set_defaults(handler=run_command)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def run_command(options: argparse.Namespace) -> int:
    from .engine import Sweep, SweepOptions

    output: JsonOutput | TextOutput = (
        JsonOutput(sys.stdout) if options.json else TextOutput(sys.stdout, sys.stderr, quiet=options.quiet))
    try:
        sweep = Sweep(SweepOptions(
            file=options.file, params=options.params, trials=options.trials, sampler=options.sampler,
            prune=options.prune, prune_startup=options.prune_startup, prune_after=options.prune_after,
            metric=options.metric, storage=options.storage, study=options.study, overrides=options.overrides,
            runs_dir=options.runs_dir))
        with _interrupts(sweep.interrupt, output.note) as signals:
            summary = sweep.run(output.event)
    except NeuroFlowError as exc:
        output.error(str(exc))
        raise
    if isinstance(output, TextOutput):
        study = sweep.study
        output.table(sweep.table_rows(study), [param.name for param in sweep.params], sweep.best(study),
                     sweep.metric.name)
    return signals.exit_code if summary.interrupted else 0


class _interrupts:
    """While active, the first Ctrl+C (or SIGTERM, how the editor's Sweep dialog stops a sweep)
    asks the sweep to stop cleanly; the next one quits. :attr:`exit_code` is 128 + the signal."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, interrupt: Callable[[], None], note: Callable[[str], None]) -> None:
        self.interrupt, self.note = interrupt, note
        self.previous: dict[int, Any] = {}
        self.asked = False
        self.exit_code = EXIT_INTERRUPTED

    def __enter__(self) -> _interrupts:
        try:
            for number in self.SIGNALS:
                self.previous[number] = signal.signal(number, self._handle)
        except ValueError:  # not the main thread: the signals keep their usual meaning
            pass
        return self

    def __exit__(self, *exc: object) -> None:
        for number, previous in self.previous.items():
            signal.signal(number, previous)

    def _handle(self, signum: int, frame: Any) -> None:
        if self.asked:
            # Raised here, KeyboardInterrupt could land anywhere (in a weakref callback during
            # garbage collection Python prints it and drops it). The process ends the way a
            # killed one does, which the study and the history already handle: the trial's
            # heartbeat stops, so a later trial marks it failed; the run reads as interrupted.
            self.note("quitting now; the running trial is left to be marked failed by the next sweep")
            sys.stdout.flush()
            os._exit(self.exit_code)
        self.asked = True
        self.exit_code = 128 + signum
        self.note("interrupted: the running trial stops after its current batch (Ctrl+C again to quit now)")
        self.interrupt()


class JsonOutput:
    """The ``--json`` contract: one event per line on stdout, nothing else."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def event(self, event: dict[str, Any]) -> None:
        self.stream.write(json.dumps(_finite(event), allow_nan=False) + "\n")
        self.stream.flush()

    def error(self, message: str) -> None:
        self.event({"event": "error", "message": message})

    def note(self, text: str) -> None:
        pass


class TextOutput:
    """Lines for people: finished trials and the table on stdout, progress on stderr."""

    def __init__(self, out: TextIO, err: TextIO, *, quiet: bool) -> None:
        self.out, self.err, self.quiet = out, err, quiet
        self.epochs = 0
        self.metric = ""

    def note(self, text: str) -> None:
        self._progress(f"neuroflow: {text}")

    def _progress(self, line: str) -> None:
        if not self.quiet:
            self.err.write(line + "\n")
            self.err.flush()

    def error(self, message: str) -> None:
        pass  # the command line prints the error line itself

    def event(self, event: dict[str, Any]) -> None:
        kind = event["event"]
        if kind == "study":
            self.metric = event["metric"]
            before = f"; {event['existing']} trials already in it" if event["existing"] else ""
            trials = f"{event['trials']} trial{'s' if event['trials'] != 1 else ''}"
            self.note(f"sweep '{event['study']}' in {event['storage']}: {trials}, "
                      f"{event['sampler']} sampler{', pruning' if event['prune'] else ''}, "
                      f"{event['direction']} {event['metric']}{before}")
        elif kind == "trial" and event["state"] == "running":
            self._progress(f"trial #{event['number']}: {_params(event['params'])}")
        elif kind == "epoch":
            self._progress(f"  trial #{event['number']} epoch {event['epoch']}: {self.metric} {_number(event['value'])}")
        elif kind == "trial":
            run = f"run {event['run_id']}" if event["run_id"] is not None else "no run"
            message = f"  ({event['message']})" if event["message"] else ""
            self.out.write(f"trial #{event['number']} {event['state']}: value={_number(event['value'])} "
                           f"epochs={event['epochs']} {run} {event['seconds']:.1f} s  "
                           f"{_params(event['params'])}{message}\n")
            self.out.flush()

    def table(self, rows: list[dict[str, Any]], names: list[str], best: dict[str, Any] | None,
              metric: str = "value") -> None:
        """The study's trials; the value column is headed with the metric it holds."""
        for row in rows:
            names += [name for name in row["params"] if name not in names]
        header = ["#", "state", *names, metric, "epochs", "run"]
        cells = [[str(row["number"]), row["state"], *(_number(row["params"].get(n)) for n in names),
                  _number(row["value"]), str(row["epochs"]), "" if row["run_id"] is None else str(row["run_id"])]
                 for row in rows]
        widths = [max(len(line[i]) for line in [header, *cells]) for i in range(len(header))]
        self.out.write("\n")
        for line in [header, *cells]:
            self.out.write("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
                           + "\n")
        if best is not None:
            self.out.write(f"best: trial #{best['number']} value={_number(best['value'])} {_params(best['params'])}\n")
        else:
            self.out.write("best: none (no trial completed)\n")
        self.out.flush()


def _params(params: dict[str, Any]) -> str:
    return " ".join(f"{name}={_number(value)}" for name, value in params.items())


def _number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "x".join(map(str, value))
    return str(value)


def _finite(value: Any) -> Any:
    """NaN and infinity have no JSON form: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value
