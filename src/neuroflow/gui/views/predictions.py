"""Network Executor result: every predicted image with its true and predicted label.

Misclassified images come first and are framed in red, so the interesting cases are on the
first screen; filters narrow to mistakes, correct ones or one true class.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QVBoxLayout, QWidget

from neuroflow.core.data import Predictions

from .gallery import ImageGallery
from .palette import CORRECT_COLOR, TEXT_COLOR, WRONG_COLOR
from .window import CardGrid, StatCard


class PredictionsPanel(QWidget):
    """Summary cards over a filterable gallery of the predictions."""

    def __init__(self, predictions: Predictions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.predictions = predictions
        total = len(predictions.predicted)
        wrong = int(np.count_nonzero(predictions.predicted != predictions.labels))
        accuracy = (total - wrong) / total if total else float("nan")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        self.cards = {
            "images": StatCard("Images", f"{total:,}", TEXT_COLOR),
            "correct": StatCard("Correct", f"{total - wrong:,}", CORRECT_COLOR),
            "wrong": StatCard("Misclassified", f"{wrong:,}", WRONG_COLOR),
            "accuracy": StatCard("Accuracy", f"{accuracy * 100:.2f} %" if total else "—", TEXT_COLOR),
        }
        layout.addWidget(CardGrid(list(self.cards.values())))
        self.gallery = ImageGallery(predictions.dataset, predictions)
        layout.addWidget(self.gallery, 1)

    def sizeHint(self) -> QSize:
        return QSize(980, 720)
