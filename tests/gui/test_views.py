"""Result views: Scorer matrix and cell images, prediction gallery, reader samples, learner curves."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor, QFontMetrics

from neuroflow.core.data import ImageDataset, Predictions, Scores, TrainedModel
from neuroflow.core.events import NodeState
from neuroflow.core.node import ExecutionContext, Node
from neuroflow.core.ports import DatasetSpec, ModelSpec, Port, PortType, PredictionsSpec, ScoresSpec
from neuroflow.core.registry import Registry
from neuroflow.core.workflow import Workflow, WorkflowNode
from neuroflow.gui.views import open_result_view
from neuroflow.gui.views.images import to_pixmap, to_qimage, to_uint8

pytestmark = pytest.mark.gui

CLASSES = ("cat", "dog", "fox")


# -- stand-ins with the real type ids: the views only read ids, ports and cached outputs --------
class _StandIn(Node):
    category = "Test"
    description = "Holds outputs set by the test."
    SPECS: Mapping[str, Any] = {}

    def configure(self, specs: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.SPECS)

    def execute(self, inputs: Mapping[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
        raise AssertionError("result-view tests never execute")


class ReaderStandIn(_StandIn):
    type_id = "neuroflow.data.mnist_reader"
    name = "MNIST Reader"
    outputs = (Port("data", PortType.IMAGES, "images"),)
    SPECS = {"data": DatasetSpec((4, 4, 1), CLASSES)}


class PartitionStandIn(_StandIn):
    type_id = "neuroflow.data.partitioning"
    name = "Partitioning"
    outputs = (
        Port("first", PortType.IMAGES, "first partition"),
        Port("second", PortType.IMAGES, "second partition"),
    )
    SPECS = {"first": DatasetSpec((4, 4, 1), CLASSES), "second": DatasetSpec((4, 4, 1), CLASSES)}


class ExecutorStandIn(_StandIn):
    type_id = "neuroflow.learning.executor"
    name = "Network Executor"
    outputs = (Port("predictions", PortType.PREDICTIONS, "predictions"),)
    SPECS = {"predictions": PredictionsSpec(CLASSES)}


class ScorerStandIn(_StandIn):
    type_id = "neuroflow.learning.scorer"
    name = "Scorer"
    inputs = (Port("predictions", PortType.PREDICTIONS, "predictions"),)
    outputs = (Port("scores", PortType.SCORES, "scores"),)
    SPECS = {"scores": ScoresSpec(CLASSES)}


class LearnerStandIn(_StandIn):
    type_id = "neuroflow.learning.learner"
    name = "Network Learner"
    outputs = (Port("model", PortType.MODEL, "trained model"),)
    SPECS = {"model": ModelSpec((4, 4, 1), (3,), CLASSES)}


class CountingModel:
    """All the learner view may ask of a Keras model."""

    def count_params(self) -> int:
        return 1234


# -- data -------------------------------------------------------------------------------------
def make_dataset(labels: list[int], value_range=(0.0, 255.0), dtype=np.uint8) -> ImageDataset:
    n = len(labels)
    images = (np.arange(n * 16).reshape(n, 4, 4, 1) % 256).astype(dtype)
    return ImageDataset(images, np.asarray(labels), CLASSES, value_range, "test")


LABELS = [0, 0, 0, 1, 1, 1, 2, 2, 2, 0]
PREDICTED = [0, 1, 0, 1, 1, 2, 2, 0, 2, 1]  # wrong: 1, 5, 7, 9
CONFIDENCE = [0.9, 0.6, 0.8, 0.7, 0.95, 0.99, 0.5, 0.75, 0.85, 0.65]


def make_predictions() -> Predictions:
    probabilities = np.zeros((len(LABELS), 3))
    for i, (p, c) in enumerate(zip(PREDICTED, CONFIDENCE, strict=True)):
        probabilities[i] = (1 - c) / 2
        probabilities[i, p] = c
    return Predictions(probabilities, np.asarray(PREDICTED), make_dataset(LABELS))


def make_scores() -> Scores:
    confusion = np.zeros((3, 3), dtype=int)
    np.add.at(confusion, (LABELS, PREDICTED), 1)
    return Scores(
        CLASSES,
        confusion,
        accuracy=0.6,
        error_rate=0.4,
        cohen_kappa=0.3984,
        precision=np.array([0.6667, 0.6667, 0.6667]),
        recall=np.array([0.5, 0.6667, 0.6667]),
        f1=np.array([0.5714, 0.6667, 0.6667]),
    )


def executed(workflow: Workflow, node_type: type[Node], outputs: dict[str, Any]) -> WorkflowNode:
    item = workflow.add_node(node_type)
    item.outputs = outputs
    workflow.set_state(item.id, NodeState.EXECUTED)
    return item


@pytest.fixture
def workflow() -> Workflow:
    registry = Registry()  # only the stand-ins: no discovery of the real node library
    for node_type in (ReaderStandIn, PartitionStandIn, ExecutorStandIn, ScorerStandIn, LearnerStandIn):
        registry.register(node_type)
    return Workflow(registry)


@pytest.fixture
def scored(workflow) -> tuple[Workflow, WorkflowNode, Predictions]:
    predictions = make_predictions()
    executor = executed(workflow, ExecutorStandIn, {"predictions": predictions})
    scorer = workflow.add_node(ScorerStandIn)
    workflow.connect(executor.id, "predictions", scorer.id, "predictions")
    scorer.outputs = {"scores": make_scores()}
    workflow.set_state(scorer.id, NodeState.EXECUTED)
    return workflow, scorer, predictions


def show(qtbot, window):
    assert window is not None
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


# -- image conversion -----------------------------------------------------------------------------
def test_images_convert_for_every_value_range_and_channel_count(qapp):
    gray = np.array([[[0], [255]]], dtype=np.uint8)
    image = to_qimage(gray)
    assert (image.width(), image.height()) == (2, 1)
    assert image.pixelColor(0, 0) == QColor(0, 0, 0) and image.pixelColor(1, 0) == QColor(255, 255, 255)

    unit = np.array([[[1.0, 0.0, 0.5]]], dtype=np.float32)
    assert to_qimage(unit, (0.0, 1.0)).pixelColor(0, 0) == QColor(255, 0, 128)
    signed = np.array([[[-1.0], [0.0], [1.0]]], dtype=np.float32)
    assert [to_qimage(signed, (-1.0, 1.0)).pixelColor(x, 0).red() for x in range(3)] == [0, 128, 255]
    np.testing.assert_array_equal(to_uint8(np.array([2.0, 7.0]), (5.0, 5.0)), [0, 255])  # degenerate range


def test_small_images_are_enlarged_crisply(qapp):
    image = np.zeros((28, 28, 1), dtype=np.uint8)
    image[0, 0] = 255
    pixmap = to_pixmap(image)
    assert (pixmap.width(), pixmap.height()) == (84, 84)
    scaled = pixmap.toImage()
    assert {scaled.pixelColor(x, y).red() for x in range(3) for y in range(3)} == {255}  # one 3x3 block
    assert scaled.pixelColor(3, 0).red() == 0


# -- Scorer -----------------------------------------------------------------------------------------
def test_scorer_view_shows_matrix_metrics_and_per_class_table(qtbot, scored):
    workflow, scorer, _ = scored
    window = show(qtbot, open_result_view(scorer, workflow=workflow))
    assert not window.isModal() and window.isWindow()
    panel = window.panel
    model = panel.matrix.model
    shown = [[model.index(r, c).data() for c in range(3)] for r in range(3)]
    assert shown == [["2", "2", "0"], ["0", "2", "1"], ["1", "0", "2"]]
    assert [model.headerData(i, Qt.Orientation.Horizontal) for i in range(3)] == list(CLASSES)
    assert [model.headerData(i, Qt.Orientation.Vertical) for i in range(3)] == list(CLASSES)
    cards = {key: card.value.text() for key, card in panel.cards.items()}
    # hand-made Scores have no probabilities: no top-k or AUC card, no AUC column, no ROC curves
    assert cards == {
        "accuracy": "60.00 %", "balanced_accuracy": "61.11 %", "error_rate": "40.00 %", "cohen_kappa": "0.3984"
    }
    assert "Scores of 10 images" in window.subtitle_label.text()
    assert panel.per_class.columns == ("Class", "Precision", "Recall", "F1", "Support")
    assert panel.roc.chart is None and "no class probabilities" in panel.roc.note.text()
    assert panel.per_class.row_values(0) == ["cat", "0.667", "0.500", "0.571", "4"]
    assert panel.per_class.row_values(2) == ["fox", "0.667", "0.667", "0.667", "3"]


def test_long_class_names_are_written_upwards(qtbot):
    from neuroflow.gui.views.scorer import RotatedHeader, ScoresPanel

    names = ("T-shirt/top", "Ankle boot", "Pullover")
    scores = make_scores()
    long_scores = Scores(names, scores.confusion, 0.6, 0.4, 0.4, scores.precision, scores.recall, scores.f1)
    panel = ScoresPanel(long_scores)
    qtbot.addWidget(panel)
    header = panel.matrix.table.horizontalHeader()
    assert isinstance(header, RotatedHeader)
    assert header.sectionSize(0) < QFontMetrics(header.font()).horizontalAdvance("T-shirt/top")
    assert header.sizeHint().height() > QFontMetrics(header.font()).horizontalAdvance("T-shirt/top")


@pytest.mark.parametrize("cell, expected", [((0, 1), [1, 9]), ((1, 1), [3, 4]), ((2, 0), [7]), ((1, 0), [])])
def test_clicking_a_cell_shows_exactly_its_images(qtbot, scored, cell, expected):
    workflow, scorer, _ = scored
    window = show(qtbot, open_result_view(scorer, workflow=workflow))
    panel = window.panel
    table = panel.matrix.table
    rect = table.visualRect(panel.matrix.model.index(*cell))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert panel.details.currentWidget() is panel.cells_page  # the images tab comes to the front
    if expected:
        assert sorted(panel.cell_gallery.visible_indices().tolist()) == expected
        assert panel.cell_stack.currentWidget() is panel.cell_gallery
    else:
        assert panel.cell_gallery.visible_indices().size == 0
        assert panel.cell_stack.currentWidget() is panel.cell_hint
    true_name, predicted_name = CLASSES[cell[0]], CLASSES[cell[1]]
    assert f"True {true_name}, predicted {predicted_name}: {len(expected)} image" in panel.cell_title.text()


def test_scorer_view_without_workflow_explains_missing_images(qtbot, scored):
    _, scorer, _ = scored
    window = show(qtbot, open_result_view(scorer))
    panel = window.panel
    assert panel.predictions is None and panel.cell_gallery is None
    assert "not available" in panel.cell_hint.text()
    assert panel.show_cell(0, 1).size == 0  # clicking still works, it just lists nothing


# -- result views in the editor's Results dock ----------------------------------------------------
DIGITS = tuple(str(i) for i in range(10))
#: The Results dock's tab page: at the editor's default 1600x1000, in the screenshot's 1920x1200
#: layout, and on a 1366x768 laptop.
DOCK_DEFAULT, DOCK_SCREENSHOT, DOCK_LAPTOP = (749, 301), (970, 475), (566, 301)


def ten_class_results(
    class_names: tuple[str, ...] = DIGITS, count: int = 1000, absent: int | None = None
) -> tuple[Scores, Predictions]:
    """``count`` test images of imbalanced classes (the first ten times as frequent as the last),
    softmax probabilities of a network that separates some classes better than others, and the
    Scorer's real scores of them. ``absent``: a class with no test image."""
    from neuroflow.training.scoring import score

    k = len(class_names)
    rng = np.random.default_rng(1)
    weights = np.linspace(10, 1, k) / np.linspace(10, 1, k).sum()
    labels = rng.choice(k, count, p=weights)
    if absent is not None:
        labels[labels == absent] = (absent + 1) % k
    logits = rng.normal(size=(count, k))
    logits[np.arange(count), labels] += rng.uniform(1.5, 4.0, k)[labels]
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    images = rng.integers(0, 256, (count, 4, 4, 1), dtype=np.uint8)
    predictions = Predictions(probabilities, probabilities.argmax(axis=1), ImageDataset(images, labels, class_names))
    scores = score(labels, predictions.predicted, class_names, probabilities)
    return scores, predictions


