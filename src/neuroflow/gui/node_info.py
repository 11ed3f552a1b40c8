"""What a node shows about itself on the canvas: a few short lines computed from the core.

Layer nodes show their output shape and parameter count (taken from the network spec their
``configure`` produced, so the numbers change the moment a setting or a wire changes); other
nodes describe their output specs; executed nodes add a headline result. Plain Python on purpose:
the canvas paints these strings and the tests read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePath

from neuroflow.core.block import BlockNode
from neuroflow.core.data import Predictions, Scores, TrainedModel, WrittenModel
from neuroflow.core.events import NodeState
from neuroflow.core.network import NetworkSpec, format_shape
from neuroflow.core.node import MissingNode
from neuroflow.core.ports import DatasetSpec, ModelSpec, PredictionsSpec, ScoresSpec
from neuroflow.core.settings import PathSetting
from neuroflow.core.workflow import WorkflowNode
from neuroflow.training.deploy_formats import human_size

from .theme import STATE_TEXT


@dataclass(frozen=True)
class NodeSummary:
    """The short text lines drawn in a node's footer, and its tooltip."""

    lines: tuple[str, ...]
    tooltip: str


def format_count(value: int) -> str:
    """``1234567`` -> ``"1,234,567"``."""
    return f"{value:,}"


def network_lines(spec: NetworkSpec) -> list[str]:
    """Output shape and the parameter count of the network's last layer."""
    last = spec.by_id[spec.output]
    return list(_network_lines(last.output_shape, last.params))


@lru_cache(maxsize=4096)
def _network_lines(shape: tuple[int, ...], params: int) -> tuple[str, str]:
    # An edit re-describes every layer after it; most keep their shape and parameter count.
    return f"out {format_shape(shape)}", f"{format_count(params)} params"


def _result_line(item: WorkflowNode) -> str | None:
    outputs = item.outputs or {}
    for value in outputs.values():
        if isinstance(value, Scores):
            return f"accuracy {value.accuracy * 100:.1f} %"
        if isinstance(value, TrainedModel):
            epochs = max((len(v) for v in value.history.values()), default=0)
            return f"trained {epochs} epoch{'s' if epochs != 1 else ''}, {value.seconds:.0f} s"
        if isinstance(value, Predictions):
            return f"{format_count(len(value.predicted))} predictions"
        if isinstance(value, WrittenModel):
            agreed = f", agrees {value.agreement:.1%}" if value.agreement is not None else ""
            return f"wrote {human_size(value.size)}{agreed}"
    return None


def spec_lines(spec: object) -> list[str]:
    """Short lines (they fit a node's footer) describing one output spec."""
    if isinstance(spec, NetworkSpec):
        return network_lines(spec)
    if isinstance(spec, DatasetSpec):
        count = f"{format_count(spec.count)} images" if spec.count is not None else "images"
        return [f"{count} {_dims(spec.shape)}", f"{len(spec.class_names)} classes, values {_range(spec.value_range)}"]
    if isinstance(spec, ModelSpec):
        return [f"model {_dims(spec.input_shape)} → {len(spec.class_names)} classes"]
    if isinstance(spec, PredictionsSpec):
        count = format_count(spec.count) if spec.count is not None else "all"
        return [f"{count} predictions"]
    if isinstance(spec, ScoresSpec):
        return [f"scores, {len(spec.class_names)} classes"]
    describe = getattr(spec, "describe", None)
    return [describe()] if describe is not None else []


def _dims(shape: tuple[int, ...]) -> str:
    return "×".join(str(d) for d in shape)


def _range(bounds: tuple[float, float]) -> str:
    return f"{bounds[0]:g}–{bounds[1]:g}"


def block_lines(block: BlockNode, spec: NetworkSpec) -> list[str]:
    """A block's output shape, and the parameters of all the layers inside it (blocks in it too)."""
    count = block.layer_count()
    return [f"out {format_shape(spec.shape)}",
            f"{format_count(block.layer_params())} params · {count} layer{'s' if count != 1 else ''}"]


def _spec_lines(item: WorkflowNode) -> list[str]:
    lines: list[str] = []
    network = item.specs.get("network")
    if isinstance(item.node, BlockNode) and isinstance(network, NetworkSpec):
        return block_lines(item.node, network)
    for port in item.node.outputs:
        spec = item.specs.get(port.name)
        if spec is not None:
            lines.extend(spec_lines(spec))
    if not lines:  # a sink such as the Network Writer: say where it writes
        for setting in item.node.settings_spec:
            value = item.node.settings.get(setting.name)
            if isinstance(setting, PathSetting) and value:
                lines.append(f"→ {PurePath(str(value)).name}")
                break
    return lines[:2]


def summarize(item: WorkflowNode) -> NodeSummary:
    """The footer lines and tooltip for ``item`` in its current state."""
    return NodeSummary(lines=footer_lines(item), tooltip=tooltip_html(item))


def footer_lines(item: WorkflowNode) -> tuple[str, ...]:
    """The footer lines alone (the canvas builds a tooltip only when one is shown)."""
    if isinstance(item.node, MissingNode):
        return (f"'{item.node.missing_type}'", "is not installed")
    if item.state is NodeState.NOT_CONFIGURED:
        return (item.message or "not configured",)
    found = _spec_lines(item)
    result = _result_line(item) if item.state is NodeState.EXECUTED else None
    if result and not isinstance(item.specs.get("network"), NetworkSpec):
        found = [result, *[line for line in found if line != result][:1]]
    return tuple(found)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def tooltip_html(item: WorkflowNode) -> str:
    node = item.node
    kind = node.missing_type if isinstance(node, MissingNode) else node.name
    state = STATE_TEXT[item.state]
    if item.state is NodeState.EXECUTED and item.seconds:
        state += f" in {item.seconds:.1f} s"
    parts = [f"<b>{_escape(item.label)}</b> &nbsp;<span style='color:#94a3b8'>{_escape(kind)} · {item.id}</span>"]
    parts.append(f"<br/>{state}")
    if item.message and item.state in (NodeState.NOT_CONFIGURED, NodeState.FAILED):
        color = "#fca5a5" if item.state is NodeState.FAILED else "#fcd34d"
        parts.append(f"<br/><span style='color:{color}'>{_escape(item.message)}</span>")
    if item.node.note and item.state is NodeState.CONFIGURED:  # e.g. "running will download 4.4 MB"
        parts.append(f"<br/><span style='color:#94a3b8'>{_escape(item.node.note)}</span>")
    network = item.specs.get("network")
    if isinstance(network, NetworkSpec) and item.state is not NodeState.NOT_CONFIGURED:
        parts.append(
            f"<br/>output shape {format_shape(network.shape)} · "
            f"network total {format_count(network.total_params)} params"
        )
    if item.state is NodeState.EXECUTED:
        parts.append("<br/><i>Double-click to open its result view</i>")
    return "<qt>" + "".join(parts) + "</qt>"
