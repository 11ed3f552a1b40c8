"""Questions to a trained model in the execution process, asked off the GUI thread.

A view asks under a *topic* ("predict", "gradcam", ...); only the newest question of a topic
waits to be sent, so a drawing that changes twenty times while the model answers once is
predicted once more for its latest state, never twenty times late. Answers come back as Qt
signals on the GUI thread; the editor never waits for the model.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from neuroflow.worker import inference


class ModelQuestions(QObject):
    """``answered(topic, answer)`` and ``failed(topic, message)`` arrive on the GUI thread."""

    answered = Signal(str, object)
    failed = Signal(str, str)

    def __init__(self, node_id: str, parent: QObject | None = None,
                 ask: Callable[[str, str, dict[str, Any]], dict[str, Any]] | None = None) -> None:
        super().__init__(parent)
        self.node_id = node_id
        self._ask = ask
        self._pending: dict[str, tuple[str, dict[str, Any]]] = {}
        self._wake = threading.Condition()
        self._closed = False
        self._busy = False
        self._thread = threading.Thread(target=self._serve, name="neuroflow-model-questions", daemon=True)
        self._thread.start()
        self.destroyed.connect(self.close)

    def ask(self, topic: str, what: str, payload: dict[str, Any] | None = None) -> None:
        """Ask ``what`` (see :mod:`neuroflow.worker.inference`); replaces an unsent question of ``topic``."""
        with self._wake:
            self._pending[topic] = (what, dict(payload or {}))
            self._wake.notify()

    @property
    def idle(self) -> bool:
        with self._wake:
            return not self._pending and not self._busy

    def close(self, *_args: Any) -> None:
        with self._wake:
            self._closed = True
            self._pending.clear()
            self._wake.notify()

    def _serve(self) -> None:
        while True:
            with self._wake:
                while not self._pending and not self._closed:
                    self._wake.wait()
                if self._closed:
                    return
                topic = next(iter(self._pending))
                what, payload = self._pending.pop(topic)
                self._busy = True
            ask = self._ask or inference.ask
            try:
                if ask is None:
                    raise ConnectionError("the execution process is not running")
                answer = ask(self.node_id, what, payload)
            except Exception as exc:  # shown in the panel; never a crash
                self._emit(self.failed, topic, str(exc) or type(exc).__name__)
            else:
                self._emit(self.answered, topic, answer)
            finally:
                with self._wake:
                    self._busy = False

    def _emit(self, signal: Any, topic: str, value: Any) -> None:
        if self._closed:
            return
        try:
            signal.emit(topic, value)
        except RuntimeError:  # the panel was deleted meanwhile
            pass
