"""Start-up paths stay light: building, loading and validating never import TensorFlow or Qt."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_core_nodes_load_and_validate_leave_tensorflow_and_qt_unimported() -> None:
    script = textwrap.dedent(
        """
        import pkgutil, importlib, sys, io
        import neuroflow, neuroflow.nodes
        from neuroflow.core import fileformat
        from neuroflow.core.registry import default_registry
        from neuroflow.reporting import print_network_summaries
        for info in pkgutil.walk_packages(neuroflow.nodes.__path__, "neuroflow.nodes."):
            importlib.import_module(info.name)
        registry = default_registry()
        assert len(registry) >= 20, len(registry)
        for path in sorted(__import__("pathlib").Path("workflows").glob("*.workflow")):
            workflow = fileformat.load(path)
            assert workflow.first_problem() is None, (path, workflow.first_problem())
            print_network_summaries(workflow, io.StringIO())
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "PySide6", "NodeGraphQt", "pyqtgraph"))
        print(heavy)
        assert not heavy, heavy
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr + done.stdout
