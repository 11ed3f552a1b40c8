"""What the command line shows and writes: progress bars, summaries and the JSON report."""

from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from .core.block import BlockNode, layer_label
from .core.data import ImageData, ImageFileDataset, Scores, TrainedModel, WrittenModel
from .core.events import (
    BatchEnded,
    EpochEnded,
    NodeProgress,
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
from .training.deploy_formats import human_size

_BAR_WIDTH = 24
_STATE_MARKS = {
    NodeState.EXECUTED: "ok",
    NodeState.FAILED: "FAILED",
    NodeState.CONFIGURED: "not run",
    NodeState.NOT_CONFIGURED: "not configured",
    NodeState.EXECUTING: "executing",
}


#: In a log, a node's progress gets a new line when its wording changes (at most this many per
#: node) or when this many seconds passed since its last line, so a long download is not silent.
_LOG_LINES_PER_NODE = 6
_LOG_INTERVAL = 10.0
_REDRAW_INTERVAL = 0.1
_CLEAR_TO_END = "\x1b[K"


@dataclass
class _NodeProgressState:
    fraction: float | None = None
    message: str = ""
    printed: str = ""  # the last message written as a line (logs)
    lines: int = 0
    last_line: float = 0.0
    drawn: str = ""  # the bar last drawn on the terminal (terminals)


class ConsoleProgress:
    """Executor listener that shows progress on a terminal stream or in a log.

    Training gets one bar per epoch. Every other node's progress (reading files, a download,
    predicting) gets a bar of its own while it runs. On a terminal bars are redrawn in place (at
    most ten times a second) and each stays as one line when its node ends; on a pipe or in a log,
    a line is written per finished epoch, and per node a line when its progress changes wording
    ("downloading FILE", "reading FILE", "read N images") or every ten seconds during long work -
    so logs stay short and readable.
    """

    def __init__(self, workflow: Workflow, stream: TextIO, enabled: bool = True) -> None:
        self.workflow = workflow
        self.stream = stream
        self.enabled = enabled
        self.interactive = enabled and hasattr(stream, "isatty") and stream.isatty()
        self._last_draw = 0.0
        self._epochs = 0
        self._epoch_started = time.perf_counter()
        self._training: set[str] = set()
        self._nodes: dict[str, _NodeProgressState] = {}
        self._bar_node: str | None = None  # whose bar is on the current terminal line
        self._epoch_bar_open = False  # an epoch's bar is drawn on the current line, not ended

    def __call__(self, event: Any) -> None:
        if not self.enabled:
            return
        if isinstance(event, NodeStateChanged):
            self._state(event)
        elif isinstance(event, NodeProgress):
            if event.node_id not in self._training:
                self._node_progress(event)
        elif isinstance(event, TrainingStarted):
            self._end_bar()
            self._training.add(event.node_id)
            self._epochs = event.epochs
            self._write_line(
                f"  training on {event.samples:,} images: {event.epochs} epoch{'s' if event.epochs != 1 else ''} of "
                f"{event.batches_per_epoch} batches"
                + (f" on {event.devices} ({event.precision.replace('_', ' ')})" if event.devices else "")
            )
            self._epoch_started = time.perf_counter()
        elif isinstance(event, BatchEnded) and self.interactive:
            now = time.perf_counter()
            if now - self._last_draw >= _REDRAW_INTERVAL or event.batch == event.batches:
                self._last_draw = now
                line = self._bar(event.epoch, event.batch / event.batches, event.metrics, now - self._epoch_started)
                self.stream.write("\r" + line)
                self.stream.flush()
                self._epoch_bar_open = True
        elif isinstance(event, EpochEnded):
            line = self._bar(event.epoch, 1.0, event.metrics, event.seconds)
            if self.interactive:
                self.stream.write("\r" + line + "\n")
            else:
                self.stream.write(line + "\n")
            self.stream.flush()
            self._epoch_bar_open = False
            self._epoch_started = time.perf_counter()
        elif isinstance(event, TrainingEnded) and event.reason != "completed":
            if self._epoch_bar_open:  # the bar of an epoch that a stop cut short stays as it is
                self._epoch_bar_open = False
                self.stream.write("\n")
            epochs = event.epochs_run
            self._write_line(f"  training ended after {epochs} epoch{'s' if epochs != 1 else ''}: {event.reason}")
        elif isinstance(event, NodeWarning):
            self._write_line(f"  warning: {self.workflow.nodes[event.node_id].title}: {event.message}")

    def _state(self, event: NodeStateChanged) -> None:
        item = self.workflow.nodes.get(event.node_id)
        if item is None:
            return
        if event.state is NodeState.EXECUTING:
            self._nodes[event.node_id] = _NodeProgressState()
            self._write_line(f"> {item.label} ({item.id})")
            return
        state = self._nodes.pop(event.node_id, None)
        if state is not None:
            self._finish_node(event.node_id, state, executed=event.state is NodeState.EXECUTED)
        self._training.discard(event.node_id)
        if event.state is NodeState.FAILED:
            self._write_line(f"  failed: {event.message}")

    # -- the progress of nodes other than training ------------------------------------------
    def _node_progress(self, event: NodeProgress) -> None:
        state = self._nodes.setdefault(event.node_id, _NodeProgressState())
        first = not state.message and not state.printed
        state.fraction, state.message = event.fraction, event.message
        if not event.message and event.fraction is None:
            return
        now = time.perf_counter()
        if self.interactive:
            done = event.fraction is not None and event.fraction >= 1.0
            if first or done or now - self._last_draw >= _REDRAW_INTERVAL or self._bar_node != event.node_id:
                self._last_draw = now
                self._draw_node_bar(event.node_id, state)
            return
        if not event.message:
            return
        if _wording(event.message) != _wording(state.printed) and state.lines < _LOG_LINES_PER_NODE:
            self._log_node_line(state, now)  # a new step: its words say enough
        elif now - state.last_line >= _LOG_INTERVAL:
            self._log_node_line(state, now, percent=True)  # long work: how far it is

    def _draw_node_bar(self, node_id: str, state: _NodeProgressState) -> None:
        if self._bar_node not in (None, node_id):
            self._end_bar()
        width = max(shutil.get_terminal_size((100, 24)).columns - 1, 20)
        line = _node_bar(state.fraction, state.message)[:width]
        if self._bar_node == node_id and line == state.drawn:
            return
        self.stream.write("\r" + line + _CLEAR_TO_END)
        self.stream.flush()
        self._bar_node, state.drawn = node_id, line

    def _log_node_line(self, state: _NodeProgressState, now: float, percent: bool = False) -> None:
        fraction = state.fraction
        suffix = f" ({int(fraction * 100)}%)" if percent and fraction is not None and 0.0 < fraction < 1.0 else ""
        self._write_line(f"  {state.message}{suffix}")
        state.printed, state.last_line = state.message, now
        state.lines += not percent  # the cap is on steps; time-based lines have their own pace

    def _finish_node(self, node_id: str, state: _NodeProgressState, executed: bool) -> None:
        if self.interactive:
            if state.drawn:
                if executed:  # work of unknown length ("saving ...") is done now
                    state.fraction = 1.0
                self._draw_node_bar(node_id, state)  # its final state, kept as a line
                self._end_bar()
        elif executed and state.message and state.message != state.printed:
            self._log_node_line(state, time.perf_counter())

    def _end_bar(self) -> None:
        """Move past a node's bar so the next output starts on a line of its own."""
        if self._bar_node is not None:
            self._bar_node = None
            self.stream.write("\n")
            self.stream.flush()

    def _bar(self, epoch: int, fraction: float, metrics: dict[str, float], seconds: float) -> str:
        filled = int(round(fraction * _BAR_WIDTH))
        bar = "#" * filled + "." * (_BAR_WIDTH - filled)
        shown = "  ".join(f"{key} {_metric(key, value)}" for key, value in metrics.items())
        width = len(str(self._epochs))
        return f"  epoch {epoch:>{width}}/{self._epochs} [{bar}] {seconds:5.1f}s  {shown}"

    def _write_line(self, text: str) -> None:
        self._end_bar()
        self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        self._end_bar()
        self.stream.flush()


def _node_bar(fraction: float | None, message: str) -> str:
    """``  [#########...............]  38%  downloading FILE: 1.7 MB of 4.4 MB``."""
    if fraction is None:
        return f"  [{'~' * _BAR_WIDTH}]       {message}"
    fraction = min(max(fraction, 0.0), 1.0)
    filled = int(fraction * _BAR_WIDTH)
    return f"  [{'#' * filled}{'.' * (_BAR_WIDTH - filled)}] {fraction:4.0%}  {message}"


def _wording(message: str) -> str:
    """What a progress message says, without its numbers or its details after a colon."""
    return re.sub(r"[\d.,]+", "", message.partition(":")[0]).strip()


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
            f"  {ranking_line(scores)}\n"
        )
    for nid, saved in _outputs_of_type(workflow, WrittenModel):
        stream.write(f"\n{workflow.nodes[nid].label} ({nid}) wrote {saved.path}: {human_size(saved.size)} ({saved.format})")
        if saved.agreement is not None:
            stream.write(f", TFLite top-1 agreement {saved.agreement:.1%} on {saved.agreement_count:,} images")
        stream.write("\n")
    stream.flush()


