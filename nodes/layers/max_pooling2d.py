"""2-D max pooling: keep the strongest response in each window."""

from __future__ import annotations

from ._pooling import Pooling2DNode


class MaxPooling2DNode(Pooling2DNode):
    type_id = "neuroflow.layers.max_pooling2d"
    name = "MaxPooling2D"
    description = (
        "Shrinks an image-shaped input by keeping only the largest value of each window, per "
        "channel. It has no weights; it makes the network cheaper and less sensitive to small "
        "shifts. A 2x2 pool after one or two Conv2D layers is the classic pattern."
    )
    keywords = Pooling2DNode.keywords + ("max", "maxpool")
    keras_class = "MaxPooling2D"
