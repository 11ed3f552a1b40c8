"""Where a workflow's run history lives.

The history sits beside the workflow it belongs to (``study.workflow`` ->
``study.runs.sqlite``), so moving or sharing a project folder takes its runs along. A read-only
project folder, or a wish to keep results apart from the workflows, is served by
``$NEUROFLOW_RUNS_DIR``: then every history is ``$NEUROFLOW_RUNS_DIR/<stem>.runs.sqlite``. Two
workflows with the same stem in different folders then share one database; that is harmless,
because every run records the workflow path it came from and listings can filter on it.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variable naming a folder that holds every run history instead.
RUNS_DIR_ENV = "NEUROFLOW_RUNS_DIR"

#: Suffix of a history database; the stem is the workflow file's stem.
SUFFIX = ".runs.sqlite"

#: Stem used for a workflow that has never been saved.
UNSAVED_STEM = "untitled"


def default_store_path(
    workflow_path: str | os.PathLike[str] | None, *, folder: str | os.PathLike[str] | None = None
) -> Path:
    """The history database for ``workflow_path`` (``None``: a workflow not saved yet).

    ``folder`` (a command's ``--runs-dir``, the editor's choice) wins over ``$NEUROFLOW_RUNS_DIR``.
    An unsaved workflow has no folder to sit beside, so its runs go to that folder or else
    ``~/.neuroflow/runs`` (beside ``~/.neuroflow/data``, the datasets' folder).
    """
    folder_env = os.fspath(folder) if folder else os.environ.get(RUNS_DIR_ENV)
    if workflow_path is None:
        folder = Path(folder_env).expanduser() if folder_env else Path.home() / ".neuroflow" / "runs"
        return folder / f"{UNSAVED_STEM}{SUFFIX}"
    workflow = Path(workflow_path)
    stem = workflow.stem or UNSAVED_STEM
    folder = Path(folder_env).expanduser() if folder_env else workflow.parent
    return folder / f"{stem}{SUFFIX}"
