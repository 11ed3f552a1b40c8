"""2-D average pooling: replace each window by its mean."""

from __future__ import annotations

from ._pooling import Pooling2DNode


class AveragePooling2DNode(Pooling2DNode):
    type_id = "neuroflow.layers.average_pooling2d"
    name = "AveragePooling2D"
    description = (
        "Shrinks an image-shaped input by replacing each window with the mean of its values, "
        "per channel. It has no weights. Smoother than max pooling; with 'same' padding the "
        "windows at the border average only the real pixels."
    )
    keywords = Pooling2DNode.keywords + ("average", "mean", "avgpool")
    keras_class = "AveragePooling2D"
