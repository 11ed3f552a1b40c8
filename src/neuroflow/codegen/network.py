"""The ``build_model()`` function of an exported script, from a network description.

The Learner builds its model from the :class:`~neuroflow.core.network.NetworkSpec` that the
layer nodes pass down (``core/network.py``, ``build_keras_model``); this writes the same
construction as text: one functional-API line per layer in the spec's (data-flow) order, the
Keras layer name the Learner gives it, the node's label as a comment. Blocks arrive already
expanded in the spec, and branches are just layers with several inputs (``Add``,
``Concatenate``), written as the functional API writes them.

A layer that is one Keras class needs nothing special. A layer made by a builder function
(``LayerDesc.builder``, e.g. a pretrained backbone) needs a layer emitter registered for that
builder here (:data:`BUILDER_EMITTERS`); one without an emitter cannot be exported, and the
error names its node.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from neuroflow.core.errors import NeuroFlowError
from neuroflow.core.network import INPUT_RANGE, LayerDesc, NetworkSpec, ValueRange

#: Widest line the generator writes before it puts a call's arguments on lines of their own.
WIDTH = 100


@dataclass
class ModelText:
    """What building one network adds to the script: helper functions and ``build_model``."""

    helpers: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


#: ``emit(desc, spec, args, value_range, text) -> expression`` for layers made by a builder;
#: ``args`` are the variable names of its inputs, helpers go to ``text.helpers``.
LayerEmitter = Callable[[LayerDesc, NetworkSpec, list[str], "ValueRange | None", ModelText], str]
BUILDER_EMITTERS: dict[str, LayerEmitter] = {}


def layer_emitter(builder: str) -> Callable[[LayerEmitter], LayerEmitter]:
    """Register the emitter of layers built by ``builder`` (``"module:function"``)."""
    def register(function: LayerEmitter) -> LayerEmitter:
        BUILDER_EMITTERS[builder] = function
        return function

    return register


def variable(layer_id: str) -> str:
    """A Python name for a layer's output tensor."""
    name = re.sub(r"\W", "_", layer_id).lower()
    return name if name and not name[0].isdigit() and name not in _RESERVED else f"x_{name}"


_RESERVED = {"input", "x", "model", "inputs", "outputs", "layers", "keras", "np", "tf", "args", "images"}


def call(function: str, positional: Sequence[str], keywords: Sequence[tuple[str, object]], indent: str) -> str:
    """``function(a, k=v, ...)``, its arguments on lines of their own when it is too wide."""
    parts = [*positional, *(f"{key}={value!r}" for key, value in keywords)]
    one_line = f"{function}({', '.join(parts)})"
    if len(indent) + len(one_line) <= WIDTH:
        return one_line
    inner = indent + "    "
    return f"{function}(\n" + "".join(f"{inner}{part},\n" for part in parts) + f"{indent})"


def build_model_text(spec: NetworkSpec, value_range: ValueRange, *, owner: Callable[[LayerDesc], str],
                     labels: dict[str, str] | None = None, output_dtype: str | None = None) -> ModelText:
    """``build_model()`` for ``spec`` fed images in ``value_range``; ``owner(desc)`` names the
    node a layer comes from, for the message when it cannot be exported; ``labels`` are the
    labels of the nodes by layer id (else the layer's own label shows)."""
    labels = labels or {}
    text = ModelText()
    body = text.lines
    inputs = []
    block = ""
    for layer in spec.layers:
        name = variable(layer.id)
        prefix = layer.id.rpartition(".")[0]  # layers of a block: "<block id>.<inner id>"
        if prefix and prefix != block:
            body.append(f"    # block {labels.get(prefix, prefix)}")
        block = prefix
        args = [variable(source) for source in layer.inputs]
        shape = "(" + ", ".join(str(d) for d in layer.output_shape) + ")"
        label = labels.get(layer.id) or layer.label or layer.class_name
        comment = f"  # {label}: {shape}, {layer.params:,} parameters"
        if layer.class_name == "InputLayer":
            size = tuple(dict(layer.config)["shape"])
            body.append(f"    {name} = keras.Input(shape={size!r}, name={layer.keras_name!r}){comment}")
            inputs.append(name)
            continue
        if layer.builder:
            emit = BUILDER_EMITTERS.get(layer.builder)
            if emit is None:
                raise NeuroFlowError(
                    f"cannot export {owner(layer)}: its layer '{layer.label or layer.class_name}' is built by "
                    f"{layer.builder}, which has no Python emitter"
                )
            expression = emit(layer, spec, args, spec.value_range_at(layer.id, value_range), text)
            body.append(f"    {name} = {expression}{comment}")
            continue
        config = layer.config_dict()
        if layer.needs_input_range():
            reaching = spec.value_range_at(layer.id, value_range)
            if reaching is None:
                raise NeuroFlowError(f"cannot export {owner(layer)}: it must see image pixels")
            config = {k: ((float(reaching[0]), float(reaching[1])) if v == INPUT_RANGE else v)
                      for k, v in config.items()}
        if output_dtype is not None and layer.id == spec.output:
            config["dtype"] = output_dtype
        keywords = [("name", layer.keras_name), *((k, _plain(v)) for k, v in config.items())]
        created = call(f"layers.{layer.class_name}", [], keywords, "    ")
        source = args[0] if len(args) == 1 else f"[{', '.join(args)}]"
        body.append(f"    {name} = {created}({source}){comment}")
    model_inputs = inputs[0] if len(inputs) == 1 else f"[{', '.join(inputs)}]"
    body.append(f"    return keras.Model({model_inputs}, {variable(spec.output)}, name=\"neuroflow_network\")")
    return text


def _plain(value: object) -> object:
    """Config values as Python literals: lists become tuples, as Keras takes them."""
    if isinstance(value, list):
        return tuple(_plain(v) for v in value)
    return value
