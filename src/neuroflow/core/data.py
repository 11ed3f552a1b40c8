"""Data objects that flow along connections at execute time (the counterparts of specs)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .ports import DatasetSpec, ModelSpec, PredictionsSpec, ScoresSpec


class ImageData:
    """What an image port carries: labelled images, in memory or as a list of files.

    Two kinds share this interface, so that partitioning, normalising, the result views and the
    reports work on both without knowing which: :class:`ImageDataset` holds the pixels in one
    array (MNIST-sized data, the fastest to train on) and :class:`ImageFileDataset` holds only
    file paths and decode settings (photos: memory does not grow with the number of images,
    which are decoded in a ``tf.data`` pipeline while training).
    """

    labels: np.ndarray
    class_names: tuple[str, ...]
    value_range: tuple[float, float]
    source: str

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of one image, (H, W, C), as the network receives it."""
        raise NotImplementedError

    @property
    def in_memory(self) -> bool:
        return isinstance(self, ImageDataset)

    @property
    def spec(self) -> DatasetSpec:
        return DatasetSpec(
            shape=self.shape, class_names=self.class_names, count=len(self), value_range=self.value_range
        )

    def subset(self, index: np.ndarray) -> Any:
        """The images at ``index`` (an integer array), as a dataset of the same kind."""
        raise NotImplementedError

    def rescaled(self, target: tuple[float, float]) -> Any:
        """The same images with pixel values mapped linearly from ``value_range`` to ``target``."""
        raise NotImplementedError

    def class_counts(self) -> np.ndarray:
        return np.bincount(self.labels, minlength=len(self.class_names))


@dataclass(frozen=True, eq=False)
class ImageDataset(ImageData):
    """Images in memory as an (N, H, W, C) array with integer labels (N,) and class names."""

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    value_range: tuple[float, float] = (0.0, 255.0)
    source: str = ""

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.images.shape[1:])

    def subset(self, index: np.ndarray) -> ImageDataset:
        return ImageDataset(
            self.images[index], self.labels[index], self.class_names, self.value_range, self.source
        )

    def rescaled(self, target: tuple[float, float]) -> ImageDataset:
        # A fresh float32 array, scaled in place. Dividing by the width of the old range (not
        # multiplying by its inverse) maps its ends exactly: 255 -> 1.0, never 1.0000001.
        (low, high), (target_low, target_high) = self.value_range, target
        images = self.images.astype(np.float32)
        images -= np.float32(low)
        images /= np.float32(high - low)
        if target_high - target_low != 1.0:
            images *= np.float32(target_high - target_low)
        images += np.float32(target_low)
        return ImageDataset(images, self.labels, self.class_names, target, self.source)


#: How a file-backed dataset fits images of any size to the network's: stretch to the size,
#: crop the largest centred window of the right aspect ratio, or pad to keep all of the image.
RESIZE_MODES = ("stretch", "crop", "pad")
#: Where decoded images are kept between epochs and runs: nowhere, in memory, in files on disk.
CACHE_MODES = ("none", "memory", "disk")


@dataclass(frozen=True, eq=False)
class ImageFileDataset(ImageData):
    """Images as files, decoded only when a pipeline or a view needs them.

    ``paths`` is an object array of absolute path strings (one per image), so a subset costs a
    pointer copy; each image is decoded to ``image_shape`` (height, width, channels) with
    ``resize_mode`` as uint8 0-255, and then mapped to ``value * scale + offset``, which the
    Normalizer sets instead of touching any pixel. ``skipped`` lists files the reader left out
    (path and reason).
    """

    paths: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    image_shape: tuple[int, int, int]
    resize_mode: str = "stretch"
    value_range: tuple[float, float] = (0.0, 255.0)
    scale: float = 1.0
    offset: float = 0.0
    cache: str = "none"
    cache_folder: str = ""
    #: "skip": leave out images that fail to decode while training; "fail": stop with an error.
    on_error: str = "skip"
    source: str = ""
    skipped: tuple[tuple[str, str], ...] = ()

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.image_shape)

    def subset(self, index: np.ndarray) -> ImageFileDataset:
        return dataclasses.replace(self, paths=self.paths[index], labels=self.labels[index])

    def rescaled(self, target: tuple[float, float]) -> ImageFileDataset:
        (low, high), (target_low, target_high) = self.value_range, target
        scale = (target_high - target_low) / (high - low)
        offset = target_low - low * scale
        return dataclasses.replace(
            self, scale=self.scale * scale, offset=self.offset * scale + offset, value_range=target
        )


@dataclass(eq=False)
class TrainedModel:
    """A Keras model with the class names it predicts and how it was trained."""

    model: Any  # keras.Model; typed loosely so this module never imports TensorFlow
    class_names: tuple[str, ...]
    history: dict[str, list[float]] = field(default_factory=dict)
    stop_reason: str = "completed"
    seconds: float = 0.0

    @property
    def spec(self) -> ModelSpec:
        return ModelSpec(
            input_shape=tuple(int(d) for d in self.model.input_shape[1:]),
            output_shape=tuple(int(d) for d in self.model.output_shape[1:]),
            class_names=self.class_names,
        )


@dataclass(frozen=True, eq=False)
class Predictions:
    """Per-image class probabilities and predicted class; keeps the dataset for result views."""

    probabilities: np.ndarray  # (N, K)
    predicted: np.ndarray  # (N,)
    dataset: ImageData

    @property
    def labels(self) -> np.ndarray:
        return self.dataset.labels

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.dataset.class_names

    @property
    def confidence(self) -> np.ndarray:
        return self.probabilities.max(axis=1)

    @property
    def spec(self) -> PredictionsSpec:
        return PredictionsSpec(self.class_names, count=len(self.predicted))


@dataclass(frozen=True, eq=False)
class Scores:
    """Classification scores; ``confusion[i, j]`` counts true class i predicted as j."""

    class_names: tuple[str, ...]
    confusion: np.ndarray
    accuracy: float
    error_rate: float
    cohen_kappa: float
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray

    @property
    def count(self) -> int:
        return int(self.confusion.sum())

    @property
    def spec(self) -> ScoresSpec:
        return ScoresSpec(self.class_names)

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "accuracy": round(self.accuracy, 6),
            "error_rate": round(self.error_rate, 6),
            "cohen_kappa": round(self.cohen_kappa, 6),
            "confusion_matrix": self.confusion.astype(int).tolist(),
            "per_class": [
                {
                    "class": name,
                    "precision": round(float(p), 6),
                    "recall": round(float(r), 6),
                    "f1": round(float(f), 6),
                    "support": int(s),
                }
                for name, p, r, f, s in zip(
                    self.class_names, self.precision, self.recall, self.f1, self.confusion.sum(axis=1), strict=True
                )
            ],
        }
