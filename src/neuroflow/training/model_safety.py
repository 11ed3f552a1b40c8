"""Model files are checked before Keras reads them: what they contain, and how big it is.

Loading a Keras model builds every object its configuration names. Keras's safe mode refuses
Python lambdas in the configurations it knows about, but it has been bypassed again and again
(CVE-2025-1550, CVE-2025-8747, CVE-2025-9906, CVE-2025-49655, CVE-2026-1462), and the ``.h5``
loader of Keras up to 3.11.2 ignored it altogether (CVE-2025-9905: a Lambda layer's code ran on
load). So NeuroFlow reads the configuration itself - the ``.keras`` archive's ``config.json``, an
``.h5`` file's ``model_config`` attribute: plain JSON, no TensorFlow - and refuses the file,
whatever the installed Keras version, unless every object it names is

* a built-in Keras layer, or a built-in initializer, regularizer, constraint, optimizer,
  learning-rate schedule, loss, metric or dtype policy (:data:`KERAS_CLASSES`, the public
  classes of Keras 3.15 plus the Keras 2 names of the same layers), or a Keras tensor operation
  that runs no function of its own (``keras.src.ops``: arithmetic such as MobileNetV3's
  hard-sigmoid, but not ``Cond``, ``Switch``, ``Map``, ``Scan``, loops or ``JVP``);
* from a Keras module (Keras 3 configs name a ``module``; Keras 2 configs only a ``class_name``);
* not registered as a custom class (Keras 3's ``registered_name`` ``"package>Name"``), unless
  NeuroFlow registers it (:data:`NEUROFLOW_CLASSES`; none today);
* a function only where it names a built-in activation (``relu``, ``softmax``, ...).

Refused by name, with the reason: ``Lambda`` (Python code stored in the file), Keras 2's
``TFOpLambda`` and ``SlicingOpLambda`` (TensorFlow functions called by name), ``TFSMLayer`` (loads
another model from a path), ``TorchModuleWrapper``, ``JaxLayer`` and ``FlaxLayer`` (code of
another framework), and lookup layers whose vocabulary is a file path. The walk covers every
object wherever it sits: layers of nested models and ``Sequential`` models, the layers inside
wrappers (``TimeDistributed``, ``Bidirectional``, RNN cells), initializers, activations, the
compile configuration.

**Sizes are checked before anything is read**: a configuration over :data:`MAX_CONFIG_BYTES` is
refused from the size the zip directory (or the attribute's type) states - a 1 GiB
``config.json`` of whitespace once took 14 s and 2.1 GB just to configure - and an archive
whose members decompress to far more than they store (a zip bomb) is refused from its
directory too.
"""

from __future__ import annotations

import math
import zipfile
from typing import Any

from neuroflow.core.errors import DataError

#: The largest model configuration (or NeuroFlow metadata) read; real ones are a few MB at most.
MAX_CONFIG_BYTES = 64 << 20
#: Archive members larger than this may not decompress to more than :data:`MAX_RATIO` times
#: what they store (deflate cannot do better than about 1,000; JSON compresses about 10 times).
BOMB_FLOOR = 1 << 20
MAX_RATIO = 100
#: A Keras archive holds three files and its assets.
MAX_MEMBERS = 10_000