@pytest.fixture
def dock(qtbot):
    """``dock(outputs_by_stand_in, size)``: a Results panel of that size showing the last node's view."""
    from neuroflow.gui.document import Document
    from neuroflow.gui.results import ResultsPanel

    registry = Registry()
    for node_type in (ReaderStandIn, ExecutorStandIn, ScorerStandIn, LearnerStandIn):
        registry.register(node_type)
    document = Document(registry)

    def open_in_dock(nodes: list[tuple[type[Node], dict[str, Any]]], size: tuple[int, int]):
        workflow = document.workflow
        items = [workflow.add_node(node_type) for node_type, _ in nodes]
        if len(items) == 2:  # executor -> scorer, so the scorer's view can list each cell's images
            workflow.connect(items[0].id, "predictions", items[1].id, "predictions")
        for item, (_, outputs) in zip(items, nodes, strict=True):
            item.outputs = outputs
            workflow.set_state(item.id, NodeState.EXECUTED)
        panel = ResultsPanel(document)
        qtbot.addWidget(panel)
        panel.resize(*size)
        panel.show()
        qtbot.waitExposed(panel)
        view = panel.open_for(items[-1].id)
        assert view is not None
        qtbot.wait(50)  # let the layouts settle
        return panel, view

    return open_in_dock


