"""Writing a trained model as a TensorFlow SavedModel folder or a TensorFlow Lite file.

Both are written so that a failure never leaves half a model where the user looks for one, and
never damages the model already there:

* **TFLite** is converted in memory first, then written through
  :func:`neuroflow.core.atomic.write_atomically` like every other file NeuroFlow saves.
* **SavedModel** is a folder, which no single rename can replace: it is exported to a hidden
  sibling folder (``.NAME.<pid>-<random>.tmp``), the existing folder (if overwriting) is moved
  aside to a hidden name, the new one is renamed into place, and only then is the old one
  deleted. If the second rename fails the old folder is moved back. Class names and the training
  history go into ``neuroflow.json`` at the folder's top, which TensorFlow ignores.

The TFLite converter reads a SavedModel, so a TFLite file is made by exporting one to a private
temporary folder first: Keras 3 models are converted reliably this way on every TensorFlow
release the project supports. TensorFlow is imported only inside these functions.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from neuroflow.core.atomic import (
    describe_os_error,
    remove_stale_temporaries,
    temporary_name,
    write_atomically,
)
from neuroflow.core.data import TrainedModel
from neuroflow.core.errors import DataError, NeuroFlowError

from .model_files import METADATA_ENTRY, metadata_of, model_path


def _check_target(path: str, overwrite: bool, *, folder_format: bool) -> Path:
    target = model_path(path.rstrip("/\\") or path)
    if target.is_symlink():
        target = target.resolve()  # write through a link, as the other formats do
    if not target.parent.is_dir():
        raise DataError(f"cannot save the model to '{path}': the folder '{target.parent}' does not exist")
    if not folder_format and target.is_dir():
        raise DataError(f"cannot save the model to '{path}': that is a folder")
    if folder_format and target.exists() and not target.is_dir():
        raise DataError(f"cannot save the model to '{path}': a file of that name exists (a SavedModel is a folder)")
    if target.exists() and not overwrite:
        raise DataError(f"'{path}' already exists; turn on 'overwrite' to replace it")
    return target


def _export_saved_model(model: Any, folder: Path) -> None:
    """Keras 3's export: a serving signature ``serve`` taking a float32 image batch."""
    import warnings

    with warnings.catch_warnings():  # deprecation notes of TensorFlow's own internals
        warnings.simplefilter("ignore")
        model.export(str(folder), format="tf_saved_model", verbose=False)


def save_saved_model(trained: TrainedModel, path: str, *, overwrite: bool) -> Path:
    """Export ``trained`` as a SavedModel folder at ``path`` (see the module docstring)."""
    try:
        target = _check_target(path, overwrite, folder_format=True)
    except OSError as exc:
        raise DataError(f"could not save the model to '{path}': {describe_os_error(exc)}") from None

    def write(temp: Path) -> None:
        _export_saved_model(trained.model, temp)
        (temp / METADATA_ENTRY).write_text(json.dumps(metadata_of(trained), sort_keys=True), encoding="utf-8")

    try:
        _replace_folder(target, write)
    except NeuroFlowError:
        raise
    except OSError as exc:
        raise DataError(f"could not save the model to '{path}': {describe_os_error(exc, target.parent)}") from None
    except Exception as exc:
        raise DataError(f"could not save the model to '{path}': {_one_line(exc)}") from exc
    return target


def _replace_folder(target: Path, write: Callable[[Path], None]) -> None:
    """Let ``write`` fill a hidden sibling folder, then swap it in for ``target``."""
    remove_stale_temporaries(target, folders=True)
    temp = temporary_name(target)
    aside = temp.with_name(temp.name.removesuffix(".tmp") + ".old")
    moved_aside = False
    try:
        write(temp)
        if target.exists():
            os.rename(target, aside)
            moved_aside = True
        try:
            os.rename(temp, target)
        except BaseException:
            if moved_aside:
                os.rename(aside, target)
                moved_aside = False
            raise
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    if moved_aside:
        if aside.is_dir():
            shutil.rmtree(aside, ignore_errors=True)
        else:
            aside.unlink(missing_ok=True)


def tflite_bytes(model: Any, quantization: str = "none") -> bytes:
    """The TensorFlow Lite flatbuffer of ``model``: ``none`` (float32), ``float16`` weights or
    ``dynamic`` range (8-bit weights)."""
    import warnings

    import tensorflow as tf

    scratch = Path(tempfile.mkdtemp(prefix="neuroflow-tflite-"))
    try:
        _export_saved_model(model, scratch / "model")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            converter = tf.lite.TFLiteConverter.from_saved_model(str(scratch / "model"))
            if quantization in ("float16", "dynamic"):
                converter.optimizations = [tf.lite.Optimize.DEFAULT]
            if quantization == "float16":
                converter.target_spec.supported_types = [tf.float16]
            return bytes(converter.convert())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def save_tflite(trained: TrainedModel, path: str, *, quantization: str, overwrite: bool) -> tuple[Path, bytes]:
    """Convert ``trained`` and write the ``.tflite`` file atomically; returns the path and the
    bytes written (the agreement check runs on the same bytes)."""
    try:
        target = _check_target(path, overwrite, folder_format=False)
    except OSError as exc:
        raise DataError(f"could not save the model to '{path}': {describe_os_error(exc)}") from None
    try:
        content = tflite_bytes(trained.model, quantization)
    except NeuroFlowError:
        raise
    except Exception as exc:
        raise DataError(f"could not convert the model to TensorFlow Lite: {_one_line(exc)}") from exc

    def write(temp: Path) -> None:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)

    try:
        write_atomically(target, write, suffix=".tflite")
    except NeuroFlowError as exc:
        reason = str(exc).split(": ", 1)[1] if ": " in str(exc) else str(exc)
        raise DataError(f"could not save the model to '{path}': {reason}") from None
    return target, content


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
