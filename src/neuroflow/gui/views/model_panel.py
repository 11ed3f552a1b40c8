"""A trained model's result view: how it trained, and trying it on pictures (two tabs)."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QTabWidget, QWidget

from neuroflow.core.data import TrainedModel

from ..monitor import TrainingMonitor
from .inference import InferencePanel
from .learner import LearnerPanel
from .window import StatCard


class ModelPanel(QTabWidget):
    """"Training" (:class:`LearnerPanel`) and "Try the model" (:class:`InferencePanel`)."""

    def __init__(self, node_id: str, trained: TrainedModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDocumentMode(True)
        self.learner = LearnerPanel(trained)
        self.addTab(self.learner, "Training")
        self.inference: InferencePanel | None = None
        shape = getattr(trained.model, "input_shape", None)
        if shape is not None and len(shape) in (3, 4):  # an image model: it can be tried
            self.inference = InferencePanel(node_id, tuple(int(d) for d in shape[1:]), list(trained.class_names))
            self.addTab(self.inference, "Try the model")
        self.tabBar().setVisible(self.count() > 1)

    @property
    def cards(self) -> dict[str, StatCard]:
        """The training summary's cards (views and tests read them as before)."""
        return self.learner.cards

    @property
    def monitor(self) -> TrainingMonitor:
        return self.learner.monitor

    def show_inference(self) -> InferencePanel:
        """Bring the "Try the model" tab forward (a model that takes images has one)."""
        if self.inference is None:
            raise LookupError("this model does not take images")
        self.setCurrentWidget(self.inference)
        return self.inference

    def sizeHint(self) -> QSize:
        return QSize(1100, 760)