def ranking_line(scores: Scores) -> str:
    """Balanced accuracy, top-k accuracy and macro AUC in one line, saying why one is missing."""
    parts = [f"balanced accuracy {scores.balanced_accuracy:.4f}"]
    if scores.top_k_accuracy is not None:
        parts.append(f"top-{scores.top_k} accuracy {scores.top_k_accuracy:.4f}")
    macro, note = scores.macro_auc, scores.macro_auc_note()
    if macro is None:
        parts.append(f"macro AUC n/a ({note})")
    else:
        parts.append(f"macro AUC {macro:.4f}" + (f" ({note})" if note else ""))
    return ", ".join(parts)


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
            "devices": model.devices,
            "precision": model.precision,
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
        "datasets": _datasets(workflow),
        "training": training,
        "scores": scores,
        "written_models": {nid: value.to_dict() for nid, value in _outputs_of_type(workflow, WrittenModel)},
    }


def _datasets(workflow: Workflow) -> dict[str, dict[str, Any]]:
    """What each reader produced: image count, shape, where the pixels are, the files skipped."""
    found: dict[str, dict[str, Any]] = {}
    for nid in workflow.topological_order():
        item = workflow.nodes[nid]
        if not item.outputs or item.node.inputs:
            continue  # only sources: downstream datasets are subsets or rescalings of these
        for port, value in item.outputs.items():
            if not isinstance(value, ImageData):
                continue
            entry: dict[str, Any] = {
                "images": len(value), "shape": list(value.shape), "classes": list(value.class_names),
                "stored": "memory" if value.in_memory else "files",
            }
            if isinstance(value, ImageFileDataset):
                entry["skipped"] = [{"path": path, "reason": reason} for path, reason in value.skipped]
            found.setdefault(nid, {})[port] = entry
    return found


