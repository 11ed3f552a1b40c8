"""The execution process's side: runs workflows for the editor and keeps their results.

:func:`main` is the process's entry point (``python -m neuroflow.worker``, started by
:mod:`.client`: a fresh interpreter that never imported Qt). The main thread
reads requests from the pipe; a run executes on a second thread, so a cancel, a stop or a
view's request for images is answered while training goes on. Every core event of the run is
sent back as it happens; a node that has just executed also sends its light outputs.

Between runs the worker keeps the last workflow it ran, with its results. A new run request
carries the editor's whole workflow: nodes whose fingerprint is unchanged and that the editor
still shows executed keep their results; every other node runs again.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import threading
from typing import Any

from neuroflow.core.events import NodeState, NodeStateChanged, WorkflowEdit
from neuroflow.core.node import CancelToken

from .protocol import fingerprints, lighten, resolve_images

log = logging.getLogger(__name__)

#: How much nicer than the editor the worker runs: training takes every idle cycle, and the
#: editor's repaints still get the CPU first. On two cores busy with TensorFlow's threads, 5
#: left the editor's longest stall at a median of 23 ms over 5 runs; 10 brings it to 16-17 ms
#: (the weight of a nice-10 thread is a tenth of the editor's) at no cost to training alone.
NICENESS = 10


class Server:
    """Serves one editor over ``conn`` until it says shutdown or goes away."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self._send_lock = threading.Lock()
        self.workflow: Any = None
        self.prints: dict[str, str] = {}
        self.token: CancelToken | None = None
        self._run_thread: threading.Thread | None = None
        #: Set when the run thread has sent its "finished" and only has to return.
        self._run_ending = threading.Event()
        self._infer_lock = threading.Lock()

    # -- the pipe ---------------------------------------------------------------------------
    def send(self, message: tuple[Any, ...]) -> None:
        with self._send_lock:
            try:
                self.conn.send(message)
            except (OSError, ValueError):  # the editor has gone; the read loop ends us
                pass

    def serve(self) -> None:
        self.send(("ready",))
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                break
            kind = message[0]
            if kind == "shutdown":
                break
            handler = getattr(self, f"on_{kind}", None)
            if handler is None:
                log.warning("unknown request %r", kind)
                continue
            try:
                handler(*message[1:])
            except Exception:  # a bug in a handler must not end the worker
                log.exception("request %r failed", kind)
        if self.token is not None:
            self.token.cancel()

    # -- requests ---------------------------------------------------------------------------
    def on_run(self, request: int, data: dict[str, Any], folder: str | None, executed: list[str],
               targets: list[str] | None, history: dict[str, Any] | None = None) -> None:
        previous = self._run_thread
        if previous is not None and previous.is_alive() and self._run_ending.is_set():
            previous.join(timeout=5.0)  # the editor asks again the moment it hears "finished"
        if previous is not None and previous.is_alive():
            self.send(("finished", request, None, "a run is already in progress"))
            return
        self._run_ending.clear()
        self.token = CancelToken()
        thread = threading.Thread(target=self._run, args=(request, data, folder, set(executed), targets, history),
                                  name="neuroflow-run")
        self._run_thread = thread
        thread.start()

    def on_cancel(self) -> None:
        if self.token is not None:
            self.token.cancel()

    def on_stop(self) -> None:
        if self.token is not None:
            self.token.request_stop()

    def on_forget(self, node_ids: list[str] | None) -> None:
        """Drop results (of some nodes and their downstream, or all) and give the memory back."""
        workflow = self.workflow
        if workflow is not None:
            for nid in list(workflow.nodes) if node_ids is None else node_ids:
                if nid in workflow.nodes:
                    workflow.reset(nid)
        release_free_memory()

    def on_images(self, request: int, key: tuple[str, ...], indices: list[int]) -> None:
        def outputs_of(nid: str) -> Any:
            workflow = self.workflow
            item = workflow.nodes.get(nid) if workflow is not None else None
            return item.outputs if item is not None else None

        try:
            self.send(("images", request, resolve_images(outputs_of, key, indices)))
        except Exception as exc:
            self.send(("images", request, f"{type(exc).__name__}: {exc}"))

    def on_infer(self, request: int, node_id: str, what: str, payload: dict[str, Any]) -> None:
        """Predictions, Grad-CAM or activations (see :mod:`.inference`), on a thread of their own
        so the pipe stays free for cancels and images; one at a time, as TensorFlow likes."""
        def work() -> None:
            from .inference import answer

            with self._infer_lock:
                try:
                    reply: Any = answer(self.workflow, node_id, what, payload)
                except Exception as exc:
                    reply = f"{type(exc).__name__}: {exc}"
            self.send(("infer", request, reply))

        threading.Thread(target=work, name="neuroflow-infer", daemon=True).start()

    # -- running ----------------------------------------------------------------------------
    def _run(self, request: int, data: dict[str, Any], folder: str | None, executed: set[str],
             targets: list[str] | None, history: dict[str, Any] | None) -> None:
        from neuroflow.core import fileformat
        from neuroflow.core.executor import Executor

        try:
            workflow = fileformat.from_dict(data, strict=False, folder=folder)
            prints = fingerprints(data, folder)
            self._keep_results(workflow, prints, executed)
            self.workflow, self.prints = workflow, prints
            gc.collect()
            assert self.token is not None
            with RecordedRuns(history, workflow, self.send) as recorder:
                def listener(event: Any) -> None:
                    self._forward(event)
                    if recorder is not None:
                        recorder(event)

                result = Executor(workflow, listener=listener).run(targets=targets, token=self.token)
        except Exception as exc:  # a bug outside any node: report it, keep the worker alive
            log.exception("workflow execution crashed")
            self._run_ending.set()
            self.send(("finished", request, None, f"{type(exc).__name__}: {exc}"))
            return
        release_free_memory()
        self._run_ending.set()
        self.send(("finished", request, result, ""))

    def _keep_results(self, workflow: Any, prints: dict[str, str], executed: set[str]) -> None:
        """Move the results of unchanged, still-executed nodes from the last run into ``workflow``."""
        old = self.workflow
        if old is None:
            return
        for nid, item in workflow.nodes.items():
            previous = old.nodes.get(nid)
            if (previous is None or previous.outputs is None or nid not in executed
                    or self.prints.get(nid) != prints.get(nid) or previous.state is not NodeState.EXECUTED):
                continue
            item.outputs, item.seconds = previous.outputs, previous.seconds
            item.state = NodeState.EXECUTED
        self.workflow = None  # results not carried over are freed with the old workflow

    def _forward(self, event: Any) -> None:
        if isinstance(event, WorkflowEdit):
            return  # about this process's copy of the workflow; the editor's copy has its own
        if isinstance(event, NodeStateChanged):
            outputs, seconds = None, 0.0
            if event.state is NodeState.EXECUTED and self.workflow is not None:
                item = self.workflow.nodes[event.node_id]
                outputs, seconds = lighten(event.node_id, item.outputs or {}), item.seconds
            self.send(("state", event, outputs, seconds))
        else:
            self.send(("event", event))


