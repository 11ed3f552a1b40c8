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
            shape=self.shape, class_names=self.class_names, count=len(self), value_range=self.value_range,
            from_files=not self.in_memory,
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
    #: Where it trained ("CPU", "2 GPUs, mirrored: ...") and in which precision.
    devices: str = ""
    precision: str = "float32"

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
    """Classification scores; ``confusion[i, j]`` counts true class i predicted as j.

    Top-k accuracy and the ROC curves need the class probabilities: Scores made from the
    predicted classes alone have ``top_k`` 0, ``top_k_accuracy`` None and no ``roc``.
    """

    class_names: tuple[str, ...]
    confusion: np.ndarray
    accuracy: float
    error_rate: float
    cohen_kappa: float
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    #: The k of ``top_k_accuracy``: the Scorer's setting, at most the number of classes.
    top_k: int = 0
    #: Share of images whose true class is among the ``top_k`` most probable classes.
    top_k_accuracy: float | None = None
    #: One-vs-rest ROC curve per class, ``None`` for a class without positives or negatives.
    roc: tuple[RocCurve | None, ...] = ()

    @property
    def count(self) -> int:
        return int(self.confusion.sum())

    @property
    def support(self) -> np.ndarray:
        """Images of each true class."""
        return np.asarray(self.confusion).sum(axis=1)

    @property
    def spec(self) -> ScoresSpec:
        return ScoresSpec(self.class_names)

    @property
    def balanced_accuracy(self) -> float:
        """Mean recall over the classes that have images (scikit-learn's definition): on
        imbalanced data it weighs a rare class as much as a frequent one, unlike accuracy."""
        support = self.support
        present = support > 0
        if not present.any():
            return 0.0
        return float(np.mean(np.diag(self.confusion)[present] / support[present]))

    @property
    def has_roc(self) -> bool:
        return bool(self.roc)

    @property
    def auc(self) -> list[float | None]:
        """Each class's one-vs-rest ROC AUC, ``None`` where the class has no curve."""
        if not self.roc:
            return [None] * len(self.class_names)
        return [None if curve is None else curve.auc for curve in self.roc]

    @property
    def macro_auc(self) -> float | None:
        """Mean AUC over the classes that have a ROC curve; ``None`` when none has one."""
        values = [value for value in self.auc if value is not None]
        return float(np.mean(values)) if values else None

    @property
    def auc_classes(self) -> int:
        """How many classes ``macro_auc`` averages."""
        return sum(value is not None for value in self.auc)

    def roc_note(self, index: int) -> str:
        """Why class ``index`` has no ROC curve, or ``""`` when it has one."""
        if not self.roc:
            return "no class probabilities were scored"
        if self.roc[index] is not None:
            return ""
        name = self.class_names[index]
        if int(self.support[index]) == 0:
            return f"no ROC curve: no image of class '{name}' was scored"
        return f"no ROC curve: every image scored is of class '{name}'"

    def macro_auc_note(self) -> str:
        """Which classes the macro AUC leaves out (and why), or ``""`` when it averages all."""
        if not self.roc:
            return "no class probabilities were scored"
        missing = [i for i, curve in enumerate(self.roc) if curve is None]
        if not missing:
            return ""
        if len(missing) == len(self.class_names):
            return "no class has both images of it and images of other classes"
        shown = ", ".join(f"'{self.class_names[i]}'" for i in missing[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        return (
            f"mean over {self.auc_classes} of {len(self.class_names)} classes; "
            f"{shown}{more} without a ROC curve"
        )

    def to_dict(self) -> dict[str, Any]:
        auc = self.auc
        macro = self.macro_auc
        report: dict[str, Any] = {
            "count": self.count,
            "accuracy": round(self.accuracy, 6),
            "error_rate": round(self.error_rate, 6),
            "balanced_accuracy": round(self.balanced_accuracy, 6),
            "top_k": self.top_k,
            "top_k_accuracy": None if self.top_k_accuracy is None else round(self.top_k_accuracy, 6),
            "cohen_kappa": round(self.cohen_kappa, 6),
            "macro_auc": None if macro is None else round(macro, 6),
            "macro_auc_classes": self.auc_classes,
        }
        note = self.macro_auc_note()
        if note:
            report["macro_auc_note"] = note
        report["confusion_matrix"] = self.confusion.astype(int).tolist()
        report["per_class"] = [
            {
                "class": name,
                "precision": round(float(p), 6),
                "recall": round(float(r), 6),
                "f1": round(float(f), 6),
                "support": int(s),
                "auc": None if a is None else round(a, 6),
            }
            for name, p, r, f, s, a in zip(
                self.class_names, self.precision, self.recall, self.f1, self.support, auc, strict=True
            )
        ]
        # One entry per class (none without probabilities); a class without a curve says why.
        report["roc_curves"] = [
            {"class": name, **curve.to_dict()} if curve is not None
            else {"class": name, "auc": None, "note": self.roc_note(index)}
            for index, (name, curve) in enumerate(zip(self.class_names, self.roc, strict=False))
        ]
        return report


@dataclass(frozen=True, eq=False)
class RocCurve:
    """One class against all others: false and true positive rates as the score threshold falls.

    ``fpr``/``tpr`` run from (0, 0) to (1, 1); ``thresholds[i]`` is the lowest probability of
    the class still counted positive at point i (``inf`` at the origin). The points are thinned
    for display (collinear points dropped, a few hundred at most), while ``auc`` is the exact
    area under the full curve.
    """

    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray
    auc: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "auc": round(self.auc, 6),
            "fpr": [round(float(v), 6) for v in self.fpr],
            "tpr": [round(float(v), 6) for v in self.tpr],
            # JSON has no infinity: the origin's threshold (above every score) is written as null.
            "thresholds": [round(float(v), 6) if np.isfinite(v) else None for v in self.thresholds],
        }


@dataclass(frozen=True)
class WrittenModel:
    """What a Network Writer wrote: kept in its outputs for the run report and the CLI summary."""

    path: str
    format: str  # "keras", "h5", "savedmodel" or "tflite"
    size: int  # bytes (all files of a SavedModel folder)
    quantization: str = ""  # TFLite only: "none", "float16" or "dynamic"
    #: TFLite only: top-1 agreement with the Keras model, and on how many images (0: not checked).
    agreement: float | None = None
    agreement_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