def scorer_in_dock(dock, size):
    scores, predictions = ten_class_results()
    return dock([(ExecutorStandIn, {"predictions": predictions}), (ScorerStandIn, {"scores": scores})], size)


def whole_matrix_shown(panel) -> bool:
    table = panel.matrix.table
    last_cell = table.visualRect(panel.matrix.model.index(9, 9))
    return (
        not table.horizontalScrollBar().isVisible()
        and not table.verticalScrollBar().isVisible()
        and table.viewport().rect().contains(last_cell)
    )


@pytest.mark.parametrize("size, min_row_height", [(DOCK_DEFAULT, 18), (DOCK_SCREENSHOT, 30)])
def test_scorer_fits_the_results_dock_beside_its_table(qtbot, dock, size, min_row_height):
    results, view = scorer_in_dock(dock, size)
    page = results.tabs.currentWidget()
    assert not page.horizontalScrollBar().isVisible() and not page.verticalScrollBar().isVisible()
    assert not view.title_label.isVisible()  # the tab names the node
    panel = view.panel
    assert panel.wide  # matrix on the left, cards and per-class table on the right
    assert panel.matrix.geometry().right() < panel.side.geometry().left()
    assert whole_matrix_shown(panel)
    assert panel.matrix.cell_size().height() >= min_row_height
    assert panel.per_class.fully_visible()  # no column cut off (the F1 column was)
    assert panel.per_class.horizontalHeader().length() <= panel.per_class.viewport().width()


