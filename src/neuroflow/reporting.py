"""What the command line shows and writes: progress bars, summaries and the JSON report."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, TextIO

from .core.data import Scores, TrainedModel
from .core.events import (
    BatchEnded,
    EpochEnded,
    NodeState,
    NodeStateChanged,
    NodeWarning,
    TrainingEnded,
    TrainingStarted,
)
from .core.executor import RunResult
from .core.fileformat import atomic_write_text
from .core.layer_node import LayerNode
from .core.network import NetworkSpec, format_shape
from .core.ports import PortType
from .core.workflow import Workflow

_BAR_WIDTH = 24
_STATE_MARKS = {
    NodeState.EXECUTED: "ok",
    NodeState.FAILED: "FAILED",
    NodeState.CONFIGURED: "not run",
    NodeState.NOT_CONFIGURED: "not configured",
    NodeState.EXECUTING: "executing",
}


class ConsoleProgress:
    """Executor listener that draws one progress bar per epoch on a terminal stream.

    On a terminal the bar is redrawn in place (at most ten times a second); on a pipe or in a
    log, one line is written per finished epoch so logs stay readable.
    """

    def __init__(self, workflow: Workflow, stream: TextIO, enabled: bool = True) -> None:
        self.workflow = workflow
        self.stream = stream
        self.enabled = enabled
        self.interactive = enabled and hasattr(stream, "isatty") and stream.isatty()
        self._last_draw = 0.0
        self._epochs = 0
        self._epoch_started = time.perf_counter()

    def __call__(self, event: Any) -> None:
        if not self.enabled:
            return
        if isinstance(event, NodeStateChanged):
            self._state(event)
        elif isinstance(event, TrainingStarted):
            self._epochs = event.epochs
            self._write_line(
                f"  training on {event.samples:,} images: {event.epochs} epochs of {event.batches_per_epoch} batches"
            )
            self._epoch_started = time.perf_counter()
        elif isinstance(event, BatchEnded) and self.interactive:
            now = time.perf_counter()
            if now - self._last_draw >= 0.1 or event.batch == event.batches:
                self._last_draw = now
                line = self._bar(event.epoch, event.batch / event.batches, event.metrics, now - self._epoch_started)
                self.stream.write("\r" + line)
                self.stream.flush()
        elif isinstance(event, EpochEnded):
            line = self._bar(event.epoch, 1.0, event.metrics, event.seconds)
            if self.interactive:
                self.stream.write("\r" + line + "\n")
            else:
                self.stream.write(line + "\n")
            self.stream.flush()
            self._epoch_started = time.perf_counter()
        elif isinstance(event, TrainingEnded) and event.reason != "completed":
            self._write_line(f"  training ended after {event.epochs_run} epochs: {event.reason}")
        elif isinstance(event, NodeWarning):
            self._write_line(f"  warning: {self.workflow.nodes[event.node_id].title}: {event.message}")

    def _state(self, event: NodeStateChanged) -> None:
        item = self.workflow.nodes.get(event.node_id)
        if item is None:
            return
        if event.state is NodeState.EXECUTING:
            self._write_line(f"> {item.label} ({item.id})")
        elif event.state is NodeState.FAILED:
            self._write_line(f"  failed: {event.message}")

    def _bar(self, epoch: int, fraction: float, metrics: dict[str, float], seconds: float) -> str:
        filled = int(round(fraction * _BAR_WIDTH))
        bar = "#" * filled + "." * (_BAR_WIDTH - filled)
        shown = "  ".join(f"{key} {_metric(key, value)}" for key, value in metrics.items())
        width = len(str(self._epochs))
        return f"  epoch {epoch:>{width}}/{self._epochs} [{bar}] {seconds:5.1f}s  {shown}"

    def _write_line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        self.stream.flush()


def print_summary(workflow: Workflow, result: RunResult, stream: TextIO) -> None:
    """Each node's final state, then the scores of every executed Scorer."""
    stream.write(f"\nNode states ({result.seconds:.1f} s):\n")
    for nid in workflow.topological_order():
        item = workflow.nodes[nid]
        mark = _STATE_MARKS[item.state]
        timing = f"{item.seconds:7.1f} s" if item.state is NodeState.EXECUTED else " " * 9
        message = f"  {item.message}" if item.message else ""
        stream.write(f"  {item.label + ' (' + nid + ')':<34} {mark:<15}{timing}{message}\n")
    for nid, scores in _outputs_of_type(workflow, Scores):
        item = workflow.nodes[nid]
        stream.write(
            f"\nScores of {item.label} ({nid}) on {scores.count:,} images: accuracy {scores.accuracy:.4f}, "
            f"error rate {scores.error_rate:.4f}, Cohen's kappa {scores.cohen_kappa:.4f}\n"
        )
    stream.flush()


