"""The sweep engine: an Optuna study whose trials are runs of a workflow.

:class:`Sweep` checks everything it can before the first trial (the workflow with its ``--set``
overrides, every ``--param``, the metric, the sampler, the study already in the storage) and
raises :class:`~neuroflow.core.errors.NeuroFlowError` with one line for the first problem. Then
:meth:`Sweep.run` hands trials to Optuna's own loop (``study.optimize``: it keeps the grid
sampler's bookkeeping and the storage's heartbeat) and reports what happens as the plain dicts
of the ``neuroflow sweep --json`` contract (``study``, ``trial``, ``epoch``, ``best``, ``done``),
so the command line, a test or the editor read one stream.

The study lives in an Optuna RDB storage: by default an SQLite file beside the workflow
(``<stem>.sweeps.sqlite``, or in ``$NEUROFLOW_RUNS_DIR`` like the run history); any SQLAlchemy
URL (PostgreSQL, MySQL) lets processes on several machines add trials to one study, which is
loaded when it exists. A study remembers the metric it optimises, and refuses another one, a
different direction or a parameter range that does not match what it already sampled: values
measured differently cannot be compared.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import NeuroFlowError
from .metric import Metric, choose_metric, find_learner, find_scorer
from .params import Param, parse_param
from .trial import TrialOutcome, free_memory, run_trial

SAMPLERS = ("tpe", "random", "grid")
#: Suffix of the default study storage beside the workflow (the run history is ``.runs.sqlite``).
SUFFIX = ".sweeps.sqlite"
#: Seconds between a running trial's heartbeats, and after which a silent trial counts as dead
#: (its process killed, its machine gone): the next trial of any process marks it failed.
HEARTBEAT = 60
GRACE = 180

Emit = Callable[[dict[str, Any]], None]


class TrialFailed(Exception):
    """A trial's workflow failed; Optuna records the trial as failed and the sweep goes on."""


@dataclass
class SweepOptions:
    file: str
    params: Sequence[str]
    trials: int = 10
    sampler: str = "tpe"
    prune: bool = False
    #: The pruner's knobs: how many trials must complete before any is pruned, and the first
    #: epoch after which a trial may be pruned.
    prune_startup: int = 3
    prune_after: int = 1
    metric: str | None = None
    storage: str | None = None
    study: str | None = None
    overrides: Sequence[str] = ()
    #: The run history's folder (``--runs-dir``), also the default study's; None: the default place.
    runs_dir: str | None = None


@dataclass
class Summary:
    complete: int = 0
    pruned: int = 0
    failed: int = 0
    interrupted: bool = False
    best: dict[str, Any] | None = None
    #: Trials this process started, and those it has reported as finished.
    numbers: list[int] = field(default_factory=list)
    reported: set[int] = field(default_factory=set)


def default_storage(workflow_file: str | os.PathLike[str] | None, folder: str | None = None) -> str:
    """``sqlite:///`` URL of the study file for a workflow (see the module docstring): beside its
    run history, which ``folder`` (``--runs-dir``) moves like it moves the history."""
    from ..history import default_store_path

    history = default_store_path(Path(workflow_file).resolve() if workflow_file else None, folder=folder)
    return "sqlite:///" + history.with_name(history.name.removesuffix(".runs.sqlite") + SUFFIX).as_posix()


