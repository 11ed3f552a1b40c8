"""Network Writer: saves a trained model as a .keras or .h5 file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from neuroflow.core.data import TrainedModel
from neuroflow.core.errors import ConfigureError, DataError
from neuroflow.core.node import ExecutionContext, Node
from neuroflow.core.ports import ModelSpec, Port, PortType, Spec
from neuroflow.core.settings import BoolSetting, ChoiceSetting, PathSetting
from neuroflow.training.model_files import FILE_FILTER, FORMAT_LABELS, FORMATS, file_format, model_path


def create_folder(folder: Path) -> None:
    """Create ``folder`` and its parents, or say in one line why not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), folder)
        raise DataError(f"cannot create the folder {folder}: {blocker} is a file") from None
    except OSError as exc:
        raise DataError(f"cannot create the folder {folder}: {exc.strerror or exc}") from None


class NetworkWriterNode(Node):
    """A sink: it has no output port; the model stays available on the learner's output."""

    type_id = "neuroflow.learning.writer"
    category = "Learning"
    name = "Network Writer"
    description = (
        "Saves a trained model to a file that Keras and the Network Reader can open: the .keras "
        "format, or the older HDF5 (.h5) format. The class names and training history are stored "
        "inside the file. Saving is atomic: the file is written under a temporary name and only "
        "then renamed, so a failure never leaves a half-written file or damages an existing one. "
        "An existing file is replaced only when 'overwrite' is on; the folder must exist."
    )
    keywords = ("save", "export", "keras", "h5", "hdf5", "model file")
    inputs = (Port("model", PortType.MODEL, "trained model", help="The model to save."),)
    outputs = ()
    settings_spec = (
        PathSetting("path", "File", "", mode="save", file_filter=FILE_FILTER,
                    help="Where to save the model; the name ends in .keras or .h5. A relative path "
                         "is taken from the workflow file's folder."),
        ChoiceSetting("format", "Format", "auto", choices=FORMATS, choice_labels=FORMAT_LABELS,
                      help="File format; 'auto' follows the file extension. An explicit format "
                           "must match the extension."),
        BoolSetting("overwrite", "Overwrite", False, help="Replace the file if it already exists."),
        BoolSetting("create_folders", "Create missing folders", True,
                    help="Create the file's folder (and its parents) when it does not exist yet."),
    )

    def configure(self, specs: Mapping[str, Spec | None]) -> dict[str, Spec]:
        self.require(specs, "model", ModelSpec)
        path = self["path"].strip()
        if not path:
            raise ConfigureError("no file set: choose where to save the model (setting 'path')")
        file_format(path, self["format"])
        # Whether the folder exists and the file does not is checked when saving: both can
        # change between editing and running, and validating a workflow must not depend on them.
        return {}

    def execute(self, inputs: Mapping[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
        from neuroflow.training.model_files import save_model

        trained: TrainedModel = inputs["model"]
        path = str(self.resolve_path(self["path"]))  # a relative path: from the workflow's folder
        fmt = file_format(path, self["format"])
        ctx.progress(None, f"saving {path}")
        if self["create_folders"]:
            create_folder(model_path(path).parent)
        save_model(trained, path, fmt, overwrite=self["overwrite"])
        return {}
