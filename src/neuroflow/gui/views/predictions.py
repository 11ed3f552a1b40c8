"""Network Executor result: every predicted image with its true and predicted label.

Misclassified images come first and are framed in red, so the interesting cases are on the
first screen; filters narrow to mistakes, correct ones or one true class. A Grad-CAM toggle lays
each image's heat map over its thumbnail (what the model looked at, mistakes first); a
double-click enlarges an image, with its heat map when they are shown.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QCheckBox, QVBoxLayout, QWidget

from neuroflow.core.data import ImageDataset, Predictions

from .enlarged import EnlargedImage
from .gallery import INDEX_ROLE, ImageGallery
from .gallery_heat import HeatMaps
from .palette import CORRECT_COLOR, TEXT_COLOR, WRONG_COLOR
from .window import CardGrid, StatCard


class PredictionsPanel(QWidget):
    """Summary cards over a filterable gallery of the predictions."""

    def __init__(self, predictions: Predictions, parent: QWidget | None = None, node_id: str | None = None) -> None:
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
        self.heat_maps: HeatMaps | None = None
        key = getattr(getattr(predictions.dataset, "images", None), "key", None)
        if node_id is not None and key is not None:  # images the execution process holds
            self.heat_check = QCheckBox("Grad-CAM")
            self.heat_check.setToolTip("Lay each image's Grad-CAM heat map (where the evidence for the "
                                       "predicted class lies) over its thumbnail")
            self.heat_check.toggled.connect(self.show_heat_maps)
            self.gallery.filter_bar.layout().insertWidget(0, self.heat_check)
            self._node_id, self._key = node_id, tuple(key)
        self.enlarged: EnlargedImage | None = None
        if isinstance(predictions.dataset, ImageDataset):
            self.gallery.view.doubleClicked.connect(lambda index: self.enlarge(int(index.data(INDEX_ROLE))))
            self.gallery.view.setToolTip("Double-click an image to enlarge it")

    def enlarge(self, index: int) -> EnlargedImage:
        """Show dataset image ``index`` enlarged (with its heat map when they are shown)."""
        first, second = self.gallery.model.caption(index)
        shown = self.gallery.model.heat_maps
        self.enlarged = EnlargedImage(self.predictions.dataset, index, f"{first} · {second}", shown, self)
        self.enlarged.show()
        return self.enlarged

    def show_heat_maps(self, shown: bool) -> None:
        """Overlay Grad-CAM maps on the thumbnails (computed in the background as they show)."""
        if shown and self.heat_maps is None:
            self.heat_maps = HeatMaps(self._node_id, self._key, self)
        self.gallery.model.show_heat_maps(self.heat_maps if shown else None)

    def sizeHint(self) -> QSize:
        return QSize(980, 720)