def shown_url(url: str) -> str:
    """The storage URL with any password hidden, for messages and events."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


class Sweep:
    """A checked sweep of one workflow (module docstring); :meth:`run` runs it."""

    def __init__(self, options: SweepOptions) -> None:
        from ..cli import apply_override
        from ..core.fileformat import dumps, load, loads

        self.options = options
        if options.trials < 1:
            raise NeuroFlowError("--trials must be at least 1")
        if options.sampler not in SAMPLERS:
            raise NeuroFlowError(f"--sampler {options.sampler}: expected one of {', '.join(SAMPLERS)}")
        if not options.params:
            raise NeuroFlowError("a sweep needs at least one --param NODE.SETTING=RANGE")
        path = Path(options.file)
        # Read once, with every check of a file: each trial loads this text, so an edit of the
        # file during the sweep never mixes two workflows in one study. Saving is canonical, so
        # this text is the file's workflow.
        self.text = dumps(load(path))

        def fresh() -> Any:
            workflow = loads(self.text, file=str(path), folder=path.parent)
            for override in options.overrides:
                apply_override(workflow, override)
            return workflow

        self.load = fresh
        workflow = fresh()
        problem = workflow.first_problem()
        if problem:
            raise NeuroFlowError(problem)
        self.learner = find_learner(workflow)
        self.metric: Metric = choose_metric(workflow, self.learner, options.metric)
        self.params = self._params(workflow)
        self.grid = self._grid() if options.sampler == "grid" else None
        self.study_name = options.study or path.stem or "untitled"
        self.storage_url = options.storage or default_storage(path, options.runs_dir)
        self.workflow_path = str(path.resolve())  # as `neuroflow run` records it
        self._executor: Any = None
        #: The Optuna study, once :meth:`open_study` has opened it.
        self.study: Any = None
        self._interrupted = False

    def _params(self, workflow: Any) -> list[Param]:
        params = [parse_param(workflow, text) for text in self.options.params]
        scorer = find_scorer(workflow, self.learner)
        runs = {self.learner, *workflow.upstream(self.learner)}
        if scorer:
            runs |= {scorer, *workflow.upstream(scorer)}
        seen: dict[tuple[str, str], str] = {}
        for param in params:
            key = (param.node_id, param.setting.name)
            if key in seen:
                raise NeuroFlowError(f"--param {param.name}: the same setting as --param {seen[key]}")
            seen[key] = param.name
            if param.node_id not in runs:
                raise NeuroFlowError(
                    f"--param {param.name}: {workflow.nodes[param.node_id].title} does not run in a trial "
                    "(a trial runs the Network Learner, the Scorer after it and what they need)")
        return params

    def _grid(self) -> dict[str, list[Any]]:
        grid: dict[str, list[Any]] = {}
        for param in self.params:
            values = param.grid_values()
            if values is None:
                shape = "a log range" if param.kind == "log" else "a float range without a step"
                raise NeuroFlowError(
                    f"--param {param.name}: the grid sampler needs values it can list, and {shape} has no end "
                    "of them: give a list (A,B,C), an int range or a float range with a step (LOW..HIGH:STEP)")
            grid[param.name] = values
        return grid

    # -- running ----------------------------------------------------------------------------------

    def interrupt(self) -> None:
        """Stop the sweep: the running trial ends after its current batch and is marked failed."""
        self._interrupted = True
        if self._executor is not None:
            self._executor.cancel()

    def open_study(self) -> Any:
        """Create the study, or load it and check it fits this sweep."""
        import optuna

        optuna.logging.set_verbosity(optuna.logging.ERROR)  # our own lines say what happens
        storage = _open_storage(self.storage_url)
        direction = optuna.study.StudyDirection[self.metric.direction.upper()]
        try:
            study = optuna.create_study(storage=storage, study_name=self.study_name, direction=direction,
                                        sampler=self._sampler(), pruner=self._pruner(), load_if_exists=True)
        except Exception as exc:
            raise NeuroFlowError(f"--storage {shown_url(self.storage_url)}: cannot open the study "
                                 f"'{self.study_name}' ({_first_line(exc)})") from None
        where = f"the study '{self.study_name}' in {shown_url(self.storage_url)}"
        if study.direction != direction:
            raise NeuroFlowError(f"{where} is set to {study.direction.name.lower()}, and --metric "
                                 f"{self.metric.name} would {self.metric.direction}: use another --study")
        metric = study.user_attrs.get("metric")
        if metric is None:
            study.set_user_attr("metric", self.metric.name)
        elif metric != self.metric.name:
            raise NeuroFlowError(f"{where} optimises {metric}, not {self.metric.name}: "
                                 f"use --metric {metric} or another --study")
        self._check_distributions(study, where)
        self.study = study
        return study

    def _check_distributions(self, study: Any, where: str) -> None:
        from optuna.distributions import check_distribution_compatibility

        ours = {param.name: param.distribution() for param in self.params}
        seen: set[tuple[str, str]] = set()
        for trial in study.get_trials(deepcopy=False):
            for name, old in trial.distributions.items():
                if name not in ours or (name, repr(old)) in seen:
                    continue
                seen.add((name, repr(old)))
                try:
                    check_distribution_compatibility(old, ours[name])
                except ValueError:
                    raise NeuroFlowError(
                        f"--param {name}: {where} already sampled it from another kind of range "
                        f"({_describe_distribution(old)}): use the same kind or another --study") from None

    def _sampler(self) -> Any:
        import optuna

        if self.grid is not None:
            return optuna.samplers.GridSampler(self.grid)
        if self.options.sampler == "random":
            return optuna.samplers.RandomSampler()
        return optuna.samplers.TPESampler()

    def _pruner(self) -> Any:
        import optuna

        if not self.options.prune:
            return optuna.pruners.NopPruner()
        return optuna.pruners.MedianPruner(n_startup_trials=self.options.prune_startup,
                                           n_warmup_steps=self.options.prune_after, interval_steps=1)

    def run(self, emit: Emit) -> Summary:
        """Run this process's trials, reporting to ``emit``; see the module docstring."""
        from ..history import default_store_path, open_store

        study = self.open_study()
        existing = len(study.get_trials(deepcopy=False))
        emit({"event": "study", "study": self.study_name, "storage": shown_url(self.storage_url),
              "metric": self.metric.name, "direction": self.metric.direction, "trials": self.options.trials,
              "sampler": self.options.sampler, "prune": self.options.prune,
              "params": [param.describe() for param in self.params], "existing": existing})
        summary = Summary()
        with open_store(default_store_path(self.workflow_path, folder=self.options.runs_dir)) as store:
            def objective(trial: Any) -> float:
                return self._objective(trial, store, emit, summary)

            def finished(study: Any, frozen: Any) -> None:
                self._finished(study, frozen, emit, summary)

            exhausted = self.grid is not None and study.sampler.is_exhausted(study)
            try:
                if not exhausted:
                    study.optimize(objective, n_trials=self.options.trials, catch=(TrialFailed,),
                                   callbacks=[finished], gc_after_trial=False)
            except KeyboardInterrupt:
                self._interrupted = True
                self._close_interrupted(study, emit, summary)
            summary.interrupted = self._interrupted
        emit({"event": "done", "complete": summary.complete, "pruned": summary.pruned, "failed": summary.failed,
              "best": summary.best})
        return summary

    def _close_interrupted(self, study: Any, emit: Emit, summary: Summary) -> None:
        """Report the trial Ctrl+C ended (Optuna marked it failed; a second Ctrl+C may have
        left it running, so it is marked failed here)."""
        from optuna.trial import TrialState

        for number in summary.numbers:
            if number in summary.reported:
                continue
            frozen = next(t for t in study.get_trials(deepcopy=False) if t.number == number)
            if frozen.state == TrialState.RUNNING:  # the second Ctrl+C came outside the objective
                study._storage.set_trial_user_attr(frozen._trial_id, "message", "interrupted")
                study.tell(number, state=TrialState.FAIL)
                frozen = next(t for t in study.get_trials(deepcopy=False) if t.number == number)
            # A second Ctrl+C can land where the trial could not be told why it ended (Optuna has
            # closed it by then): this process knows.
            self._finished(study, frozen, emit, summary, why="interrupted")

    def _objective(self, trial: Any, store: Any, emit: Emit, summary: Summary) -> float:
        import optuna

        summary.numbers.append(trial.number)
        if self._interrupted:
            trial.set_user_attr("message", "interrupted")
            raise KeyboardInterrupt
        chosen = [(param, param.suggest(trial)) for param in self.params]
        emit({"event": "trial", "number": trial.number, "state": "running",
              "params": {param.name: param.setting.to_json(value) for param, value in chosen}})

        def report(epoch: int, value: float) -> bool:
            trial.report(value, epoch)
            return self.options.prune and trial.should_prune()

        def on_epoch(epoch: int, value: float | None) -> None:
            shown = None if value is None or math.isnan(value) else value
            emit({"event": "epoch", "number": trial.number, "epoch": epoch, "value": shown})

        def started(executor: Any) -> None:
            self._executor = executor
            if self._interrupted:
                executor.cancel()

        try:
            outcome = run_trial(load=self.load, params=chosen, learner=self.learner, metric=self.metric,
                                store=store, workflow_path=self.workflow_path,
                                label=f"sweep {self.study_name} #{trial.number}", report=report,
                                on_epoch=on_epoch, started=started)
        except KeyboardInterrupt:  # a second Ctrl+C, in the middle of training
            trial.set_user_attr("message", "interrupted")
            raise
        finally:
            self._executor = None
            free_memory()
        _remember(trial, outcome)
        if outcome.state == "interrupted":
            raise KeyboardInterrupt
        if self._interrupted:  # Ctrl+C after training: keep the trial as it ended, run no other
            trial.study.stop()
        if outcome.state == "pruned":
            raise optuna.TrialPruned(outcome.message)
        if outcome.state == "failed":
            raise TrialFailed(outcome.message)
        assert outcome.value is not None
        return outcome.value

    def _finished(self, study: Any, frozen: Any, emit: Emit, summary: Summary, why: str = "") -> None:
        event = self.trial_event(frozen)
        event["message"] = event["message"] or why
        summary.reported.add(frozen.number)
        state = event["state"]
        if state in ("complete", "pruned", "failed"):
            setattr(summary, state, getattr(summary, state) + 1)
        emit(event)
        best = self.best(study)
        if best is not None:
            summary.best = best
            emit({"event": "best", **best})

    def best(self, study: Any) -> dict[str, Any] | None:
        """The study's best trial (from any process) as the ``best`` event shows it."""
        try:
            trial = study.best_trial
        except ValueError:  # no complete trial yet
            return None
        return {"number": trial.number, "params": self._params_json(trial.params), "value": trial.value}

    def trial_event(self, frozen: Any) -> dict[str, Any]:
        """A finished (or still running) trial as the ``trial`` event shows it."""
        attrs = frozen.user_attrs
        state = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed"}.get(
            frozen.state.name, frozen.state.name.lower())
        value = frozen.value if frozen.values else None
        return {"event": "trial", "number": frozen.number, "state": state,
                "params": self._params_json(frozen.params),
                "value": None if value is None or math.isnan(value) else value,
                "epochs": attrs.get("epochs", 0), "run_id": attrs.get("run_id"),
                "seconds": attrs.get("seconds", 0.0), "message": attrs.get("message", "")}

    def _params_json(self, params: dict[str, Any]) -> dict[str, Any]:
        ours = {param.name: param for param in self.params}
        return {name: ours[name].json_value(value) if name in ours else value for name, value in params.items()}

    def table_rows(self, study: Any) -> list[dict[str, Any]]:
        """Every trial of the study, as ``trial`` events, in trial order."""
        return [self.trial_event(t) for t in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)]


