"""Pretrained backbones: Keras Applications without their classifier, for transfer learning.

Two halves. The *rules* of each architecture - how many features it outputs, how it shrinks
an image, its parameter and layer counts, its smallest input, its preprocessing and where
Keras keeps its ImageNet weights - are plain data here, so the Pretrained Network node
configures (shape, parameter count, refusals) without TensorFlow. The *builder*
(:func:`build_backbone`, named in the node's :class:`~neuroflow.core.network.LayerDesc`) and
:func:`prepare` (which fetches the weights with progress before the model is built) import
Keras inside their functions.

A backbone is one nested functional ``keras.Model`` named like its layer description: the
images (grayscale repeated to three channels), one ``preprocess`` layer mapping the pixel range
that reaches it onto what the architecture was trained on, and the Keras application. Only
standard serializable layers are used - models are loaded in safe mode, which refuses Lambda.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neuroflow.core.errors import ConfigureError, DataError
from neuroflow.core.userfiles import check_regular_file

Progress = Callable[[float | None, str], None]

#: Base URL tried before Keras's own hosts (tests serve weights from 127.0.0.1 through it).
MIRROR_VARIABLE = "NEUROFLOW_WEIGHTS_MIRROR"

#: ImageNet channel statistics (RGB) in the [0, 1] scale, as torch-style preprocessing uses them.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: Caffe-style preprocessing subtracts these from 0-255 pixels in BGR order.
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)

#: What each preprocessing style feeds the application: ``tf`` scales to [-1, 1], ``raw`` keeps
#: 0-255 (the application preprocesses inside), ``caffe`` is BGR minus the ImageNet mean,
#: ``torch`` is (x / 255 - mean) / std per channel.
PREPROCESSING = ("tf", "raw", "caffe", "torch")

#: The square sizes MobileNetV2 has ImageNet weights for; other sizes load the 224 weights.
MOBILENET_V2_SIZES = (96, 128, 160, 192, 224)


@dataclass(frozen=True)
class Architecture:
    """What configure needs to know about one Keras application, and where its weights live."""

    #: The ``keras.applications`` function, e.g. ``"MobileNetV2"``.
    name: str
    #: The ``keras.applications`` module holding its ``preprocess_input``.
    module: str
    #: Channels of the feature map it outputs.
    features: int
    #: ``count_params()`` of the headless application (independent of the input size).
    params: int
    #: ``len(model.layers)`` of the headless application, its InputLayer included.
    layers: int
    #: How each of its five halvings rounds an odd size: ``ceil`` for "same"-padded strides
    #: (or Keras's ``correct_pad``), ``floor`` for an unpadded 2x2 pooling.
    halvings: tuple[str, ...]
    preprocessing: str
    weights_base: str
    #: The no-top weights file name; ``{rows}`` is filled in for MobileNetV2.
    weights_file: str
    #: The MD5 Keras checks the file against, when it has one.
    md5: str | None
    min_size: int = 32
    #: Keyword arguments passed to the application besides the standard ones.
    options: tuple[tuple[str, Any], ...] = ()

    @property
    def shrink(self) -> int:
        return 2 ** len(self.halvings)

    def output_shape(self, height: int, width: int) -> tuple[int, int, int]:
        """The feature map's shape for an input of ``height`` x ``width`` pixels."""
        return (_halve(height, self.halvings), _halve(width, self.halvings), self.features)

    def weights_name(self, height: int, width: int) -> str:
        """The no-top ImageNet weights file Keras fetches for this input size."""
        rows = height if height == width and height in MOBILENET_V2_SIZES else 224
        return self.weights_file.format(rows=rows)

    def weights_url(self, height: int, width: int) -> str:
        return self.weights_base + self.weights_name(height, width)

    @property
    def trainable_layers(self) -> int:
        """Layers that 'train the last N layers' can count (all but the InputLayer)."""
        return self.layers - 1