def build_report(workflow: Workflow, result: RunResult, source: str = "") -> dict[str, Any]:
    nodes = [
        {
            "id": item.id,
            "label": item.label,
            "type": item.type_id,
            "state": item.state.value,
            "message": item.message,
            "seconds": round(item.seconds, 3),
        }
        for item in (workflow.nodes[nid] for nid in workflow.topological_order())
    ]
    training = {
        nid: {
            "epochs_run": len(next(iter(model.history.values()), [])),
            "stop_reason": model.stop_reason,
            "seconds": round(model.seconds, 3),
            "history": {key: [round(float(v), 6) for v in values] for key, values in model.history.items()},
        }
        for nid, model in _outputs_of_type(workflow, TrainedModel)
    }
    scores = {nid: value.to_dict() for nid, value in _outputs_of_type(workflow, Scores)}
    return {
        "workflow": Path(source).name if source else "",
        "ok": result.ok,
        "cancelled": result.cancelled,
        "seconds": round(result.seconds, 3),
        "nodes": nodes,
        "training": training,
        "scores": scores,
    }


def write_report(path: Path, report: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(report, indent=2) + "\n")


def print_network_summaries(workflow: Workflow, stream: TextIO) -> None:
    """Print a Keras-style summary of every network that ends in a non-layer node."""
    for nid, network in _network_ends(workflow):
        item = workflow.nodes[nid]
        stream.write(f"\nNetwork ending at {item.label} ({nid})\n")
        header = f"  {'Layer':<30} {'Type':<20} {'Output shape':<18} {'Param #':>10}"
        rule = "  " + "-" * (len(header) - 2)
        stream.write(header + "\n" + rule + "\n")
        for layer in network.layers:
            node = workflow.nodes.get(layer.id)
            name = f"{node.label if node else layer.label} ({layer.id})"
            shape = "(None, " + format_shape(layer.output_shape)[1:]
            stream.write(f"  {name:<30} {layer.class_name:<20} {shape:<18} {layer.params:>10,}\n")
        stream.write(rule + "\n")
        stream.write(f"  Total params: {network.total_params:,}\n")
    others = [
        item for item in workflow.nodes.values()
        if "network" not in item.specs or not isinstance(item.node, LayerNode)  # e.g. the Network Reader
    ]
    if others:
        stream.write("\nOther nodes\n")
        for item in others:
            spec_text = "; ".join(spec.describe() for spec in item.specs.values())
            status = spec_text or item.message or item.state.value
            stream.write(f"  {item.label + ' (' + item.id + ')':<34} {status}\n")
    stream.flush()


def _network_ends(workflow: Workflow) -> list[tuple[str, NetworkSpec]]:
    ends = []
    for nid, item in workflow.nodes.items():
        network = item.specs.get("network")
        if not isinstance(network, NetworkSpec):
            continue
        consumers = [workflow.nodes[c.target].node for c in workflow.outgoing(nid) if c.source_port == "network"]
        if not consumers and not isinstance(item.node, LayerNode):
            continue  # a Network Reader whose network output is not used
        feeds_only_layers = consumers and all(
            any(port.type is PortType.NETWORK for port in consumer.outputs) for consumer in consumers
        )
        if not feeds_only_layers:
            ends.append((nid, network))
    return ends


def _outputs_of_type(workflow: Workflow, kind: type) -> list[tuple[str, Any]]:
    found = []
    for nid in workflow.topological_order():
        outputs = workflow.nodes[nid].outputs or {}
        for value in outputs.values():
            if isinstance(value, kind):
                found.append((nid, value))
    return found


def _metric(key: str, value: float) -> str:
    """A metric for the progress line: 4 decimals, but learning rates in significant digits."""
    return f"{value:.3g}" if key == "learning_rate" else f"{value:.4f}"
