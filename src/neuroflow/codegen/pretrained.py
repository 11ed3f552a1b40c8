"""Layer emitter of the Pretrained Network: the Keras Applications backbone, as NeuroFlow builds it.

``training/backbones.py`` (``build_backbone``) wraps the headless application in a small model
named like the layer: an input, grayscale repeated to three channels when needed, one
``preprocess`` layer taking the pixel range that reaches it to the architecture's range, and
the application, frozen or partly trainable. The scale and offset of ``preprocess`` are plain
arithmetic (``preprocess_map``), computed here at export time.
"""

from __future__ import annotations

from neuroflow.core.errors import NeuroFlowError
from neuroflow.core.network import LayerDesc, NetworkSpec, ValueRange
from neuroflow.training.backbones import FROM_SCRATCH_MOMENTUM, architecture, preprocess_map

from .network import ModelText, call, layer_emitter, variable


@layer_emitter("neuroflow.training.backbones:build_backbone")
def pretrained(desc: LayerDesc, spec: NetworkSpec, args: list[str], value_range: ValueRange | None,
               text: ModelText) -> str:
    config = dict(desc.config)
    arch = architecture(config["architecture"])
    if value_range is None:
        raise NeuroFlowError(f"cannot export '{desc.label}': {arch.name} must see image pixels")
    if config["weights"] == "file" and arch.module == "efficientnet":
        raise NeuroFlowError(f"cannot export '{desc.label}': EfficientNet weights from a file need a "
                             "correction of the stored statistics the script does not make yet")
    height, width, channels = spec.by_id[desc.inputs[0]].output_shape
    scales, offsets = preprocess_map(arch, value_range)
    weights = {"imagenet": "'imagenet'", "none": "None"}.get(config["weights"], repr(config["weights_path"]))
    options = "".join(f", {key}={value!r}" for key, value in arch.options)
    function = f"pretrained_{variable(desc.id)}"
    lines = [
        f"def {function}(images, pretrained_weights=True):",
        f'    """{arch.name} from Keras Applications without its classifier ({config["weights"]} weights, '
        f'{config["trainable"]})."""',
        f"    app = keras.applications.{arch.name}(",
        f"        include_top=False, weights={weights if weights == 'None' else weights + ' if pretrained_weights else None'}, "
        f"input_shape=({height}, {width}, 3){options})",
    ]
    if config["weights"] == "none":
        lines += ["    for layer in app.layers:  # statistics that follow a workbench-sized dataset",
                  "        if isinstance(layer, layers.BatchNormalization):",
                  f"            layer.momentum = min(float(layer.momentum), {FROM_SCRATCH_MOMENTUM!r})"]
    mode, last = config["trainable"], int(config["train_last"])
    if mode == "all":
        lines.append("    app.trainable = True")
    else:
        first = f"len(app.layers) - {last}" if mode == "last" else "len(app.layers)"
        lines += [f"    first_trained = {first}",
                  "    for index, layer in enumerate(app.layers):",
                  "        layer.trainable = index >= first_trained and not isinstance(layer, layers.BatchNormalization)",
                  "        if not layer.trainable and isinstance(layer, layers.Dropout):",
                  "            layer.rate = 0.0"]
        if mode == "frozen":
            lines.append("    app.trainable = False")
    lines.append(f"    inputs = keras.Input(shape=({height}, {width}, {channels}), name={desc.keras_name + '_images'!r})")
    lines.append("    x = inputs")
    if channels == 1:
        lines.append("    x = layers.Concatenate(name='gray_to_rgb')([x, x, x])")
    if arch.preprocessing != "caffe":
        rescaling = call("layers.Rescaling", [], [("scale", list(scales)), ("offset", list(offsets)),
                                                  ("name", "preprocess")], "    ")
        lines.append(f"    x = {rescaling}(x)")
    else:  # caffe style also turns RGB into BGR: a frozen 1x1 convolution with a permutation kernel
        lines += ["    kernel = np.zeros((1, 1, 3, 3), dtype='float32')",
                  f"    for out, scale in enumerate({list(scales)!r}):",
                  "        kernel[0, 0, 2 - out, out] = scale",
                  "    conv = layers.Conv2D(3, 1, use_bias=True, trainable=False, name='preprocess')",
                  "    conv.build((None, None, None, 3))",
                  f"    conv.set_weights([kernel, np.asarray({list(offsets)!r}, dtype='float32')])",
                  "    x = conv(x)"]
    lines.append(f"    return keras.Model(inputs, app(x), name={desc.keras_name!r})(images)")
    text.helpers += [*lines, "", ""]
    return f"{function}({args[0]}, pretrained_weights)"
