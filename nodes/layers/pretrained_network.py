"""Pretrained Network: a Keras Applications backbone without its classifier (transfer learning)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from neuroflow.core.errors import ConfigureError
from neuroflow.core.layer_node import NETWORK_OUT, LayerNode
from neuroflow.core.network import LayerDesc, NetworkSpec, format_shape
from neuroflow.core.node import ExecutionContext
from neuroflow.core.ports import Port, PortType, Spec
from neuroflow.core.settings import ChoiceSetting, IntSetting, IntTupleSetting, PathSetting
from neuroflow.training.backbones import (
    ARCHITECTURES,
    TRAINABLE,
    WEIGHTS,
    Architecture,
    check_weights_file,
    preprocessing_params,
)

from ._common import HEIGHT_WIDTH

BUILDER = "neuroflow.training.backbones:build_backbone"
WEIGHT_SUFFIXES = (".h5", ".hdf5")


def _architecture_label(arch: Architecture) -> str:
    return f"{arch.name} ({arch.params / 1e6:.1f} M parameters, {arch.features} features)"


class PretrainedNetworkNode(LayerNode):
    type_id = "neuroflow.layers.pretrained_network"
    name = "Pretrained Network"
    description = (
        "A proven image network from Keras Applications (MobileNet, EfficientNet, ResNet, "
        "DenseNet), trained on the 1.2 million photos of ImageNet, without its classifier: it "
        "turns each image into a small grid of features. Add Global Average Pooling, Dropout "
        "and a Dense softmax layer with one unit per class after it and train: transfer "
        "learning reaches good accuracy from a few hundred images. Unconnected it starts the "
        "network with an input of its own size (3 colour channels); after an Input and "
        "augmentation layers it takes their images (grayscale is repeated to three channels). "
        "It brings its architecture's preprocessing for whatever pixel range reaches it, raw "
        "0-255 or normalised. ImageNet weights are downloaded on first use into the Keras cache."
    )
    keywords = ("transfer learning", "pretrained", "imagenet", "backbone", "fine-tune", "fine tuning",
                "feature extractor", "keras applications", "mobilenet", "efficientnet", "resnet", "densenet")
    inputs = (
        Port("network", PortType.NETWORK, "images", optional=True,
             help="Optional: an Input (and augmentation layers) with images of shape (height, width, "
                  "3 or 1). Unconnected, the node starts the network with its own input."),
    )
    outputs = (NETWORK_OUT,)
    range_rule = "lost"
    builder = BUILDER
    settings_spec = (
        ChoiceSetting(
            "architecture", "Architecture", "MobileNetV2", choices=tuple(ARCHITECTURES),
            choice_labels=tuple(_architecture_label(arch) for arch in ARCHITECTURES.values()),
            help="The network. MobileNet is small and fast (a good start on a CPU); EfficientNet is "
                 "more accurate for its size, B0 to B3 growing; ResNet50 and DenseNet121 are the "
                 "classic larger ones.",
        ),
        IntTupleSetting(
            "input_size", "Input size", (224, 224), min_length=2, max_length=2, minimum=1, maximum=4096,
            element_names=HEIGHT_WIDTH,
            help="Height and width of the images when nothing is connected to the input (the "
                 "images have 3 colour channels). ImageNet weights were learnt at 224x224; smaller "
                 "sizes are faster, at least 32x32. A connected input sets the size instead.",
        ),
        ChoiceSetting(
            "weights", "Weights", "imagenet", choices=WEIGHTS,
            choice_labels=("ImageNet (downloaded once)", "none (random, trained from scratch)",
                           "from a file"),
            help="ImageNet: what the network learnt from ImageNet, the point of transfer learning; "
                 "downloaded on first use into the Keras cache (~/.keras/models). None: random "
                 "weights, trained from scratch (needs 'all' to train). File: a Keras weights file "
                 "of the same headless network (.h5, e.g. the no-top file Keras downloads, or "
                 ".weights.h5), e.g. for a machine without internet.",
        ),
        PathSetting(
            "weights_path", "Weights file", "", mode="file",
            file_filter="Keras weights (*.weights.h5 *.h5 *.hdf5)",
            visible_when=("weights", ("file",)),
            help="A Keras weights file of the headless network chosen above.",
        ),
        ChoiceSetting(
            "trainable", "What trains", "frozen", choices=TRAINABLE,
            choice_labels=("frozen: only the layers after it", "its last N layers too", "all of it"),
            help="Frozen: the pretrained features stay as they are and only the layers after it "
                 "learn - fast, and robust on small datasets; start here. Last N layers: fine-tune "
                 "the top of the network too (BatchNormalization layers stay frozen), best with a "
                 "low learning rate after a frozen run. All: train everything, as for random weights.",
        ),
        IntSetting(
            "train_last", "Layers to train (N)", 20, minimum=1, maximum=10_000,
            visible_when=("trainable", ("last",)),
            help="How many of the network's last Keras layers train (weightless layers count too).",
        ),
    )

    def configure(self, specs: Mapping[str, Spec | None]) -> dict[str, Spec]:
        arch = ARCHITECTURES[self["architecture"]]
        self._check_settings(arch)
        network = specs.get("network")
        node_id = self.node_id or self.type_id
        if network is None:
            height, width = self["input_size"]
            if min(height, width) < arch.min_size:
                raise ConfigureError(
                    f"{arch.name} needs images of at least {arch.min_size}x{arch.min_size} pixels; "
                    f"setting 'input_size' is {height}x{width}"
                )
            shape: tuple[int, ...] = (height, width, 3)
            images = LayerDesc(
                id=f"{node_id}_input", class_name="InputLayer", config=(("shape", shape),), inputs=(),
                output_shape=shape, params=0, label="Input",
            )
            network = NetworkSpec.start(images)
        elif not isinstance(network, NetworkSpec):
            raise ConfigureError(f"input 'network' carries {type(network).__name__}, not NetworkSpec")
        else:
            shape = network.shape
            self._check_images(arch, shape, network)
        height, width, channels = shape
        layer = LayerDesc(
            id=node_id,
            class_name=arch.name,
            config=(
                ("architecture", arch.name),
                ("input_shape", (height, width, channels)),
                ("train_last", self["train_last"] if self["trainable"] == "last" else 0),
                ("trainable", self["trainable"]),
                ("weights", self["weights"]),
                ("weights_path", self._weights_path() if self["weights"] == "file" else ""),
            ),
            inputs=(network.output,),
            output_shape=arch.output_shape(height, width),
            params=arch.params + preprocessing_params(arch.preprocessing),
            label=self.name,
            range_rule=self.range_rule,
            builder=self.builder,
        )
        return {NETWORK_OUT.name: network.then(layer)}

    def execute(self, inputs: Mapping[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
        return self.configure(inputs)

    def _weights_path(self) -> str:
        """The weights file; a relative path is taken from the workflow file's folder."""
        return str(self.resolve_path(self["weights_path"]))

    def _check_settings(self, arch: Architecture) -> None:
        """Refuse combinations that cannot train sensibly, in one line each."""
        weights, trainable = self["weights"], self["trainable"]
        if weights == "none" and trainable != "all":
            raise ConfigureError(
                f"weights 'none' are random and must all be trained, but what trains is '{trainable}': "
                "set it to 'all', or use ImageNet weights"
            )
        if weights == "file":
            path = self["weights_path"].strip()
            if not path:
                raise ConfigureError("weights 'file' needs a weights file: set 'weights_path'")
            if not path.lower().endswith(WEIGHT_SUFFIXES):
                raise ConfigureError(
                    f"the weights file '{path}' is not a Keras weights file (.h5 or .weights.h5)"
                )
            check_weights_file(self._weights_path(), path)
        if trainable == "last" and self["train_last"] > arch.trainable_layers:
            raise ConfigureError(
                f"{arch.name} has {arch.trainable_layers} layers, so it cannot train its last "
                f"{self['train_last']} (setting 'train_last'); choose 'all' to train everything"
            )

    def _check_images(self, arch: Architecture, shape: tuple[int, ...], network: NetworkSpec) -> None:
        if len(shape) != 3 or shape[2] not in (1, 3):
            raise ConfigureError(
                f"{self.name} needs images of shape (height, width, 3) or (height, width, 1), "
                f"got shape {format_shape(shape)}"
            )
        if not network.carries_pixels():
            raise ConfigureError(
                f"{self.name} needs image pixels, but a layer before it (such as Conv2D or Dense) has "
                "turned them into features: connect it right after the Input or augmentation layers"
            )
        if min(shape[0], shape[1]) < arch.min_size:
            raise ConfigureError(
                f"{arch.name} needs images of at least {arch.min_size}x{arch.min_size} pixels, "
                f"got shape {format_shape(shape)}"
            )
