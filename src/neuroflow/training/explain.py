"""Why a model said what it said: Grad-CAM heat maps and per-layer activation maps.

Headless and free of Qt; TensorFlow is imported only inside the functions (the execution
process calls them on request). Both work on a functional sub-model of the trained Keras
model that outputs the chosen layer next to the predictions, so no layer is rebuilt and the
weights are the trained ones.

Grad-CAM (Selvaraju et al., 2017): the gradient of the class score with respect to a conv
layer's feature maps, averaged over space, weights each map; the ReLU of the weighted sum,
scaled to [0, 1] and resized to the image, shows where the evidence for that class lies.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def spatial_layers(model: Any) -> list[str]:
    """Names of the layers whose output is a stack of 2-D feature maps (N, H, W, C), in order.

    Convolutions, poolings, normalisations and activations after a convolution all qualify:
    any of them can be explained or shown as maps. The input layer does not.
    """
    names = []
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        shape = _output_shape(layer)
        if shape is not None and len(shape) == 4:
            names.append(layer.name)
    return names


def conv_layers(model: Any) -> list[str]:
    """The spatial layers that are convolutions (Grad-CAM's usual choice is the last one)."""
    return [name for name in spatial_layers(model) if "Conv" in type(model.get_layer(name)).__name__]


def default_layer(model: Any) -> str:
    """The last convolution, or the last spatial layer when there is no convolution."""
    convs = conv_layers(model) or spatial_layers(model)
    if not convs:
        raise ValueError("the model has no layer with 2-D feature maps to explain (no convolution)")
    return convs[-1]


def _output_shape(layer: Any) -> tuple[Any, ...] | None:
    try:
        shape = layer.output.shape
    except (AttributeError, ValueError):
        return None
    return tuple(shape)


def _probe(model: Any, layer_name: str) -> Any:
    import keras

    layer = model.get_layer(layer_name)
    return keras.Model(model.inputs, [layer.output, model.outputs[0]])


def _scoring_probe(model: Any, layer_name: str) -> tuple[Any, Any]:
    """A probe giving the layer's maps and the class *scores* Grad-CAM differentiates, and a
    function from the probe's second output to those scores.

    Grad-CAM wants the score before the softmax: the probability of a class also rises when
    the other classes' evidence falls, so its gradient mixes in every other class and the map
    often comes out empty. A network ending in a Dense softmax (as NeuroFlow's do) gives its
    logits: the last layer's input times its kernel plus its bias.
    """
    import keras

    layer, last = model.get_layer(layer_name), model.layers[-1]
    activation = getattr(getattr(last, "activation", None), "__name__", "")
    if type(last).__name__ == "Dense" and activation == "softmax" and last is not layer:
        probe = keras.Model(model.inputs, [layer.output, last.input])

        def logits(features: Any) -> Any:
            out = keras.ops.matmul(features, last.kernel)
            return out + last.bias if last.bias is not None else out

        return probe, logits
    return keras.Model(model.inputs, [layer.output, model.outputs[0]]), lambda scores: scores


def grad_cam(model: Any, image: np.ndarray, layer: str | None = None,
             class_index: int | None = None) -> tuple[np.ndarray, int, str]:
    """The Grad-CAM map of ``image`` (H, W, C, as the model takes it) for ``class_index``
    (default: the predicted class) at ``layer`` (default: the last convolution).

    Returns ``(heat, class_index, layer)``: ``heat`` is float32 (H, W) in [0, 1] at the image's
    own size; all zeros when nothing in the layer speaks for the class.
    """
    heats, classes, name = grad_cams(model, np.asarray(image)[None], layer,
                                     None if class_index is None else [class_index])
    return heats[0], int(classes[0]), name


def grad_cams(model: Any, images: np.ndarray, layer: str | None = None,
              classes: list[int] | None = None) -> tuple[np.ndarray, np.ndarray, str]:
    """:func:`grad_cam` of a batch (N, H, W, C) in one pass: (N, H, W) maps, the N classes, the layer.

    One tape serves the batch: the summed class scores' gradient at image n depends on image n
    only (inference mode: no batch statistics), so each map is what a pass of its own gives.
    """
    import tensorflow as tf

    name = layer or default_layer(model)
    probe, scores_of = _scoring_probe(model, name)
    batch = tf.convert_to_tensor(np.asarray(images, np.float32))
    with tf.GradientTape() as tape:
        maps, features = probe(batch, training=False)
        outputs = scores_of(features)
        chosen = tf.argmax(outputs, axis=-1, output_type=tf.int32) if classes is None else \
            tf.constant(classes, tf.int32)
        score = tf.reduce_sum(tf.gather(outputs, chosen, axis=1, batch_dims=1))
    grads = tape.gradient(score, maps)
    size = tuple(int(d) for d in images.shape[1:3])
    if grads is None:  # the class scores do not depend on this layer
        return np.zeros((len(images), *size), np.float32), np.asarray(chosen), name
    weights = tf.reduce_mean(grads, axis=(1, 2))  # (N, C): each map's importance
    cams = tf.nn.relu(tf.reduce_sum(maps * weights[:, None, None, :], axis=-1)).numpy().astype(np.float32)
    peaks = cams.max(axis=(1, 2), keepdims=True)
    cams = np.where(peaks > 0, cams / np.where(peaks > 0, peaks, 1.0), 0.0).astype(np.float32)
    heats = tf.image.resize(cams[..., None], size, method="bilinear").numpy()[..., 0]
    return np.clip(heats, 0.0, 1.0).astype(np.float32), np.asarray(chosen), name


def activations(model: Any, image: np.ndarray, layer: str) -> np.ndarray:
    """The feature maps ``layer`` computes for ``image``: float32 (h, w, channels)."""
    import tensorflow as tf

    if layer not in spatial_layers(model):
        raise ValueError(f"layer '{layer}' has no 2-D feature maps (choose one of {', '.join(spatial_layers(model))})")
    probe = _probe(model, layer)
    maps, _outputs = probe(tf.convert_to_tensor(np.asarray(image, np.float32)[None]), training=False)
    return np.asarray(maps[0], dtype=np.float32)
