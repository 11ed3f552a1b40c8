"""The run flow of the editor: execute all or the selection, cancel, reset, and what runs say.

:class:`RunFlow` owns the :class:`~neuroflow.gui.runner.Runner` (the execution process), locks
the document while a run goes on, keeps the status bar's run text (at most ten redraws a
second: training reports every batch) and writes each run's outcome to the messages panel and
the status bar. The main window connects its actions to it and refreshes its panels when
:attr:`RunFlow.finished` or :attr:`RunFlow.worker_lost` says a run ended.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow

from neuroflow.core.events import NodeProgress, NodeState, NodeStateChanged
from neuroflow.core.executor import RunResult

from .document import Document
from .messages import MessagesPanel
from .runner import Runner

#: The status bar's run text is redrawn at most this often (milliseconds).
RUN_TEXT_INTERVAL = 100


class RunFlow(QObject):
    """Starts, cancels and reports runs of the window's document (see the module docstring)."""

    #: A run ended: its RunResult, or None when it stopped by an internal error.
    finished = Signal(object)
    #: The execution process died; the document's states have been set back.
    worker_lost = Signal()

    def __init__(self, window: QMainWindow, document: Document, messages: MessagesPanel,
                 messages_dock: QDockWidget, selection: Callable[[], list[str]],
                 history_store: Callable[[], Path] | None = None) -> None:
        super().__init__(window)
        #: The run history file of the document as it is now (its path may change with Save As).
        self.history_store = history_store
        self.window = window
        self.document = document
        self.messages = messages
        self.messages_dock = messages_dock
        self._selection = selection
        self.runner = Runner(window)
        #: The last run's result (None before the first, or after an internal error).
        self.last_run: RunResult | None = None
        #: What is running, on the right of the status bar.
        self.label = QLabel("")
        self._run_text = ""
        self._run_text_timer = QTimer(self)
        self._run_text_timer.setSingleShot(True)
        self._run_text_timer.setInterval(RUN_TEXT_INTERVAL)
        self._run_text_timer.timeout.connect(self._show_run_text)
        self.runner.finished.connect(self._run_finished)
        self.runner.worker_lost.connect(self._worker_lost)
        self.runner.history_problem.connect(lambda text: self.messages.add("warning", text))
        document.workflow_replaced.connect(self.runner.restart)  # another workflow: free the old results
        document.core_event.connect(self._on_event)

    def _status(self, text: str, msecs: int) -> None:
        self.window.statusBar().showMessage(text, msecs)

    # -- commands -------------------------------------------------------------------------------
    def execute_all(self) -> bool:
        return self.execute(None)

    def execute_selected(self) -> bool:
        ids = self._selection()
        if not ids:
            self._status("Select the nodes to execute first", 5_000)
            return False
        return self.execute(ids)

    def execute(self, targets: list[str] | None) -> bool:
        """Execute ``targets`` and what they need (None: everything); False if it did not start."""
        if self.runner.running:
            return False
        workflow = self.document.workflow
        if not workflow.nodes:
            self._status("Nothing to execute: add nodes from the Nodes panel", 5_000)
            return False
        self.document.set_locked(True)
        self._set_run_text("Executing…", now=True)
        history = None
        if self.history_store is not None:
            path = self.document.path
            history = {"store": str(self.history_store()), "workflow": str(path.resolve()) if path else None}
        started = self.runner.start(workflow, targets, history)
        if not started:
            self.document.set_locked(False)
        return started

    def cancel(self) -> None:
        if self.runner.running:
            self.runner.cancel()
            self._set_run_text("Cancelling…", now=True)

    def reset(self) -> None:
        """Reset the selected nodes and what follows them, or every node when none is selected."""
        ids = self._selection()
        self.document.reset(ids or None)
        if self.document.locked:
            return
        if ids:
            self.runner.forget(ids)
        else:
            self.runner.restart()  # everything reset: a fresh execution process gives its memory back
        what = f"{len(ids)} node{'s' if len(ids) != 1 else ''} and downstream" if ids else "all nodes"
        self._status(f"Reset {what}", 4_000)

    # -- the run text ---------------------------------------------------------------------------
    def _set_run_text(self, text: str, now: bool = False) -> None:
        self._run_text = text
        if now:
            self._run_text_timer.stop()
            self._show_run_text()
        elif not self._run_text_timer.isActive():
            self._run_text_timer.start()

    def _show_run_text(self) -> None:
        if self.label.text() != self._run_text:
            self.label.setText(self._run_text)

    def _on_event(self, event: object) -> None:
        if isinstance(event, NodeStateChanged):
            item = self.document.workflow.nodes.get(event.node_id)
            if item is not None and event.state is NodeState.EXECUTING:
                self._set_run_text(f"Executing '{item.label}'…")
        elif isinstance(event, NodeProgress) and event.message:
            item = self.document.workflow.nodes.get(event.node_id)
            if item is not None:
                self._set_run_text(f"{item.label}: {event.message}")

    # -- the end of a run -----------------------------------------------------------------------
    def _run_finished(self, result: object, error: str) -> None:
        assert result is None or isinstance(result, RunResult)
        self.document.set_locked(False)
        self.last_run = result
        self._set_run_text("", now=True)
        nodes = self.document.workflow.nodes
        if result is None:
            self.messages.add("error", f"execution stopped by an internal error: {error}")
            self._status("Execution failed with an internal error", 10_000)
        elif result.cancelled:
            self.messages.add("info", f"Execution cancelled after {result.seconds:.1f} s")
            self._status("Execution cancelled", 8_000)
        elif result.failed:
            names = ", ".join(nodes[n].label for n in result.failed if n in nodes)
            self.messages.add("error", f"Execution finished with failures: {names}")
            self._status(f"Failed: {names}", 10_000)
            self.messages_dock.raise_()
        elif result.not_configured:
            names = ", ".join(nodes[n].label for n in result.not_configured if n in nodes)
            self.messages.add("warning", f"Not executed, not configured: {names}")
            self._status(f"Some nodes are not configured: {names}", 10_000)
        else:
            count = len(result.executed)
            self.messages.add("info", f"Executed {count} node{'s' if count != 1 else ''} in {result.seconds:.1f} s")
            self._status(f"Done in {result.seconds:.1f} s", 8_000)
        self.finished.emit(result)

    def _worker_lost(self, text: str) -> None:
        self.messages.add("error", text)
        self._status(text, 10_000)
        self.worker_lost.emit()
