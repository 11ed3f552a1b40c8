"""A saved model's layer graph, read without TensorFlow: layers, wiring, shapes and parameters.

The Network Reader can continue a model into layer nodes (cut its head, freeze a part). Its
configure step must state the shape at the cut and the parameter count of the kept part while the
user edits, so this module reads them from the file alone, in milliseconds, cached by file size
and modification time:

* **Wiring** comes from the model config (``config.json`` in a ``.keras`` archive, the
  ``model_config`` attribute of an ``.h5`` file): Keras 3 ``inbound_nodes`` with ``keras_history``
  references, Keras 2 nested lists, or the order of a ``Sequential`` model.
* **Shapes**: Keras 3 records the shape of every tensor that feeds a layer (in a functional
  model's ``inbound_nodes``, and as ``build_config.input_shape``), which is the output shape of
  the layer before; those recorded shapes are used first. Where nothing is recorded - the last
  layer of a model, every layer of a Keras 2 file or of a Keras 3 ``Sequential`` ``.h5`` - the
  shape is computed for the common layer types (:data:`COMPUTED_TYPES`); any other layer type
  there is refused in one line naming the layer.
* **Parameters** are the sizes of the weight arrays stored in the file, read with h5py (never
  loaded): under ``model_weights/<layer name>`` in an ``.h5`` file, and in a ``.keras`` archive's
  ``model.weights.h5`` under ``layers/<class name in snake case, numbered>`` - the path Keras 3
  gives each layer, in the order of the model's layers. Counting every stored array (also a
  BatchNormalization's moving averages) matches Keras's ``count_params()``.
"""

from __future__ import annotations

import functools
import math
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neuroflow.core.errors import DataError, NeuroFlowError
from neuroflow.core.network import Shape, conv_output_length
from neuroflow.core.userfiles import open_regular_file

#: Layer types that keep their input's shape.
SHAPE_KEEPING = frozenset(
    {
        "Activation", "Softmax", "ReLU", "LeakyReLU", "ELU", "PReLU", "Dropout", "AlphaDropout",
        "GaussianDropout", "GaussianNoise", "SpatialDropout1D", "SpatialDropout2D",
        "BatchNormalization", "LayerNormalization", "GroupNormalization", "UnitNormalization",
        "ActivityRegularization", "Identity", "Rescaling", "Normalization", "RandomFlip",
        "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast", "RandomBrightness",
    }
)
_MERGING_SAME = frozenset({"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"})
#: Layer types whose output shape NeuroFlow computes when the file does not record it.
COMPUTED_TYPES = tuple(
    sorted(
        SHAPE_KEEPING | _MERGING_SAME
        | {"Dense", "Flatten", "Reshape", "Conv2D", "MaxPooling2D", "AveragePooling2D",
           "GlobalAveragePooling2D", "GlobalMaxPooling2D", "Concatenate"}
    )
)


@dataclass(frozen=True)
class GraphLayer:
    """One top-level layer of a saved model."""

    name: str
    class_name: str
    #: Names of the layers whose outputs feed this one, in argument order.
    sources: tuple[str, ...]
    #: Stored weight values (trainable or not), as ``count_params()`` counts them.
    params: int
    #: The output shape (no batch dimension) as recorded in the file, if it is.
    recorded_shape: Shape | None = None
    config: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def is_input(self) -> bool:
        return self.class_name == "InputLayer"


@dataclass(frozen=True)
class ModelGraph:
    """The layers of a model file in the file's (topological) order, and its output layer."""

    shown: str
    format: str
    layers: tuple[GraphLayer, ...]
    output: str

    @functools.cached_property
    def by_name(self) -> dict[str, GraphLayer]:
        return {layer.name: layer for layer in self.layers}

    @property
    def input(self) -> GraphLayer:
        return next(layer for layer in self.layers if layer.is_input)

    @property
    def body(self) -> tuple[GraphLayer, ...]:
        """Every layer after the input, in order."""
        return tuple(layer for layer in self.layers if not layer.is_input)

    def output_shape(self, name: str) -> Shape:
        """The output shape of layer ``name``: recorded in the file, else computed from the
        shapes feeding it (which are found the same way)."""
        shapes = self._known_shapes
        pending = [name]
        while pending:
            current = self.by_name[pending[-1]]
            if current.name in shapes:
                pending.pop()
                continue
            if current.recorded_shape is not None:
                shapes[current.name] = current.recorded_shape
                continue
            missing = [source for source in current.sources if source not in shapes]
            if missing:
                pending.extend(missing)
                continue
            shape = computed_shape(current, [shapes[source] for source in current.sources])
            if shape is None:
                raise DataError(
                    f"cannot tell the output shape of layer '{current.name}' ({current.class_name}) "
                    f"in '{self.shown}': the file does not record it and NeuroFlow computes it only "
                    "for common layer types (Dense, Conv2D, pooling, Flatten, merging, "
                    "normalisation, dropout, ...); cut the model before it"
                )
            shapes[current.name] = shape
        return shapes[name]

    @functools.cached_property
    def _known_shapes(self) -> dict[str, Shape]:
        return {}


