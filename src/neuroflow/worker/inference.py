"""Trying a trained model on request: predictions, Grad-CAM and activation maps.

The editor asks ``("infer", request, node_id, what, payload)``; the worker answers
``("infer", request, dict_or_error_text)``. ``node_id`` is a Network Learner or Reader (its
``model`` output) or a Network Executor (the model wired into it). ``what`` is:

* ``"describe"`` - ``{}``: the model's input shape, class names, layers with 2-D maps, the
  default Grad-CAM layer and the value range its training data had;
* ``"predict"`` - ``{"images": uint8 (N, H, W, C) at the model's input size}``: probabilities;
* ``"gradcam"`` - ``{"image": ... (H, W, C)}`` or ``{"key": dataset key, "index": i}`` (an image
  the worker holds, already as the model saw it), optional ``"layer"``: the heat map;
* ``"gradcam_many"`` - ``{"key": dataset key, "indices": [...]}``: heat maps of those images;
* ``"activations"`` - an image as for ``gradcam`` and ``"layer"``: that layer's feature maps.

Pixels the editor sends are 0..255 (from files or the drawing pad); they are mapped to the
value range of the model's training data here, exactly as the Normalizer mapped the training
images, so a drawn digit reaches the model as an MNIST digit did.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from neuroflow.core.data import ImageData, TrainedModel

from .protocol import resolve_images

#: The value range assumed when nothing in the workflow says what the model was trained on.
DEFAULT_RANGE = (0.0, 1.0)
#: Set by the editor's worker client: ``ask(node_id, what, payload) -> dict`` (raises on error).
ask: Callable[[str, str, dict[str, Any]], dict[str, Any]] | None = None


def model_of(workflow: Any, node_id: str) -> tuple[TrainedModel, tuple[float, float]]:
    """The trained model behind ``node_id`` and the value range of the images it learned from."""
    item = workflow.nodes.get(node_id) if workflow is not None else None
    if item is None or not item.outputs:
        raise LookupError(f"no results for {node_id} (reset or not executed)")
    model_node = node_id
    trained = next((v for v in item.outputs.values() if isinstance(v, TrainedModel)), None)
    if trained is None:  # an executor: the model wired into it
        connection = workflow.incoming(node_id).get("model")
        source = workflow.nodes.get(connection.source) if connection is not None else None
        value = (source.outputs or {}).get(connection.source_port) if source is not None else None
        if not isinstance(value, TrainedModel):
            raise LookupError(f"{node_id} holds no trained model")
        trained, model_node = value, connection.source
    return trained, _training_range(workflow, model_node)


def _training_range(workflow: Any, model_node: str) -> tuple[float, float]:
    """The learner's training data range; for a read model, the range of the images an
    executor fed it in this workflow; else :data:`DEFAULT_RANGE`."""
    def data_at(node_id: str, port: str) -> ImageData | None:
        connection = workflow.incoming(node_id).get(port)
        source = workflow.nodes.get(connection.source) if connection is not None else None
        value = (source.outputs or {}).get(connection.source_port) if source is not None else None
        return value if isinstance(value, ImageData) else None

    training = data_at(model_node, "training")
    if training is not None:
        return tuple(float(v) for v in training.value_range)  # type: ignore[return-value]
    for connection in workflow.outgoing(model_node):
        images = data_at(connection.target, "images")
        if images is not None and connection.target_port == "model":
            return tuple(float(v) for v in images.value_range)  # type: ignore[return-value]
    return DEFAULT_RANGE


def to_model_range(pixels: np.ndarray, value_range: tuple[float, float]) -> np.ndarray:
    """0..255 pixels mapped linearly to ``value_range`` (float32)."""
    low, high = value_range
    return (np.asarray(pixels, np.float32) / 255.0) * (high - low) + low


def answer(workflow: Any, node_id: str, what: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The worker's answer to one ``infer`` request (raises with a message on a bad one)."""
    from neuroflow.training import explain

    trained, value_range = model_of(workflow, node_id)
    model = trained.model
    input_shape = tuple(int(d) for d in model.input_shape[1:])
    if what == "describe":
        maps = explain.spatial_layers(model)
        return {"input_shape": input_shape, "class_names": list(trained.class_names),
                "layers": maps, "conv_layers": explain.conv_layers(model),
                "default_layer": explain.default_layer(model) if maps else None,
                "value_range": value_range}
    if what == "predict":
        images = to_model_range(np.asarray(payload["images"]), value_range).reshape(-1, *input_shape)
        return {"probabilities": _probabilities(model(images, training=False))}
    if what == "gradcam":
        image = _image(workflow, payload, value_range, input_shape)
        heat, index, layer = explain.grad_cam(model, image, payload.get("layer"))
        probabilities = _probabilities(model(image[None], training=False))[0]
        return {"heat": heat, "class_index": index, "layer": layer, "probabilities": probabilities,
                "image": _display(image, value_range)}
    if what == "gradcam_many":  # thumbnails of a gallery: images the worker holds
        indices = [int(i) for i in payload["indices"]]
        images = np.stack([_image(workflow, {"key": payload["key"], "index": i}, value_range, input_shape)
                           for i in indices])
        return {"indices": indices, "heats": explain.grad_cams(model, images, payload.get("layer"))[0]}
    if what == "activations":
        image = _image(workflow, payload, value_range, input_shape)
        layer = payload.get("layer") or explain.default_layer(model)
        return {"maps": explain.activations(model, image, layer), "layer": layer}
    raise ValueError(f"unknown inference request '{what}'")


def _image(workflow: Any, payload: Mapping[str, Any], value_range: tuple[float, float],
           input_shape: tuple[int, ...]) -> np.ndarray:
    if "key" in payload:  # an image of a dataset the worker holds: as the model saw it
        def outputs_of(nid: str) -> Any:
            item = workflow.nodes.get(nid)
            return item.outputs if item is not None else None

        pixels = resolve_images(outputs_of, tuple(payload["key"]), [int(payload["index"])])[0]
        return np.asarray(pixels, np.float32).reshape(input_shape)
    return to_model_range(np.asarray(payload["image"]), value_range).reshape(input_shape)


def _display(image: np.ndarray, value_range: tuple[float, float]) -> np.ndarray:
    """The model's input back as 0..255 pixels, for the overlay."""
    low, high = value_range
    scaled = (np.asarray(image, np.float32) - low) / ((high - low) or 1.0)
    return np.clip(scaled * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _probabilities(outputs: Any) -> np.ndarray:
    """Rows of class probabilities (a single sigmoid unit p becomes (1 - p, p); logits get a softmax)."""
    values = np.asarray(outputs, np.float32)
    if values.shape[-1] == 1:
        p = np.clip(values[:, 0], 0.0, 1.0)
        return np.stack([1.0 - p, p], axis=1)
    if values.min() >= 0 and np.allclose(values.sum(axis=1), 1.0, atol=1e-3):
        return values
    shifted = np.exp(values - values.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)
