"""Try the model: the Inference panel of an executed Network Learner or Network Reader.

Give it a picture - drop image files or a folder, paste one (Ctrl+V), or draw a digit on the
pad when the model reads small grayscale images - and it shows the five most probable classes,
the Grad-CAM heat map of the winning class over the picture (opacity slider, layer chooser),
and on request the feature maps of one layer. Everything is computed by the trained model in
the execution process (:mod:`neuroflow.worker.inference`), asked in the background
(:class:`.model_questions.ModelQuestions`): the panel never waits and the editor never imports
TensorFlow.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
    QKeyEvent,
    QKeySequence,
    QPixmap,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from .draw_pad import DrawPad
from .model_input import from_array, heat_overlay, image_files, mnist_like, read_image, to_array
from .model_questions import ModelQuestions
from .palette import CHART_BACKGROUND, PANEL_BORDER, WRONG_COLOR, heading_style, muted_style
from .top_classes import TopClassesChart

#: Milliseconds between predictions while the user draws (the pad updates at every move).
DRAW_THROTTLE_MS = 60
#: Side of the shown picture (and its heat map), in pixels.
PICTURE = 280
#: Side of one feature map in the activation grid.
MAP_TILE = 64
#: Feature maps shown per layer (the first ones; a layer may have hundreds).
MAX_MAPS = 64


def _card() -> QFrame:
    frame = QFrame()
    frame.setObjectName("inferenceCard")
    frame.setStyleSheet(f"#inferenceCard {{ background: {CHART_BACKGROUND}; border: 1px solid {PANEL_BORDER};"
                        " border-radius: 6px; }")
    return frame


class InferencePanel(QWidget):
    """``node_id``'s model (``input_shape`` H, W, C; ``class_names``), tried on pictures.

    ``predicted`` is emitted with the probabilities shown, ``explained`` with each heat map and
    ``maps_shown`` with each grid of feature maps (tests and screenshots wait for them).
    """

    predicted = Signal(object)
    explained = Signal(object)
    maps_shown = Signal(object)

    def __init__(self, node_id: str, input_shape: tuple[int, ...], class_names: list[str],
                 parent: QWidget | None = None, ask: Any = None) -> None:
        super().__init__(parent)
        self.input_shape = tuple(int(d) for d in input_shape)
        self.class_names = list(class_names)
        self.questions = ModelQuestions(node_id, self, ask=ask)
        self.questions.answered.connect(self._answered)
        self.questions.failed.connect(self._failed)
        self.current: np.ndarray | None = None  # the picture at the model's size, uint8 (H, W, C)
        self.heat: np.ndarray | None = None
        self.files: list[str] = []
        self._note = ""  # how pictures are prepared for the model, once it has described itself
        height, width = self.input_shape[:2]
        channels = self.input_shape[2] if len(self.input_shape) > 2 else 1
        self.can_draw = channels == 1 and height == width and height <= 64
        self._draw_timer = QTimer(self)
        self._draw_timer.setSingleShot(True)
        self._draw_timer.setInterval(DRAW_THROTTLE_MS)
        self._draw_timer.timeout.connect(self._take_drawing)
        self._build()
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # a click on the panel makes Ctrl+V paste here
        self.questions.ask("describe", "describe")

    # -- building ---------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        row = QHBoxLayout()
        row.setSpacing(10)
        row.addWidget(self._input_card())
        row.addWidget(self._explain_card())
        self.chart = TopClassesChart()
        chart_card = _card()
        chart_layout = QVBoxLayout(chart_card)
        chart_layout.setContentsMargins(8, 8, 8, 8)
        chart_layout.addWidget(self.chart, 1)
        self.answer_label = QLabel("Give the model a picture")
        self.answer_label.setStyleSheet(heading_style(12))
        self.answer_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        chart_layout.addWidget(self.answer_label)
        row.addWidget(chart_card, 1)
        layout.addLayout(row)
        layout.addWidget(self._maps_card(), 1)
        self.status = QLabel("")
        self.status.setStyleSheet(muted_style(9))
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self._show_source()

    def _input_card(self) -> QFrame:
        card = _card()
        box = QVBoxLayout(card)
        box.setContentsMargins(10, 8, 10, 10)
        title = QLabel("Input")
        title.setStyleSheet(heading_style(11))
        head = QHBoxLayout()
        head.addWidget(title)
        head.addStretch(1)
        self.source_combo = QComboBox()
        if self.can_draw:
            self.source_combo.addItem("Draw", "draw")
        self.source_combo.addItem("Image", "image")
        self.source_combo.currentIndexChanged.connect(self._source_changed)
        head.addWidget(self.source_combo)
        box.addLayout(head)
        self.stack = QStackedWidget()
        self.pad = DrawPad()
        self.pad.drawn.connect(self._drawing_changed)
        self.stack.addWidget(self.pad)
        self.drop_label = QLabel("Drop image files or a folder here,\nor paste an image (Ctrl+V)")
        self.drop_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.drop_label.setFixedSize(PICTURE, PICTURE)
        self.drop_label.setStyleSheet(f"border: 2px dashed {PANEL_BORDER}; border-radius: 6px; "
                                      + muted_style(10))
        self.stack.addWidget(self.drop_label)
        box.addWidget(self.stack, 0, Qt.AlignmentFlag.AlignHCenter)
        under = QHBoxLayout()
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.pad.clear)
        under.addWidget(self.clear_button)
        self.file_combo = QComboBox()
        self.file_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.file_combo.currentIndexChanged.connect(self._file_chosen)
        under.addWidget(self.file_combo, 1)
        box.addLayout(under)
        box.addStretch(1)  # the Clear button stays under the pad
        return card

    def _explain_card(self) -> QFrame:
        card = _card()
        box = QVBoxLayout(card)
        box.setContentsMargins(10, 8, 10, 10)
        head = QHBoxLayout()
        title = QLabel("What the model looks at")
        title.setStyleSheet(heading_style(11))
        head.addWidget(title)
        head.addStretch(1)
        self.cam_check = QCheckBox("Grad-CAM")
        self.cam_check.setChecked(True)
        self.cam_check.setToolTip("Overlay where the evidence for the top class lies (Grad-CAM)")
        self.cam_check.toggled.connect(self._explain)
        head.addWidget(self.cam_check)
        box.addLayout(head)
        self.picture = QLabel()
        self.picture.setFixedSize(PICTURE, PICTURE)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setStyleSheet("background: #0f172a; border-radius: 4px;")
        box.addWidget(self.picture, 0, Qt.AlignmentFlag.AlignHCenter)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Layer"))
        self.cam_layer = QComboBox()
        self.cam_layer.setToolTip("The layer whose feature maps Grad-CAM weighs (the last convolution by default)")
        self.cam_layer.currentIndexChanged.connect(self._explain)
        self.cam_layer.setMinimumContentsLength(12)
        self.cam_layer.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        controls.addWidget(self.cam_layer, 1)
        controls.addWidget(QLabel("Opacity"))
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(55)
        self.opacity.setFixedWidth(80)
        self.opacity.setToolTip("Opacity of the heat map over the picture")
        self.opacity.valueChanged.connect(self._show_picture)
        controls.addWidget(self.opacity)
        box.addLayout(controls)
        self.cam_note = QLabel("")
        self.cam_note.setStyleSheet(muted_style(9))
        self.cam_note.setWordWrap(True)
        box.addWidget(self.cam_note)
        box.addStretch(1)  # the picture sits under the heading, as the pad does beside it
        return card

    def _maps_card(self) -> QFrame:
        card = _card()
        box = QVBoxLayout(card)
        box.setContentsMargins(10, 8, 10, 10)
        head = QHBoxLayout()
        title = QLabel("Activation maps")
        title.setStyleSheet(heading_style(11))
        head.addWidget(title)
        head.addStretch(1)
        head.addWidget(QLabel("Layer"))
        self.maps_layer = QComboBox()
        self.maps_layer.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)  # whole layer names
        self.maps_layer.currentIndexChanged.connect(self.show_maps)
        head.addWidget(self.maps_layer)
        self.maps_button = QPushButton("Show maps")
        self.maps_button.clicked.connect(self.show_maps)
        head.addWidget(self.maps_button)
        box.addLayout(head)
        self.maps_info = QLabel("The feature maps a layer computes for the picture, on request")
        self.maps_info.setStyleSheet(muted_style(9))
        box.addWidget(self.maps_info)
        self.maps_grid_widget = QWidget()
        self.maps_grid = QGridLayout(self.maps_grid_widget)
        self.maps_grid.setSpacing(3)
        self.maps_grid.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.maps_grid_widget, 1, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.maps_wanted = False
        self.maps: np.ndarray | None = None
        return card

    def sizeHint(self) -> QSize:
        return QSize(1100, 760)

    # -- input ------------------------------------------------------------------------------
    def _show_source(self) -> None:
        drawing = self.source_combo.currentData() == "draw"
        self.stack.setCurrentWidget(self.pad if drawing else self.drop_label)
        self.clear_button.setVisible(drawing)
        self.file_combo.setVisible(not drawing and len(self.files) > 1)

    def _source_changed(self) -> None:
        """The user switched between drawing and images: predict what the chosen one shows."""
        self._show_source()
        if self.source_combo.currentData() == "draw":
            self._take_drawing()
        elif self.files:
            self._file_chosen()

    def _drawing_changed(self) -> None:
        if not self._draw_timer.isActive():
            self._draw_timer.start()

    def _take_drawing(self) -> None:
        if self.pad.is_blank():
            self.current = None
            self.heat = None
            self._show_picture()
            self.answer_label.setText("Draw a digit on the pad")
            return
        self.set_input(mnist_like(self.pad.canvas, self.input_shape[0]))

    def open_files(self, paths: list[str]) -> int:
        """Take image files (a folder stands for its images); returns how many were taken."""
        files = image_files(paths)
        if not files:
            self._say("No image files there (PNG, JPEG, BMP, GIF, WebP, TIFF)", problem=True)
            return 0
        self.files = files
        self.file_combo.blockSignals(True)
        self.file_combo.clear()
        for path in files:
            self.file_combo.addItem(path.replace("\\", "/").rsplit("/", 1)[-1], path)
        self.file_combo.blockSignals(False)
        self._select_source("image")
        self._file_chosen()
        return len(files)

    def _select_source(self, source: str) -> None:
        index = self.source_combo.findData(source)
        if index != self.source_combo.currentIndex():
            self.source_combo.blockSignals(True)
            self.source_combo.setCurrentIndex(index)
            self.source_combo.blockSignals(False)
        self._show_source()

    def _file_chosen(self) -> None:
        path = self.file_combo.currentData()
        if not path:
            return
        image = read_image(path)
        if image.isNull():
            self._say(f"Cannot read {path}", problem=True)
            return
        self.take_image(image)

    def take_image(self, image: QImage) -> None:
        """A picture from a file or the clipboard: shown on the input card and predicted."""
        self._select_source("image")
        self.drop_label.setPixmap(QPixmap.fromImage(image).scaled(
            PICTURE - 8, PICTURE - 8, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        self.set_input(to_array(image, self.input_shape))

    def paste(self) -> None:
        data = QGuiApplication.clipboard().mimeData()
        if data is not None and data.hasImage():
            self.take_image(QImage(data.imageData()))
        elif data is not None and data.hasUrls():
            self.open_files([url.toLocalFile() for url in data.urls() if url.isLocalFile()])
        else:
            self._say("The clipboard holds no image", problem=True)

    def event(self, event: QEvent) -> bool:
        # Ctrl+V inside the panel pastes a picture here, not nodes on the canvas: claiming the
        # shortcut keeps the editor's Paste action from taking the key press.
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) \
                and event.matches(QKeySequence.StandardKey.Paste):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt API)
        if event.matches(QKeySequence.StandardKey.Paste):
            self.paste()
            return
        super().keyPressEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt API)
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt API)
        data = event.mimeData()
        if data.hasUrls():
            self.open_files([url.toLocalFile() for url in data.urls() if url.isLocalFile()])
        elif data.hasImage():
            self.take_image(QImage(data.imageData()))
        event.acceptProposedAction()

    # -- asking the model -------------------------------------------------------------------
    def set_input(self, pixels: np.ndarray) -> None:
        """The picture at the model's size (uint8 H, W, C): predict it, explain it, show its maps."""
        self.current = np.ascontiguousarray(pixels, dtype=np.uint8)
        self._say(self._note)
        self.questions.ask("predict", "predict", {"images": self.current[None]})
        self._show_picture()
        self._explain()
        if self.maps_wanted:
            self.show_maps()

    def _explain(self) -> None:
        if self.current is None or not self.cam_check.isChecked():
            self.cam_note.setText("")
            self._show_picture()
            return
        self.questions.ask("gradcam", "gradcam", {"image": self.current, "layer": self.cam_layer.currentData()})

    def show_maps(self) -> None:
        """Ask for the chosen layer's feature maps of the current picture."""
        layer = self.maps_layer.currentData()
        if self.current is None or not layer:
            return
        self.maps_wanted = True
        self.questions.ask("activations", "activations", {"image": self.current, "layer": layer})

    def _answered(self, topic: str, answer: dict[str, Any]) -> None:
        if topic == "describe":
            self._described(answer)
        elif topic == "predict":
            probabilities = np.asarray(answer["probabilities"])[0]
            self.chart.show_probabilities(probabilities, self.class_names)
            best = int(np.argmax(probabilities))
            self.answer_label.setText(f"{self._name(best)} · {probabilities[best]:.1%}")
            self.predicted.emit(probabilities)
        elif topic == "gradcam":
            self.heat = np.asarray(answer["heat"])
            empty = not self.heat.any()
            self.cam_note.setText(f"Nothing in {answer['layer']} speaks for this class: try another layer"
                                  if empty else f"Evidence for '{self._name(int(answer['class_index']))}' "
                                  f"at {answer['layer']}: red is strongest")
            self._show_picture()
            self.explained.emit(self.heat)
        elif topic == "activations":
            self._show_maps(np.asarray(answer["maps"]), str(answer["layer"]))

    def _name(self, index: int) -> str:
        return self.class_names[index] if 0 <= index < len(self.class_names) else str(index)

    def _failed(self, topic: str, message: str) -> None:
        self._say(f"The model could not answer ({topic}): {message}", problem=True)

    def _say(self, text: str, problem: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {WRONG_COLOR}; font-size: 9pt;" if problem else muted_style(9))

    def _described(self, answer: dict[str, Any]) -> None:
        for combo in (self.cam_layer, self.maps_layer):
            combo.blockSignals(True)
            combo.clear()
        for name in answer.get("conv_layers") or answer.get("layers", []):
            self.cam_layer.addItem(name, name)
        for name in answer.get("layers", []):
            self.maps_layer.addItem(name, name)
        default = answer.get("default_layer")
        if default:
            self.cam_layer.setCurrentIndex(max(0, self.cam_layer.findData(default)))
        for combo in (self.cam_layer, self.maps_layer):
            combo.blockSignals(False)
        if not answer.get("layers"):
            self.cam_check.setChecked(False)
            self.cam_check.setEnabled(False)
            self.maps_button.setEnabled(False)
            self.maps_info.setText("This model has no convolution: nothing to show as maps")
        low, high = answer.get("value_range", (0, 255))
        self._note = (f"Pictures are resized to {self.input_shape[1]}x{self.input_shape[0]} and scaled to "
                      f"{low:g}..{high:g}, as the training images were")
        self._say(self._note)

    # -- showing ----------------------------------------------------------------------------
    def _show_picture(self) -> None:
        if self.current is None:
            self.picture.clear()
            return
        shown = self.current
        if self.cam_check.isChecked() and self.heat is not None and self.heat.shape == self.current.shape[:2]:
            shown = heat_overlay(self.current, self.heat, self.opacity.value() / 100)
        small = self.current.shape[0] <= 64
        mode = Qt.TransformationMode.FastTransformation if small else Qt.TransformationMode.SmoothTransformation
        pixmap = QPixmap.fromImage(from_array(shown)).scaled(PICTURE, PICTURE, Qt.AspectRatioMode.KeepAspectRatio, mode)
        self.picture.setPixmap(pixmap)

    def _show_maps(self, maps: np.ndarray, layer: str) -> None:
        self.maps = maps
        while self.maps_grid.count():
            item = self.maps_grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        height, width, channels = maps.shape
        shown = min(channels, MAX_MAPS)
        columns = 16
        for k in range(shown):
            plane = maps[..., k]
            low, high = float(plane.min()), float(plane.max())
            scaled = np.zeros_like(plane) if high <= low else (plane - low) / (high - low)
            tile = QLabel()
            tile.setPixmap(QPixmap.fromImage(from_array((scaled * 255).astype(np.uint8)[..., None])).scaled(
                MAP_TILE, MAP_TILE, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation))
            tile.setToolTip(f"{layer} · map {k + 1} · {low:.3g} to {high:.3g}")
            self.maps_grid.addWidget(tile, k // columns, k % columns)
        more = f" (the first {shown})" if shown < channels else ""
        self.maps_info.setText(f"{layer}: {channels} maps of {width}x{height}{more} · brighter is stronger")
        self.maps_shown.emit(maps)