def test_scorer_stacks_in_a_narrow_dock_and_switches_back(qtbot, dock):
    results, view = scorer_in_dock(dock, DOCK_LAPTOP)
    panel = view.panel
    page = results.tabs.currentWidget()
    assert not panel.wide
    assert not page.horizontalScrollBar().isVisible()  # it scrolls down, never sideways
    cards, matrix, details = (
        QRect(w.mapTo(panel, QPoint(0, 0)), w.size()) for w in (panel.card_grid, panel.matrix, panel.details)
    )
    assert cards.bottom() < matrix.top() and matrix.bottom() < details.top()
    assert whole_matrix_shown(panel)
    assert panel.per_class.fully_visible()
    results.resize(*DOCK_SCREENSHOT)
    qtbot.waitUntil(lambda: panel.wide, timeout=2000)
    qtbot.wait(50)
    assert whole_matrix_shown(panel) and panel.per_class.fully_visible()


def test_cards_rearrange_instead_of_widening_the_view(qtbot):
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    from neuroflow.gui.views.window import CardGrid, StatCard

    grid = CardGrid([StatCard(f"Caption {i}", "12,345") for i in range(4)])
    host = QWidget()  # a view holding the cards, as a result view does
    QVBoxLayout(host).addWidget(grid)
    qtbot.addWidget(host)
    column = max(card.minimumSizeHint().width() for card in grid.cards)
    assert grid.columns_for(4 * column + 3 * 8) == 4
    assert grid.columns_for(3 * column + 2 * 8) == 2  # never 3 + 1
    assert grid.columns_for(column) == 1
    host.resize(4 * column + 60, 200)
    host.show()
    qtbot.waitExposed(host)
    assert grid.columns == 4
    host.resize(2 * column + 40, 200)
    qtbot.waitUntil(lambda: grid.columns == 2, timeout=2000)
    assert grid.minimumSizeHint().width() == column
    assert all(card.geometry().right() <= grid.width() for card in grid.cards)


