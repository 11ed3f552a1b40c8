"""A source node for datasets that already live in memory.

For the Python API, tests and benchmarks: it puts an :class:`ImageDataset` built in Python into
a workflow, so data loading stays out of what is measured. It has no ``type_id``, so the
registry never lists it and it cannot be saved to a ``.workflow`` file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .data import ImageDataset
from .node import ExecutionContext, Node
from .ports import Port, PortType, Spec


class InMemorySource(Node):
    """Outputs the given dataset on its ``data`` port."""

    name = "In-memory dataset"
    outputs = (Port("data", PortType.IMAGES, "images"),)

    def __init__(self, dataset: ImageDataset) -> None:
        super().__init__()
        self.dataset = dataset

    def configure(self, specs: Mapping[str, Spec | None]) -> dict[str, Spec]:
        return {"data": self.dataset.spec}

    def execute(self, inputs: Mapping[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
        return {"data": self.dataset}
