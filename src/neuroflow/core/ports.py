"""Port types and the specs that travel along connections at configure time.

A *spec* describes what a port will carry (shapes, class names) without carrying the data, so
``configure`` can check a whole workflow in microseconds. The matching *data* objects, produced
by ``execute``, live in :mod:`neuroflow.core.data`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .network import NetworkSpec


class PortType(Enum):
    """What a connection carries. Only ports of the same type can be connected."""

    NETWORK = "network"
    IMAGES = "image_dataset"
    MODEL = "model"
    PREDICTIONS = "predictions"
    SCORES = "scores"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def color(self) -> tuple[int, int, int]:
        """Display colour, shared by the editor's ports and wires."""
        return _COLORS[self]


_LABELS = {
    PortType.NETWORK: "network",
    PortType.IMAGES: "image dataset",
    PortType.MODEL: "trained model",
    PortType.PREDICTIONS: "prediction table",
    PortType.SCORES: "scores",
}
_COLORS = {
    PortType.NETWORK: (232, 164, 58),
    PortType.IMAGES: (80, 160, 230),
    PortType.MODEL: (170, 110, 220),
    PortType.PREDICTIONS: (90, 190, 120),
    PortType.SCORES: (220, 90, 110),
}


@dataclass(frozen=True)
class Port:
    """A named, typed input or output of a node type."""

    name: str
    type: PortType
    label: str = ""
    optional: bool = False
    help: str = ""

    @property
    def title(self) -> str:
        return self.label or self.name


@dataclass(frozen=True)
class DatasetSpec:
    """An image dataset: per-image shape (H, W, C), class names, count and pixel range."""

    shape: tuple[int, ...]
    class_names: tuple[str, ...]
    count: int | None = None
    value_range: tuple[float, float] = (0.0, 255.0)
    #: True when the images are decoded from files, so the reader can bring them to any size.
    from_files: bool = False

    def describe(self) -> str:
        count = f"{self.count:,} images" if self.count is not None else "images"
        dims = "x".join(str(d) for d in self.shape)
        return f"{count} {dims}, {len(self.class_names)} classes"


@dataclass(frozen=True)
class ModelSpec:
    """A trained model: what it takes in and which classes it predicts."""

    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    class_names: tuple[str, ...]

    def describe(self) -> str:
        dims = "x".join(str(d) for d in self.input_shape)
        return f"model {dims} -> {len(self.class_names)} classes"


@dataclass(frozen=True)
class PredictionsSpec:
    class_names: tuple[str, ...]
    count: int | None = None
    has_labels: bool = True

    def describe(self) -> str:
        count = f"{self.count:,} rows" if self.count is not None else "rows"
        return f"predictions, {count}"


@dataclass(frozen=True)
class ScoresSpec:
    class_names: tuple[str, ...]

    def describe(self) -> str:
        return f"scores over {len(self.class_names)} classes"


@dataclass(frozen=True)
class Unavailable:
    """An output that a configured node cannot provide, with the reason.

    A node with two outputs stays usable through one when the other is impossible (the Network
    Reader gives a trained model for predictions even when the file cannot be continued into
    layers, and the other way round). A node connected to an unavailable output is not
    configured, and its message is the reason; the node itself stays configured.
    """

    what: str
    reason: str

    def describe(self) -> str:
        return f"no {self.what}"


#: What a port carries at configure time (``Unavailable`` when a node cannot provide it).
Spec = NetworkSpec | DatasetSpec | ModelSpec | PredictionsSpec | ScoresSpec | Unavailable

SPEC_TYPES: dict[PortType, type] = {
    PortType.NETWORK: NetworkSpec,
    PortType.IMAGES: DatasetSpec,
    PortType.MODEL: ModelSpec,
    PortType.PREDICTIONS: PredictionsSpec,
    PortType.SCORES: ScoresSpec,
}