@pytest.mark.parametrize("size", [DOCK_DEFAULT, DOCK_LAPTOP])
def test_every_view_fits_the_dock_width(qtbot, dock, size):
    predictions = make_predictions()
    trained = TrainedModel(CountingModel(), CLASSES, HISTORY, "early stopping", 75.0)
    for nodes in (
        [(ReaderStandIn, {"data": make_dataset([0, 0, 0, 1, 2, 2])})],
        [(ExecutorStandIn, {"predictions": predictions})],
        [(LearnerStandIn, {"model": trained})],
    ):
        results, view = dock(nodes, size)
        page = results.tabs.currentWidget()
        assert not page.horizontalScrollBar().isVisible(), f"{type(view.panel).__name__} scrolls sideways"
        assert view.width() <= page.viewport().width()


# -- Scorer ROC curves ---------------------------------------------------------------------------------
FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


def roc_page(qtbot, scores: Scores, predictions: Predictions, size: tuple[int, int] = (1100, 680)):
    """The Scorer's window at ``size`` with its ROC curves tab in front (keep it referenced)."""
    from neuroflow.gui.views.scorer import ScoresPanel
    from neuroflow.gui.views.window import ResultWindow

    window = ResultWindow("Scorer", "", ScoresPanel(scores, predictions))
    window.resize(*size)
    show(qtbot, window)
    window.panel.details.setCurrentWidget(window.panel.roc)
    qtbot.wait(50)
    return window


def test_scorer_view_plots_one_roc_curve_per_class_with_the_macro_auc(qtbot):
    scores, predictions = ten_class_results()
    window = roc_page(qtbot, scores, predictions)
    panel = window.panel
    chart = panel.roc.chart
    assert chart is not None and chart.isVisible()
    assert sorted(chart.curves) == list(range(10))
    for index, curve in chart.curves.items():
        x, y = curve.getData()
        np.testing.assert_array_equal(x, scores.roc[index].fpr)
        np.testing.assert_array_equal(y, scores.roc[index].tpr)
    assert len({curve.opts["pen"].color().name() for curve in chart.curves.values()}) == 10
    assert chart.legend.isVisible()
    assert chart.legend_labels() == [f"{i} (AUC {scores.auc[i]:.3f})" for i in range(10)]
    assert chart.title == f"One-vs-rest ROC curves · macro AUC {scores.macro_auc:.3f}"
    x, y = chart.diagonal.getData()
    assert (x.tolist(), y.tolist()) == ([0, 1], [0, 1])
    assert chart.diagonal.opts["pen"].style() == Qt.PenStyle.DashLine
    plot = chart.getPlotItem()
    assert plot.getAxis("bottom").labelText == "false positive rate"
    assert plot.getAxis("left").labelText == "true positive rate"
    # the legend sits in the empty corner under the diagonal: it hides no curve
    box = plot.getViewBox()
    assert chart.covered_curves(chart.legend_columns, box.width(), box.height()) == 0
    assert chart.best_legend_columns(160, 90) == 0  # a chart too small for a legend
    assert not panel.roc.note.isVisible()

    cards = {key: card.value.text() for key, card in panel.cards.items()}
    assert list(cards) == ["accuracy", "balanced_accuracy", "top_k_accuracy", "macro_auc", "cohen_kappa", "error_rate"]
    assert cards["balanced_accuracy"] == f"{scores.balanced_accuracy * 100:.2f} %"
    assert panel.cards["top_k_accuracy"].caption.text() == "Top-5 accuracy"
    assert cards["top_k_accuracy"] == f"{scores.top_k_accuracy * 100:.2f} %"
    assert cards["macro_auc"] == f"{scores.macro_auc:.4f}"
    assert panel.card_grid.columns in (3, 6)  # two even rows of three, or one row
    assert panel.per_class.columns[-1] == "AUC"
    assert panel.per_class.row_values(9)[-1] == f"{scores.auc[9]:.3f}"


