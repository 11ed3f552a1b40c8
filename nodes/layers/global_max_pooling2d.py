"""Global max pooling: the strongest response of each channel anywhere in the image."""

from __future__ import annotations

from ._pooling import GlobalPooling2DNode


class GlobalMaxPooling2DNode(GlobalPooling2DNode):
    type_id = "neuroflow.layers.global_max_pooling2d"
    name = "GlobalMaxPooling2D"
    description = (
        "Keeps the largest value of each channel over the whole image, turning a (height, width, "
        "channels) feature map into one number per channel. It has no weights. Like global "
        "average pooling it replaces Flatten before the classifier, answering 'was this feature "
        "anywhere?' rather than 'how much of it is there?'."
    )
    keywords = (*GlobalPooling2DNode.keywords, "max", "maxpool")
    keras_class = "GlobalMaxPooling2D"