#: Public Keras classes a model configuration may name (Keras 3.15's ``keras.layers``,
#: ``initializers``, ``regularizers``, ``constraints``, ``optimizers`` and their ``schedules``,
#: ``losses``, ``metrics``, ``dtype_policies`` and ``models``, less abstract bases and the
#: classes refused below; plus Keras 2 layer names and ``Functional``).
KERAS_CLASSES = frozenset(
    {
        "AUC", "AWQDTypePolicy", "Accuracy", "Activation", "ActivityRegularization", "Adadelta",
        "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "AdaptiveAveragePooling1D",
        "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D", "AdaptiveMaxPooling1D",
        "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D", "Add", "AdditiveAttention", "AlphaDropout",
        "Attention", "AugMix", "AutoContrast", "Average", "AveragePooling1D", "AveragePooling2D",
        "AveragePooling3D", "AvgPool1D", "AvgPool2D", "AvgPool3D", "BatchNormalization",
        "Bidirectional", "BinaryAccuracy", "BinaryCrossentropy", "BinaryFocalCrossentropy", "BinaryIoU",
        "CTC", "CategoricalAccuracy", "CategoricalCrossentropy", "CategoricalFocalCrossentropy",
        "CategoricalGeneralizedCrossEntropy", "CategoricalHinge", "CategoryEncoding", "CenterCrop",
        "Circle", "Concatenate", "ConcordanceCorrelation", "Constant",
        "ContrastLimitedAdaptiveHistogramEqualization", "Conv1D", "Conv1DTranspose", "Conv2D",
        "Conv2DTranspose", "Conv3D", "Conv3DTranspose", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D",
        "Convolution1D", "Convolution1DTranspose", "Convolution2D", "Convolution2DTranspose",
        "Convolution3D", "Convolution3DTranspose", "CosineDecay", "CosineDecayRestarts",
        "CosineSimilarity", "Cropping1D", "Cropping2D", "Cropping3D", "CutMix", "DTypePolicy",
        "DTypePolicyMap", "Dense", "DepthwiseConv1D", "DepthwiseConv2D", "Dice", "Discretization",
        "Dot", "Dropout", "ELU", "EinsumDense", "Embedding", "Equalization", "ExponentialDecay",
        "F1Score", "FBetaScore", "FalseNegatives", "FalsePositives", "Flatten", "FloatDTypePolicy",
        "Ftrl", "Functional", "GPTQDTypePolicy", "GRU", "GRUCell", "GaussianDropout", "GaussianNoise",
        "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D", "GlobalAvgPool1D",
        "GlobalAvgPool2D", "GlobalAvgPool3D", "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D",
        "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", "GlorotNormal",
        "GlorotUniform", "GroupNormalization", "GroupQueryAttention", "HashedCrossing", "Hashing",
        "HeNormal", "HeUniform", "Hinge", "Huber", "Identity", "IdentityInitializer", "InputLayer",
        "InputSpec", "Int4DTypePolicy", "IntegerLookup", "InverseTimeDecay", "IoU", "KLDivergence",
        "L1", "L1L2", "L2", "LSTM", "LSTMCell", "Lamb", "LayerNormalization", "LeakyReLU",
        "LecunNormal", "LecunUniform", "Lion", "LocallyConnected1D", "LocallyConnected2D", "LogCosh",
        "LogCoshError", "LossScaleOptimizer", "Masking", "MaxNorm", "MaxNumBoundingBoxes", "MaxPool1D",
        "MaxPool2D", "MaxPool3D", "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "Maximum", "Mean",
        "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanIoU", "MeanSquaredError",
        "MeanSquaredLogarithmicError", "MelSpectrogram", "MinMaxNorm", "Minimum", "MixUp", "Model",
        "MultiHeadAttention", "MultiOptimizer", "Multiply", "Muon", "Nadam", "NonNeg", "Normalization",
        "OneHotIoU", "OneHotMeanIoU", "Ones", "OptimizerMap", "Orthogonal", "OrthogonalInitializer",
        "OrthogonalRegularizer", "PReLU", "PearsonCorrelation", "Permute", "PiecewiseConstantDecay",
        "Pipeline", "Poisson", "PolynomialDecay", "Precision", "PrecisionAtRecall",
        "QuantizedDTypePolicy", "QuantizedFloat8DTypePolicy", "R2Score", "RMSNormalization", "RMSprop",
        "RNN", "RandAugment", "RandomBrightness", "RandomColorDegeneration", "RandomColorJitter",
        "RandomContrast", "RandomCrop", "RandomElasticTransform", "RandomErasing", "RandomFlip",
        "RandomGaussianBlur", "RandomGrayscale", "RandomHeight", "RandomHue", "RandomInvert",
        "RandomNormal", "RandomPerspective", "RandomPosterization", "RandomRotation",
        "RandomSaturation", "RandomSharpness", "RandomShear", "RandomTranslation", "RandomUniform",
        "RandomWidth", "RandomZoom", "ReLU", "Recall", "RecallAtPrecision", "RepeatVector", "Rescaling",
        "Reshape", "Resizing", "ReversibleEmbedding", "RootMeanSquaredError", "SGD", "STFT",
        "STFTInitializer", "STFTSpectrogram", "ScheduleFreeAdamW", "SensitivityAtSpecificity",
        "SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D", "SeparableConvolution2D",
        "Sequential", "SimpleRNN", "SimpleRNNCell", "Softmax", "Solarization",
        "SparseCategoricalAccuracy", "SparseCategoricalCrossentropy", "SparseTopKCategoricalAccuracy",
        "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "SpecificityAtSensitivity",
        "SpectralNormalization", "SquaredHinge", "StackedRNNCells", "StringLookup", "Subtract", "Sum",
        "SyncBatchNormalization", "TextVectorization", "ThresholdedReLU", "TimeDistributed",
        "TopKCategoricalAccuracy", "TrueNegatives", "TruePositives", "TruncatedNormal", "Tversky",
        "UnitNorm", "UnitNormalization", "UpSampling1D", "UpSampling2D", "UpSampling3D",
        "VarianceScaling", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Zeros"
    }
)
#: Classes NeuroFlow registers with Keras (``registered_name`` values); none today.
NEUROFLOW_CLASSES: frozenset[str] = frozenset()
#: Built-in classes refused, and why (besides ``Lambda`` and Keras 3's ``__lambda__``: Python code).
REFUSED_CLASSES = {
    "TFOpLambda": "it calls a TensorFlow function named in the file (a Keras 2 operation layer)",
    "SlicingOpLambda": "it calls a TensorFlow function named in the file (a Keras 2 operation layer)",
    "TFSMLayer": "it loads another model (a TensorFlow SavedModel) from a path named in the file",
    "TorchModuleWrapper": "it holds PyTorch code, which would run when the model is loaded",
    "JaxLayer": "it calls JAX functions named in the file",
    "FlaxLayer": "it holds a Flax module, which would run when the model is loaded",
}
#: Layers that read a vocabulary file when their ``vocabulary`` is a path.
VOCABULARY_LAYERS = frozenset({"StringLookup", "IntegerLookup", "TextVectorization"})
#: Keras 3 and Keras 2 markers for values (tensors, arrays, tuples, shapes) - data, not classes.
DATA_MARKERS = frozenset(
    {"__keras_tensor__", "__tensor__", "__numpy__", "__bytes__", "__ellipsis__", "__slice__",
     "__tuple__", "TensorShape"}
)
#: Modules of Keras tensor operations (``keras.ops``) that a functional model may record.
OPERATION_MODULES = frozenset(
    {"keras.src.ops.numpy", "keras.src.ops.nn", "keras.src.ops.math", "keras.src.ops.image",
     "keras.src.ops.core", "keras.src.ops.linalg"}
)
#: Operations that call functions (control flow, transforms): refused.
FUNCTION_OPERATIONS = frozenset(
    {"Cond", "Switch", "Map", "Scan", "AssociativeScan", "ForiLoop", "WhileLoop", "VectorizedMap", "JVP"}
)
#: Modules a Keras 3 config may name for a class (public API and ``keras.src`` homes).
KERAS_MODULES = frozenset(
    {"keras", "keras.layers", "keras.initializers", "keras.regularizers", "keras.constraints",
     "keras.optimizers", "keras.optimizers.schedules", "keras.losses", "keras.metrics",
     "keras.activations", "keras.dtype_policies", "keras.models"}
)
KERAS_SOURCE_PACKAGES = (
    "keras.src.layers.", "keras.src.models.", "keras.src.initializers.", "keras.src.regularizers.",
    "keras.src.constraints.", "keras.src.optimizers.", "keras.src.losses.", "keras.src.metrics.",
    "keras.src.dtype_policies.", "keras.src.activations.",
)
#: Modules a function may come from, and the functions (built-in activations) it may name.
FUNCTION_MODULES = frozenset(
    {"builtins", "keras.activations", "keras.src.activations", "keras.src.activations.activations"}
)
ACTIVATIONS = frozenset(
    {"celu", "elu", "exponential", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu",
     "hard_swish", "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish", "relu",
     "relu6", "selu", "sigmoid", "silu", "soft_shrink", "softmax", "softplus", "softsign",
     "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "swish", "tanh", "tanh_shrink",
     "threshold"}
)


