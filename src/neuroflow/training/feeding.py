"""What the Network Learner hands to ``model.fit``: arrays for data in memory, a ``tf.data``
pipeline for data in files - the same targets, split and class weights either way.

In-memory datasets (MNIST-sized) go to Keras as numpy arrays, exactly as before file-backed
datasets existed: Keras slices and shuffles them itself, which is the fastest path for data that
fits in memory and keeps earlier results bit-identical. File-backed datasets go through
:func:`neuroflow.training.pipeline.file_pipeline`. Labels are checked, reshapes announced, the
validation split drawn per class and class weights computed here, in one place for both kinds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from neuroflow.core.data import ImageData, ImageDataset, ImageFileDataset

from .shapes import check_labels, model_inputs, needs_reshape, reshape_note
from .targets import stratified_split, training_targets

CLASS_WEIGHTS = ("none", "balanced")
CLASS_WEIGHT_LABELS = ("none (every image counts the same)", "balanced (rare classes count more)")


@dataclass
class FitData:
    """``fit``'s data arguments: ``y`` and ``batch_size`` are None when ``x`` is a pipeline."""

    x: Any
    y: Any
    validation: Any
    batch_size: int | None
    shuffle: bool
    samples: int
    batches: int
    class_weight: dict[int, float] | None
    #: The file-backed datasets feeding this fit, to name an undecodable file if one fails.
    files: tuple[ImageFileDataset, ...] = ()


@dataclass(frozen=True)
class Feeding:
    """The learner's settings that shape the data (not the model)."""

    input_shape: tuple[int, ...]
    loss: str
    output_units: int
    batch_size: int
    shuffle: bool
    seed: int
    validation_split: float
    class_weights: str = "none"


def fit_data(
    training: ImageData,
    validation: ImageData | None,
    feeding: Feeding,
    warn: Callable[[str], None],
    progress: Callable[[float | None, str], None] | None = None,
) -> FitData:
    """Targets, split, weights and inputs for ``model.fit``; warns about reshapes and ignored settings."""
    classes = len(training.class_names)
    for data, what in ((training, "the training data"), (validation, "the validation data")):
        if data is None:
            continue
        check_labels(data.labels, classes, data_what=what)
        if needs_reshape(data.shape, feeding.input_shape, data_what=what):
            warn(reshape_note(data.shape, feeding.input_shape, data_what=what))
    if validation is None and feeding.validation_split > 0:
        kept, held_out = stratified_split(training.labels, feeding.validation_split, feeding.seed)
        training, validation = training.subset(kept), training.subset(held_out)
    elif validation is not None and feeding.validation_split > 0:
        warn("validation data is connected, so the validation split setting is ignored")
    weights = class_weights(training.labels, classes) if feeding.class_weights == "balanced" else None
    files = tuple(d for d in (training, validation) if isinstance(d, ImageFileDataset))
    x, y = _inputs(training, feeding, shuffle=feeding.shuffle, progress=progress)
    pair = None
    if validation is not None:
        vx, vy = _inputs(validation, feeding, shuffle=False, progress=progress)
        pair = vx if vy is None else (vx, vy)
    in_memory = isinstance(training, ImageDataset)
    return FitData(
        x=x, y=y, validation=pair,
        batch_size=feeding.batch_size if in_memory else None,
        shuffle=feeding.shuffle if in_memory else False,
        samples=len(training),
        batches=math.ceil(len(training) / feeding.batch_size),
        class_weight=weights,
        files=files,
    )


def class_weights(labels: np.ndarray, classes: int) -> dict[int, float]:
    """Keras's "balanced" weights: ``n / (classes * count)``, so every class weighs the same in
    total; a class without images gets weight 0 (it never occurs)."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=classes).astype(np.float64)
    total = counts.sum()
    return {k: (float(total / (classes * c)) if c else 0.0) for k, c in enumerate(counts)}


def _inputs(
    data: ImageData, feeding: Feeding, *, shuffle: bool, progress: Callable[[float | None, str], None] | None
) -> tuple[Any, Any]:
    targets = training_targets(data.labels, len(data.class_names), feeding.loss, feeding.output_units)
    if isinstance(data, ImageDataset):
        return model_inputs(data.images, feeding.input_shape), targets
    assert isinstance(data, ImageFileDataset)
    from .pipeline import file_pipeline

    pipeline = file_pipeline(
        data, batch_size=feeding.batch_size, targets=targets, shuffle=shuffle, seed=feeding.seed,
        input_shape=feeding.input_shape, progress=progress,
    )
    return pipeline, None