# -- reading -----------------------------------------------------------------------------------
def read_model_graph(path: str) -> ModelGraph:
    """The layer graph of the model file at ``path`` (cached per file version)."""
    from .model_files import stat_model_file

    file, stat = stat_model_file(path)
    return _read_graph_cached(str(file), stat.st_mtime_ns, stat.st_size, path)


@functools.lru_cache(maxsize=32)
def _read_graph_cached(file: str, mtime_ns: int, size: int, shown: str) -> ModelGraph:
    from .model_files import _format_name, _one_line, _read_raw, file_format

    fmt = file_format(file)
    try:
        _, config = _read_raw(Path(file), fmt, shown)
        weights = _weight_sizes(Path(file), fmt, shown)
        return _graph_from_config(config, weights, fmt, shown)
    except NeuroFlowError:
        raise
    except Exception as exc:  # a damaged or unexpected config: still one line
        raise DataError(f"'{shown}' is not a readable {_format_name(fmt)} model file ({_one_line(exc)})") from None


def _weight_sizes(file: Path, fmt: str, shown: str) -> dict[str, int]:
    """Stored values per top-level weight group: ``{group name: count}``. Links to other files
    (HDF5 external links) are refused rather than followed: one could name a named pipe."""
    import h5py

    def sizes(group: Any) -> dict[str, int]:
        found: dict[str, int] = {}
        for key in group:
            if not isinstance(group.get(key, getlink=True), h5py.HardLink):
                raise DataError(
                    f"'{shown}' links its weights '{key}' to somewhere else; NeuroFlow reads only "
                    "weights stored in the model file itself"
                )
            item = group[key]
            total = 0

            def add(_: str, node: Any) -> None:
                nonlocal total
                if isinstance(node, h5py.Dataset):
                    total += int(math.prod(node.shape))

            if isinstance(item, h5py.Dataset):
                total = int(math.prod(item.shape))
            else:
                item.visititems(add)  # follows hard links only
            found[str(key)] = total
        return found

    with open_regular_file(file, shown, "model file") as raw:
        if fmt == "h5":
            with h5py.File(raw, "r") as handle:
                group = handle.get("model_weights")
                return sizes(group) if group is not None else {}
        with zipfile.ZipFile(raw) as archive:
            if "model.weights.h5" not in archive.namelist():
                raise DataError(
                    f"'{shown}' keeps its weights outside model.weights.h5 (sharded?); "
                    "NeuroFlow cannot count its parameters"
                )
            # Keras stores the weights uncompressed, so h5py reads only the array headers it needs.
            with archive.open("model.weights.h5") as stream, h5py.File(stream, "r") as handle:
                group = handle.get("layers")
                return sizes(group) if group is not None else {}


