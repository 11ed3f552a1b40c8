"""Setting declarations shared by several layer node types (not a node type itself).

Convolution and pooling nodes describe their windows the same way, so the editor shows the
same fields, help texts and limits for "kernel size", "strides" and "padding" everywhere; the
layers with a weight matrix (Conv2D, Dense) offer the same initializers and L2 penalty.
"""

from __future__ import annotations

from typing import Any

from neuroflow.core.settings import ChoiceSetting, FloatSetting, IntTupleSetting

#: Largest window or step along one axis; far beyond any sensible image network.
MAX_WINDOW = 1024

HEIGHT_WIDTH = ("height", "width")

PADDING = ChoiceSetting(
    "padding",
    "Padding",
    "valid",
    choices=("valid", "same"),
    choice_labels=("valid (no padding, the output shrinks)", "same (zero padding, size / strides)"),
    help=(
        "valid: the window only visits positions where it fits entirely, so the output is "
        "smaller than the input. same: the input is padded with zeros so that the output size "
        "is the input size divided by the strides (rounded up)."
    ),
)


def pair_setting(name: str, label: str, default: tuple[int, int], help: str, *, minimum: int = 1) -> IntTupleSetting:
    """A (height, width) pair of integers, such as a kernel size or strides."""
    return IntTupleSetting(
        name,
        label,
        default,
        help=help,
        min_length=2,
        max_length=2,
        minimum=minimum,
        maximum=MAX_WINDOW,
        element_names=HEIGHT_WIDTH,
    )


KERNEL_INITIALIZER = ChoiceSetting(
    "kernel_initializer",
    "Weight initializer",
    "glorot_uniform",
    choices=("glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
             "lecun_normal", "orthogonal", "truncated_normal", "random_normal", "random_uniform"),
    choice_labels=("Glorot uniform (Keras's default)", "Glorot normal", "He uniform (suits relu)",
                   "He normal (suits relu)", "LeCun uniform", "LeCun normal (suits selu)", "orthogonal",
                   "truncated normal (std 0.05)", "normal (std 0.05)", "uniform (-0.05 to 0.05)"),
    help=(
        "How the weights are drawn before training. Glorot suits tanh, sigmoid and softmax and is "
        "Keras's default; He keeps relu networks from fading out as they get deeper; LeCun normal "
        "belongs with selu. Biases always start at zero."
    ),
)

L2 = FloatSetting(
    "l2",
    "L2 regularization",
    0.0,
    minimum=0.0,
    maximum=1.0,
    help=(
        "Adds this factor times the sum of the squared weights to the loss, which keeps the "
        "weights small and the network less prone to overfitting. 0 switches it off; 0.0001 to "
        "0.001 are usual."
    ),
)


def kernel_config(initializer: str, l2: float) -> dict[str, Any]:
    """Keras's ``kernel_initializer`` and ``kernel_regularizer`` arguments for the settings above
    (an L2 factor of 0 means no regularizer, as in Keras)."""
    regularizer = {"class_name": "L2", "config": {"l2": l2}} if l2 > 0 else None
    return {"kernel_initializer": initializer, "kernel_regularizer": regularizer}
