"""Global average pooling: one mean per channel over the whole image."""

from __future__ import annotations

from ._pooling import GlobalPooling2DNode


class GlobalAveragePooling2DNode(GlobalPooling2DNode):
    type_id = "neuroflow.layers.global_average_pooling2d"
    name = "GlobalAveragePooling2D"
    description = (
        "Averages each channel over the whole image, turning a (height, width, channels) feature "
        "map into one number per channel. It has no weights. Used instead of Flatten before the "
        "classifying Dense layer, it needs far fewer weights and does not care where in the image "
        "a feature was found; most modern image networks end this way."
    )
    keywords = (*GlobalPooling2DNode.keywords, "average", "mean", "avgpool")
    keras_class = "GlobalAveragePooling2D"