def _graph_from_config(config: Any, weights: dict[str, int], fmt: str, shown: str) -> ModelGraph:
    inner = config.get("config", {}) if isinstance(config, dict) else {}
    raw_layers = inner.get("layers") if isinstance(inner, dict) else None
    if not isinstance(raw_layers, list) or not raw_layers:
        raise DataError(f"'{shown}' describes no layers; it is not a Keras model NeuroFlow can use")
    names = [_layer_name(raw, index) for index, raw in enumerate(raw_layers)]
    if config.get("class_name") == "Sequential":
        sources: list[tuple[str, ...]] = [(names[i - 1],) if i else () for i in range(len(names))]
        recorded = _sequential_shapes(raw_layers, names)
        output = names[-1]
        if raw_layers[0].get("class_name") != "InputLayer":  # Keras 2: the input shape sits on layer 1
            shape = raw_layers[0].get("config", {}).get("batch_input_shape")
            raw_layers = [{"class_name": "InputLayer", "config": {"batch_input_shape": shape}}, *raw_layers]
            names = ["input", *names]
            sources = [(), *[(("input",) if not s else s) for s in sources]]
    else:
        inputs = _refs(inner.get("input_layers"))
        outputs = _refs(inner.get("output_layers"))
        if len(inputs) != 1 or len(outputs) != 1:
            raise DataError(
                f"'{shown}' has {len(inputs)} inputs and {len(outputs)} outputs; NeuroFlow continues "
                "models with one image input and one output"
            )
        output = outputs[0]
        sources = []
        recorded = {}
        for raw, name in zip(raw_layers, names, strict=True):
            found = _inbound(raw, name, shown)
            sources.append(tuple(source for source, _ in found))
            for source, shape in found:
                if shape is not None:
                    recorded.setdefault(source, shape)
    if len(set(names)) != len(names):
        raise DataError(f"'{shown}' has two layers of the same name; it is not a valid Keras model")
    params = _params_per_layer(raw_layers, names, weights, fmt, shown)
    layers = []
    for raw, name, feeding in zip(raw_layers, names, sources, strict=True):
        kind = str(raw.get("class_name", ""))
        layer_config = raw.get("config", {}) if isinstance(raw.get("config"), dict) else {}
        shape = recorded.get(name)
        if kind == "InputLayer":
            shape = _input_shape(layer_config, shown)
            feeding = ()
        layers.append(GraphLayer(name, kind, feeding, params[name], shape, layer_config))
    graph = ModelGraph(shown, fmt, tuple(layers), output)
    inputs_found = [layer.name for layer in layers if layer.is_input]
    if len(inputs_found) != 1:
        raise DataError(f"'{shown}' has {len(inputs_found)} input layers; NeuroFlow continues models with one")
    for layer in layers:
        for source in layer.sources:
            if source not in graph.by_name:
                raise DataError(f"layer '{layer.name}' of '{shown}' reads from an unknown layer '{source}'")
    if output not in graph.by_name:
        raise DataError(f"'{shown}' names an unknown output layer '{output}'")
    return graph


def _layer_name(raw: Any, index: int) -> str:
    if not isinstance(raw, dict):
        return f"layer {index}"
    config = raw.get("config")
    inner = config.get("name") if isinstance(config, dict) else None
    return str(raw.get("name") or inner or f"layer {index}")


def _refs(raw: Any) -> list[str]:
    """Layer names of ``input_layers``/``output_layers``: ``["x", 0, 0]`` or ``[["x", 0, 0], ...]``."""
    if not isinstance(raw, list) or not raw:
        return []
    if isinstance(raw[0], str):
        return [raw[0]]
    return [str(ref[0]) for ref in raw if isinstance(ref, list) and ref]


def _shape_of(raw: Any) -> Shape | None:
    """A recorded ``[None, d1, d2, ...]`` shape without its batch dimension, if fully known."""
    if not isinstance(raw, list) or len(raw) < 2 or any(not isinstance(d, int) for d in raw[1:]):
        return None
    return tuple(int(d) for d in raw[1:])


def _input_shape(config: dict[str, Any], shown: str) -> Shape:
    raw = config.get("batch_shape") or config.get("batch_input_shape")
    shape = _shape_of(raw)
    if shape is None:
        raise DataError(f"'{shown}' does not state a fixed input shape ({raw!r})")
    return shape


def _sequential_shapes(raw_layers: list[Any], names: list[str]) -> dict[str, Shape]:
    """Output shapes a Sequential config records: each layer's ``build_config.input_shape`` is
    the output shape of the layer before it."""
    recorded: dict[str, Shape] = {}
    for index in range(1, len(raw_layers)):
        build = raw_layers[index].get("build_config") if isinstance(raw_layers[index], dict) else None
        shape = _shape_of(build.get("input_shape")) if isinstance(build, dict) else None
        if shape is not None:
            recorded[names[index - 1]] = shape
    return recorded


