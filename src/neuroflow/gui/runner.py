"""Runs the workflow on a worker thread so the editor never blocks.

:class:`Runner` starts one :class:`~neuroflow.core.executor.Executor` run at a time on a
``QThread`` with a fresh :class:`~neuroflow.core.node.CancelToken`. The executor's events reach
the GUI through the document's event pump (queued onto the GUI thread); the run's result comes
back through the ``finished`` signal, also on the GUI thread. ``cancel`` aborts at the next
progress check or training batch; ``request_stop`` ends training gracefully and keeps the model
trained so far.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import threading
from collections.abc import Iterable

from PySide6.QtCore import QObject, QThread, Signal

from neuroflow.core.executor import Executor, RunResult
from neuroflow.core.node import CancelToken
from neuroflow.core.workflow import Workflow

log = logging.getLogger(__name__)

#: Seconds a thread may hold the GIL before it must offer it (Python's default is 0.005). Every
#: repaint of the canvas calls Python code (node and port painters) and each call needs the GIL;
#: while training holds it, a 5 ms hand-over per call added up to stalls of 100+ ms. A shorter
#: interval during runs keeps the GUI responsive and costs training next to nothing.
RUN_SWITCH_INTERVAL = 0.0005
#: How much nicer than the GUI the execution thread (and the TensorFlow worker threads it
#: starts, which inherit it) runs: training takes every idle cycle, yet a repaint of the GUI
#: thread gets the CPU first. On Linux nice values are per thread; elsewhere this is a no-op.
BACKGROUND_NICENESS = 5


def lower_thread_priority(step: int = BACKGROUND_NICENESS) -> None:
    """Make the calling thread nicer (lower priority), where the OS allows per-thread nice."""
    if not sys.platform.startswith("linux") or not hasattr(os, "setpriority"):
        return
    try:
        tid = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(current + step, 19))
    except OSError as exc:  # not allowed here: run at normal priority
        log.debug("cannot lower the execution thread's priority: %s", exc)


class _RunThread(QThread):
    """The thread body: one executor run; never lets an exception escape."""

    def __init__(self, workflow: Workflow, targets: list[str] | None, token: CancelToken,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.workflow = workflow
        self.targets = targets
        self.token = token
        self.result: RunResult | None = None
        self.error = ""

    def run(self) -> None:
        lower_thread_priority()
        try:
            self.result = Executor(self.workflow).run(targets=self.targets, token=self.token)
        except Exception as exc:  # a bug in the executor itself: report it, keep the editor alive
            log.exception("workflow execution crashed")
            self.error = f"{type(exc).__name__}: {exc}"


class Runner(QObject):
    """Owns the execution thread; ``started``/``finished`` are emitted on the GUI thread."""

    started = Signal()
    #: The run's :class:`RunResult` (or ``None`` after an internal error) and an error text.
    finished = Signal(object, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: _RunThread | None = None
        self.token: CancelToken | None = None
        self._switch_interval = sys.getswitchinterval()

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self, workflow: Workflow, targets: Iterable[str] | None = None) -> bool:
        """Execute ``targets`` (and what they need) or everything; False if already running."""
        if self._thread is not None:
            return False
        self.token = CancelToken()
        # Collect garbage here, on the GUI thread: left for the worker, whose imports and training
        # trigger collections, unreachable Qt wrappers (e.g. of closed windows) would be destroyed
        # on the wrong thread, which can crash Qt. A full collection takes under 0.2 s.
        gc.collect()
        thread = _RunThread(workflow, list(targets) if targets is not None else None, self.token, self)
        thread.finished.connect(self._done)
        self._thread = thread
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch_interval, RUN_SWITCH_INTERVAL))
        thread.start()
        self.started.emit()
        return True

    def cancel(self) -> None:
        """Abort the run; the running node returns to configured, finished nodes stay executed."""
        if self.token is not None:
            self.token.cancel()

    def request_stop(self) -> None:
        """End training after the current batch, keeping the model trained so far."""
        if self.token is not None:
            self.token.request_stop()

    def wait(self, milliseconds: int = 30_000) -> bool:
        """Block until the thread ends (used when the window closes); True if it ended."""
        thread = self._thread
        if thread is None:
            return True
        ended = thread.wait(milliseconds)
        if ended:
            self._done()
        return bool(ended)

    def _done(self) -> None:
        thread = self._thread
        if thread is None:
            return
        self._thread = None
        sys.setswitchinterval(self._switch_interval)
        result, error = thread.result, thread.error
        thread.deleteLater()
        self.finished.emit(result, error)
