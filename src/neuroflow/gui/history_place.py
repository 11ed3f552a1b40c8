"""Where the editor keeps a workflow's run history: the one choice the editor adds to the rule.

By default a history lives where :func:`neuroflow.history.default_store_path` says (beside the
workflow, or in ``$NEUROFLOW_RUNS_DIR``). A user who wants results apart from the workflows
(a read-only project folder, a shared drive for a class) picks a folder in the Runs panel; the
choice is kept in the editor's settings and wins over the variable, as ``--runs-dir`` does on
the command line.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from neuroflow.history import default_store_path

#: QSettings key of the chosen folder ("" or absent: the default place).
FOLDER_KEY = "history/folder"


def chosen_folder(settings: QSettings) -> str:
    value = settings.value(FOLDER_KEY, "")
    return str(value) if value else ""


def choose_folder(settings: QSettings, folder: str) -> None:
    """Keep runs in ``folder`` from now on; ``""`` goes back to the default place."""
    settings.setValue(FOLDER_KEY, folder)


def store_path(settings: QSettings, workflow_path: Path | None) -> Path:
    """The history file of the workflow saved at ``workflow_path`` (None: not saved yet)."""
    return default_store_path(workflow_path, folder=chosen_folder(settings) or None)
