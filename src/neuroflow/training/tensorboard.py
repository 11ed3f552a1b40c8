"""TensorBoard logs of a training: Keras's own ``TensorBoard`` callback, one sub-folder per run.

The Network Learner's "TensorBoard log folder" names the folder a user points ``tensorboard
--logdir`` at; every training writes into a new sub-folder of it named after its start time and
the learner (``20261129-153012-learner``), so runs sit side by side in TensorBoard instead of
overwriting each other. Keras writes the events; NeuroFlow only picks the folder.

Since TensorFlow 2.20 the ``tensorboard`` package no longer comes with TensorFlow, and without it
``tf.summary`` cannot write a scalar: :func:`missing` turns that into advice at configure time,
before a training runs for minutes and fails at its first epoch.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import Any

INSTALL_HINT = "pip install tensorboard (a NeuroFlow installation brings it)"


def missing() -> str:
    """Why TensorBoard logs cannot be written here, or ``""`` when they can."""
    if importlib.util.find_spec("tensorboard") is None:
        return f"TensorBoard logs need the tensorboard package, which is not installed: {INSTALL_HINT}"
    return ""


def make_run_folder(base: Path, node_id: str, *, now: float | None = None) -> Path:
    """Create and return a new sub-folder of ``base`` for one training: its start time and the
    learner's id, with ``-2``, ``-3``... when another training (another process, too) took that
    name in the same second: ``mkdir`` without ``exist_ok`` is what decides who got it."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() if now is None else now))
    name = f"{stamp}-{node_id}" if node_id else stamp
    base.mkdir(parents=True, exist_ok=True)
    number = 1
    while True:
        folder = base / (name if number == 1 else f"{name}-{number}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            number += 1


def callback(keras: Any, folder: Path) -> Any:
    """Keras's TensorBoard callback writing epoch scalars (loss, metrics, learning rate) to ``folder``.

    Per-epoch only: per-batch summaries would slow a small model's training noticeably, and the
    weight histograms and graph are off for the same reason.
    """
    return keras.callbacks.TensorBoard(log_dir=str(folder), histogram_freq=0, write_graph=False,
                                       update_freq="epoch")
