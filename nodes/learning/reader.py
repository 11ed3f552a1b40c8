"""Network Reader: loads a trained model from a .keras or .h5 file."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from neuroflow.core.errors import ConfigureError
from neuroflow.core.node import ExecutionContext, Node
from neuroflow.core.ports import Port, PortType, Spec
from neuroflow.core.settings import PathSetting
from neuroflow.training.model_files import FILE_FILTER, file_format, read_model_info


class NetworkReaderNode(Node):
    type_id = "neuroflow.learning.reader"
    category = "Learning"
    name = "Network Reader"
    description = (
        "Loads a trained model from a .keras or .h5 file, such as one saved by the Network "
        "Writer, to classify new images without training again. Class names saved by NeuroFlow "
        "come back with the model; models from elsewhere get the class names 0, 1, 2, ... "
        "Files are loaded in Keras safe mode: a model containing Python code (a Lambda layer) is "
        "refused rather than run."
    )
    keywords = ("load", "open", "import", "keras", "h5", "hdf5", "model file", "pretrained")
    inputs = ()
    outputs = (Port("model", PortType.MODEL, "trained model", help="The model read from the file."),)
    settings_spec = (
        PathSetting("path", "File", "", mode="file", file_filter=FILE_FILTER,
                    help="A model file ending in .keras or .h5."),
    )

    def configure(self, specs: Mapping[str, Spec | None]) -> dict[str, Spec]:
        path = self["path"].strip()
        if not path:
            raise ConfigureError("no file set: choose a model file (setting 'path')")
        file_format(path)
        return {"model": read_model_info(path).spec}

    def execute(self, inputs: Mapping[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
        from neuroflow.training.model_files import load_trained_model

        path = self["path"].strip()
        ctx.progress(None, f"loading {path}")
        return {"model": load_trained_model(path)}
