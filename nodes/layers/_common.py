"""Setting declarations shared by several layer node types (not a node type itself).

Convolution and pooling nodes describe their windows the same way, so the editor shows the
same fields, help texts and limits for "kernel size", "strides" and "padding" everywhere.
"""

from __future__ import annotations

from neuroflow.core.settings import ChoiceSetting, IntTupleSetting

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
