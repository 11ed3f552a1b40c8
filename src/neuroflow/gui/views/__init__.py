"""Result views: what a node produced, in a window of its own.

``open_result_view(item, parent, workflow)`` picks the view for an executed workflow node:
Scorer (confusion matrix and scores), Network Executor (prediction gallery), Network Learner
(training curves and summary, and trying the model), and any node with image-dataset outputs (samples and class
counts). It returns the window, not yet shown, or ``None`` when the node has nothing to show.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QWidget

from neuroflow.core.data import ImageData, Predictions, Scores, TrainedModel
from neuroflow.core.events import NodeState

from .dataset import DatasetsPanel
from .images import to_pixmap, to_qimage, to_uint8
from .model_panel import ModelPanel
from .predictions import PredictionsPanel
from .scorer import ScoresPanel
from .window import ResultWindow

if TYPE_CHECKING:
    from neuroflow.core.workflow import Workflow, WorkflowNode

SCORER = "neuroflow.learning.scorer"
EXECUTOR = "neuroflow.learning.executor"
LEARNER = "neuroflow.learning.learner"

__all__ = ["open_result_view", "scored_predictions", "to_pixmap", "to_qimage", "to_uint8"]


def _first(outputs: dict[str, Any], kind: type) -> Any:
    return next((value for value in outputs.values() if isinstance(value, kind)), None)


def _port_title(item: WorkflowNode, port: str) -> str:
    try:
        return item.node.output_port(port).title
    except (KeyError, AttributeError):
        return port


def scored_predictions(item: WorkflowNode, workflow: Workflow | None) -> Predictions | None:
    """The Predictions feeding ``item`` (the Scorer's input), if the workflow still holds them."""
    if workflow is None:
        return None
    for connection in workflow.incoming(item.id).values():
        source = workflow.nodes.get(connection.source)
        if source is None or not source.outputs:
            continue
        value = source.outputs.get(connection.source_port)
        if isinstance(value, Predictions):
            return value
    return None


def open_result_view(
    item: WorkflowNode, parent: QWidget | None = None, workflow: Workflow | None = None
) -> ResultWindow | None:
    """The result window for an executed node, or ``None`` if it has no view or no results.

    Pass ``workflow`` so the Scorer's view can list the images behind each confusion-matrix
    cell. The window is non-modal and deletes itself on close; call ``show()`` on it, and keep
    a reference when ``parent`` is ``None`` (Python would otherwise collect it).
    """
    outputs = item.outputs
    if item.state is not NodeState.EXECUTED or not outputs:
        return None
    type_id = item.type_id
    title = item.label
    scores = _first(outputs, Scores)
    if type_id == SCORER or (scores is not None and type_id not in (EXECUTOR, LEARNER)):
        if scores is None:
            return None
        predictions = scored_predictions(item, workflow)
        subtitle = f"Scores of {scores.count:,} images over {len(scores.class_names)} classes"
        return ResultWindow(title, subtitle, ScoresPanel(scores, predictions), parent)
    predictions = _first(outputs, Predictions)
    if type_id == EXECUTOR or (predictions is not None and type_id != LEARNER):
        if predictions is None:
            return None
        subtitle = f"Predictions for {len(predictions.predicted):,} images · misclassified first"
        return ResultWindow(title, subtitle, PredictionsPanel(predictions, node_id=item.id), parent)
    trained = _first(outputs, TrainedModel)
    if trained is not None:
        subtitle = f"Trained model · {len(trained.class_names)} classes: " + ", ".join(
            trained.class_names[:12]
        )
        if len(trained.class_names) > 12:
            subtitle += ", …"
        return ResultWindow(title, subtitle, ModelPanel(item.id, trained), parent)
    datasets = {
        _port_title(item, port): value for port, value in outputs.items() if isinstance(value, ImageData)
    }
    if datasets:
        sources = sorted({d.source for d in datasets.values() if d.source})
        what = "Image dataset" if len(datasets) == 1 else f"{len(datasets)} image datasets"
        subtitle = what + (f" from {', '.join(sources)}" if sources else "")
        return ResultWindow(title, subtitle, DatasetsPanel(datasets), parent)
    return None
