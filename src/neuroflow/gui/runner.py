"""Runs the workflow in the execution process, so the editor never blocks and never crashes.

:class:`Runner` keeps one :class:`~neuroflow.worker.client.WorkerClient` (started ahead of the
first run, so TensorFlow is already imported when the user clicks Execute) and applies what it
reports to the editor's own workflow on the GUI thread: node states, the light results the views
read, and every other core event, which reach the views through the document as before.

* ``cancel`` aborts at the next training batch or progress check and the running node returns to
  configured; a worker that has not finished 5 s later is ended, and its results with it.
* ``request_stop`` ends training after the current batch and keeps the model trained so far.
* If the worker dies, the running nodes turn failed with a message saying how it ended, the
  results it held are gone (their nodes return to configured), and the next run starts a fresh
  worker.
* ``forget`` drops results after a reset; ``restart`` (reset all, another workflow, closing)
  ends the worker, which gives all of its memory back, and starts a fresh one ahead of time.
* Results a settings edit put aside for its undo (:mod:`neuroflow.core.stash`) stay valid as
  long as the worker still holds them: it keeps the results of its last run until the next run
  request, whose fingerprints they match again after the undo. So the editor drops that stash
  when a run starts or the worker is lost, and an undo never shows results the worker lacks.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QElapsedTimer, QObject, QTimer, Signal

from neuroflow.core import fileformat
from neuroflow.core.events import NodeState
from neuroflow.core.executor import RunResult
from neuroflow.core.workflow import Workflow
from neuroflow.worker.client import WorkerClient

from .document import EventPump

log = logging.getLogger(__name__)

#: Seconds a cancelled run may take to end before the worker is ended by force.
CANCEL_GRACE = 5.0
#: Set to any value to start the worker only when the first run needs it (tests, benchmarks).
NO_PRESTART_ENV = "NEUROFLOW_NO_WARMUP"


class Runner(QObject):
    """The editor's handle on execution; ``started``/``finished`` are emitted on the GUI thread."""

    started = Signal()
    #: The run's :class:`RunResult` (or ``None`` after an internal error) and an error text.
    finished = Signal(object, str)
    #: The execution process ended while nothing ran (its results are gone): why.
    worker_lost = Signal(str)
    #: A run's trainings were recorded: the history file and the new run ids (before ``finished``).
    runs_recorded = Signal(str, list)
    #: The run history could not be opened or written (the run itself went on): why.
    history_problem = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client: WorkerClient | None = None
        self._pump = EventPump(self)
        self._pump.delivered.connect(self._handle)
        self._workflow: Workflow | None = None
        self._request = 0
        self._cancel_timer = QTimer(self)
        self._cancel_timer.setSingleShot(True)
        self._cancel_timer.timeout.connect(self._cancel_overdue)
        self._cancel_clock = QElapsedTimer()

    # -- the worker ---------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._request != 0

    @property
    def worker_pid(self) -> int | None:
        """The execution process's id (``None`` before it starts)."""
        return self._client.pid if self._client is not None else None

    def prepare(self) -> None:
        """Start the worker ahead of the first run (it imports TensorFlow meanwhile)."""
        if not os.environ.get(NO_PRESTART_ENV):
            self._ensure_worker()

    def _ensure_worker(self) -> WorkerClient:
        client = self._client
        if client is None or not client.alive:
            client = WorkerClient(self._pump.post)
            client.install_as_image_source()
            self._client = client
        return client

    def restart(self) -> None:
        """End the worker (all results it holds are dropped, its memory freed); start a new one."""
        if self.running:
            return
        self._end_worker()
        self.prepare()

    def forget(self, node_ids: Iterable[str] | None) -> None:
        """Drop the worker's results of these nodes (and their downstream), or of all."""
        if self._client is not None and not self.running:
            self._client.send(("forget", None if node_ids is None else list(node_ids)))

    def _end_worker(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    # -- runs ---------------------------------------------------------------------------------
    def start(self, workflow: Workflow, targets: Iterable[str] | None = None,
              history: dict[str, str | None] | None = None) -> bool:
        """Execute ``targets`` (and what they need) or everything; False if already running.
        ``history`` (``{"store": file, "workflow": file or None}``) records the trainings."""
        if self.running:
            return False
        client = self._ensure_worker()
        self._workflow = workflow
        # The worker lets go of every result the editor does not show as executed (the results
        # a settings edit put aside for its undo among them), so the editor lets go of them too:
        # an undo after this run re-executes instead of showing results that no longer exist.
        workflow.discard_stash()
        executed = [nid for nid, item in workflow.nodes.items()
                    if item.state is NodeState.EXECUTED and item.outputs is not None]
        folder = str(workflow.folder) if workflow.folder is not None else None
        self._request = client.next_id()
        sent = client.send(("run", self._request, fileformat.to_dict(workflow), folder, executed,
                            list(targets) if targets is not None else None, history))
        self.started.emit()
        if not sent:  # it died a moment ago: its death message finishes this run
            log.warning("the execution process could not take the run")
        return True

    def cancel(self) -> None:
        """Abort the run; finished nodes stay executed, the running one returns to configured."""
        if self.running and self._client is not None:
            self._client.send(("cancel",))
            if not self._cancel_timer.isActive():
                self._cancel_clock.start()
                self._cancel_timer.start(int(CANCEL_GRACE * 1000))

    def request_stop(self) -> None:
        """End training after the current batch, keeping the model trained so far."""
        if self.running and self._client is not None:
            self._client.send(("stop",))

    def shutdown(self) -> None:
        """End everything now (the window closes): a run in progress is abandoned."""
        self._cancel_timer.stop()
        if self.running:
            client, self._client = self._client, None
            if client is not None:
                client.kill()
            self._lose_results("was stopped because the window closed", running_message="cancelled")
            self._finish(RunResult(cancelled=True), "")
        self._end_worker()

    def wait(self, milliseconds: int = 30_000) -> bool:
        """Block until the run ends (used by tests and benchmarks); True if it ended."""
        from PySide6.QtCore import QCoreApplication, QEventLoop

        clock = QElapsedTimer()
        clock.start()
        while self.running and clock.elapsed() < milliseconds:
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        return not self.running

    # -- what the worker says (on the GUI thread) ----------------------------------------------
    def _handle(self, message: Any) -> None:
        kind = message[0]
        workflow = self._workflow
        if kind == "state" and workflow is not None:
            event, outputs, seconds = message[1], message[2], message[3]
            item = workflow.nodes.get(event.node_id)
            if item is None:
                return
            if event.state is NodeState.EXECUTED:
                item.outputs, item.seconds = outputs, seconds
            elif event.state is not NodeState.EXECUTING:
                item.outputs = None
            workflow.set_state(event.node_id, event.state, event.message)
        elif kind == "event" and workflow is not None:
            workflow.emit(message[1])
        elif kind == "finished" and message[1] == self._request:
            self._finish(message[2], message[3])
        elif kind == "history-recorded":
            self.runs_recorded.emit(message[1], list(message[2]))
        elif kind == "history":
            self.history_problem.emit(message[1])
        elif kind == "died":
            self._worker_died(message[1])

    def _finish(self, result: RunResult | None, error: str) -> None:
        self._cancel_timer.stop()
        self._request = 0
        self.finished.emit(result, error)

    def _worker_died(self, how: str) -> None:
        self._client = None
        if self.running:
            failed = self._lose_results(how)
            self._finish(RunResult(failed=failed), "")
        else:
            self._lose_results(how)
            self.worker_lost.emit(f"The execution process {how}; results are gone - execute again")

    def _lose_results(self, how: str, running_message: str = "") -> dict[str, str]:
        """The worker's results are gone: executed nodes return to configured, running ones fail."""
        failed: dict[str, str] = {}
        workflow = self._workflow
        if workflow is None:
            return failed
        workflow.discard_stash()  # what it put aside for undo lived in the worker too
        for nid, item in workflow.nodes.items():
            if item.state is NodeState.EXECUTING:
                if running_message:
                    item.outputs = None
                    workflow.set_state(nid, NodeState.CONFIGURED, running_message)
                    continue
                message = f"the execution process {how}; execute again to start a new one"
                failed[nid] = message
                item.outputs = None
                workflow.set_state(nid, NodeState.FAILED, message)
            elif item.state is NodeState.EXECUTED:
                item.outputs, item.seconds = None, 0.0
                workflow.set_state(nid, NodeState.CONFIGURED)
        return failed

    def _cancel_overdue(self) -> None:
        if not self.running:
            return
        log.warning("the execution process did not end the run within %.0f s of cancel", CANCEL_GRACE)
        client, self._client = self._client, None
        if client is not None:
            client.kill()
        self._lose_results("did not respond to cancel", running_message="cancelled")
        self._finish(RunResult(cancelled=True), "")