def _inbound(raw: dict[str, Any], name: str, shown: str) -> list[tuple[str, Shape | None]]:
    """(source layer, recorded shape of its output) for each tensor feeding ``raw``."""
    nodes = raw.get("inbound_nodes") or []
    if raw.get("class_name") == "InputLayer" or not nodes:
        return []
    if len(nodes) != 1:
        raise DataError(
            f"layer '{name}' of '{shown}' is used {len(nodes)} times (a shared layer); "
            "NeuroFlow continues models whose layers are each used once"
        )
    node = nodes[0]
    found: list[tuple[str, Shape | None]] = []
    if isinstance(node, dict):  # Keras 3: tensors anywhere in args, with keras_history
        def visit(value: Any) -> None:
            if isinstance(value, dict):
                history = value.get("config", {}).get("keras_history") if value.get("class_name") == "__keras_tensor__" else None
                if isinstance(history, list) and history:
                    found.append((str(history[0]), _shape_of(value["config"].get("shape"))))
                    return
                for item in value.values():
                    visit(item)
            elif isinstance(value, list):
                for item in value:
                    visit(item)

        visit(node.get("args", []))
    elif isinstance(node, list):  # Keras 2: [[name, node index, tensor index, kwargs], ...]
        found = [(str(ref[0]), None) for ref in node if isinstance(ref, list) and ref]
    return found


def snake_case(name: str) -> str:
    """Keras 3's ``naming.to_snake_case``: the weight-file path element of a layer class."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _params_per_layer(
    raw_layers: list[Any], names: list[str], weights: dict[str, int], fmt: str, shown: str
) -> dict[str, int]:
    if fmt == "h5":
        groups = dict(zip(names, names, strict=True))
    else:
        used: dict[str, int] = {}
        groups = {}
        for raw, name in zip(raw_layers, names, strict=True):
            base = snake_case(str(raw.get("class_name", "")))
            used[base] = used.get(base, -1) + 1
            groups[name] = base if used[base] == 0 else f"{base}_{used[base]}"
    params = {name: weights.get(group, 0) for name, group in groups.items()}
    unmatched = sorted(set(weights) - set(groups.values()))
    if any(weights[group] for group in unmatched):
        raise DataError(
            f"cannot tell which layers of '{shown}' own the stored weights {', '.join(unmatched[:3])}; "
            "NeuroFlow cannot count its parameters"
        )
    return params


# -- shape arithmetic --------------------------------------------------------------------------
def computed_shape(layer: GraphLayer, inputs: list[Shape]) -> Shape | None:
    """The output shape of ``layer`` for ``inputs`` by Keras's arithmetic, or ``None`` when
    NeuroFlow does not know the layer type (or an option it does not follow, like channels-first)."""
    kind, config = layer.class_name, layer.config
    if not inputs:
        return None
    first = inputs[0]
    if config.get("data_format", "channels_last") != "channels_last":
        return None
    if kind in SHAPE_KEEPING or kind in _MERGING_SAME:
        return first
    if kind == "Dense":
        return (*first[:-1], int(config["units"]))
    if kind == "Flatten":
        return (math.prod(first),)
    if kind == "Reshape":
        target = [int(d) for d in config.get("target_shape", [])]
        if target.count(-1) == 1:
            known = math.prod(d for d in target if d != -1)
            target[target.index(-1)] = math.prod(first) // known if known else 0
        return tuple(target)
    if kind == "Concatenate":
        axis = int(config.get("axis", -1))
        axis = axis - 1 if axis > 0 else len(first) + axis
        return tuple(sum(s[axis] for s in inputs) if i == axis else d for i, d in enumerate(first))
    if kind in ("GlobalAveragePooling2D", "GlobalMaxPooling2D") and len(first) == 3:
        return (1, 1, first[2]) if config.get("keepdims") else (first[2],)
    if kind in ("Conv2D", "MaxPooling2D", "AveragePooling2D") and len(first) == 3:
        conv = kind == "Conv2D"
        kernel = _pair(config.get("kernel_size" if conv else "pool_size"))
        strides = _pair(config.get("strides")) if config.get("strides") else kernel
        dilation = _pair(config.get("dilation_rate", 1)) if conv else (1, 1)
        padding = str(config.get("padding", "valid")).lower()
        height, width = (
            conv_output_length(first[axis], kernel[axis], strides[axis], padding, dilation[axis]) for axis in (0, 1)
        )
        return (height, width, int(config["filters"]) if conv else first[2])
    return None


def _pair(value: Any) -> tuple[int, int]:
    if isinstance(value, (list, tuple)):
        return (int(value[0]), int(value[-1]))
    return (int(value), int(value))


def describe_layers(names: list[str], limit: int = 6) -> str:
    """``a, b, c, ... (12 layers)`` for messages."""
    shown = ", ".join(names[:limit])
    return f"{shown}, ... ({len(names)} layers)" if len(names) > limit else shown

