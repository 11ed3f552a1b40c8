"""Results a settings edit dropped, kept so that undoing the edit brings them back.

Changing a setting resets the node and everything downstream (their results no longer match
the settings). When the edit is undone, the settings are the ones those results were computed
with again, and throwing away a trained model over a slip of the hand is a waste. So the
workflow keeps what such a reset dropped, keyed by a *fingerprint* of everything that decided
the result - the node's type, version and settings, the workflow's folder (relative paths) and,
recursively, the fingerprints and wiring of everything upstream - and puts a result back only
when the node's fingerprint is the same again. The rule is exact, whatever edits come between.

Memory stays bounded: one result per node at most (the most recent), and the whole stash is
dropped by every structural edit (a node or connection added or removed), by an explicit reset
of the node, and by whoever runs the workflow elsewhere and cannot keep those results (the
editor's runner drops it when a run starts, as its execution process then lets them go).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .node import MissingNode

if TYPE_CHECKING:
    from .workflow import Workflow, WorkflowNode


@dataclass(frozen=True)
class StashedResult:
    """A node's results as they were when an edit reset it."""

    fingerprint: str
    outputs: dict[str, Any]
    seconds: float
    message: str


def fingerprints(workflow: Workflow, node_ids: Iterable[str]) -> dict[str, str]:
    """A digest per node in ``node_ids`` of everything that decides its results (see above)."""
    found: dict[str, str] = {}
    folder = str(workflow.folder) if workflow.folder is not None else None
    nodes = workflow.nodes

    def digest(nid: str) -> str:
        # Iterative post-order walk: a chain of hundreds of layers must not hit the recursion limit.
        stack, opened = [nid], set()
        while stack:
            current = stack[-1]
            if current in found:
                stack.pop()
                continue
            incoming = workflow.incoming(current)
            pending = [c.source for c in incoming.values() if c.source not in found]
            if pending and current not in opened:
                opened.add(current)
                stack.extend(pending)
                continue
            stack.pop()
            if pending:  # a cycle (only a corrupted graph has one): never reusable
                found[current] = "-"
                continue
            item = nodes[current]
            node = item.node
            version = node.missing_version if isinstance(node, MissingNode) else node.version
            upstream = sorted((port, found[c.source], c.source_port) for port, c in incoming.items())
            text = json.dumps([item.type_id, version, node.settings_json(), upstream, folder],
                              sort_keys=True, default=str)
            found[current] = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        return found[nid]

    return {nid: digest(nid) for nid in node_ids}


class ResultStash:
    """At most one :class:`StashedResult` per node id."""

    def __init__(self) -> None:
        self._entries: dict[str, StashedResult] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._entries

    def keep(self, item: WorkflowNode, fingerprint: str) -> None:
        """Keep ``item``'s current results (replacing what was kept for it before)."""
        assert item.outputs is not None
        self._entries[item.id] = StashedResult(fingerprint, item.outputs, item.seconds, item.message)

    def take(self, node_id: str, prints: Mapping[str, str]) -> StashedResult | None:
        """The result kept for ``node_id`` if its fingerprint is ``prints[node_id]`` (and forget it)."""
        entry = self._entries.get(node_id)
        if entry is None or entry.fingerprint != prints.get(node_id):
            return None
        del self._entries[node_id]
        return entry

    def discard(self, node_ids: Iterable[str] | None = None) -> None:
        """Forget what was kept for these nodes, or for all."""
        if node_ids is None:
            self._entries.clear()
        else:
            for node_id in node_ids:
                self._entries.pop(node_id, None)
