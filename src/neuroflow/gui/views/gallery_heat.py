"""Grad-CAM heat maps for a prediction gallery's thumbnails, fetched as the thumbnails show.

The gallery's model asks :meth:`HeatMaps.get` while it paints a card; an unknown map is
queued, and a short timer sends all the queued indices of a screenful as one request to the
execution process (which computes them from the images it holds: no pixels travel). When the
maps come back, ``ready`` names the dataset indices whose cards to repaint.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from .model_questions import ModelQuestions

#: Maps kept per gallery (a 28x28 float map is 3 KB).
KEPT = 4000
#: Images per request: about a screenful of thumbnails.
BATCH = 48


class HeatMaps(QObject):
    """Heat maps of ``key``'s images (a dataset the worker holds) by the model behind ``node_id``."""

    ready = Signal(list)

    def __init__(self, node_id: str, key: tuple[str, ...], parent: QObject | None = None, ask: Any = None) -> None:
        super().__init__(parent)
        self.key = tuple(key)
        self.questions = ModelQuestions(node_id, self, ask=ask)
        self.questions.answered.connect(self._answered)
        self.questions.failed.connect(self._failed)
        self._maps: OrderedDict[int, np.ndarray] = OrderedDict()
        self._queued: list[int] = []
        self._asked: set[int] = set()
        self.problem = ""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(30)
        self._timer.timeout.connect(self._send)

    def get(self, index: int) -> np.ndarray | None:
        """The map of image ``index`` if known; else ``None`` and it is on its way."""
        found = self._maps.get(index)
        if found is not None:
            self._maps.move_to_end(index)
            return found
        if index not in self._asked and not self.problem:
            self._asked.add(index)
            self._queued.append(index)
            if not self._timer.isActive():
                self._timer.start()
        return None

    def _send(self) -> None:
        batch, self._queued = self._queued[:BATCH], self._queued[BATCH:]
        if batch:
            self.questions.ask(f"heat-{batch[0]}", "gradcam_many", {"key": self.key, "indices": batch})
        if self._queued:
            self._timer.start()

    def _answered(self, _topic: str, answer: dict[str, Any]) -> None:
        indices = [int(i) for i in answer["indices"]]
        for index, heat in zip(indices, np.asarray(answer["heats"]), strict=True):
            self._maps[index] = heat
            self._asked.discard(index)
        while len(self._maps) > KEPT:
            self._maps.popitem(last=False)
        self.ready.emit(indices)

    def _failed(self, _topic: str, message: str) -> None:
        self.problem = message  # no more asking: one failure (the model is gone) says it all
