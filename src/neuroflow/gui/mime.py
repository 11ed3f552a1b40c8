"""Drag-and-drop payloads: a node type dragged from the repository onto the canvas.

The MIME type is the one NodeGraphQt's viewer already accepts for drops, so the viewer lets the
drag through; the payload (JSON with the type id) is ours, and only the canvas adapter reads it.
"""

from __future__ import annotations

import json

from PySide6.QtCore import QMimeData

NODE_TYPE_MIME = "nodegraphqt/nodes"


def encode_node_type(type_id: str) -> QMimeData:
    """Drag payload for a node type."""
    mime = QMimeData()
    mime.setData(NODE_TYPE_MIME, json.dumps({"neuroflow_node_type": type_id}).encode("utf-8"))
    mime.setText(type_id)
    return mime


def decode_node_types(mime: QMimeData) -> list[str]:
    """The node type ids in a drop, or ``[]`` when the drop is something else."""
    if not mime.hasFormat(NODE_TYPE_MIME):
        return []
    try:
        payload = json.loads(bytes(mime.data(NODE_TYPE_MIME).data()).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return []
    type_id = payload.get("neuroflow_node_type") if isinstance(payload, dict) else None
    return [type_id] if isinstance(type_id, str) else []


def encode_library_block(key: str) -> QMimeData:
    """Drag payload for a block of the block library (``builtin:...`` or ``user:...``)."""
    mime = QMimeData()
    mime.setData(NODE_TYPE_MIME, json.dumps({"neuroflow_block": key}).encode("utf-8"))
    mime.setText(key)
    return mime


def decode_library_block(mime: QMimeData) -> str | None:
    """The library key in a drop, or ``None`` when the drop is something else."""
    if not mime.hasFormat(NODE_TYPE_MIME):
        return None
    try:
        payload = json.loads(bytes(mime.data(NODE_TYPE_MIME).data()).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    key = payload.get("neuroflow_block") if isinstance(payload, dict) else None
    return key if isinstance(key, str) else None
