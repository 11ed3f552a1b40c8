"""Runs a workflow: nodes in topological order, with caching, failure isolation and cancel.

``Executor(workflow).run()`` executes every node (or, with ``targets``, just what those nodes
need). Executed outputs are cached on the workflow nodes, so a second run only executes what
an edit has reset. A failing node is marked failed with its one-line message; nodes that depend
on it are skipped while independent branches still run. Cancelling (``token.cancel()``) stops
the running node at its next progress check or training batch, returns it to *configured* and
leaves the workflow ready to run again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import Cancelled, NeuroFlowError
from .events import NodeState, RunFinished
from .node import CancelToken, ExecutionContext
from .workflow import Workflow

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    executed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    not_configured: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    cancelled: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not (self.failed or self.not_configured or self.cancelled)


class Executor:
    """Executes a :class:`Workflow`, sending events to ``listener`` and to the workflow's own."""

    def __init__(self, workflow: Workflow, listener: Callable[[Any], None] | None = None) -> None:
        self.workflow = workflow
        self.listener = listener
        self.token = CancelToken()

    def _emit(self, event: Any) -> None:
        self.workflow.emit(event)

    def cancel(self) -> None:
        self.token.cancel()

    def run(self, targets: Iterable[str] | None = None, token: CancelToken | None = None) -> RunResult:
        """Execute ``targets`` and everything they need (all nodes when ``targets`` is None)."""
        workflow = self.workflow
        self.token = token or CancelToken()
        started = time.perf_counter()
        result = RunResult()
        if self.listener is not None:
            workflow.subscribe(self.listener)
        try:
            problems = workflow.configure()
            if targets is None:
                wanted: set[str] = set(workflow.nodes)
            else:
                wanted = set()
                for target in targets:
                    wanted |= {target} | workflow.upstream(target)
            for nid in workflow.topological_order(wanted):
                item = workflow.nodes[nid]
                if nid in problems:
                    result.not_configured[nid] = problems[nid]
                    continue
                if item.state is NodeState.EXECUTED and item.outputs is not None:
                    continue
                blocked = self._blocked_by(nid)
                if blocked:
                    result.skipped.append(nid)
                    continue
                if self.token.cancelled:
                    result.cancelled = True
                    break
                if not self._execute_node(nid, result):
                    if result.cancelled:
                        break
            result.seconds = time.perf_counter() - started
            self._emit(
                RunFinished(
                    tuple(result.executed), tuple(result.failed), result.cancelled, result.seconds
                )
            )
        finally:
            if self.listener is not None:
                workflow.unsubscribe(self.listener)
        return result

    def _blocked_by(self, nid: str) -> str | None:
        workflow = self.workflow
        for connection in workflow.incoming(nid).values():
            source = workflow.nodes[connection.source]
            if source.state is not NodeState.EXECUTED or source.outputs is None:
                return connection.source
        return None

    def _execute_node(self, nid: str, result: RunResult) -> bool:
        workflow = self.workflow
        item = workflow.nodes[nid]
        inputs: dict[str, Any] = {port.name: None for port in item.node.inputs}
        for port_name, connection in workflow.incoming(nid).items():
            source = workflow.nodes[connection.source]
            assert source.outputs is not None
            inputs[port_name] = source.outputs[connection.source_port]
        ctx = ExecutionContext(nid, item.label, self.token, self._emit)
        workflow.set_state(nid, NodeState.EXECUTING)
        started = time.perf_counter()
        try:
            outputs = item.node.execute(inputs, ctx)
            missing = [p.name for p in item.node.outputs if p.name not in outputs]
            if missing:
                raise NeuroFlowError(f"produced no value for output(s) {', '.join(missing)}")
        except Cancelled:
            item.outputs = None
            workflow.set_state(nid, NodeState.CONFIGURED, "cancelled")
            result.cancelled = True
            return False
        except NeuroFlowError as exc:
            return self._fail(nid, str(exc), result)
        except MemoryError:
            return self._fail(nid, "ran out of memory; try a smaller sample limit or batch size", result)
        except Exception as exc:  # a bug or a library error: still one line for the user
            log.exception("node %s failed", nid)
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            return self._fail(nid, f"{type(exc).__name__}: {reason}".rstrip(": "), result)
        item.outputs = dict(outputs)
        item.seconds = time.perf_counter() - started
        workflow.set_state(nid, NodeState.EXECUTED, ctx.result)
        result.executed.append(nid)
        return True

    def _fail(self, nid: str, message: str, result: RunResult) -> bool:
        item = self.workflow.nodes[nid]
        item.outputs = None
        self.workflow.set_state(nid, NodeState.FAILED, message)
        result.failed[nid] = message
        return False
