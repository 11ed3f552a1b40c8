"""One gallery image enlarged, with its Grad-CAM heat map over it when the gallery shows them."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout, QWidget

from neuroflow.core.data import ImageDataset

from .images import to_uint8
from .model_input import from_array, heat_overlay
from .palette import muted_style

#: Side of the enlarged image, in pixels.
SIDE = 336


class EnlargedImage(QDialog):
    """Image ``index`` of ``dataset`` at :data:`SIDE` pixels; ``heat_maps`` (a
    :class:`~.gallery_heat.HeatMaps` or ``None``) adds its map when it arrives."""

    def __init__(self, dataset: ImageDataset, index: int, caption: str, heat_maps: Any = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Image #{index}")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.index, self.heat_maps = index, heat_maps
        self.pixels = to_uint8(np.asarray(dataset.images[index]), dataset.value_range)
        layout = QVBoxLayout(self)
        self.picture = QLabel()
        self.picture.setFixedSize(SIDE, SIDE)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.picture)
        self.caption = QLabel(caption)
        self.caption.setStyleSheet(muted_style(10))
        layout.addWidget(self.caption)
        self.heat: np.ndarray | None = None
        if heat_maps is not None:
            heat_maps.ready.connect(self._ready)
            self.heat = heat_maps.get(index)
        self._show()

    def _ready(self, indices: list[int]) -> None:
        if self.index in indices and self.heat_maps is not None:
            self.heat = self.heat_maps.get(self.index)
            self._show()

    def _show(self) -> None:
        shown = self.pixels if self.heat is None else heat_overlay(self.pixels, self.heat, 0.6)
        small = max(shown.shape[:2]) <= 64
        mode = Qt.TransformationMode.FastTransformation if small else Qt.TransformationMode.SmoothTransformation
        self.picture.setPixmap(QPixmap.fromImage(from_array(shown)).scaled(
            SIDE, SIDE, Qt.AspectRatioMode.KeepAspectRatio, mode))