def _halve(size: int, halvings: Sequence[str]) -> int:
    for rounding in halvings:
        size = -(-size // 2) if rounding == "ceil" else size // 2
    return size


_MOBILENET_V2 = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/"
_MOBILENET_V3 = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/"
_EFFICIENTNET = "https://storage.googleapis.com/keras-applications/"
_RESNET = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
_DENSENET = "https://storage.googleapis.com/tensorflow/keras-applications/densenet/"
_CEIL5 = ("ceil",) * 5


def _efficientnet(variant: str, features: int, params: int, layers: int, md5: str) -> Architecture:
    return Architecture(
        f"EfficientNet{variant.upper()}", "efficientnet", features, params, layers, _CEIL5, "raw",
        _EFFICIENTNET, f"efficientnet{variant}_notop.h5", md5,
    )


ARCHITECTURES: dict[str, Architecture] = {
    arch.name: arch
    for arch in (
        Architecture(
            "MobileNetV2", "mobilenet_v2", 1280, 2_257_984, 154, _CEIL5, "tf", _MOBILENET_V2,
            "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{rows}_no_top.h5", None,
        ),
        Architecture(
            "MobileNetV3Small", "mobilenet_v3", 576, 939_120, 157, _CEIL5, "raw", _MOBILENET_V3,
            "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5", "d3e8ec802a04aa4fc771ee12a9a9b836",
            options=(("include_preprocessing", True),),
        ),
        Architecture(
            "MobileNetV3Large", "mobilenet_v3", 960, 2_996_352, 187, _CEIL5, "raw", _MOBILENET_V3,
            "weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5", "07fb09a5933dd0c8eaafa16978110389",
            options=(("include_preprocessing", True),),
        ),
        _efficientnet("b0", 1280, 4_049_571, 237, "50bc09e76180e00e4465e1a485ddc09d"),
        _efficientnet("b1", 1280, 6_575_239, 339, "74c4e6b3e1f6a1eea24c589628592432"),
        _efficientnet("b2", 1408, 7_768_569, 339, "111f8e2ac8aa800a7a99e3239f7bfb39"),
        _efficientnet("b3", 1536, 10_783_535, 384, "af6d107764bb5b1abb91932881670226"),
        Architecture(
            "ResNet50", "resnet50", 2048, 23_587_712, 175, _CEIL5, "caffe", _RESNET,
            "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5", "4d473c1dd8becc155b73f8504c6f6626",
        ),
        Architecture(
            "DenseNet121", "densenet", 1024, 7_037_504, 427, ("ceil", "ceil", "floor", "floor", "floor"),
            "torch", _DENSENET, "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5",
            "30ee3e1110167f948a6b9946edeeb738",
        ),
    )
}

WEIGHTS = ("imagenet", "none", "file")
TRAINABLE = ("frozen", "last", "all")


def preprocessing_params(preprocessing: str) -> int:
    """Parameters of the ``preprocess`` layer: caffe style needs a 1x1 convolution (3x3 + 3)."""
    return 12 if preprocessing == "caffe" else 0


def architecture(name: str) -> Architecture:
    try:
        return ARCHITECTURES[name]
    except KeyError:
        raise ConfigureError(
            f"unknown architecture '{name}' (known: {', '.join(ARCHITECTURES)})"
        ) from None


# -- weights: where Keras looks, and fetching them with progress --------------------------------
def keras_cache_dir() -> Path:
    """The folder where Keras's applications look for weights (``~/.keras/models``, or under
    ``KERAS_HOME``), with Keras's own fall-back to the temporary folder when it is read-only."""
    try:
        from keras.src.backend.config import keras_home  # the value Keras itself uses

        base = keras_home()
    except ImportError:  # pragma: no cover - a Keras without this accessor
        base = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    base = os.path.expanduser(base)
    if not os.access(base, os.W_OK):
        base = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(), ".keras")
    return Path(base) / "models"


def weights_sources(arch: Architecture, height: int, width: int) -> list[str]:
    """The URLs tried in order: the mirror from :data:`MIRROR_VARIABLE` (if set), then Keras's."""
    name = arch.weights_name(height, width)
    urls = []
    mirror = os.environ.get(MIRROR_VARIABLE, "").strip()
    if mirror:
        urls.append(mirror.rstrip("/") + "/" + name)
    urls.append(arch.weights_url(height, width))
    return urls


def fetch_imagenet_weights(arch: Architecture, height: int, width: int, progress: Progress | None = None) -> Path:
    """Put the ImageNet weights Keras will load into its cache, downloading them with progress.

    A cached file that Keras would accept (its MD5 matches, where Keras has one) is kept. Every
    failure is one :class:`DataError` naming the file, its URL and the folder it belongs in.
    """
    from neuroflow.datasets.download import download_file

    name = arch.weights_name(height, width)
    folder = keras_cache_dir()
    target = folder / name
    if target.exists() and not target.is_file():  # Keras would block on a named pipe there
        raise DataError(f"'{target}' is not a regular file; remove it so the weights can be downloaded")
    if target.is_file() and (arch.md5 is None or _md5(target) == arch.md5):
        return target
    what = f"the {arch.name} ImageNet weights {name}"
    problems = []
    for url in weights_sources(arch, height, width):
        try:
            download_file(url, target, progress=progress, what=what)
        except DataError as exc:
            problems.append(str(exc))
            continue
        if arch.md5 is None or _md5(target) == arch.md5:
            return target
        target.unlink(missing_ok=True)
        problems.append(f"{what} from {url} does not match Keras's MD5 checksum {arch.md5}; the file was removed")
    raise DataError(
        "; ".join(problems) + f" - to work offline, put {name} (from {arch.weights_url(height, width)}) "
        f"into {folder}, or set the Pretrained Network's weights to 'file'"
    )


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def prepare(desc: Any, progress: Progress) -> None:
    """Before the model is built: fetch ImageNet weights (with progress), check a weights file."""
    config = dict(desc.config)
    height, width, _ = config["input_shape"]
    if config["weights"] == "imagenet":
        fetch_imagenet_weights(architecture(config["architecture"]), height, width, progress)
    elif config["weights"] == "file":
        check_weights_file(Path(config["weights_path"]).expanduser(), config["weights_path"])


