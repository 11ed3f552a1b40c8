"""Does a TensorFlow Lite model predict what its Keras model predicts? Top-1 agreement on a sample.

Conversion can change a model quietly: an operation mapped differently, weights rounded to
float16 or 8 bits. The writer therefore runs the converted bytes in ``tf.lite.Interpreter`` and
the Keras model on the same images and counts how often their most probable class is the same.
The sample is spread evenly over the images given (not the first N, which may be one class).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from neuroflow.core.data import ImageData, ImageDataset

#: At most this many images are compared: enough for a 0.1-point resolution, quick on a CPU.
SAMPLE_LIMIT = 1000
#: Below this agreement the writer warns.
WARN_BELOW = 0.99
_BATCH = 100


@dataclass(frozen=True)
class Agreement:
    """Top-1 agreement of the TFLite and Keras models on ``count`` images."""

    agreed: int
    count: int

    @property
    def fraction(self) -> float:
        return self.agreed / self.count if self.count else 0.0

    def text(self) -> str:
        return f"TFLite agrees with Keras on {self.fraction:.1%} of {self.count:,} images (top-1)"


def sample_images(images: ImageData, input_shape: tuple[int, ...], limit: int = SAMPLE_LIMIT) -> np.ndarray:
    """Up to ``limit`` images spread over ``images``, as the float32 batch the model takes."""
    from .shapes import model_inputs

    count = len(images)
    index = np.unique(np.linspace(0, count - 1, num=min(limit, count)).astype(np.int64)) if count else np.zeros(0, np.int64)
    subset = images.subset(index)
    if isinstance(subset, ImageDataset):
        return model_inputs(subset.images, input_shape)
    return _decode_files(subset, input_shape)


def _decode_files(dataset: Any, input_shape: tuple[int, ...]) -> np.ndarray:
    """Decode the (already small) sample of an image-file dataset with the same pipeline the
    Learner and the Executor use, so the images are resized and scaled identically."""
    import dataclasses

    from .pipeline import file_pipeline

    strict = dataclasses.replace(dataset, on_error="fail")
    pipeline = file_pipeline(strict, batch_size=_BATCH, input_shape=input_shape)
    batches = [np.asarray(batch, dtype=np.float32) for batch in pipeline]
    return np.concatenate(batches) if batches else np.zeros((0, *input_shape), np.float32)


def tflite_predict(content: bytes, x: np.ndarray) -> np.ndarray:
    """Outputs of the TFLite model ``content`` for the batch ``x`` (float32, any length)."""
    import warnings

    import tensorflow as tf

    with warnings.catch_warnings():  # tf.lite.Interpreter notes its successor, LiteRT
        warnings.simplefilter("ignore")
        interpreter = tf.lite.Interpreter(model_content=content)
    entry = interpreter.get_input_details()[0]
    result = interpreter.get_output_details()[0]
    outputs = []
    size = 0
    for start in range(0, len(x), _BATCH):
        batch = x[start:start + _BATCH].astype(entry["dtype"], copy=False)
        if len(batch) != size:
            interpreter.resize_tensor_input(entry["index"], list(batch.shape))
            interpreter.allocate_tensors()
            size = len(batch)
        interpreter.set_tensor(entry["index"], batch)
        interpreter.invoke()
        outputs.append(np.array(interpreter.get_tensor(result["index"])))
    return np.concatenate(outputs) if outputs else np.zeros((0, 0), np.float32)


def top1(outputs: np.ndarray) -> np.ndarray:
    """The predicted class per row; a single sigmoid unit predicts class 1 above 0.5."""
    outputs = outputs.reshape(len(outputs), -1)
    if outputs.shape[1] == 1:
        return (outputs[:, 0] > 0.5).astype(np.int64)
    return outputs.argmax(axis=1)


def agreement(content: bytes, model: Any, x: np.ndarray) -> Agreement:
    """Compare the TFLite bytes with the Keras ``model`` on the batch ``x``."""
    if len(x) == 0:
        return Agreement(0, 0)
    keras_out = np.asarray(model.predict(x, batch_size=_BATCH, verbose=0))
    lite_out = tflite_predict(content, x)
    return Agreement(int((top1(keras_out) == top1(lite_out)).sum()), len(x))