def test_a_class_without_images_gets_no_roc_curve_and_says_why(qtbot):
    scores, predictions = ten_class_results(FASHION, absent=3)
    window = roc_page(qtbot, scores, predictions)
    panel = window.panel
    chart = panel.roc.chart
    assert sorted(chart.curves) == [0, 1, 2, 4, 5, 6, 7, 8, 9]
    assert not any("Dress" in label for label in chart.legend_labels())
    assert len(chart.legend_labels()) == 9
    assert panel.roc.note.isVisible()
    assert panel.roc.note.text() == (
        "No ROC curve: no image of class 'Dress' was scored. "
        "Macro AUC: mean over 9 of 10 classes; 'Dress' without a ROC curve."
    )
    assert panel.per_class.row_values(3)[-1] == "—"
    assert panel.per_class.item(3, 5).toolTip() == "no ROC curve: no image of class 'Dress' was scored"
    assert "mean over 9 of 10 classes" in panel.cards["macro_auc"].toolTip()
    assert scores.macro_auc == pytest.approx(np.mean([a for a in scores.auc if a is not None]))


class LeftClick:
    """The part of a pyqtgraph mouse click event a legend sample reads."""

    def button(self) -> Qt.MouseButton:
        return Qt.MouseButton.LeftButton

    def accept(self) -> None:
        pass


def test_many_classes_colour_the_lowest_aucs_and_grey_the_rest(qtbot):
    names = tuple(f"class {i}" for i in range(40))
    scores, predictions = ten_class_results(names, count=4000)
    window = roc_page(qtbot, scores, predictions, (1300, 1000))
    panel = window.panel
    chart = panel.roc.chart
    assert len(chart.curves) == 40
    lowest = sorted(range(40), key=lambda i: scores.auc[i])[:10]
    labels = chart.legend_labels()
    assert labels[0] == f"30 other classes (AUC ≥ {sorted(scores.auc)[10]:.3f})"
    assert labels[1:] == [f"class {i} (AUC {scores.auc[i]:.3f})" for i in lowest]
    colours = [chart.curves[i].opts["pen"].color().name() for i in range(40)]
    assert len({colours[i] for i in lowest}) == 10
    assert {colours[i] for i in range(40) if i not in lowest} == {"#cbd5e1"}
    # clicking the grey entry of the legend hides (then shows) the thirty grey curves together
    others_sample = chart.legend.items[0][0]
    assert others_sample.item is chart.others_sample
    for shown in (False, True):
        others_sample.mouseClickEvent(LeftClick())
        assert all(chart.curves[i].isVisible() is shown for i in range(40) if i not in lowest)
        assert all(chart.curves[i].isVisible() for i in lowest)


def test_roc_curves_fit_the_results_dock(qtbot, dock):
    results, view = scorer_in_dock(dock, DOCK_SCREENSHOT)
    panel = view.panel
    panel.details.setCurrentWidget(panel.roc)
    qtbot.wait(50)
    page = results.tabs.currentWidget()
    assert not page.horizontalScrollBar().isVisible() and not page.verticalScrollBar().isVisible()
    chart = panel.roc.chart
    chart_box = QRect(chart.mapTo(panel, QPoint(0, 0)), chart.size())
    assert QRect(QPoint(0, 0), panel.size()).contains(chart_box)
    assert chart.height() >= 150 and len(chart.curves) == 10


