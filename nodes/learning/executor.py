"""Network Executor: applies a trained model to images and outputs class probabilities."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from neuroflow.core.data import ImageData, ImageDataset, Predictions, TrainedModel
from neuroflow.core.errors import ConfigureError
from neuroflow.core.node import ExecutionContext, Node
from neuroflow.core.ports import DatasetSpec, ModelSpec, Port, PortType, PredictionsSpec, Spec
from neuroflow.core.settings import IntSetting
from neuroflow.training.model_files import class_count
from neuroflow.training.shapes import needs_reshape, reshape_note

#: Row sums further than this from 1 mean the outputs are not probabilities.
_SUM_TOLERANCE = 1e-3


class NetworkExecutorNode(Node):
    type_id = "neuroflow.learning.executor"
    category = "Learning"
    name = "Network Executor"
    description = (
        "Applies a trained model to images and outputs, for every image, the probability of each "
        "class and the predicted class (the most probable one), next to the true label. Connect "
        "a Scorer to measure accuracy, or look at the table of predictions. Images are processed "
        "in batches (images in files are decoded in parallel while earlier batches are "
        "predicted), so large datasets fit in memory and Cancel acts between batches."
    )
    keywords = ("predict", "inference", "apply", "classify", "probabilities")
    inputs = (
        Port("model", PortType.MODEL, "trained model", help="A model from a Network Learner or Reader."),
        Port("images", PortType.IMAGES, "images", help="Images to classify (with their true labels)."),
    )
    outputs = (Port("predictions", PortType.PREDICTIONS, "predictions",
                    help="Class probabilities and predicted class per image."),)
    settings_spec = (
        IntSetting("batch_size", "Batch size", 256, minimum=1, maximum=65_536,
                   help="Images per prediction step; smaller uses less memory."),
    )

    def configure(self, specs: Mapping[str, Spec | None]) -> dict[str, Spec]:
        model: ModelSpec = self.require(specs, "model", ModelSpec)
        images: DatasetSpec = self.require(specs, "images", DatasetSpec)
        needs_reshape(images.shape, model.input_shape, data_what="the images",
                      reader_resizes=images.from_files)
        predicted = class_count(model)
        if predicted != len(images.class_names):
            raise ConfigureError(
                f"the model predicts {predicted} classes but the images have "
                f"{len(images.class_names)} classes"
            )
        return {"predictions": PredictionsSpec(images.class_names, count=images.count)}

    def execute(self, inputs: Mapping[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
        from neuroflow.training.shapes import check_labels, model_inputs

        trained: TrainedModel = inputs["model"]
        dataset: ImageData = inputs["images"]
        spec = trained.spec
        self.configure({"model": spec, "images": dataset.spec})
        check_labels(dataset.labels, len(dataset.class_names), data_what="the images")
        if needs_reshape(dataset.spec.shape, spec.input_shape, data_what="the images"):
            ctx.warn(reshape_note(dataset.spec.shape, spec.input_shape, data_what="the images"))
        if trained.class_names != dataset.class_names:
            ctx.warn(
                f"the model was trained on classes {', '.join(trained.class_names[:5])}... but the "
                f"images are labelled {', '.join(dataset.class_names[:5])}...; predictions use the "
                "images' class names in the same order"
            )
        if isinstance(dataset, ImageDataset):
            outputs = self._predict(trained.model, model_inputs(dataset.images, spec.input_shape), ctx)
        else:
            outputs = self._predict_files(trained.model, dataset, spec.input_shape, ctx)
        probabilities = self._as_probabilities(outputs, ctx)
        predicted = probabilities.argmax(axis=1) if len(probabilities) else np.zeros(0, dtype=np.int64)
        return {"predictions": Predictions(probabilities, predicted, dataset)}

    def _predict(self, model: Any, x: np.ndarray, ctx: ExecutionContext) -> np.ndarray:
        batch = self["batch_size"]
        total = len(x)
        units = int(model.output_shape[-1])
        out = np.empty((total, units), dtype=np.float32)
        for start in range(0, total, batch):
            ctx.progress(start / total, f"{start:,} of {total:,} images")
            stop = min(start + batch, total)
            out[start:stop] = _predict_batch(model, x[start:stop], batch, total, units)
        ctx.progress(1.0, f"{total:,} images")
        return out

    def _predict_files(self, model: Any, dataset: Any, input_shape: tuple[int, ...], ctx: ExecutionContext) -> np.ndarray:
        """Predict images decoded by the ``tf.data`` pipeline; an image that cannot be decoded
        is an error here (the predictions must stay aligned with the labels)."""
        import dataclasses

        from neuroflow.training.pipeline import decode_failure, file_pipeline

        strict = dataclasses.replace(dataset, on_error="fail")
        batch = self["batch_size"]
        total = len(dataset)
        units = int(model.output_shape[-1])
        out = np.empty((total, units), dtype=np.float32)
        pipeline = file_pipeline(strict, batch_size=batch, input_shape=input_shape, progress=ctx.progress)
        start = 0
        try:
            for images in pipeline:
                ctx.progress(start / max(total, 1), f"{start:,} of {total:,} images")
                chunk = images.numpy()
                stop = start + len(chunk)
                out[start:stop] = _predict_batch(model, chunk, batch, total, units)
                start = stop
        except Exception as exc:
            if type(exc).__module__.startswith("tensorflow"):
                raise decode_failure(strict, exc) from None
            raise
        ctx.progress(1.0, f"{total:,} images")
        return out

    @staticmethod
    def _as_probabilities(outputs: np.ndarray, ctx: ExecutionContext) -> np.ndarray:
        """Rows of class probabilities; a single sigmoid unit p becomes (1 - p, p)."""
        if outputs.shape[1] == 1:
            p = np.clip(outputs[:, 0], 0.0, 1.0)
            return np.stack([1.0 - p, p], axis=1).astype(np.float32)
        if len(outputs) == 0:
            return outputs
        sums = outputs.sum(axis=1)
        if outputs.min() >= 0 and np.all(np.abs(sums - 1.0) <= _SUM_TOLERANCE):
            return outputs
        ctx.warn(
            "the model's outputs are not probabilities (rows sum to "
            f"{float(sums.min()):.3g} to {float(sums.max()):.3g}); applied softmax - end the "
            "network in a softmax layer"
        )
        shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
        return (shifted / shifted.sum(axis=1, keepdims=True)).astype(np.float32)


def _predict_batch(model: Any, chunk: np.ndarray, batch: int, total: int, units: int) -> np.ndarray:
    """Outputs for one batch; a short last batch is padded, since a new shape would retrace."""
    count = len(chunk)
    if count < batch < total:
        chunk = np.concatenate([chunk, np.zeros((batch - count, *chunk.shape[1:]), chunk.dtype)])
    result = np.asarray(model.predict_on_batch(chunk))
    return result[:count].reshape(count, units)