def _remember(trial: Any, outcome: TrialOutcome) -> None:
    """Keep in the study what the run history and the table need about a trial."""
    trial.set_user_attr("epochs", outcome.epochs)
    trial.set_user_attr("run_id", outcome.run_id)
    trial.set_user_attr("seconds", round(outcome.seconds, 3))
    trial.set_user_attr("message", outcome.message)
    trial.set_user_attr("host", socket.gethostname())
    trial.set_user_attr("pid", os.getpid())


def _open_storage(url: str) -> Any:
    """An Optuna RDB storage for ``url``. SQLite files are shared by processes of one machine:
    writers wait for each other (timeout) instead of failing, and two processes creating a new
    file at once retry until its tables exist."""
    import optuna

    kwargs: dict[str, Any] = {"heartbeat_interval": HEARTBEAT, "grace_period": GRACE}
    if url.startswith("sqlite:"):
        kwargs["engine_kwargs"] = {"connect_args": {"timeout": 60}}
        file = url.removeprefix("sqlite:///")
        if file and file != ":memory:":
            try:
                Path(file).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise NeuroFlowError(f"--storage {shown_url(url)}: cannot create its folder "
                                     f"({exc.strerror or exc})") from None
    deadline = time.monotonic() + 30
    logging.getLogger("alembic").setLevel(logging.WARNING)
    while True:
        try:
            with warnings.catch_warnings():
                # The heartbeat is "experimental" in Optuna's terms; it is the only way to see a
                # trial whose process died, so it is worth the risk of an interface change.
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(url, **kwargs)
        except ImportError as exc:  # Optuna's, raised from the driver's own
            name = getattr(exc.__cause__, "name", None) or exc.name
            needs = f"the Python package '{name}'" if name else "its database driver"
            raise NeuroFlowError(f"--storage {shown_url(url)}: needs {needs} (the database driver): "
                                 "pip install it") from None
        except Exception as exc:
            # Both creating the tables, or both stamping the schema version: the loser retries.
            racing = url.startswith("sqlite:") and any(
                sign in str(exc) for sign in ("locked", "already exists", "UNIQUE constraint failed"))
            if not racing or time.monotonic() > deadline:
                raise NeuroFlowError(f"--storage {shown_url(url)}: cannot open it ({_first_line(exc)})") from None
            time.sleep(0.2)


def _describe_distribution(distribution: Any) -> str:
    from optuna.distributions import CategoricalDistribution

    if isinstance(distribution, CategoricalDistribution):
        return "values " + ", ".join(map(str, distribution.choices))
    log = "log " if getattr(distribution, "log", False) else ""
    kind = type(distribution).__name__.removesuffix("Distribution").lower()
    return f"{log}{kind} {distribution.low}..{distribution.high}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:300]
