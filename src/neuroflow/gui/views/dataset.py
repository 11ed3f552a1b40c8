"""Reader result: a labelled sample grid and the class counts as a bar chart.

A node with several dataset outputs (e.g. a partitioning's train and test parts) gets one tab
per output, named after the port.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QTabWidget, QVBoxLayout, QWidget

from neuroflow.core.data import ImageData, ImageDataset, ImageFileDataset

from ..chart_style import TICK_POINT_SIZE, style_axes
from .gallery import ImageGallery
from .palette import (
    BAR_COLOR,
    CHART_BACKGROUND,
    CHART_FOREGROUND,
    TEXT_COLOR,
    WARNING_COLOR,
    muted_style,
)

MAX_BAR_LABELS = 30  # above this many classes the count labels would overlap


def describe(dataset: ImageData) -> str:
    """One line: image count, shape, value range and classes, and where the pixels are."""
    shape = "×".join(str(int(d)) for d in dataset.shape)
    low, high = dataset.value_range
    if isinstance(dataset, ImageDataset):
        kept = f"in memory ({dataset.images.dtype})"
    else:
        assert isinstance(dataset, ImageFileDataset)
        fit = {"stretch": "stretched", "crop": "centre-cropped", "pad": "padded"}[dataset.resize_mode]
        cache = {"none": "", "memory": ", cached in memory", "disk": ", cached on disk"}[dataset.cache]
        kept = f"files, {fit} while training{cache}"
    return (
        f"{len(dataset):,} images · {shape} · values {low:g} to {high:g} · "
        f"{len(dataset.class_names)} classes · {kept}"
    )


def skipped_text(dataset: ImageData, shown: int = 40) -> tuple[str, str]:
    """The skipped-files line and its tooltip (the files with reasons), or empty strings."""
    skipped = getattr(dataset, "skipped", ())
    if not skipped:
        return "", ""
    noun = "file was" if len(skipped) == 1 else "files were"
    line = f"⚠ {len(skipped):,} unreadable {noun} skipped (hover for the list)"
    rows = [f"{path}: {reason}" for path, reason in skipped[:shown]]
    if len(skipped) > shown:
        rows.append(f"... and {len(skipped) - shown:,} more")
    return line, "\n".join(rows)


class ClassCountChart(pg.PlotWidget):
    """Bars of images per class, with class names beside the bars and counts at their ends.

    Short names (digits) go under upright bars; long ones (``T-shirt_top``, ``golden
    retriever``) would overlap there, so the bars lie down and the names stand on the left
    axis, one per line, where they never collide.
    """

    #: Above this many characters of names in all, the bars lie down.
    UPRIGHT_NAME_BUDGET = 48

    def __init__(self, dataset: ImageData, parent: QWidget | None = None) -> None:
        super().__init__(parent, background=CHART_BACKGROUND)
        self.counts = np.asarray(dataset.class_counts(), dtype=int)
        k = self.counts.size
        names = list(dataset.class_names)
        self.horizontal = sum(len(name) for name in names) > self.UPRIGHT_NAME_BUDGET
        item = self.getPlotItem()
        item.setTitle("Images per class", color=TEXT_COLOR, size="11pt", bold=True)
        item.setMenuEnabled(False)
        item.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        item.showGrid(x=self.horizontal, y=not self.horizontal, alpha=0.18)
        style_axes(item)
        font = QFont()
        font.setPointSize(TICK_POINT_SIZE)  # the bars' counts read like the ticks
        positions = np.arange(k)
        brush, pen = pg.mkBrush(BAR_COLOR), pg.mkPen(None)
        top = max(1, int(self.counts.max(initial=0)))
        if self.horizontal:
            positions = k - 1 - positions  # first class at the top, as in a list
            self.bars = pg.BarGraphItem(x0=0, y=positions, width=self.counts, height=0.7, brush=brush, pen=pen)
            step = max(1, int(np.ceil(k / 30)))
            item.getAxis("left").setTicks([[(int(positions[i]), names[i]) for i in range(0, k, step)]])
            item.setXRange(0, top * 1.15, padding=0)
            item.setYRange(-0.6, k - 0.4, padding=0)
        else:
            self.bars = pg.BarGraphItem(x=positions, height=self.counts, width=0.7, brush=brush, pen=pen)
            step = max(1, int(np.ceil(k / 20)))  # keep tick labels legible with many classes
            item.getAxis("bottom").setTicks([[(i, names[i]) for i in range(0, k, step)]])
            item.setYRange(0, top * 1.12, padding=0)
            item.setXRange(-0.6, k - 0.4, padding=0)
        item.addItem(self.bars)
        self.count_labels: list[pg.TextItem] = []
        if k <= MAX_BAR_LABELS:
            for i, count in enumerate(self.counts):
                anchor = (-0.15, 0.5) if self.horizontal else (0.5, 1.0)
                label = pg.TextItem(f"{count:,}", color=CHART_FOREGROUND, anchor=anchor)
                label.setFont(font)
                label.setPos(*((count, positions[i]) if self.horizontal else (i, count)))
                item.addItem(label)
                self.count_labels.append(label)
        self.setMinimumHeight(150)  # fits the editor's Results dock

    def bar_lengths(self) -> np.ndarray:
        """The bars' lengths (their heights, or their widths when they lie down)."""
        return np.asarray(self.bars.opts["width" if self.horizontal else "height"])


class DatasetPanel(QWidget):
    """One dataset: summary line, class-count chart beside a filterable labelled sample grid."""

    def __init__(self, dataset: ImageData, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.dataset = dataset
        layout = self.outer = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        self.summary = QLabel(describe(dataset))
        self.summary.setStyleSheet(muted_style(10))
        layout.addWidget(self.summary)
        line, details = skipped_text(dataset)
        self.skipped = QLabel(line)
        self.skipped.setToolTip(details)
        self.skipped.setStyleSheet(f"color: {WARNING_COLOR}; font-size: 10pt;")
        self.skipped.setVisible(bool(line))
        layout.addWidget(self.skipped)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        self.chart = ClassCountChart(dataset)
        self.gallery = ImageGallery(dataset)
        splitter.addWidget(self.chart)
        splitter.addWidget(self.gallery)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setChildrenCollapsible(False)
        layout.addWidget(splitter, 1)

    def class_counts(self) -> dict[str, int]:
        return {name: int(c) for name, c in zip(self.dataset.class_names, self.chart.counts, strict=True)}


class DatasetsPanel(QWidget):
    """All ImageDataset outputs of a node: one panel, or tabs named after the ports."""

    def __init__(self, datasets: dict[str, ImageData], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.panels = {name: DatasetPanel(dataset) for name, dataset in datasets.items()}
        self.tabs: QTabWidget | None = None
        if len(self.panels) == 1:
            layout.addWidget(next(iter(self.panels.values())))
        else:
            self.tabs = QTabWidget()
            for name, panel in self.panels.items():
                panel.outer.setContentsMargins(8, 8, 8, 8)
                self.tabs.addTab(panel, f"{name} ({len(panel.dataset):,})")
            layout.addWidget(self.tabs)

    def sizeHint(self) -> QSize:
        return QSize(1100, 640)
