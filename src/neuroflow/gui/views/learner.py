"""Network Learner result: the run's summary and its training curves, kept after the run."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QVBoxLayout, QWidget

from neuroflow.core.data import TrainedModel

from ..monitor import TrainingMonitor, accuracy_key, format_duration
from .palette import TEXT_COLOR, VALIDATION_COLOR
from .window import CardGrid, StatCard


def parameter_count(model: object) -> int | None:
    """``model.count_params()`` if the model offers it (never imports TensorFlow itself)."""
    count = getattr(model, "count_params", None)
    if not callable(count):
        return None
    try:
        return int(count())
    except Exception:  # an unbuilt or foreign model: the summary just shows a dash
        return None


def epochs_run(history: dict[str, list[float]]) -> int:
    return max((len(values) for values in history.values()), default=0)


class LearnerPanel(QWidget):
    """Summary cards (epochs, stop reason, time, parameters, final validation accuracy) over the curves."""

    def __init__(self, trained: TrainedModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.trained = trained
        history = {key: list(values) for key, values in trained.history.items()}
        params = parameter_count(trained.model)
        val_key = accuracy_key(history, "val_")

        def last(key: str | None) -> str:
            values = history.get(key or "", [])
            return f"{values[-1] * 100:.2f} %" if values else "—"

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        self.cards = {
            "epochs": StatCard("Epochs run", str(epochs_run(history)), TEXT_COLOR),
            "stop_reason": StatCard("Stopped because", trained.stop_reason or "—", TEXT_COLOR),
            "time": StatCard("Training time", format_duration(trained.seconds), TEXT_COLOR),
            "parameters": StatCard("Parameters", "—" if params is None else f"{params:,}", TEXT_COLOR),
            "val_accuracy": StatCard("Validation accuracy", last(val_key), VALIDATION_COLOR),
        }
        layout.addWidget(CardGrid(list(self.cards.values())))
        self.monitor = TrainingMonitor.from_history(
            history, stop_reason=trained.stop_reason, seconds=trained.seconds
        )
        self.monitor.set_live_controls_visible(False)
        self.monitor.set_status_visible(False)
        monitor_layout = self.monitor.layout()
        if monitor_layout is not None:  # the cards above already frame it: no second margin
            monitor_layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.monitor, 1)

    def sizeHint(self) -> QSize:
        return QSize(1100, 620)
