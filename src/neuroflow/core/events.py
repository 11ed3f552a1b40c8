"""Events the executor sends to whoever listens: the command line, the editor, a test.

Events are small frozen dataclasses delivered synchronously on the executing thread; a GUI
listener re-posts them to its own thread. They carry plain numbers and strings only, so a
listener never touches TensorFlow objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


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
