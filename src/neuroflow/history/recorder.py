"""Turning a workflow's training events into runs in the history.

:class:`RunRecorder` is an ordinary event listener (``Executor(workflow, recorder)`` or
``workflow.subscribe(recorder)``), so the executor and the learner know nothing about the
history: whoever runs a workflow - the command line, the editor's worker - decides whether runs
are recorded. It listens to the events every Learner already sends:

* :class:`TrainingStarted` records a run: the workflow path, the learner's seed, its devices and
  the type, version and settings of the learner and of every node it depends on (what decides
  the trained weights);
* :class:`BatchEnded` values are kept in memory and written with their epoch, so per-batch curves
  cost one commit per epoch, not one per batch;
* :class:`EpochEnded` stores the epoch's metrics, :class:`TrainingEnded` finishes the run with the
  learner's stop reason and the training time;
* a node downstream of a recorded learner that has just executed adds its results to the run: a
  Scorer's scores (accuracy, kappa, ...; not the confusion matrix or ROC points), a Network
  Writer's model file. With several learners, a result belongs to the nearest one upstream.

The data's fingerprint (:mod:`.fingerprint`) is taken from the learner's inputs when training
starts: they have executed by then.

A history that cannot be written (full disk, a locked or damaged file) must not spoil the
training it describes: the recorder logs the problem once, keeps it in :attr:`problem` and stops
recording.
"""

from __future__ import annotations

import logging
import os
import time
from typing import TYPE_CHECKING, Any

from ..core.errors import HistoryError
from ..core.events import BatchEnded, EpochEnded, NodeState, NodeStateChanged, TrainingEnded, TrainingStarted
from .fingerprint import data_fingerprint

if TYPE_CHECKING:
    from ..core.workflow import Workflow
    from .store import RunStore

log = logging.getLogger(__name__)


class RunRecorder:
    """Records each training of ``workflow`` into ``store`` (see the module docstring)."""

    def __init__(
        self,
        store: RunStore,
        workflow: Workflow,
        *,
        workflow_path: str | os.PathLike[str] | None = None,
        record_batches: bool = True,
    ) -> None:
        self.store = store
        self.workflow = workflow
        self.workflow_path = workflow_path
        self.record_batches = record_batches
        #: Learner node id -> id of its latest run, for attaching scores or a model file later.
        self.runs: dict[str, int] = {}
        #: Why recording stopped, or ``None`` while it works.
        self.problem: str | None = None
        self._started: dict[str, float] = {}
        self._batches: dict[str, list[tuple[int, dict[str, float]]]] = {}

    def __call__(self, event: Any) -> None:
        if self.problem is not None:
            return
        try:
            if isinstance(event, TrainingStarted):
                self._start(event)
            elif isinstance(event, BatchEnded):
                if self.record_batches and event.node_id in self._started:
                    self._batches.setdefault(event.node_id, []).append((event.batch, dict(event.metrics)))
            elif isinstance(event, EpochEnded):
                if event.node_id in self._started:
                    self._flush_batches(event.node_id, event.epoch)
                    self.store.add_epoch(self.runs[event.node_id], event.epoch, event.metrics)
            elif isinstance(event, TrainingEnded):
                self._finish(event)
            elif isinstance(event, NodeStateChanged) and event.state is NodeState.EXECUTED:
                self._results(event.node_id)
        except HistoryError as exc:
            self.problem = str(exc)
            log.warning("run history not recorded any more: %s", exc)

    def _start(self, event: TrainingStarted) -> None:
        learner = self.workflow.nodes[event.node_id]
        depends = self.workflow.upstream(event.node_id) | {event.node_id}
        settings = {
            nid: {
                "type": self.workflow.nodes[nid].type_id,
                "version": self.workflow.nodes[nid].node.version,
                "settings": self.workflow.nodes[nid].node.settings_json(),
                "title": self.workflow.nodes[nid].label,
            }
            for nid in sorted(depends)
        }
        seed = learner.node.settings.get("seed")
        self.runs[event.node_id] = self.store.record_run(
            workflow=self.workflow_path,
            seed=seed if isinstance(seed, int) else None,
            settings=settings,
            devices=[event.devices] if event.devices else [],
            data_fingerprint=data_fingerprint(self._inputs(event.node_id)),
        )
        self._started[event.node_id] = time.perf_counter()
        self._batches[event.node_id] = []

    def _inputs(self, node_id: str) -> dict[str, Any]:
        """The values on a node's input ports (those whose source has executed)."""
        values = {}
        for port, connection in self.workflow.incoming(node_id).items():
            outputs = self.workflow.nodes[connection.source].outputs or {}
            values[port] = outputs.get(connection.source_port)
        return values

    def _results(self, node_id: str) -> None:
        """Attach a Scorer's scores or a Writer's model file to the run of the learner upstream."""
        item = self.workflow.nodes.get(node_id)
        if item is None or not self.runs:
            return
        scores = model_path = None
        outputs = item.outputs or {}
        if "scores" in outputs and hasattr(outputs["scores"], "to_dict"):
            scores = headline(outputs["scores"].to_dict())
        elif item.type_id == "neuroflow.learning.writer" and item.node.settings.get("path"):
            model_path = str(item.node.resolve_path(item.node.settings["path"]))
        if scores is None and model_path is None:
            return
        run = self._nearest_run(node_id)
        if run is not None:
            self.store.set_results(run, model_path=model_path, scores=scores)

    def _nearest_run(self, node_id: str) -> int | None:
        """The run of the learner upstream of ``node_id`` closest to it (fewest hops back)."""
        frontier, seen = [node_id], {node_id}
        while frontier:
            found = [nid for nid in frontier if nid in self.runs and nid != node_id]
            if found:
                return self.runs[sorted(found)[0]]
            step = []
            for nid in frontier:
                for connection in self.workflow.incoming(nid).values():
                    if connection.source not in seen:
                        seen.add(connection.source)
                        step.append(connection.source)
            frontier = step
        return None

    def _flush_batches(self, node_id: str, epoch: int) -> None:
        batches = self._batches.get(node_id)
        if batches:
            self.store.add_batches(self.runs[node_id], epoch, batches)
        self._batches[node_id] = []

    def _finish(self, event: TrainingEnded) -> None:
        started = self._started.pop(event.node_id, None)
        if started is None:
            return
        # A stop during an epoch leaves that epoch's batches without an EpochEnded: keep them.
        self._flush_batches(event.node_id, event.epochs_run + 1)
        self._batches.pop(event.node_id, None)
        self.store.finish_run(
            self.runs[event.node_id], stop_reason=event.reason, duration=time.perf_counter() - started
        )


def headline(scores: dict[str, Any]) -> dict[str, Any]:
    """The scalar scores of a Scorer's ``to_dict`` (accuracy, kappa, macro AUC, ...): what a run
    table shows; the confusion matrix and ROC points stay with the Scorer's own view."""
    return {
        name: value
        for name, value in scores.items()
        if isinstance(value, int | float | str | bool) or value is None
    }
