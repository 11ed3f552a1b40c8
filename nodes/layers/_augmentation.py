"""What the image augmentation layers share (not a node type itself).

Augmentation layers change every training image a little at random - mirrored, shifted,
rotated, zoomed, brighter, cropped - so the network sees a new variant of each image in every
epoch and learns the object rather than its exact pixels. They are active only while training:
predicting passes images through unchanged (Random Crop takes the centre), so a trained model
needs no special treatment. They have no weights, keep the shape (except Random Crop), and must
sit where the data is still an image (after Input, before Flatten). Those that change pixel
values (brightness, contrast) must also know the pixel range: they put ``INPUT_RANGE`` in
their config, and the model builder fills in the range the training images have there.
"""

from __future__ import annotations

from typing import Any, ClassVar

from neuroflow.core.errors import ConfigureError
from neuroflow.core.layer_node import LayerNode
from neuroflow.core.network import Shape, format_shape
from neuroflow.core.settings import ChoiceSetting, FloatSetting

FILL_MODE = ChoiceSetting(
    "fill_mode", "Fill", "constant",
    choices=("constant", "nearest", "reflect", "wrap"),
    choice_labels=("black (zeros)", "nearest edge pixel", "mirror the image", "wrap around"),
    help="What fills the area uncovered by moving the image: black suits digits and clothes "
         "on a black background; the others suit photos.",
)


class AugmentationNode(LayerNode):
    """A weightless, shape-keeping random image transform that only acts while training."""

    keywords: ClassVar[tuple[str, ...]] = ("augmentation", "augment", "random", "overfitting", "regularization")
    range_rule: ClassVar[str] = "keep"

    def output_shape(self, input_shapes: list[Shape]) -> Shape:
        shape = input_shapes[0]
        if len(shape) != 3:
            raise ConfigureError(
                f"{self.name} transforms images of shape (height, width, channels), but its input "
                f"has shape {format_shape(shape)}: place it right after the Input layer, before Flatten"
            )
        return shape

    def fill_config(self) -> dict[str, Any]:
        """Keras's fill arguments for the ``fill_mode`` setting ("constant" means black, zeros)."""
        return {"fill_mode": self["fill_mode"], "fill_value": 0.0}


def factor_setting(default: float, help: str) -> FloatSetting:
    """How strong a pixel-value augmentation is, as a fraction (0 leaves images alone)."""
    return FloatSetting("factor", "Strength", default, minimum=0.0, maximum=1.0, help=help)
