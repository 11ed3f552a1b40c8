"""The rule that says whether images of one shape can feed a network input of another shape.

Shapes equal: fine. Same number of values (28x28x1 images into an Input of 784): fine, the
images are reshaped - a free view in numpy, announced with a warning at execute time so the user
knows. Anything else is a configure error that names both shapes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from neuroflow.core.errors import ConfigureError, DataError

Shape = tuple[int, ...]


def dims(shape: Sequence[int]) -> str:
    """``(28, 28, 1)`` -> ``"28x28x1"``, the way the editor shows shapes."""
    return "x".join(str(int(d)) for d in shape)


def needs_reshape(
    data_shape: Sequence[int],
    input_shape: Sequence[int],
    *,
    data_what: str,
    input_name: str = "the Input layer's shape",
    reader_resizes: bool = False,
) -> bool:
    """True when images must be reshaped to fit; raise :class:`ConfigureError` if they cannot.

    ``data_what`` names the data in the message, e.g. ``"the training data"``; ``input_name``
    the setting that fixes the network's side. Images read from files (``reader_resizes``) can
    also be fitted by their reader when the channels agree, so the message offers that too.
    """
    data_shape, input_shape = tuple(data_shape), tuple(input_shape)
    if data_shape == input_shape:
        return False
    data_size, input_size = math.prod(data_shape), math.prod(input_shape)
    if data_size == input_size:
        return True
    fix = f"set {input_name} to {dims(data_shape[:2] if 'size' in input_name else data_shape)}"
    if reader_resizes and len(data_shape) == len(input_shape) == 3 and data_shape[2] == input_shape[2]:
        fix += f", or the reader's image size to {dims(input_shape[:2])}"
    raise ConfigureError(
        f"{data_what} has images of shape {dims(data_shape)} ({data_size:,} values) but the "
        f"network input expects {dims(input_shape)} ({input_size:,} values); {fix}"
    )


def reshape_note(data_shape: Sequence[int], input_shape: Sequence[int], *, data_what: str) -> str:
    """The warning shown when images are reshaped to fit the network input."""
    return (
        f"{data_what}: images of shape {dims(data_shape)} are reshaped to the network input "
        f"shape {dims(input_shape)} (same {math.prod(tuple(data_shape)):,} values)"
    )


def model_inputs(images: np.ndarray, input_shape: Sequence[int]) -> np.ndarray:
    """The images as a float32 array shaped ``(N, *input_shape)``; no copy when already fit."""
    array = np.asarray(images, dtype=np.float32)
    target = (array.shape[0], *tuple(int(d) for d in input_shape))
    if array.shape != target:
        array = array.reshape(target)
    return array


def check_labels(labels: np.ndarray, class_count: int, *, data_what: str) -> None:
    """Refuse labels outside ``0 .. class_count - 1`` (they would silently corrupt training)."""
    if labels.size == 0:
        return
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= class_count:
        bad = low if low < 0 else high
        raise DataError(
            f"{data_what} has label {bad} but only {class_count} classes (labels 0 to {class_count - 1})"
        )