class UnsafeModel(DataError):
    """The model file names something NeuroFlow will not let Keras build."""


# -- sizes --------------------------------------------------------------------------------------
def too_big(shown: str, what: str, size: int) -> DataError:
    return DataError(
        f"'{shown}' is not a model NeuroFlow reads: its {what} is {size / (1 << 20):,.0f} MB, over "
        f"the limit of {MAX_CONFIG_BYTES >> 20} MB (a real model's is a few MB at most)"
    )


def check_archive(archive: zipfile.ZipFile, shown: str) -> None:
    """Refuse an archive with too many members, duplicate names or zip-bomb members, from its
    directory alone (nothing is decompressed)."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise DataError(f"'{shown}' holds {len(infos):,} files; a Keras model archive holds a handful")
    seen: set[str] = set()
    for info in infos:
        if info.filename in seen:
            raise DataError(
                f"'{shown}' holds two files named '{info.filename}'; a Keras model archive never does"
            )
        seen.add(info.filename)
        if info.file_size > BOMB_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise DataError(
                f"'{shown}' is not a model NeuroFlow reads: its member '{info.filename}' would expand "
                f"from {info.compress_size:,} to {info.file_size:,} bytes (a zip bomb?)"
            )


def read_member_text(archive: zipfile.ZipFile, name: str, shown: str, what: str) -> str:
    """The text of archive member ``name``, refused unread when its stated size is over the limit."""
    info = archive.getinfo(name)
    if info.file_size > MAX_CONFIG_BYTES:
        raise too_big(shown, what, info.file_size)
    with archive.open(info) as stream:
        data = stream.read(MAX_CONFIG_BYTES + 1)
    if len(data) > MAX_CONFIG_BYTES:  # a directory that lies about the size
        raise too_big(shown, what, len(data))
    return data.decode("utf-8")


def read_attribute_text(handle: Any, name: str, shown: str, what: str) -> str | None:
    """The text of attribute ``name`` on an h5py object (``None`` when absent). A fixed-length
    string states its size in its type, which is checked before reading; a variable-length one
    is stored uncompressed, so reading it costs at most the file's size, and it is checked
    before it is parsed."""
    if name not in handle.attrs:
        return None
    attribute = handle.attrs.get_id(name)
    dtype, shape = attribute.dtype, tuple(attribute.shape or ())
    if math.prod(shape) != 1 or dtype.kind not in "SUO":
        raise DataError(f"'{shown}' holds its {what} as {dtype} of shape {shape}, not as text")
    if dtype.kind in "SU" and dtype.itemsize > MAX_CONFIG_BYTES:
        raise too_big(shown, what, dtype.itemsize)
    value = handle.attrs[name]
    if hasattr(value, "reshape") and getattr(value, "shape", ()) != ():
        value = value.reshape(-1)[0]
    text = value.decode("utf-8") if isinstance(value, bytes) else str(value)
    if len(text) > MAX_CONFIG_BYTES:
        raise too_big(shown, what, len(text.encode("utf-8")))
    return text


# -- contents -----------------------------------------------------------------------------------
def check_config(config: Any, shown: str) -> None:
    """Refuse a model configuration naming anything but built-in Keras classes (see the module
    docstring); one line naming the layer, its class and why."""
    stack: list[tuple[Any, str, str]] = [(config, "", "")]
    while stack:
        value, layer, key = stack.pop()
        if isinstance(value, list):
            stack.extend((item, layer, key) for item in reversed(value))
            continue
        if not isinstance(value, dict):
            continue
        inner = value.get("config")
        if "class_name" in value:
            _check_object(value, layer, key, shown)
            name = inner.get("name") if isinstance(inner, dict) else None
            if isinstance(name, str) and value.get("class_name") not in DATA_MARKERS:
                layer = f"'{name}' ({value['class_name']})"
        for item_key, item in reversed(list(value.items())):
            if isinstance(item, (dict, list)):
                stack.append((item, layer, str(item_key)))


def _check_object(obj: dict[str, Any], layer: str, key: str, shown: str) -> None:
    class_name, module, registered = obj.get("class_name"), obj.get("module"), obj.get("registered_name")
    inner = obj.get("config")
    where = _where(obj, layer, key)

    def refuse(reason: str) -> UnsafeModel:
        return UnsafeModel(f"'{shown}' cannot be loaded safely: {where} {reason}")

    if not isinstance(class_name, str) or not isinstance(module, (str, type(None))):
        raise refuse(f"has a damaged class entry ({str(class_name)[:60]!r})")
    if class_name in DATA_MARKERS:
        return
    if class_name in ("Lambda", "__lambda__"):
        what = f"Lambda {where}" if class_name == "Lambda" else f"a lambda in {where}"
        raise UnsafeModel(
            f"'{shown}' contains Python code ({what}), which would run when the model is loaded; "
            "NeuroFlow refuses such model files"
        )
    if class_name in REFUSED_CLASSES:
        raise refuse(f"is refused: {REFUSED_CLASSES[class_name]}")
    if class_name == "function":
        function = inner if isinstance(inner, str) else repr(inner)[:60]
        if module in FUNCTION_MODULES and function in ACTIVATIONS:
            return
        raise refuse(
            f"names the Python function '{function}' of module '{module}'; NeuroFlow loads only "
            "built-in Keras activations, since any other function would run code from outside Keras"
        )
    if registered not in (None, class_name):
        if registered in NEUROFLOW_CLASSES:
            return
        raise refuse(
            f"is the custom class '{registered}', which is not a built-in Keras class; NeuroFlow "
            "loads only built-in Keras layers, since a custom class needs Python code from outside "
            "the file"
        )
    if module in OPERATION_MODULES:
        if class_name in FUNCTION_OPERATIONS:
            raise refuse(f"is the Keras operation '{class_name}', which calls functions named in the file")
        return
    if module is not None and module not in KERAS_MODULES and not module.startswith(KERAS_SOURCE_PACKAGES):
        raise refuse(
            f"is the class '{class_name}' of module '{module}', which is not part of Keras; "
            "NeuroFlow loads only built-in Keras layers"
        )
    if class_name not in KERAS_CLASSES:
        raise refuse(
            f"is of class '{class_name}', which is not a built-in Keras layer; NeuroFlow loads "
            "only built-in Keras layers, since any other class needs Python code from outside the file"
        )
    if class_name in VOCABULARY_LAYERS and isinstance(inner, dict) and isinstance(inner.get("vocabulary"), str):
        raise refuse(f"reads its vocabulary from the file '{inner['vocabulary']}' named in the model")


def _where(obj: dict[str, Any], layer: str, key: str) -> str:
    """``layer 'dense' (Dense)``, or ``the kernel_initializer of layer 'dense' (Dense)``."""
    inner = obj.get("config")
    name = inner.get("name") if isinstance(inner, dict) else None
    if isinstance(name, str) and key in ("", "layers", "layer", "backward_layer", "cell", "cells", "config"):
        return f"layer '{name}'"
    if layer and key:
        return f"the {key} of layer {layer}"
    if key:
        return f"its {key}"
    return "the model"
