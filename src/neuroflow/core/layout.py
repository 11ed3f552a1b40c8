"""Automatic layout of a workflow: layered, left to right, along the data flow (no Qt).

Why layered: a workflow is a dataflow graph, and people read it as a pipeline - data readers on
the left, the network's layers in the middle, learner, executor, scorer and writer on the right.
The classic Sugiyama scheme gives exactly that picture, in four steps:

1. **Layers** (columns). Every node goes into the first column its inputs allow (longest path
   from the sources), so every wire runs left to right and sources - readers, the network's
   Input - start on the left. A wire spanning several columns gets an invisible *dummy* node in
   each column between, which reserves a corridor for it.
2. **Order within a column**, to avoid crossings: alternating left-to-right and right-to-left
   sweeps sort each column by the barycentre of its neighbours, counting a wire by the port it
   uses (the first input above the second), and keep the order with the fewest crossings.
3. **Straight lines.** Each node is aligned with at most one neighbour on its left, chosen by
   priority: the corridors of long wires first (the editor draws a wire as one curve from port
   to port, so a long wire is only tidy when it is straight), then the edge on the longest path
   through the graph (the main chain), the first port, the upper node. Aligned nodes form a
   block that shares one height, port to port, so a chain of layers becomes one straight row.
4. **Heights.** Blocks are packed as high and as low as the order allows without overlap; the
   layout is the mean of the two (a mean of two valid layouts is valid: every constraint is a
   minimum distance), then each block moves towards its other neighbours within the room it
   has. Columns are as wide as their widest node plus a gap.

Components that share no wire are laid out apart and stacked, single nodes in a row below.
The result depends only on the node order, the wiring and the sizes: the same input gives the
same positions. Positions are the top-left corners of the nodes, as the editor stores them.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import median_low
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .workflow import Workflow

Size = tuple[float, float]
Point = tuple[float, float]


@dataclass(frozen=True)
class Link:
    """A wire from output port number ``source_port`` of ``source`` to input ``target_port``."""

    source: str
    source_port: int
    target: str
    target_port: int


@dataclass(frozen=True)
class Spacing:
    """Distances of the layout, in scene pixels; the defaults match the editor's drawn nodes.

    ``port_top`` is the height of the first port's centre below a node's top edge and
    ``port_pitch`` the distance between ports, so aligned nodes line up port to port.
    """

    column_gap: float = 70.0
    row_gap: float = 40.0
    wire_gap: float = 20.0
    component_gap: float = 80.0
    port_top: float = 40.0
    port_pitch: float = 23.0
    default_width: float = 200.0
    default_height: float = 110.0


SPACING = Spacing()
_SWEEP_ROUNDS = 12
_REFINE_PASSES = 4


def default_size(ports: int, spacing: Spacing = SPACING) -> Size:
    """The drawn size of a node with ``ports`` ports on its busier side, without asking Qt:
    two footer lines and one port row per port, as the editor draws a node."""
    return spacing.default_width, spacing.default_height + spacing.port_pitch * max(ports - 1, 0)


# -- the public entry points ----------------------------------------------------------------------
def layered_layout(
    nodes: Sequence[str],
    links: Iterable[Link],
    sizes: Mapping[str, Size] | None = None,
    *,
    origin: Point = (0.0, 0.0),
    spacing: Spacing = SPACING,
) -> dict[str, Point]:
    """Top-left positions of ``nodes``, laid out left to right along ``links``.

    ``sizes`` gives each node's drawn (width, height); a node without one gets
    :func:`default_size` of its ports. Links to nodes not listed, and duplicates, are ignored;
    a cycle (impossible in a workflow) is broken rather than refused. The top-left corner of
    the whole layout is ``origin``.
    """
    order = list(dict.fromkeys(nodes))
    index = {node: i for i, node in enumerate(order)}
    unique: list[tuple[int, int, int, int]] = []
    seen: set[tuple[int, int, int, int]] = set()
    for link in links:
        s, t = index.get(link.source), index.get(link.target)
        if s is None or t is None or s == t:
            continue
        key = (s, max(int(link.source_port), 0), t, max(int(link.target_port), 0))
        if key not in seen:
            seen.add(key)
            unique.append(key)
    unique.sort()  # the wiring is a set: the order the wires were drawn in does not matter
    ports = [1] * len(order)
    for s, sp, t, tp in unique:
        ports[s] = max(ports[s], sp + 1)
        ports[t] = max(ports[t], tp + 1)
    box: list[Size] = []
    for i, node in enumerate(order):
        given = sizes.get(node) if sizes else None
        box.append((float(given[0]), float(given[1])) if given else default_size(ports[i], spacing))

    placed: dict[int, Point] = {}
    singles: list[int] = []
    y = 0.0
    widest = 0.0
    for members in _components(len(order), unique):
        if len(members) == 1:
            singles.append(members[0])
            continue
        local = _Layout(members, unique, box, spacing).positions()
        for number, (x, top) in local.items():
            placed[number] = (x, top + y)
        bottom = max(placed[n][1] + box[n][1] for n in members)
        widest = max(widest, max(placed[n][0] + box[n][0] for n in members))
        y = bottom + spacing.component_gap
    # Single nodes share rows below the rest, as wide as the widest component.
    x, row_height = 0.0, 0.0
    limit = max(widest, 4 * (spacing.default_width + spacing.column_gap))
    for number in singles:
        width, height = box[number]
        if x > 0 and x + width > limit:
            x, y = 0.0, y + row_height + spacing.row_gap
            row_height = 0.0
        placed[number] = (x, y)
        x += width + spacing.column_gap
        row_height = max(row_height, height)
    return {
        order[i]: (round(origin[0] + px, 1), round(origin[1] + py, 1)) for i, (px, py) in sorted(placed.items())
    }


def workflow_links(workflow: Workflow, node_ids: Iterable[str] | None = None) -> list[Link]:
    """The workflow's connections among ``node_ids`` (all by default), ports given by number.

    A port is numbered by its place in the node type's declaration; a missing node (type not
    installed) declares none, so its ports are numbered in the order its wiring names them.
    """
    wanted = set(workflow.nodes if node_ids is None else node_ids)
    named: dict[tuple[str, str], dict[str, int]] = {}

    def number(node_id: str, side: str, port: str) -> int:
        table = named.get((node_id, side))
        if table is None:
            node = workflow.nodes[node_id].node
            declared = node.inputs if side == "in" else node.outputs
            table = named[(node_id, side)] = {p.name: i for i, p in enumerate(declared)}
        if port not in table:
            table[port] = len(table)
        return table[port]

    return [
        Link(c.source, number(c.source, "out", c.source_port), c.target, number(c.target, "in", c.target_port))
        for c in workflow.connections
        if c.source in wanted and c.target in wanted and c.source in workflow.nodes and c.target in workflow.nodes
    ]


def arrange_workflow(
    workflow: Workflow,
    node_ids: Iterable[str] | None = None,
    sizes: Mapping[str, Size] | None = None,
    *,
    origin: Point | None = None,
    spacing: Spacing = SPACING,
) -> dict[str, Point]:
    """New positions for ``node_ids`` (default: every node), laid out among themselves.

    Only the wires among those nodes count. Without ``origin`` the layout keeps the top-left
    corner the nodes had, so arranging a selection leaves it where it was - moved in just
    enough to stay within the positions a file may hold. Nothing is changed: the caller
    applies the positions (the editor as one undoable step).
    """
    wanted = None if node_ids is None else set(node_ids)
    ids = [nid for nid in workflow.nodes if wanted is None or nid in wanted]
    if not ids:
        return {}
    if origin is None:
        origin = (min(workflow.nodes[n].position[0] for n in ids), min(workflow.nodes[n].position[1] for n in ids))
    if sizes is None:
        sizes = {}
        for nid in ids:
            node = workflow.nodes[nid].node
            sizes[nid] = default_size(max(len(node.inputs), len(node.outputs), 1), spacing)
    positions = layered_layout(ids, workflow_links(workflow, ids), sizes, spacing=spacing)
    from .fileformat import MAX_POSITION  # the file format imports the workflow, which may import this

    shift = []
    for axis in (0, 1):
        extent = max(p[axis] for p in positions.values())
        shift.append(min(max(origin[axis], -MAX_POSITION), MAX_POSITION - extent))
    return {nid: (round(x + shift[0], 1), round(y + shift[1], 1)) for nid, (x, y) in positions.items()}


# -- the layout of one connected component --------------------------------------------------------
def _components(count: int, links: Sequence[tuple[int, int, int, int]]) -> list[list[int]]:
    """Connected components, largest first, then in node order."""
    parent = list(range(count))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for s, _, t, _ in links:
        a, b = find(s), find(t)
        if a != b:
            parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for i in range(count):
        groups.setdefault(find(i), []).append(i)
    return sorted(groups.values(), key=lambda members: (-len(members), members[0]))


class _Layout:
    """Sugiyama layout of one connected component; node numbers index ``box``."""

    def __init__(self, members: list[int], links: Sequence[tuple[int, int, int, int]], box: list[Size],
                 spacing: Spacing) -> None:
        self.spacing = spacing
        inside = set(members)
        self.real = members  # node numbers of the caller, in node order
        local = {node: i for i, node in enumerate(members)}
        edges = [(local[s], sp, local[t], tp) for s, sp, t, tp in links if s in inside]
        self.count = len(members)
        self.width = [box[n][0] for n in members]
        self.height = [box[n][1] for n in members]
        self.edges = self._acyclic(edges)
        self.layer = self._layers()
        self._add_dummies()

    # -- step 1: layers and dummy nodes --------------------------------------------------------
    def _acyclic(self, edges: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
        """Reverse the wires that close a cycle (depth-first, in node order)."""
        out: list[list[int]] = [[] for _ in range(self.count)]
        for s, _, t, _ in edges:
            out[s].append(t)
        state = [0] * self.count  # 0 new, 1 on the stack, 2 done
        back: set[tuple[int, int]] = set()
        for start in range(self.count):
            if state[start]:
                continue
            stack = [(start, iter(out[start]))]
            state[start] = 1
            while stack:
                node, targets = stack[-1]
                for target in targets:
                    if state[target] == 1:
                        back.add((node, target))
                    elif state[target] == 0:
                        state[target] = 1
                        stack.append((target, iter(out[target])))
                        break
                else:
                    state[node] = 2
                    stack.pop()
        return [(t, tp, s, sp) if (s, t) in back else (s, sp, t, tp) for s, sp, t, tp in edges]

    def _layers(self) -> list[int]:
        """Longest path from the sources: every node in the first column its inputs allow."""
        indegree = [0] * self.count
        out: list[list[int]] = [[] for _ in range(self.count)]
        for s, _, t, _ in self.edges:
            out[s].append(t)
            indegree[t] += 1
        layer = [0] * self.count
        ready = [n for n in range(self.count) if indegree[n] == 0]
        while ready:
            node = ready.pop()
            for target in out[node]:
                layer[target] = max(layer[target], layer[node] + 1)
                indegree[target] -= 1
                if indegree[target] == 0:
                    ready.append(target)
        return layer

    def _add_dummies(self) -> None:
        """Split every wire spanning several columns with a dummy node per column between."""
        self.total = self.count
        self.preds: list[list[tuple[int, int, int]]] = [[] for _ in range(self.count)]  # (node, its port, my port)
        self.succs: list[list[tuple[int, int, int]]] = [[] for _ in range(self.count)]
        self.out_ports = [1] * self.count
        self.in_ports = [1] * self.count
        for s, sp, t, tp in self.edges:
            self.out_ports[s] = max(self.out_ports[s], sp + 1)
            self.in_ports[t] = max(self.in_ports[t], tp + 1)
            previous, port = s, sp
            for column in range(self.layer[s] + 1, self.layer[t]):
                dummy = self.total
                self.total += 1
                self.layer.append(column)
                self.preds.append([])
                self.succs.append([])
                self.out_ports.append(1)
                self.in_ports.append(1)
                self.width.append(0.0)
                self.height.append(0.0)
                self._link(previous, port, dummy, 0)
                previous, port = dummy, 0
            self._link(previous, port, t, tp)
        self.columns = max(self.layer) + 1

    def _link(self, source: int, source_port: int, target: int, target_port: int) -> None:
        self.succs[source].append((target, source_port, target_port))
        self.preds[target].append((source, source_port, target_port))

    def is_dummy(self, node: int) -> bool:
        return node >= self.count

    # -- step 2: order within each column ------------------------------------------------------
    def _initial_order(self) -> list[list[int]]:
        """Depth-first from the sources in node order, following outputs in port order."""
        columns: list[list[int]] = [[] for _ in range(self.columns)]
        visited = [False] * self.total
        starts = [n for n in range(self.count) if not self.preds[n]]
        for start in starts:
            stack = [start]
            while stack:
                node = stack.pop()
                if visited[node]:
                    continue
                visited[node] = True
                columns[self.layer[node]].append(node)
                following = sorted(self.succs[node], key=lambda s: (s[1], s[2]))
                stack.extend(target for target, _, _ in reversed(following) if not visited[target])
        return columns

    def _order(self) -> list[list[int]]:
        columns = self._initial_order()
        best = [list(c) for c in columns]
        best_crossings = self._crossings(columns)
        stale = 0
        for _ in range(_SWEEP_ROUNDS):
            if best_crossings == 0:
                break
            for i in range(1, self.columns):
                self._sort_column(columns, i, forward=True)
            for i in range(self.columns - 2, -1, -1):
                self._sort_column(columns, i, forward=False)
            crossings = self._crossings(columns)
            if crossings < best_crossings:
                best, best_crossings, stale = [list(c) for c in columns], crossings, 0
            else:
                stale += 1
                if stale >= 2:
                    break
        return best

    def _sort_column(self, columns: list[list[int]], i: int, *, forward: bool) -> None:
        """Sort column ``i`` by the barycentre of its neighbours in the column before (or after)."""
        fixed = columns[i - 1] if forward else columns[i + 1]
        place = {node: p for p, node in enumerate(fixed)}
        keyed = []
        for p, node in enumerate(columns[i]):
            total, count = 0.0, 0
            if forward:
                for other, other_port, _ in self.preds[node]:
                    total += place[other] + (other_port + 1) / (self.out_ports[other] + 1)
                    count += 1
            else:
                for other, _, other_port in self.succs[node]:
                    total += place[other] + (other_port + 1) / (self.in_ports[other] + 1)
                    count += 1
            keyed.append((total / count if count else p + 0.5, p, node))
        keyed.sort()
        columns[i] = [node for _, _, node in keyed]

    def _crossings(self, columns: list[list[int]]) -> int:
        """Wire crossings between neighbouring columns, telling ports apart (inversion count)."""
        place = [0] * self.total
        for column in columns:
            for p, node in enumerate(column):
                place[node] = p
        total = 0
        for i in range(self.columns - 1):
            pairs = sorted(
                ((place[s], sp), (place[t], tp)) for s in columns[i] for t, sp, tp in self.succs[s]
            )
            ranks = {value: r for r, value in enumerate(sorted({b for _, b in pairs}))}
            tree = [0] * (len(ranks) + 1)
            seen = 0
            start = 0
            # Wires leaving the same port do not cross each other: add each port's group at once.
            while start < len(pairs):
                end = start
                while end < len(pairs) and pairs[end][0] == pairs[start][0]:
                    end += 1
                for _, b in pairs[start:end]:
                    r = ranks[b] + 1
                    at_or_below = 0
                    while r > 0:
                        at_or_below += tree[r]
                        r -= r & -r
                    total += seen - at_or_below
                for _, b in pairs[start:end]:
                    r = ranks[b] + 1
                    while r < len(tree):
                        tree[r] += 1
                        r += r & -r
                seen += end - start
                start = end
        return total

    # -- step 3: alignment into straight blocks ------------------------------------------------
    def _port_y(self, node: int, port: int) -> float:
        """Height of a port's centre below the node's top (a dummy is the wire itself)."""
        if self.is_dummy(node):
            return 0.0
        return self.spacing.port_top + self.spacing.port_pitch * port

    def _align(self, columns: list[list[int]]) -> list[int]:
        """Each node's aligned left neighbour (-1 for none), chosen by priority, never crossing."""
        place = [0] * self.total
        for column in columns:
            for p, node in enumerate(column):
                place[node] = p
        depth = self.layer
        height = [0] * self.total  # longest path to a sink
        for column in reversed(columns):
            for node in column:
                height[node] = max((height[t] + 1 for t, _, _ in self.succs[node]), default=0)
        candidates = []
        for s in range(self.total):
            for t, sp, tp in self.succs[s]:
                corridor = self.is_dummy(s) or self.is_dummy(t)
                candidates.append((-int(corridor), -(depth[s] + height[t]), tp, sp, place[s], place[t], s, t))
        candidates.sort()
        pred = [-1] * self.total
        has_succ = [False] * self.total
        accepted: list[tuple[list[int], list[int]]] = [([], []) for _ in range(self.columns)]
        for *_, s, t in candidates:
            if pred[t] != -1 or has_succ[s]:
                continue
            lefts, rights = accepted[self.layer[s]]
            k = bisect.bisect_left(lefts, place[s])
            if (k > 0 and rights[k - 1] > place[t]) or (k < len(rights) and rights[k] < place[t]):
                continue  # would cross a straight line already chosen
            lefts.insert(k, place[s])
            rights.insert(k, place[t])
            pred[t] = s
            has_succ[s] = True
        return pred

    # -- step 4: heights -----------------------------------------------------------------------
    def _gap(self, upper: int, lower: int) -> float:
        dummies = self.is_dummy(upper) + self.is_dummy(lower)
        if dummies == 0:
            return self.spacing.row_gap
        return self.spacing.wire_gap if dummies == 2 else (self.spacing.row_gap + self.spacing.wire_gap) / 2

    def positions(self) -> dict[int, Point]:
        """Top-left corners of the real nodes (the caller's numbers), the highest at y = 0."""
        columns = self._order()
        pred = self._align(columns)
        block = [0] * self.total
        offset = [0.0] * self.total  # top of the node below the top of its block's first node
        for column in columns:
            for node in column:
                p = pred[node]
                if p == -1:
                    block[node] = node
                else:
                    port_out = next(sp for t, sp, _ in self.succs[p] if t == node)
                    port_in = next(tp for s, _, tp in self.preds[node] if s == p)
                    block[node] = block[p]
                    offset[node] = offset[p] + self._port_y(p, port_out) - self._port_y(node, port_in)
        # Minimum distances between blocks: a node's block below the block of the node above it.
        above: dict[int, int] = {}
        below: dict[int, int] = {}
        need: dict[tuple[int, int], float] = {}
        for column in columns:
            for upper, lower in zip(column, column[1:], strict=False):
                above[lower], below[upper] = upper, lower
                key = (block[upper], block[lower])
                distance = offset[upper] + self.height[upper] + self._gap(upper, lower) - offset[lower]
                if need.get(key, float("-inf")) < distance:
                    need[key] = distance
        blocks = sorted(set(block))
        top = self._pack(blocks, need, downwards=True)
        bottom = self._pack(blocks, need, downwards=False)
        lowest_top = min(top[block[n]] + offset[n] for n in range(self.total))
        lowest_bottom = min(bottom[block[n]] + offset[n] for n in range(self.total))
        shift = lowest_top - lowest_bottom
        y = {b: (top[b] + bottom[b] + shift) / 2 for b in blocks}
        self._refine(columns, block, offset, y, above, below)
        # Columns: as wide as their widest node, plus the gap.
        x, left = 0.0, []
        for column in columns:
            left.append(x)
            x += max((self.width[n] for n in column), default=0.0) + self.spacing.column_gap
        result = {self.real[n]: (left[self.layer[n]], y[block[n]] + offset[n]) for n in range(self.count)}
        min_y = min(p[1] for p in result.values())
        return {node: (px, py - min_y) for node, (px, py) in result.items()}

    @staticmethod
    def _pack(blocks: list[int], need: dict[tuple[int, int], float], *, downwards: bool) -> dict[int, float]:
        """Blocks as high (or as low) as the minimum distances allow: longest paths in a DAG."""
        after: dict[int, list[tuple[int, float]]] = {b: [] for b in blocks}
        indegree = dict.fromkeys(blocks, 0)
        for (upper, lower), distance in need.items():
            first, second = (upper, lower) if downwards else (lower, upper)
            after[first].append((second, distance))
            indegree[second] += 1
        value = dict.fromkeys(blocks, 0.0)
        ready = [b for b in blocks if indegree[b] == 0]
        while ready:
            b = ready.pop()
            for other, distance in after[b]:
                if downwards:
                    value[other] = max(value[other], value[b] + distance)
                else:
                    value[other] = min(value[other], value[b] - distance)
                indegree[other] -= 1
                if indegree[other] == 0:
                    ready.append(other)
        return value

    def _refine(self, columns: list[list[int]], block: list[int], offset: list[float], y: dict[int, float],
                above: dict[int, int], below: dict[int, int]) -> None:
        """Move each block towards the median height its other wires want, within its room.

        Every wish and every limit is another block's height plus a constant, worked out once.
        """
        wishes: dict[int, list[tuple[int, float]]] = {b: [] for b in y}
        floors: dict[int, list[tuple[int, float]]] = {b: [] for b in y}
        ceilings: dict[int, list[tuple[int, float]]] = {b: [] for b in y}
        size: dict[int, int] = dict.fromkeys(y, 0)
        for column in columns:
            for node in column:
                b = block[node]
                size[b] += 1
                wires = [(other, op, mp) for other, op, mp in self.preds[node]]
                wires += [(other, op, mp) for other, mp, op in self.succs[node]]
                for other, other_port, my_port in wires:
                    if block[other] != b:
                        constant = (offset[other] + self._port_y(other, other_port)
                                    - self._port_y(node, my_port) - offset[node])
                        wishes[b].append((block[other], constant))
                if node in above:
                    upper = above[node]
                    floors[b].append(
                        (block[upper], offset[upper] + self.height[upper] + self._gap(upper, node) - offset[node]))
                if node in below:
                    lower = below[node]
                    ceilings[b].append(
                        (block[lower], offset[lower] - self._gap(node, lower) - self.height[node] - offset[node]))
        order = sorted((b for b in y if wishes[b]), key=lambda b: (size[b], b))
        for round_ in range(_REFINE_PASSES):
            for b in order if round_ % 2 == 0 else reversed(order):
                low = max((y[other] + c for other, c in floors[b]), default=float("-inf"))
                high = min((y[other] + c for other, c in ceilings[b]), default=float("inf"))
                if low <= high:
                    wanted = median_low([y[other] + c for other, c in wishes[b]])
                    y[b] = min(max(wanted, low), high)
