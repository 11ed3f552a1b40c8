"""Start-up stays light: the editor paints its canvas without importing TensorFlow."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("workflow", [None, "workflows/mnist_cnn.workflow"])
def test_launch_paints_the_canvas_without_tensorflow(tmp_path, workflow):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", NEUROFLOW_STARTUP_PROBE="1",
               NEUROFLOW_NO_WARMUP="1", NEUROFLOW_SETTINGS=str(tmp_path / "settings.ini"))
    code = f"import sys; from neuroflow.gui.app import launch; sys.exit(launch({workflow!r}))"
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=60)
    elapsed = time.perf_counter() - started
    assert done.returncode == 0, done.stderr[-2000:]
    ready = [line for line in done.stdout.splitlines() if line.startswith("NEUROFLOW_READY")]
    assert ready, done.stdout + done.stderr[-2000:]
    assert ready[0].endswith("heavy=none")
    assert elapsed < 20  # generous: the real target (1.5 s) is measured by benchmarks/gui_latency.py
