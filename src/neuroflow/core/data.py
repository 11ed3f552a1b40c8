"""Data objects that flow along connections at execute time (the counterparts of specs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .ports import DatasetSpec, ModelSpec, PredictionsSpec, ScoresSpec


@dataclass(frozen=True, eq=False)
class ImageDataset:
    """Images as an (N, H, W, C) array with integer labels (N,) and class names."""

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    value_range: tuple[float, float] = (0.0, 255.0)
    source: str = ""

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def spec(self) -> DatasetSpec:
        return DatasetSpec(
            shape=tuple(int(d) for d in self.images.shape[1:]),
            class_names=self.class_names,
            count=len(self),
            value_range=self.value_range,
        )

    def subset(self, index: np.ndarray) -> ImageDataset:
        return ImageDataset(
            self.images[index], self.labels[index], self.class_names, self.value_range, self.source
        )

    def class_counts(self) -> np.ndarray:
        return np.bincount(self.labels, minlength=len(self.class_names))


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
    dataset: ImageDataset

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
