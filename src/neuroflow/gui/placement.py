"""Where pasted nodes go: at the mouse pointer over the canvas, else the nearest free place.

Pasting at a fixed offset from the copied nodes put the copy on top of the original and its
neighbour. Over the canvas the pointer says where the user wants the copy (the top-left corner of
the pasted group goes there); from a menu or the toolbar there is no such place, so the group goes
to the free spot nearest to where it was copied from, with room around it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable

from PySide6.QtCore import QPointF, QRectF

#: The size assumed for a pasted node whose box is not on the canvas (copied from elsewhere).
DEFAULT_NODE_SIZE = (200.0, 110.0)
#: Free space kept around a pasted group, and the grid its free place is searched on.
MARGIN = 24.0
GRID = 40.0
#: The search gives up this far from the start (and then pastes at the start anyway).
SEARCH_RADIUS = 3000.0


def copied_positions(text: str) -> dict[str, tuple[float, float]]:
    """Node id -> layout position in copied ``.workflow`` text (empty when it has none)."""
    try:
        layout = json.loads(text).get("layout", {})
    except (ValueError, AttributeError):
        return {}
    found = {}
    for node_id, position in layout.items() if isinstance(layout, dict) else ():
        if isinstance(position, list) and len(position) == 2 and all(isinstance(v, (int, float)) for v in position):
            found[str(node_id)] = (float(position[0]), float(position[1]))
    return found


def group_rect(boxes: Iterable[QRectF]) -> QRectF:
    rect = QRectF()
    for box in boxes:
        rect = rect.united(box) if not rect.isNull() else QRectF(box)
    return rect


def free_place(group: QRectF, taken: Iterable[QRectF]) -> QPointF:
    """The top-left corner nearest to ``group``'s own where it overlaps none of ``taken``."""
    blocked = [box.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN) for box in taken]
    steps = int(SEARCH_RADIUS // GRID)
    candidates = sorted(
        ((dx * GRID, dy * GRID) for dx in range(-steps, steps + 1) for dy in range(-steps, steps + 1)),
        key=lambda d: (math.hypot(d[0], d[1]), d[1], d[0]),
    )
    for dx, dy in candidates:
        moved = group.translated(dx, dy)
        if not any(moved.intersects(box) for box in blocked):
            return moved.topLeft()
    return group.topLeft()
