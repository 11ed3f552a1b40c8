"""Events the workflow and the executor send to whoever listens: the command line, the editor, a test.

Events are small frozen dataclasses delivered synchronously on the thread that caused them; a
GUI listener re-posts them to its own thread. They carry plain numbers and strings only, so a
listener never touches TensorFlow objects.

Two families share one listener mechanism (``Workflow.subscribe``):

* **Edits** (:class:`WorkflowEdit` and its subclasses) say what an edit of the workflow changed,
  one item at a time, so that a view can update exactly that item: a node or a connection added
  or removed, a setting, label or position changed, a node's specs or configure problem changed
  (:class:`SpecsChanged`, sent only when they really differ). They describe the editor's own
  workflow; the execution process never forwards them.
* **Execution** events: :class:`NodeStateChanged` (also sent by edits that reset or configure a
  node), progress, warnings, training metrics and :class:`RunFinished`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .workflow import Connection


class NodeState(Enum):
    NOT_CONFIGURED = "not configured"
    CONFIGURED = "configured"
    EXECUTING = "executing"
    EXECUTED = "executed"
    FAILED = "failed"


@dataclass(frozen=True)
class NodeStateChanged:
    node_id: str
    state: NodeState
    message: str = ""


class WorkflowEdit:
    """Base of the events that describe an edit of the workflow (see the module docstring)."""


@dataclass(frozen=True)
class NodeAdded(WorkflowEdit):
    node_id: str


@dataclass(frozen=True)
class NodeRemoved(WorkflowEdit):
    """Sent after the node's connections were removed (each with its own event)."""

    node_id: str


@dataclass(frozen=True)
class ConnectionAdded(WorkflowEdit):
    connection: Connection


@dataclass(frozen=True)
class ConnectionRemoved(WorkflowEdit):
    connection: Connection


@dataclass(frozen=True)
class SettingChanged(WorkflowEdit):
    node_id: str
    name: str
    value: Any


@dataclass(frozen=True)
class LabelChanged(WorkflowEdit):
    node_id: str
    label: str


@dataclass(frozen=True)
class NodeMoved(WorkflowEdit):
    node_id: str
    position: tuple[float, float]


@dataclass(frozen=True)
class SpecsChanged(WorkflowEdit):
    """A node's output specs, configure problem or note differ from before its last configure."""

    node_id: str


@dataclass(frozen=True)
class NodeProgress:
    node_id: str
    fraction: float | None
    message: str = ""


@dataclass(frozen=True)
class NodeWarning:
    node_id: str
    message: str


@dataclass(frozen=True)
class TrainingStarted:
    node_id: str
    epochs: int
    batches_per_epoch: int
    samples: int
    #: Which devices train ("CPU", "2 GPUs, mirrored: ...") and how a batch is shared among them.
    devices: str = ""
    precision: str = "float32"


@dataclass(frozen=True)
class BatchEnded:
    """Training metrics after one batch; ``metrics`` holds running epoch averages."""

    node_id: str
    epoch: int  # 1-based
    batch: int  # 1-based within the epoch
    batches: int
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class EpochEnded:
    """Metrics at the end of an epoch, validation metrics prefixed ``val_``."""

    node_id: str
    epoch: int  # 1-based
    epochs: int
    metrics: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass(frozen=True)
class TrainingEnded:
    node_id: str
    epochs_run: int
    #: "completed", "early stopping", "stopped by user", "cancelled"; a stop or cancel during an
    #: epoch adds which ("stopped by user during epoch 7, after 40 of 563 batches (...)"), and
    #: ``epochs_run`` counts only the epochs trained to their end.
    reason: str


@dataclass(frozen=True)
class RunFinished:
    executed: tuple[str, ...]
    failed: tuple[str, ...]
    cancelled: bool
    seconds: float
