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
        return predict(model, x, len(x), ctx, batch_size=self["batch_size"])

    def _predict_files(self, model: Any, dataset: Any, input_shape: tuple[int, ...], ctx: ExecutionContext) -> np.ndarray:
        """Predict images decoded by the ``tf.data`` pipeline; an image that cannot be decoded
        is an error here (the predictions must stay aligned with the labels)."""
        import dataclasses

        from neuroflow.training.pipeline import decode_failure, file_pipeline

        strict = dataclasses.replace(dataset, on_error="fail")
        pipeline = file_pipeline(strict, batch_size=self["batch_size"], input_shape=input_shape,
                                 progress=ctx.progress)
        try:
            return predict(model, pipeline, len(dataset), ctx)
        except Exception as exc:
            if type(exc).__module__.startswith("tensorflow"):
                raise decode_failure(strict, exc) from None
            raise

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


def predict(model: Any, data: Any, total: int, ctx: ExecutionContext, batch_size: int | None = None) -> np.ndarray:
    """The model's outputs for ``data`` (an array, or a batched ``tf.data`` pipeline).

    ``model.predict`` runs under the strategy the model was trained with, so a model trained on
    several devices also predicts on all of them; a callback reports progress per batch and
    stops at the next batch on cancel.
    """
    from neuroflow.training.bridge import prediction_callback

    units = int(model.output_shape[-1])
    if total == 0:
        return np.zeros((0, units), dtype=np.float32)
    callback = prediction_callback(ctx, total, batch_size)
    outputs = model.predict(data, batch_size=batch_size, verbose=0, callbacks=[callback])
    ctx.check_cancelled()
    ctx.progress(1.0, f"{total:,} images")
    return np.asarray(outputs, dtype=np.float32).reshape(total, units)
