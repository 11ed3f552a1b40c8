"""NeuroFlow: a codeless deep-learning workbench.

The public API for running workflows from Python::

    from neuroflow import load_workflow, Executor
    workflow = load_workflow("workflows/mnist_cnn.workflow")
    result = Executor(workflow).run()

Importing this package never imports TensorFlow or Qt; nodes import TensorFlow only when they
execute, and the editor lives in ``neuroflow.gui``.
"""

from .core.errors import NeuroFlowError
from .core.executor import Executor, RunResult
from .core.fileformat import load as load_workflow
from .core.fileformat import save as save_workflow
from .core.registry import default_registry
from .core.workflow import Workflow

__version__ = "0.1.0"

__all__ = [
    "Executor",
    "NeuroFlowError",
    "RunResult",
    "Workflow",
    "default_registry",
    "load_workflow",
    "save_workflow",
]
