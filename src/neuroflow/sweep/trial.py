"""One trial: a fresh copy of the workflow, the trial's settings, a real run, a run in the history.

Each trial loads the workflow anew from the text read when the sweep started (so no trained
model, cached result or setting leaks from one trial into the next, and an edit of the file
during a sweep does not mix two workflows in one study), applies the ``--set`` overrides and
then the trial's parameters, and runs the Executor in this process on what the metric needs:
the Network Learner, and the Scorer downstream of it when there is one (so every trial's test
scores land in its run). The Network Writer does not run: ten trials would overwrite one model
file ten times.

:class:`TrialListener` sits between the workflow's events and the run history's
:class:`~neuroflow.history.RunRecorder`: it reports the metric of every epoch to Optuna and,
when pruning, cancels training once Optuna says the trial is behind - then the recorder is told
the run stopped as ``pruned at epoch K`` instead of the learner's ``cancelled``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.errors import HistoryError, NeuroFlowError
from ..core.events import EpochEnded, TrainingEnded, TrainingStarted
from .metric import Metric, find_scorer

if TYPE_CHECKING:
    from ..core.executor import Executor
    from ..core.workflow import Workflow
    from ..history import RunStore
    from .params import Param


@dataclass
class TrialOutcome:
    """How a trial ended: ``state`` is "complete", "pruned", "failed" or "interrupted"."""

    state: str
    value: float | None = None
    epochs: int = 0
    run_id: int | None = None
    seconds: float = 0.0
    message: str = ""
    history: list[dict[str, float]] = field(default_factory=list)


class TrialListener:
    """Forwards a trial's events to the run recorder, reports epochs, prunes (module docstring)."""

    def __init__(
        self,
        *,
        learner: str,
        metric: Metric,
        recorder: Any,
        label: str,
        report: Callable[[int, float], bool],
        on_epoch: Callable[[int, float | None], None],
        cancel: Callable[[], None],
    ) -> None:
        self.learner = learner
        self.metric = metric
        self.recorder = recorder
        self.label = label
        #: ``report(epoch, value)`` tells Optuna the epoch's value; True: prune the trial now.
        self.report = report
        self.on_epoch = on_epoch
        self.cancel = cancel
        self.epochs: list[dict[str, float]] = []
        self.planned = 0
        self.pruned_at: int | None = None

    def __call__(self, event: Any) -> None:
        mine = getattr(event, "node_id", None) == self.learner
        if mine and isinstance(event, TrainingEnded):
            event = self._reason(event)
        self.recorder(event)
        if not mine:
            return
        if isinstance(event, TrainingStarted):
            self.planned = event.epochs
            self._label()
        elif isinstance(event, EpochEnded):
            self._epoch(event)

    def _epoch(self, event: EpochEnded) -> None:
        self.epochs.append(dict(event.metrics))
        raw = event.metrics.get(self.metric.epoch_name)
        value = None if raw is None else float(raw)
        self.on_epoch(event.epoch, value)
        if value is None or self.pruned_at is not None:
            return
        # Pruning after the last epoch would only throw away a finished training.
        if self.report(event.epoch, value) and event.epoch < self.planned:
            self.pruned_at = event.epoch
            self.cancel()

    def _reason(self, event: TrainingEnded) -> TrainingEnded:
        """The stop reason the history keeps for a training this sweep ended."""
        if self.pruned_at is not None:
            return TrainingEnded(event.node_id, event.epochs_run, f"pruned at epoch {self.pruned_at}")
        if event.reason.startswith("cancelled"):  # only the sweep cancels: Ctrl+C
            return TrainingEnded(event.node_id, event.epochs_run,
                                 "sweep interrupted" + event.reason.removeprefix("cancelled"))
        return event

    def _label(self) -> None:
        run_id = self.recorder.runs.get(self.learner)
        if run_id is None or self.recorder.problem is not None:
            return
        try:
            self.recorder.store.set_label(run_id, self.label)
        except HistoryError as exc:  # the recorder's rule: history trouble never spoils training
            self.recorder.problem = str(exc)


def run_trial(
    *,
    load: Callable[[], Workflow],
    params: Sequence[tuple[Param, Any]],
    learner: str,
    metric: Metric,
    store: RunStore,
    workflow_path: str,
    label: str,
    report: Callable[[int, float], bool],
    on_epoch: Callable[[int, float | None], None],
    started: Callable[[Executor], None],
) -> TrialOutcome:
    """Run one trial (module docstring). ``started(executor)`` lets the caller cancel it."""
    from ..core.executor import Executor
    from ..history import RunRecorder

    began = time.perf_counter()
    quiet_retracing()
    try:
        workflow = load()
        for param, value in params:
            workflow.set_setting(param.node_id, param.setting.name, value)
    except NeuroFlowError as exc:
        return TrialOutcome("failed", message=str(exc), seconds=time.perf_counter() - began)
    recorder = RunRecorder(store, workflow, workflow_path=workflow_path)
    executor = Executor(workflow)
    listener = TrialListener(learner=learner, metric=metric, recorder=recorder, label=label, report=report,
                             on_epoch=on_epoch, cancel=executor.cancel)
    executor.listener = listener
    started(executor)
    scorer = find_scorer(workflow, learner)
    result = executor.run(targets=[learner] + ([scorer] if scorer else []))
    outcome = TrialOutcome("complete", epochs=len(listener.epochs), run_id=recorder.runs.get(learner),
                           history=listener.epochs)
    # The recorder has attached the Scorer's numbers to the run as it executed.
    scores = (workflow.nodes[scorer].outputs or {}).get("scores") if scorer else None
    if listener.pruned_at is not None:
        outcome.state, outcome.message = "pruned", f"pruned at epoch {listener.pruned_at}"
    elif result.cancelled:
        outcome.state, outcome.message = "interrupted", "interrupted"
    elif not result.ok:
        nid, message = next(iter({**result.not_configured, **result.failed}.items()))
        outcome.state, outcome.message = "failed", f"{workflow.nodes[nid].title}: {message}"
    else:
        try:
            outcome.value = metric.value(listener.epochs, scores if metric.scorer else None)
        except NeuroFlowError as exc:
            outcome.state, outcome.message = "failed", str(exc)
    if outcome.state == "pruned" and listener.epochs:
        last = listener.epochs[-1].get(metric.epoch_name)
        outcome.value = None if last is None or math.isnan(last) else float(last)
    if recorder.problem and not outcome.message:
        outcome.message = f"not recorded in the run history: {recorder.problem}"
    outcome.seconds = time.perf_counter() - began
    return outcome


class _NoRetracingNotes(logging.Filter):
    """Each trial builds and trains a new model, so TensorFlow traces its training step anew
    every time; from the fifth trial on it warns about that "retracing" as if it were a mistake.
    In a sweep it is the point: the note is dropped, other TensorFlow warnings are kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


_RETRACING = _NoRetracingNotes()


def quiet_retracing() -> None:
    logger = logging.getLogger("tensorflow")
    if _RETRACING not in logger.filters:
        logger.addFilter(_RETRACING)


def free_memory() -> None:
    """Give TensorFlow's per-model objects back between trials (they pile up otherwise)."""
    import gc
    import sys

    if "keras" in sys.modules:
        sys.modules["keras"].backend.clear_session()
    gc.collect()
