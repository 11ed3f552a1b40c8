"""The emitter registry and the state an export builds up while it walks the workflow.

Every node kind that does work in ``main()`` of an exported script (readers, Normalizer,
Partitioning, Learner, Executor, Scorer, Writer) has an emitter: a function taking the
:class:`Export` and the node, appending the node's lines to ``export.main``. A node type
names its emitter itself with a ``python_emitter = "module:function"`` class attribute, or
one of NeuroFlow's modules registers it for the type id with :func:`emitter` (a plugin loaded
from a folder, whose module cannot be imported by name, may give the function itself). Layer nodes
and blocks need none: the Learner's emitter writes the whole network (``network.py``).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from neuroflow.core.errors import NeuroFlowError
from neuroflow.core.ports import DatasetSpec, PortType
from neuroflow.core.workflow import Workflow, WorkflowNode

Emitter = Callable[["Export", WorkflowNode], None]
EMITTERS: dict[str, Emitter] = {}


def emitter(type_id: str) -> Callable[[Emitter], Emitter]:
    """Register the emitter of nodes of ``type_id``."""
    def register(function: Emitter) -> Emitter:
        EMITTERS[type_id] = function
        return function

    return register


def find_emitter(item: WorkflowNode) -> Emitter | None:
    declared = getattr(type(item.node), "python_emitter", "")
    if callable(declared):
        return declared  # type: ignore[no-any-return]
    if declared:
        module, _, function = declared.partition(":")
        return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]
    return EMITTERS.get(item.type_id)


def is_network_node(item: WorkflowNode) -> bool:
    """Layer nodes and blocks: every output is a network, written by the Learner's emitter."""
    outputs = type(item.node).outputs
    return bool(outputs) and all(port.type is PortType.NETWORK for port in outputs)


#: Width of a section heading's text and rule (before the script's indentation).
SECTION_WIDTH = 78


@dataclass
class Export:
    """One export in progress: the workflow and the script text gathered so far."""

    workflow: Workflow
    #: Statements of ``main()``, indented by four spaces.
    main: list[str] = field(default_factory=list)
    #: Top-level definitions (``build_model`` and what it needs).
    definitions: list[str] = field(default_factory=list)
    #: One-line summaries for the script's docstring.
    notes: list[str] = field(default_factory=list)
    #: Facts later emitters need, e.g. the model variable of each Learner.
    facts: dict[str, Any] = field(default_factory=dict)

    def var(self, node_id: str, port: str) -> str:
        """The script variable holding output ``port`` of node ``node_id``."""
        item = self.workflow.nodes[node_id]
        base = re.sub(r"\W", "_", node_id).lower()
        if not base or base[0].isdigit():
            base = f"node_{base}"
        outputs = type(item.node).outputs
        return base if len(outputs) <= 1 else f"{base}_{port}"

    def source(self, node_id: str, port: str) -> str | None:
        """The variable connected into input ``port`` of ``node_id``, or None when unconnected."""
        connection = self.workflow.incoming(node_id).get(port)
        return None if connection is None else self.var(connection.source, connection.source_port)

    def source_spec(self, node_id: str, port: str) -> Any:
        connection = self.workflow.incoming(node_id).get(port)
        if connection is None:
            return None
        return self.workflow.nodes[connection.source].specs.get(connection.source_port)

    def dataset_spec(self, node_id: str, port: str) -> DatasetSpec:
        spec = self.source_spec(node_id, port)
        if not isinstance(spec, DatasetSpec):
            raise NeuroFlowError(f"cannot export {title(self.workflow.nodes[node_id])}: input '{port}' is "
                                 "not configured (run 'neuroflow validate' for the reason)")
        return spec

    def line(self, text: str = "") -> None:
        self.main.append(f"    {text}" if text else "")

    def section(self, label: str, what: str) -> None:
        """A blank line and ``# -- LABEL: WHAT ----``, ruled out to one width, before a node's lines."""
        self.line("")
        self.line(f"# -- {label}: {what} " + "-" * max(4, SECTION_WIDTH - len(label) - len(what)))


def title(item: WorkflowNode) -> str:
    """How messages name a node: its label and its type's name."""
    kind = getattr(type(item.node), "name", item.type_id)
    return f"'{item.label}' ({kind})" if item.label and item.label != kind else f"'{kind}'"