def check_weights_file(path: str | Path, shown: str) -> None:
    """Refuse a weights file that is missing or not a regular file (a named pipe would block
    Keras, a device never end), before Keras is given it."""
    try:
        check_regular_file(path, shown, "weights file")
    except FileNotFoundError:
        raise DataError(f"the weights file '{shown}' does not exist") from None
    except OSError as exc:
        raise DataError(f"cannot read the weights file '{shown}': {exc.strerror or exc}") from None


# -- building the Keras model ---------------------------------------------------------------------
def build_backbone(desc: Any, inputs: Sequence[Any], value_range: tuple[float, float] | None) -> Any:
    """The :class:`~neuroflow.core.network.LayerDesc` builder: the backbone applied to ``inputs``."""
    import keras

    config = dict(desc.config)
    arch = architecture(config["architecture"])
    if value_range is None:  # configure refuses this placement; a hand-made spec may not
        raise ConfigureError(f"{arch.name} must see image pixels, but a layer before it changes them")
    height, width, channels = (int(d) for d in inputs[0].shape[1:])
    app = application(arch, height, width, config["weights"], config["weights_path"])
    if config["weights"] == "none":
        quicken_batch_statistics(app)
    set_trainable(app, config["trainable"], int(config["train_last"]))
    images = keras.Input(shape=(height, width, channels), name=f"{desc.keras_name}_images")
    x = images
    if channels == 1:
        x = keras.layers.Concatenate(name="gray_to_rgb")([x, x, x])
    x = preprocess_layer(arch, value_range, _efficientnet_correction(arch, app, config["weights"]))(x)
    backbone = keras.Model(images, app(x), name=desc.keras_name)
    return backbone(inputs[0])


def application(arch: Architecture, height: int, width: int, weights: str, weights_path: str = "") -> Any:
    """The headless Keras application for ``height`` x ``width`` RGB images.

    ``weights``: ``imagenet`` (Keras finds the file :func:`fetch_imagenet_weights` cached),
    ``none`` (random, seeded by ``keras.utils.set_random_seed``) or ``file``.
    """
    import keras

    source: str | None = "imagenet" if weights == "imagenet" else None
    if weights == "file":
        source = str(Path(weights_path).expanduser())
        check_weights_file(source, weights_path)
    build = getattr(keras.applications, arch.name)
    with warnings.catch_warnings():
        # ImageNet weights of another input size are the standard transfer-learning case.
        warnings.filterwarnings("ignore", message=".*input_shape. is undefined or non-square")
        try:
            return build(include_top=False, weights=source, input_shape=(height, width, 3), **dict(arch.options))
        except (ValueError, OSError, KeyError) as exc:
            if weights != "file":
                raise
            first = str(exc).strip().splitlines()[0].rstrip(" :") if str(exc).strip() else type(exc).__name__
            raise DataError(
                f"the weights file '{weights_path}' does not fit a headless {arch.name}: {first}"
            ) from None


#: BatchNormalization momentum of a backbone trained from random weights (see below).
FROM_SCRATCH_MOMENTUM = 0.9


def quicken_batch_statistics(app: Any) -> None:
    """Let the moving statistics of a backbone trained from scratch follow its batches quickly.

    The applications' BatchNormalization layers average their statistics with momentum 0.999
    (ImageNet runs take hundreds of thousands of steps), so after the few hundred steps of a
    workbench-sized dataset the moving mean and variance are still near their initial 0 and 1
    and the trained network predicts one class for everything, whatever it learnt. With 0.9
    they follow within a few dozen batches; pretrained weights keep their own statistics.
    """
    import keras

    for layer in app.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = min(float(layer.momentum), FROM_SCRATCH_MOMENTUM)


