"""Start-up paths stay light: building, loading and validating never import TensorFlow or Qt."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
#: The workplace's shared data folder beside the clone holds Fashion-MNIST; a user's machine
#: may not have it, and then the Fashion workflow must say where it looked instead.
SHARED_DATA = REPO.parent / "shared" / "data"


def test_core_nodes_load_and_validate_leave_tensorflow_and_qt_unimported(tmp_path: Path) -> None:
    from images import png_bytes

    photos = tmp_path / "photos"  # for the photo workflows, whose folder a fresh clone lacks
    for k in range(10):  # the shipped photo workflow classifies ten classes
        (photos / f"class{k}").mkdir(parents=True)
        (photos / f"class{k}" / "1.png").write_bytes(png_bytes(np.full((40, 40, 3), 20 * k, np.uint8)))
    script = textwrap.dedent(
        """
        import pkgutil, importlib, sys, io, os
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
            problem = workflow.first_problem()
            if problem and "Fashion-MNIST" in problem and "not found" in problem:
                continue  # no Fashion-MNIST on this machine: reported, as it should be
            if problem and "image folder not found" in problem:
                for item in workflow.nodes.values():
                    if item.type_id == "neuroflow.data.image_folder_reader":
                        workflow.set_setting(item.id, "folder", os.environ["PHOTOS"])
                problem = workflow.first_problem()
            assert problem is None, (path, problem)
            print_network_summaries(workflow, io.StringIO())
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "PySide6", "NodeGraphQt", "pyqtgraph"))
        print(heavy)
        assert not heavy, heavy
        """
    )
    env = dict(os.environ, PHOTOS=str(photos))
    if SHARED_DATA.is_dir():
        env["NEUROFLOW_DATA"] = str(SHARED_DATA)
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr + done.stdout