class RecordedRuns:
    """The run's :class:`~neuroflow.history.RunRecorder` for the ``with`` block, or None.

    A history that cannot be opened or written is one warning to the editor (a message in its
    panel), never a reason not to run: the training matters more than its record.
    """

    def __init__(self, history: dict[str, Any] | None, workflow: Any, send: Any) -> None:
        self.history, self.workflow, self.send = history, workflow, send
        self.store: Any = None
        self.recorder: Any = None

    def __enter__(self) -> Any:
        if not self.history:
            return None
        from neuroflow.history import HistoryError, RunRecorder, open_store

        try:
            self.store = open_store(self.history["store"])
        except HistoryError as exc:
            self.send(("history", f"this run is not recorded: {exc}"))
            return None
        self.recorder = RunRecorder(self.store, self.workflow, workflow_path=self.history.get("workflow"))
        return self.recorder

    def __exit__(self, *exc_info: object) -> None:
        if self.recorder is not None and self.recorder.problem:
            self.send(("history", f"the run history is incomplete: {self.recorder.problem}"))
        if self.recorder is not None and self.recorder.runs:
            self.send(("history-recorded", str(self.history["store"] if self.history else ""),
                       sorted(self.recorder.runs.values())))
        if self.store is not None:
            self.store.close()


def release_free_memory() -> None:
    """Collect garbage and hand freed heap pages back to the system (glibc keeps them otherwise).

    TensorFlow's own per-model objects still grow the process by some megabytes per training
    (plain Keras grows the same way); Reset all ends the process to give everything back.
    """
    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # not glibc
            pass


def _warm_up() -> None:
    """Import Keras now, so the first run does not wait for it."""
    try:
        import keras  # noqa: F401  (the import is the point)
    except Exception as exc:  # no TensorFlow: the learner will report it when it runs
        log.warning("TensorFlow import failed: %s", exc)


def main(conn: Any) -> None:
    """The execution process: serve the editor on ``conn``."""
    from neuroflow.tf_quiet import quiet_tensorflow

    quiet_tensorflow()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="neuroflow worker: %(levelname)s: %(message)s")
    if hasattr(os, "nice"):
        try:
            os.nice(NICENESS)
        except OSError:
            pass
    threading.Thread(target=_warm_up, name="tensorflow-warmup", daemon=True).start()
    Server(conn).serve()