def write_report(path: Path, report: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(report, indent=2) + "\n")


def print_network_summaries(workflow: Workflow, stream: TextIO) -> None:
    """Print a Keras-style summary of every network that ends in a non-layer node."""
    for nid, network in _network_ends(workflow):
        item = workflow.nodes[nid]
        stream.write(f"\nNetwork ending at {item.label} ({nid})\n")
        rows = []
        for layer in network.layers:
            name = f"{layer_label(workflow, layer.id) or layer.label} ({layer.id})"
            rows.append((name, layer.class_name, "(None, " + format_shape(layer.output_shape)[1:], f"{layer.params:,}"))
        widths = [max(len(row[i]) for row in [("Layer", "Type", "Output shape", "Param #"), *rows]) for i in range(4)]
        header = f"  {'Layer':<{widths[0]}}  {'Type':<{widths[1]}}  {'Output shape':<{widths[2]}}  {'Param #':>{widths[3]}}"
        rule = "  " + "-" * (len(header) - 2)
        stream.write(header + "\n" + rule + "\n")
        for name, kind, shape, params in rows:
            stream.write(f"  {name:<{widths[0]}}  {kind:<{widths[1]}}  {shape:<{widths[2]}}  {params:>{widths[3]}}\n")
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
        if not consumers and not isinstance(item.node, (LayerNode, BlockNode)):
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