def set_trainable(app: Any, mode: str, last: int = 0) -> None:
    """Freeze the application as ``mode`` says: ``frozen`` (nothing trains), ``last`` (its last
    ``last`` layers train, BatchNormalization excepted) or ``all``.

    A frozen part must run as at inference, the point of the Keras transfer-learning recipe.
    Keras 3 makes a frozen BatchNormalization use its moving statistics; but calling the
    backbone with ``training=False`` does not hold inside a functional model (``fit`` passes
    ``training=True`` down to every layer), so the stochastic-depth Dropout layers of a frozen
    EfficientNet part get rate 0 instead: they drop nothing when predicting either way.
    """
    import keras

    if mode == "all":
        app.trainable = True
        return
    if mode not in ("frozen", "last"):
        raise ConfigureError(f"unknown trainable mode '{mode}' (known: {', '.join(TRAINABLE)})")
    layers = app.layers
    first_trained = len(layers) - last if mode == "last" else len(layers)
    for index, layer in enumerate(layers):
        trains = index >= first_trained and not isinstance(layer, keras.layers.BatchNormalization)
        layer.trainable = trains
        if not trains and isinstance(layer, keras.layers.Dropout):
            layer.rate = 0.0
    if mode == "frozen":
        app.trainable = False


def _efficientnet_correction(arch: Architecture, app: Any, weights: str) -> tuple[float, ...] | None:
    """Per-channel factors Keras adds after EfficientNet's Normalization for ImageNet weights.

    Keras's ImageNet EfficientNet files store the ImageNet standard deviation where the
    Normalization layer expects a variance, and Keras divides by its square root once more - but
    only when asked for ``weights="imagenet"``. Loading the same file from a path (weights
    'file') builds the model without that step; so when a loaded file carries those statistics,
    the same factors are applied here, in the preprocess layer, and 'file' equals 'imagenet'.
    """
    if weights != "file" or arch.module != "efficientnet":
        return None
    import keras
    import numpy as np

    norm = next(layer for layer in app.layers if isinstance(layer, keras.layers.Normalization))
    variance = np.asarray(norm.get_weights()[1], dtype=np.float64).reshape(-1)  # mean, variance, count
    if variance.shape != (3,) or not np.allclose(variance, IMAGENET_STD, atol=1e-6):
        return None
    return tuple(float(1.0 / math.sqrt(v)) for v in variance)


def preprocess_map(
    arch: Architecture, value_range: tuple[float, float], correction: Sequence[float] | None = None
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel ``(scale, offset)`` taking pixels in ``value_range`` (RGB) to what ``arch``
    expects; for caffe style the channel order is reversed besides (BGR) - see the conv layer."""
    low, high = float(value_range[0]), float(value_range[1])
    if not high > low:
        raise ConfigureError(f"{arch.name} cannot preprocess images whose value range {value_range} is empty")
    to_raw = 255.0 / (high - low)  # raw = x * to_raw - low * to_raw, in 0-255
    if arch.preprocessing == "tf":
        scale = 2.0 / (high - low)
        return (scale,) * 3, (-1.0 - low * scale,) * 3
    if arch.preprocessing == "torch":
        scales = tuple(1.0 / ((high - low) * s) for s in IMAGENET_STD)
        offsets = tuple((-low / (high - low) - m) / s for m, s in zip(IMAGENET_MEAN, IMAGENET_STD, strict=True))
        return scales, offsets
    if arch.preprocessing == "caffe":  # values per *output* (BGR) channel
        return (to_raw,) * 3, tuple(-low * to_raw - mean for mean in CAFFE_MEAN_BGR)
    factors = tuple(correction) if correction else (1.0, 1.0, 1.0)
    # raw pixels, then k * raw + 255 * (1 - k) * mean: EfficientNet's Normalization turns that
    # into k * (raw / 255 - mean) / sqrt(variance), which is what Keras computes for ImageNet.
    scales = tuple(k * to_raw for k in factors)
    offsets = tuple(
        k * (-low * to_raw) + 255.0 * (1.0 - k) * m for k, m in zip(factors, IMAGENET_MEAN, strict=True)
    )
    return scales, offsets


def preprocess_layer(arch: Architecture, value_range: tuple[float, float], correction: Sequence[float] | None = None) -> Any:
    """One standard Keras layer named ``preprocess``: a per-channel Rescaling, or for caffe style
    (which also swaps RGB to BGR) a frozen 1x1 convolution with a permutation kernel."""
    import keras
    import numpy as np

    scales, offsets = preprocess_map(arch, value_range, correction)
    if arch.preprocessing != "caffe":
        return keras.layers.Rescaling(scale=list(scales), offset=list(offsets), name="preprocess")
    kernel = np.zeros((1, 1, 3, 3), dtype="float32")
    for out in range(3):
        kernel[0, 0, 2 - out, out] = scales[out]
    conv = keras.layers.Conv2D(3, 1, use_bias=True, trainable=False, name="preprocess")
    conv.build((None, None, None, 3))
    conv.set_weights([kernel, np.asarray(offsets, dtype="float32")])
    return conv