# -- Network Executor gallery ----------------------------------------------------------------------
def test_prediction_gallery_puts_confident_mistakes_first_and_filters(qtbot, workflow):
    item = executed(workflow, ExecutorStandIn, {"predictions": make_predictions()})
    window = show(qtbot, open_result_view(item, workflow=workflow))
    gallery = window.panel.gallery
    # wrong ones by falling confidence (5: 0.99, 7: 0.75, 9: 0.65, 1: 0.6), then the rest in order
    assert gallery.visible_indices().tolist() == [5, 7, 9, 1, 0, 2, 3, 4, 6, 8]
    assert gallery.model.index(0).data(Qt.ItemDataRole.DisplayRole) == "true: dog\npred: fox · 99%"
    assert window.panel.cards["wrong"].value.text() == "4"

    gallery.set_filter("misclassified")
    assert gallery.visible_indices().tolist() == [5, 7, 9, 1]
    gallery.set_filter("correct")
    assert gallery.visible_indices().tolist() == [0, 2, 3, 4, 6, 8]
    gallery.set_filter("all", class_index=0)
    assert gallery.visible_indices().tolist() == [9, 1, 0, 2]
    gallery.set_filter("misclassified", class_index=2)
    assert gallery.visible_indices().tolist() == [7]
    assert gallery.count_label.text() == "Showing 1 of 10 images"
    gallery.kind_combo.setCurrentIndex(0)  # the combo boxes drive the same filter
    gallery.class_combo.setCurrentIndex(0)
    assert gallery.visible_indices().size == 10
    assert not window.grab().isNull()


def test_gallery_of_ten_thousand_images_opens_fast_and_draws_lazily(qtbot, workflow):
    rng = np.random.default_rng(0)
    n = 10_000
    dataset = ImageDataset(
        rng.integers(0, 256, (n, 28, 28, 1), dtype=np.uint8), rng.integers(0, 3, n), CLASSES
    )
    probabilities = rng.dirichlet(np.ones(3), n)
    predictions = Predictions(probabilities, probabilities.argmax(axis=1), dataset)
    item = executed(workflow, ExecutorStandIn, {"predictions": predictions})
    started = time.perf_counter()
    window = show(qtbot, open_result_view(item, workflow=workflow))
    image = window.grab()
    seconds = time.perf_counter() - started
    assert not image.isNull()
    assert seconds < 3.0, f"opening a 10,000-image gallery took {seconds:.2f} s"
    made = len(window.panel.gallery.model._pixmaps)
    assert 0 < made < 500, f"{made} thumbnails made for one screen"


# -- readers -----------------------------------------------------------------------------------------
def test_reader_view_shows_class_counts_and_samples(qtbot, workflow):
    item = executed(workflow, ReaderStandIn, {"data": make_dataset([0, 0, 0, 1, 2, 2])})
    window = show(qtbot, open_result_view(item))
    panel = window.panel
    only = panel.panels["images"]
    assert only.class_counts() == {"cat": 3, "dog": 1, "fox": 2}
    np.testing.assert_array_equal(only.chart.bar_lengths(), [3, 1, 2])
    assert not only.chart.horizontal  # short class names stand under upright bars
    assert [label.textItem.toPlainText() for label in only.chart.count_labels] == ["3", "1", "2"]
    assert only.gallery.visible_indices().tolist() == [0, 1, 2, 3, 4, 5]
    assert only.gallery.model.index(3).data() == "dog"
    only.gallery.set_filter(class_index=2)
    assert only.gallery.visible_indices().tolist() == [4, 5]
    assert panel.tabs is None


def test_reader_view_of_files_loads_thumbnails_from_disk_and_lists_skipped_files(qtbot, workflow, tmp_path):
    from images import png_bytes

    from neuroflow.core.data import ImageFileDataset

    paths = []
    for k, rgb in enumerate([(255, 0, 0), (0, 0, 255)]):
        path = tmp_path / f"{k}.png"
        path.write_bytes(png_bytes(np.ones((20, 40, 3), np.uint8) * np.array(rgb, np.uint8)))
        paths.append(str(path))
    data = ImageFileDataset(
        paths=np.array(paths, dtype=object), labels=np.array([0, 2]), class_names=CLASSES,
        image_shape=(10, 10, 3), resize_mode="crop", skipped=((str(tmp_path / "bad.jpg"), "empty file"),),
    )
    item = executed(workflow, ReaderStandIn, {"data": data})
    window = show(qtbot, open_result_view(item))
    only = window.panel.panels["images"]
    assert "2 images · 10×10×3" in only.summary.text() and "files, centre-cropped while training" in only.summary.text()
    assert only.skipped.isVisible() and "1 unreadable file was skipped" in only.skipped.text()
    assert "bad.jpg: empty file" in only.skipped.toolTip()
    pixmap = only.gallery.model.pixmap(1)
    image = pixmap.toImage()
    assert (pixmap.width(), pixmap.height()) == (80, 80)  # 10 px enlarged by a whole factor
    assert QColor(image.pixel(40, 40)).getRgb()[:3] == (0, 0, 255)
    assert str(tmp_path / "1.png") in only.gallery.model.index(1).data(Qt.ItemDataRole.ToolTipRole)
    (tmp_path / "0.png").unlink()  # gone since the reader ran: a placeholder, not a crash
    only.gallery.model._pixmaps.clear()
    assert only.gallery.model.pixmap(0).width() == 80


