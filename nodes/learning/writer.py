"""Network Writer: saves a trained model as .keras, .h5, a TensorFlow SavedModel or TensorFlow Lite."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from neuroflow.core.data import ImageData, TrainedModel, WrittenModel
from neuroflow.core.errors import ConfigureError, DataError
from neuroflow.core.node import ExecutionContext, Node
from neuroflow.core.ports import DatasetSpec, ModelSpec, Port, PortType, Spec
from neuroflow.core.settings import BoolSetting, ChoiceSetting, PathSetting
from neuroflow.training.deploy_formats import (
    QUANTIZATION_LABELS,
    QUANTIZATIONS,
    WRITER_FILE_FILTER,
    WRITER_FORMAT_LABELS,
    WRITER_FORMATS,
    human_size,
    size_on_disk,
    writer_format,
)
from neuroflow.training.model_files import model_path


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
    """A sink for models: its one output keeps what was written (path, format, size, and for
    TFLite the agreement with the Keras model) for the run report and the summary."""

    type_id = "neuroflow.learning.writer"
    version = 2  # 2: TensorFlow SavedModel and Lite formats, the 'quantization' setting
    category = "Learning"
    name = "Network Writer"
    description = (
        "Saves a trained model: as a .keras or .h5 file that Keras and the Network Reader open "
        "(class names and training history inside), as a TensorFlow SavedModel folder "
        "(NAME.savedmodel, for TensorFlow Serving) or as a TensorFlow Lite file (.tflite, for "
        "phones and small devices; optionally quantized). Connect sample images (e.g. the test "
        "images) to check that the TFLite model predicts the same classes as the Keras model on "
        "up to 1,000 of them; below 99% agreement the writer warns. The size of what was written "
        "is shown on the node. Saving is atomic: a failure never leaves a half-written model or "
        "damages an existing one. An existing model is replaced only when 'overwrite' is on."
    )
    keywords = ("save", "export", "keras", "h5", "hdf5", "model file", "savedmodel", "tflite",
                "tensorflow lite", "deploy", "quantization", "mobile", "serving")
    inputs = (
        Port("model", PortType.MODEL, "trained model", help="The model to save."),
        Port("sample", PortType.IMAGES, "sample images", optional=True,
             help="Images to check a TensorFlow Lite model on (up to 1,000, spread over them): "
                  "the share of images on which it predicts the same class as the Keras model."),
    )
    outputs = ()
    settings_spec = (
        PathSetting("path", "File", "", mode="save", file_filter=WRITER_FILE_FILTER,
                    help="Where to save the model; the name ends in .keras, .h5, .tflite or "
                         ".savedmodel (a folder). A relative path is taken from the workflow "
                         "file's folder."),
        ChoiceSetting("format", "Format", "auto", choices=WRITER_FORMATS, choice_labels=WRITER_FORMAT_LABELS,
                      help="File format; 'auto' follows the file extension. An explicit format "
                           "must match the extension."),
        ChoiceSetting("quantization", "TFLite quantization", "none", choices=QUANTIZATIONS,
                      choice_labels=QUANTIZATION_LABELS, visible_when=("format", ("auto", "tflite")),
                      help="TensorFlow Lite only: 'float16' halves the file, 'dynamic range' stores "
                           "weights in 8 bits (about a quarter); both may change a few predictions."),
        BoolSetting("overwrite", "Overwrite", False, help="Replace the model if it already exists."),
        BoolSetting("create_folders", "Create missing folders", True,
                    help="Create the file's folder (and its parents) when it does not exist yet."),
    )

    @classmethod
    def migrate_settings(cls, from_version: int, settings: dict[str, Any]) -> dict[str, Any]:
        if from_version < 2:
            settings.setdefault("quantization", "none")  # version 1 wrote no TFLite files
        return settings

    def configure(self, specs: Mapping[str, Spec | None]) -> dict[str, Spec]:
        self.require(specs, "model", ModelSpec)
        path = self["path"].strip()
        if not path:
            raise ConfigureError("no file set: choose where to save the model (setting 'path')")
        fmt = writer_format(path, self["format"])
        if specs.get("sample") is not None:
            self.require(specs, "sample", DatasetSpec)
        self.note = ""
        if fmt == "tflite" and specs.get("sample") is None:
            self.note = "connect sample images to check the TFLite model against the Keras model"
        # Whether the folder exists and the file does not is checked when saving: both can
        # change between editing and running, and validating a workflow must not depend on them.
        return {}

    def execute(self, inputs: Mapping[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
        trained: TrainedModel = inputs["model"]
        path = str(self.resolve_path(self["path"]))  # a relative path: from the workflow's folder
        fmt = writer_format(path, self["format"])
        ctx.progress(None, f"saving {path}")
        if self["create_folders"]:
            create_folder(model_path(path.rstrip("/\\") or path).parent)
        if fmt == "tflite":
            saved = self._write_tflite(trained, path, inputs.get("sample"), ctx)
        else:
            saved = self._write_keras_or_savedmodel(trained, path, fmt)
        line = f"{human_size(saved.size)} {_FORMAT_WORDS[fmt]}"
        if saved.agreement is not None:
            line += f"; TFLite agrees with Keras on {saved.agreement:.1%} of {saved.agreement_count:,} images"
        ctx.progress(1.0, f"wrote {line}")
        ctx.done(line)
        return {"saved": saved}

    def _write_keras_or_savedmodel(self, trained: TrainedModel, path: str, fmt: str) -> WrittenModel:
        if fmt == "savedmodel":
            from neuroflow.training.deploy_save import save_saved_model

            target = save_saved_model(trained, path, overwrite=self["overwrite"])
        else:
            from neuroflow.training.model_files import save_model

            target = save_model(trained, path, fmt, overwrite=self["overwrite"])
        return WrittenModel(path, fmt, size_on_disk(model_path(str(target))))

    def _write_tflite(self, trained: TrainedModel, path: str, sample: ImageData | None,
                      ctx: ExecutionContext) -> WrittenModel:
        from neuroflow.training import tflite_check
        from neuroflow.training.deploy_save import save_tflite

        quantization = self["quantization"]
        ctx.progress(None, f"converting to TensorFlow Lite ({quantization} quantization)")
        target, content = save_tflite(trained, path, quantization=quantization, overwrite=self["overwrite"])
        size = size_on_disk(target)
        if sample is None:
            ctx.warn("the TFLite model was not checked against the Keras model: connect sample "
                     "images (e.g. the test images) to the writer's 'sample images' input")
            return WrittenModel(path, "tflite", size, quantization)
        ctx.progress(None, "checking the TFLite model against the Keras model")
        x = tflite_check.sample_images(sample, trained.spec.input_shape)
        result = tflite_check.agreement(content, trained.model, x)
        if result.count and result.fraction < tflite_check.WARN_BELOW:
            ctx.warn(f"{result.text()}: below {tflite_check.WARN_BELOW:.0%}; the converted model "
                     "predicts differently - try another quantization or compare its accuracy")
        return WrittenModel(path, "tflite", size, quantization, result.fraction, result.count)


_FORMAT_WORDS = {
    "keras": "Keras file",
    "h5": "HDF5 file",
    "savedmodel": "SavedModel folder",
    "tflite": "TensorFlow Lite file",
}
