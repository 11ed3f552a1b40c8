"""The formats the Network Writer can write, chosen by the file name, and their sizes on disk.

Four formats, each for a different place the model goes next:

* ``keras`` (``.keras``) and ``h5`` (``.h5``/``.hdf5``): Keras models, read back by the Network
  Reader and by ``keras.saving.load_model`` (see :mod:`.model_files`);
* ``savedmodel`` (a folder, named ``NAME.savedmodel``): TensorFlow's serving format, written by
  Keras 3's ``model.export``; TensorFlow Serving, ``tf.saved_model.load`` and converters take it;
* ``tflite`` (``.tflite``): TensorFlow Lite, for phones and small devices, optionally quantized.

This module needs no TensorFlow: the writer's configure step uses it on every edit.
"""

from __future__ import annotations

import os
from pathlib import Path

from neuroflow.core.errors import ConfigureError

WRITER_FORMATS = ("auto", "keras", "h5", "savedmodel", "tflite")
WRITER_FORMAT_LABELS = (
    "from the file extension",
    "Keras (.keras)",
    "HDF5 (.h5)",
    "TensorFlow SavedModel (a .savedmodel folder)",
    "TensorFlow Lite (.tflite)",
)
WRITER_EXTENSIONS = {".keras": "keras", ".h5": "h5", ".hdf5": "h5", ".savedmodel": "savedmodel", ".tflite": "tflite"}
WRITER_FILE_FILTER = (
    "Models (*.keras *.h5 *.hdf5 *.tflite *.savedmodel);;Keras (*.keras);;HDF5 (*.h5 *.hdf5);;"
    "TensorFlow Lite (*.tflite);;TensorFlow SavedModel folder (*.savedmodel)"
)
_WANTED = {"keras": ".keras", "h5": ".h5 or .hdf5", "savedmodel": ".savedmodel", "tflite": ".tflite"}

#: TensorFlow Lite quantization: none keeps float32 weights; float16 halves them; dynamic range
#: stores weights as 8-bit integers (about a quarter) and computes in float where it must.
QUANTIZATIONS = ("none", "float16", "dynamic")
QUANTIZATION_LABELS = ("none (float32)", "float16 weights", "dynamic range (8-bit weights)")


def writer_format(path: str, requested: str = "auto") -> str:
    """The format of ``path`` for the writer; refuses unknown extensions and mismatches."""
    name = Path(path.rstrip("/\\") or path).name
    inferred = WRITER_EXTENSIONS.get(Path(name).suffix.lower())
    if requested == "auto":
        if inferred is None:
            raise ConfigureError(
                f"cannot tell the model format from the file name '{name}'; "
                "end it in .keras, .h5, .tflite or .savedmodel (a folder)"
            )
        return inferred
    if requested not in _WANTED:
        raise ConfigureError(f"unknown model format '{requested}' (formats: {', '.join(WRITER_FORMATS)})")
    if inferred != requested:
        raise ConfigureError(
            f"format '{requested}' does not match the file name '{name}'; "
            f"end it in {_WANTED[requested]} or choose the format 'auto'"
        )
    return requested


def size_on_disk(path: str | os.PathLike[str]) -> int:
    """Bytes of a file, or of every file in a folder (a SavedModel), links not followed."""
    target = Path(path)
    if not target.is_dir():
        return target.stat().st_size
    total = 0
    for root, _dirs, files in os.walk(target):
        for file in files:
            total += os.lstat(os.path.join(root, file)).st_size
    return total


def human_size(size: int) -> str:
    """``123 B``, ``45.6 KB``, ``7.8 MB``: sizes in the units file managers use (1 KB = 1000 B)."""
    value = float(size)
    for unit in ("B", "KB", "MB"):
        if value < 1000:
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000.0
    return f"{value:.1f} GB"