def test_long_class_names_lay_the_count_bars_down_in_dataset_order(qtbot):
    from neuroflow.gui.views.dataset import ClassCountChart

    names = ("T-shirt_top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
    data = ImageDataset(np.zeros((13, 2, 2, 1), np.uint8), np.array([0, 0, 0, 1] + [9] * 9), names)
    chart = ClassCountChart(data)
    qtbot.addWidget(chart)
    assert chart.horizontal
    np.testing.assert_array_equal(chart.bar_lengths(), [3, 1, 0, 0, 0, 0, 0, 0, 0, 9])
    ticks = dict(chart.getPlotItem().getAxis("left")._tickLevels[0])
    assert ticks[9] == "T-shirt_top" and ticks[0] == "Ankle boot"  # the first class on top


def test_node_with_several_datasets_gets_tabs(qtbot, workflow):
    first = make_dataset([0, 1, 1, 2], value_range=(-1.0, 1.0), dtype=np.float32)
    item = executed(workflow, PartitionStandIn, {"first": first, "second": make_dataset([2])})
    window = show(qtbot, open_result_view(item))
    panel = window.panel
    assert [panel.tabs.tabText(i) for i in range(panel.tabs.count())] == [
        "first partition (4)",
        "second partition (1)",
    ]
    assert panel.panels["second partition"].class_counts() == {"cat": 0, "dog": 0, "fox": 1}


# -- Network Learner ---------------------------------------------------------------------------------
HISTORY = {
    "loss": [0.9, 0.5, 0.3],
    "accuracy": [0.6, 0.8, 0.9],
    "val_loss": [0.8, 0.6, 0.5],
    "val_accuracy": [0.65, 0.75, 0.8],
}


def test_learner_view_plots_history_and_summary(qtbot, workflow):
    trained = TrainedModel(CountingModel(), CLASSES, HISTORY, "early stopping", 75.0)
    window = show(qtbot, open_result_view(executed(workflow, LearnerStandIn, {"model": trained})))
    panel = window.panel
    curves = panel.monitor.curves()
    for key, values in HISTORY.items():
        np.testing.assert_allclose(curves[key][0], [1, 2, 3])
        np.testing.assert_allclose(curves[key][1], values)
    cards = {key: card.value.text() for key, card in panel.cards.items()}
    assert cards == {
        "epochs": "3",
        "stop_reason": "early stopping",
        "time": "1:15",
        "parameters": "1,234",
        "val_accuracy": "80.00 %",
    }
    assert panel.monitor.readouts["accuracy"].value.text() == "90.00 %"
    assert not panel.monitor.stop_button.isVisible()


def test_learner_view_tolerates_a_missing_model_and_validation(qtbot, workflow):
    trained = TrainedModel(None, CLASSES, {"loss": [1.0, 0.7], "acc": [0.5, 0.6]}, "completed", 2.0)
    window = show(qtbot, open_result_view(executed(workflow, LearnerStandIn, {"model": trained})))
    panel = window.panel
    assert panel.cards["parameters"].value.text() == "—"
    assert panel.cards["val_accuracy"].value.text() == "—"
    np.testing.assert_allclose(panel.monitor.curves()["accuracy"][1], [0.5, 0.6])


# -- dispatch ----------------------------------------------------------------------------------------
def test_nodes_without_results_have_no_view(qapp, workflow):
    configured = workflow.add_node(ReaderStandIn)
    assert open_result_view(configured) is None  # configured, not executed
    learner = executed(workflow, LearnerStandIn, {"model": None})
    assert open_result_view(learner) is None
