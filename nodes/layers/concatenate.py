"""Concatenate: stack two branches side by side along the channel (last) axis."""

from __future__ import annotations

from neuroflow.core.errors import ConfigureError
from neuroflow.core.network import Shape, format_shape

from ._merge import FIRST, SECOND, MergeNode


class ConcatenateNode(MergeNode):
    type_id = "neuroflow.layers.concatenate"
    name = "Concatenate"
    description = (
        "Joins two branches of a network by putting their values side by side along the last "
        "axis: 14x14x16 and 14x14x32 give 14x14x48, and vectors of 10 and 20 give 30. All other "
        "axes must agree. Use it to combine parallel paths, as in Inception-style networks."
    )
    keywords = MergeNode.keywords + ("concat", "stack", "inception")
    keras_class = "Concatenate"
    range_rule = "keep"

    def output_shape(self, input_shapes: list[Shape]) -> Shape:
        first, second = input_shapes
        if len(first) != len(second) or first[:-1] != second[:-1]:
            raise ConfigureError(
                f"Concatenate joins along the last axis, so all other axes must match; got "
                f"{FIRST.title} {format_shape(first)} and {SECOND.title} {format_shape(second)}"
            )
        return first[:-1] + (first[-1] + second[-1],)
