"""Add: sum two branches of the same shape value by value."""

from __future__ import annotations

from neuroflow.core.errors import ConfigureError
from neuroflow.core.network import Shape, format_shape

from ._merge import FIRST, SECOND, MergeNode


class AddNode(MergeNode):
    type_id = "neuroflow.layers.add"
    name = "Add"
    description = (
        "Adds two branches of a network value by value; both must have exactly the same shape. "
        "This is how residual (skip) connections are made: the input of a block is added to "
        "its output."
    )
    keywords = MergeNode.keywords + ("sum", "residual", "resnet")
    keras_class = "Add"

    def output_shape(self, input_shapes: list[Shape]) -> Shape:
        first, second = input_shapes
        if first != second:
            raise ConfigureError(
                f"Add needs two inputs of the same shape; got {FIRST.title} "
                f"{format_shape(first)} and {SECOND.title} {format_shape(second)}"
            )
        return first
