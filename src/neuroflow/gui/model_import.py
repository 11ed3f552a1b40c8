"""File > Import Model…: a Keras model file brought in as layer nodes, saved as a workflow, opened.

The import itself is :func:`neuroflow.training.model_import.import_model`, the same as
``neuroflow import``: it reads the model's configuration and weight sizes as JSON and h5py
headers, so it runs in the editor's process in milliseconds and never imports TensorFlow.
The imported workflow is saved beside the model (the dialog proposes ``MODEL.workflow``) before
it is opened, because the Network Learner names the weights file relative to the workflow's
folder. A model that cannot be imported (an unsupported layer, a Lambda) is reported in one
line in the Messages panel, and the open workflow stays as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from neuroflow.core.errors import NeuroFlowError

from .file_flow import FILE_FILTER, FileFlow

MODEL_FILTER = "Keras models (*.keras *.h5 *.hdf5);;All files (*)"


@dataclass(frozen=True)
class ImportRequest:
    model: Path
    out: Path
    weights: bool


class ImportModelDialog(QDialog):
    """The model file, where the workflow goes, and whether the weights come along."""

    def __init__(self, parent: QWidget | None, start: Path) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import Keras model")
        self.model = QLineEdit()
        self.out = QLineEdit()
        self.weights = QCheckBox("Bring the weights along (the Network Learner starts from them)")
        self.weights.setChecked(True)
        self._start = start
        form = QFormLayout(self)
        form.addRow("Model file", self._with_button(self.model, self._browse_model))
        form.addRow("Save workflow as", self._with_button(self.out, self._browse_out))
        form.addRow("", self.weights)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.model.textChanged.connect(self._propose_out)

    @staticmethod
    def _with_button(edit: QLineEdit, browse: Callable[[], None]) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(edit)
        button = QPushButton("Browse…")
        button.clicked.connect(browse)
        layout.addWidget(button)
        return row

    def _browse_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Keras model file", str(self._start), MODEL_FILTER)
        if path:
            self.model.setText(path)

    def _browse_out(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save imported workflow", self.out.text(), FILE_FILTER)
        if path:
            self.out.setText(path if path.endswith(".workflow") else f"{path}.workflow")

    def _propose_out(self, text: str) -> None:
        if text.strip():
            self.out.setText(str(Path(text.strip()).with_suffix(".workflow")))

    def request(self) -> ImportRequest | None:
        model, out = self.model.text().strip(), self.out.text().strip()
        if not model or not out:
            return None
        return ImportRequest(Path(model), Path(out), self.weights.isChecked())


class ModelImport(QObject):
    """The File > Import Model… command; ``ask`` is what tests replace."""

    def __init__(self, files: FileFlow) -> None:
        super().__init__(files)
        self.files = files

    def ask(self) -> ImportRequest | None:
        document = self.files.document
        start = document.path.parent if document.path else Path.cwd()
        dialog = ImportModelDialog(self.files.window, start)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.request()

    def run(self) -> bool:
        files = self.files
        if files.document.locked or not files.maybe_save():
            return False
        request = self.ask()
        if request is None:
            return False
        return self.import_to(request)

    def import_to(self, request: ImportRequest) -> bool:
        """Import, save and open; a problem is one line in Messages, nothing else changes."""
        from neuroflow.core import fileformat
        from neuroflow.training.model_import import import_model

        files = self.files
        try:
            if request.out.exists() and request.out.resolve() == (files.document.path or Path()).resolve():
                raise NeuroFlowError(f"'{request.out}' is the open workflow; choose another file name")
            result = import_model(str(request.model), weights=request.weights, folder=request.out.parent)
            fileformat.save(result.workflow, request.out)
        except (NeuroFlowError, OSError) as exc:
            text = " ".join(str(exc).split())[:1_000]
            files.messages.add("error", text)
            files.messages_dock.raise_()
            files.alert("Cannot import model", text)
            return False
        for note in result.notes:
            files.messages.add("warning", note)
        if not files.open_file(request.out):
            return False
        files.window.statusBar().showMessage(
            f"Imported {len(result.nodes)} layers of {request.model.name} into {request.out.name}", 8_000)
        return True
