"""A saved model continued into layer nodes: where to cut it, what to freeze, how to build it.

KNIME's Keras Network Reader feeds layer nodes, so a trained network can be fine-tuned with a new
head, and its "Keras Freeze Layers" node chooses what trains. NeuroFlow's Network Reader does the
same with a network output: the model read from the file becomes *one* layer of the network
description (after an Input layer with the model's input shape), so the Keras model the learner
builds has one Keras layer per description entry - the read part is a nested model - and its
``count_params()`` is what configure said.

:func:`plan_reuse` decides, without TensorFlow, from the file's layer graph
(:mod:`.model_graph`): the cut ("remove the last N layers"), the shape there, the parameters kept
and the layers frozen. :func:`build_reused_model` is the layer's builder (see
``LayerDesc.builder``): it loads the file in Keras safe mode, keeps it up to the cut, sets what
trains and applies it to the input tensor. A frozen BatchNormalization layer runs in inference
mode (Keras 3 does so for any BatchNormalization layer that is not trainable), so training the
head leaves its moving averages untouched too.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from neuroflow.core.errors import ConfigureError, DataError
from neuroflow.core.network import LayerDesc, NetworkSpec, Shape, ValueRange, format_shape

from .model_graph import ModelGraph, describe_layers

FREEZE_MODES = ("none", "all", "first", "pattern")
FREEZE_LABELS = ("nothing", "all read layers", "the first N layers", "names matching")
BUILDER = "neuroflow.training.reused_model:build_reused_model"
#: The Keras class of the read part in the built model (a nested functional model).
CLASS_NAME = "Functional"


@dataclass(frozen=True)
class ReusePlan:
    """What of a model file goes into the network, and what of it trains."""

    input_shape: Shape
    #: The layer whose output is the read part's output (the cut point).
    output_layer: str
    output_shape: Shape
    #: Parameters of the kept layers, trainable or not.
    params: int
    #: Names of the kept layers after the input, in the file's order.
    kept: tuple[str, ...]
    frozen: tuple[str, ...]


def plan_reuse(
    graph: ModelGraph, *, remove_last: int = 0, freeze: str = "none", freeze_count: int = 1,
    freeze_pattern: str = "",
) -> ReusePlan:
    """The cut and the frozen layers these settings ask for; refuses impossible ones in one line."""
    body = graph.body
    shown = graph.shown
    if remove_last >= len(body):
        most = f"at most {len(body) - 1} can go" if len(body) > 1 else "none can go"
        raise ConfigureError(
            f"cannot remove the last {remove_last} layers of '{shown}': it has {len(body)} "
            f"layer{'s' if len(body) != 1 else ''} after its input, so {most} (setting 'remove_last')"
        )
    if remove_last == 0:
        end = graph.by_name[graph.output]
        kept_layers = body
    else:
        end = body[-1 - remove_last]
        kept_layers = body[: len(body) - remove_last]
        _check_single_path(graph, end.name, kept_layers, body[len(body) - remove_last:])
    kept = tuple(layer.name for layer in kept_layers)
    frozen = _frozen(kept, freeze, freeze_count, freeze_pattern, shown)
    return ReusePlan(
        input_shape=graph.output_shape(graph.input.name),
        output_layer=end.name,
        output_shape=graph.output_shape(end.name),
        params=sum(layer.params for layer in kept_layers),
        kept=kept,
        frozen=frozen,
    )


def _check_single_path(graph: ModelGraph, end: str, kept: tuple[Any, ...], removed: tuple[Any, ...]) -> None:
    """The layers after the cut may read only the cut layer's output from the kept part."""
    before = {graph.input.name} | {layer.name for layer in kept}
    for layer in removed:
        for source in layer.sources:
            if source in before and source != end:
                cut = graph.by_name[end]
                raise ConfigureError(
                    f"cannot cut '{graph.shown}' after layer '{end}' ({cut.class_name}): the network "
                    f"branches there - layer '{layer.name}' after the cut also reads '{source}'; "
                    "remove fewer or more layers (setting 'remove_last')"
                )


def _frozen(kept: tuple[str, ...], mode: str, count: int, pattern: str, shown: str) -> tuple[str, ...]:
    if mode == "none":
        return ()
    if mode == "all":
        return kept
    if mode == "first":
        if count > len(kept):
            raise ConfigureError(
                f"cannot freeze the first {count} layers: the read part keeps {len(kept)} "
                f"({describe_layers(list(kept))}) (setting 'freeze_count')"
            )
        return kept[:count]
    patterns = [part.strip() for part in pattern.split(",") if part.strip()]
    if not patterns:
        raise ConfigureError(
            "no freeze pattern set: type layer names or patterns such as conv* (setting 'freeze_pattern')"
        )
    frozen = tuple(name for name in kept if any(fnmatchcase(name, p) for p in patterns))
    if not frozen:
        raise ConfigureError(
            f"freeze pattern '{pattern.strip()}' matches no layer kept from '{shown}'; its layers are "
            f"{describe_layers(list(kept))} (setting 'freeze_pattern')"
        )
    return frozen


def reused_network(node_id: str, path: str, plan: ReusePlan, *, label: str = "Network Reader") -> NetworkSpec:
    """The network description: an Input layer with the model's input shape, then the read part."""
    input_id = f"{node_id}.input"  # node ids never contain a dot (connections are "node.port")
    start = LayerDesc(
        id=input_id,
        class_name="InputLayer",
        config=(("shape", plan.input_shape),),
        inputs=(),
        output_shape=plan.input_shape,
        params=0,
        label="Input",
    )
    part = LayerDesc(
        id=node_id,
        class_name=CLASS_NAME,
        config=(("frozen", plan.frozen), ("output_layer", plan.output_layer), ("path", path)),
        inputs=(input_id,),
        output_shape=plan.output_shape,
        params=plan.params,
        label=label,
        builder=BUILDER,
    )
    return NetworkSpec.start(start).then(part)


def build_reused_model(desc: LayerDesc, inputs: list[Any], value_range: ValueRange | None) -> Any:
    """Load the file (safe mode), keep it up to the cut, set what trains, apply it to the input.

    ``value_range`` is not needed: the read model takes the pixels as they come, as it did when
    it was trained (normalise the data the same way).
    """
    import keras

    from .model_files import load_keras_model

    config = desc.config_dict()
    path, end_name, frozen = str(config["path"]), str(config["output_layer"]), set(config["frozen"])
    model = load_keras_model(path)
    try:
        end = model.get_layer(end_name)
    except ValueError:
        raise DataError(f"'{path}' has no layer '{end_name}' any more; run the Network Reader again") from None
    part = keras.Model(model.inputs, end.output, name=desc.keras_name)
    for layer in part.layers:
        layer.trainable = layer.name not in frozen
    shape = tuple(int(d) for d in part.output.shape[1:])
    params = int(part.count_params())
    if shape != desc.output_shape or params != desc.params:
        raise DataError(
            f"'{path}' changed since it was read: up to layer '{end_name}' it now gives shape "
            f"{format_shape(shape)} with {params:,} parameters, not {format_shape(desc.output_shape)} "
            f"with {desc.params:,}; run the Network Reader again"
        )
    return part(inputs[0])
