"""Trained-model files: ``.keras`` and ``.h5``, written atomically, with NeuroFlow metadata inside.

**Class names and training history travel inside the model file**, never in a side file that
could be lost when the model is copied: a ``neuroflow.json`` entry in the ``.keras`` zip archive,
or a ``neuroflow`` attribute (JSON text) on the root group of an ``.h5`` file. Keras ignores both
when loading, so the files stay ordinary Keras models. The metadata is::

    {"format": "neuroflow.model", "version": 1, "class_names": [...], "input_shape": [...],
     "output_shape": [...], "history": {"loss": [...], ...}, "stop_reason": "...", "seconds": 12.3}

**Reading a model's spec needs no TensorFlow**: the ``.keras`` archive holds ``config.json`` and an
``.h5`` file holds a ``model_config`` attribute, both plain JSON, so the Network Reader's
configure step reads shapes (and, for NeuroFlow files, class names) in milliseconds, cached by
file size and modification time. Models saved elsewhere get the class names ``"0" .. "K-1"``.

**Nothing but a checked regular file reaches Keras.** A path naming a named pipe, a device or a
folder is refused before it is opened (:mod:`neuroflow.core.userfiles`); the configuration is
read with size limits and every class it names is checked against the built-in Keras classes
before Keras sees the file (:mod:`.model_safety`): Lambda layers and custom classes are refused
by NeuroFlow itself, whatever the installed Keras version, and Keras then loads in safe mode
as a second line.

**Saving is atomic**: the model goes to a hidden temporary file in the target folder, the
metadata is added, and only then ``os.replace`` moves it over the target
(:func:`neuroflow.core.atomic.write_atomically`: the old file's mode is kept, links are written
through, stale temporary files of earlier killed saves are removed). A failure at any step removes
the temporary file and leaves an existing model untouched.
"""

from __future__ import annotations

import functools
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISREG
from typing import Any

from neuroflow.core.atomic import describe_os_error, write_atomically
from neuroflow.core.data import TrainedModel
from neuroflow.core.errors import ConfigureError, DataError, NeuroFlowError
from neuroflow.core.ports import ModelSpec
from neuroflow.core.userfiles import describe_kind, open_regular_file

from . import legacy_config, model_safety

FORMATS = ("auto", "keras", "h5")
FORMAT_LABELS = ("from the file extension", "Keras (.keras)", "HDF5 (.h5)")
EXTENSIONS = {".keras": "keras", ".h5": "h5", ".hdf5": "h5"}
FILE_FILTER = "Keras models (*.keras *.h5 *.hdf5)"
#: Written by the Network Writer for other programs, not read back: a TFLite file needs an
#: interpreter of its own, and a SavedModel's graph holds TensorFlow operations that NeuroFlow
#: cannot check the way it checks a Keras config (loading one via TFSMLayer had CVE-2026-1462).
_DEPLOY_ONLY = {".tflite": "a TensorFlow Lite model", ".savedmodel": "a TensorFlow SavedModel"}
METADATA_ENTRY = "neuroflow.json"  # inside a .keras archive
METADATA_ATTR = "neuroflow"  # on the root group of an .h5 file
METADATA_FORMAT = "neuroflow.model"
METADATA_VERSION = 1

#: Layers that keep their input's size, looked through to find the units of a foreign model's output.
_SIZE_KEEPING = frozenset(
    {
        "Activation", "Softmax", "ReLU", "LeakyReLU", "ELU", "PReLU", "Dropout", "AlphaDropout",
        "GaussianDropout", "GaussianNoise", "BatchNormalization", "LayerNormalization",
        "ActivityRegularization", "Identity",
    }
)


@dataclass(frozen=True)
class ModelFileInfo:
    """What configure needs to know about a model file, read without TensorFlow."""

    format: str
    spec: ModelSpec
    history: dict[str, list[float]] = field(default_factory=dict)
    stop_reason: str = ""
    seconds: float = 0.0
    #: True when the file carries NeuroFlow metadata (class names as saved).
    has_metadata: bool = False


def model_path(path: str) -> Path:
    """The path as the user typed it, with ``~`` expanded (relative paths: current folder)."""
    return Path(os.path.expanduser(path))


def file_format(path: str, requested: str = "auto") -> str:
    """``"keras"`` or ``"h5"`` for ``path``; refuses unknown extensions and mismatches."""
    suffix = Path(path).suffix.lower()
    inferred = EXTENSIONS.get(suffix)
    if requested == "auto":
        if suffix in _DEPLOY_ONLY:
            raise ConfigureError(
                f"'{Path(path).name}' is {_DEPLOY_ONLY[suffix]}: a format for deployment that "
                "NeuroFlow writes but does not read back; read the .keras or .h5 file of the same model"
            )
        if inferred is None:
            raise ConfigureError(
                f"cannot tell the model format from the file name '{Path(path).name}'; "
                "end it in .keras or .h5"
            )
        return inferred
    if inferred != requested:
        wanted = ".keras" if requested == "keras" else ".h5 or .hdf5"
        raise ConfigureError(
            f"format '{requested}' does not match the file name '{Path(path).name}'; "
            f"end it in {wanted} or choose the format 'auto'"
        )
    return requested


def class_count(spec: ModelSpec) -> int:
    """Classes a model with output ``spec.output_shape`` predicts (one sigmoid unit means two)."""
    units = spec.output_shape[-1] if spec.output_shape else 0
    return 2 if units == 1 else units


# -- writing ----------------------------------------------------------------------------------
def metadata_of(trained: TrainedModel) -> dict[str, Any]:
    spec = trained.spec
    return {
        "format": METADATA_FORMAT,
        "version": METADATA_VERSION,
        "class_names": list(trained.class_names),
        "input_shape": list(spec.input_shape),
        "output_shape": list(spec.output_shape),
        "history": {key: [float(v) for v in values] for key, values in trained.history.items()},
        "stop_reason": trained.stop_reason,
        "seconds": float(trained.seconds),
    }


def check_target(path: str, overwrite: bool) -> Path:
    """The resolved target path, or a :class:`DataError` saying why it cannot be written."""
    target = model_path(path)
    folder = target.parent
    if not folder.is_dir():
        raise DataError(f"cannot save the model to '{path}': the folder '{folder}' does not exist")
    if target.is_dir():
        raise DataError(f"cannot save the model to '{path}': that is a folder")
    if target.exists() and not overwrite:
        raise DataError(f"'{path}' already exists; turn on 'overwrite' to replace it")
    return target


def save_model(trained: TrainedModel, path: str, fmt: str, *, overwrite: bool) -> Path:
    """Write ``trained`` to ``path`` atomically in format ``fmt`` (``"keras"`` or ``"h5"``): the
    existing file's mode is kept, a link is written through, no temporary file is left behind
    (see :mod:`neuroflow.core.atomic`). Returns the path as given."""
    try:
        target = check_target(path, overwrite)
    except OSError as exc:  # e.g. a path longer than the system takes
        raise DataError(f"could not save the model to '{path}': {describe_os_error(exc)}") from None
    temps: list[Path] = []

    def write(temp: Path) -> None:
        temps.append(temp)
        _save_keras(trained.model, temp)
        _embed_metadata(temp, fmt, json.dumps(metadata_of(trained), sort_keys=True))

    try:
        # The temporary name ends in the target's extension: Keras chooses the format by it.
        write_atomically(target, write, suffix=target.suffix)
    except NeuroFlowError as exc:
        raise DataError(f"could not save the model to '{path}': {_after_prefix(str(exc))}") from None
    except Exception as exc:
        reason = _one_line(exc)
        for temp in temps:  # Keras and h5py name the file they were writing: that is ours, not the user's
            reason = reason.replace(str(temp), path).replace(temp.name, Path(path).name)
        raise DataError(f"could not save the model to '{path}': {reason}") from exc
    return target


def _after_prefix(message: str) -> str:
    """The reason of a "cannot save FILE: reason" message."""
    return message.split(": ", 1)[1] if message.startswith("cannot save ") and ": " in message else message


def _save_keras(model: Any, temp: Path) -> None:
    import warnings

    with warnings.catch_warnings():  # Keras warns that .h5 is a legacy format: the user chose it
        warnings.simplefilter("ignore")
        model.save(str(temp))


def _embed_metadata(path: Path, fmt: str, text: str) -> None:
    if fmt == "keras":
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr(METADATA_ENTRY, text)
    else:
        import h5py

        with h5py.File(path, "a") as handle:
            handle.attrs[METADATA_ATTR] = text


# -- reading without TensorFlow -----------------------------------------------------------------
def stat_model_file(path: str) -> tuple[Path, os.stat_result]:
    """The model file at ``path`` and its size and times (the key of every cache of its contents);
    a one-line :class:`DataError` when it is missing, unreadable or a folder."""
    file = model_path(path)
    try:
        stat = file.stat()
    except FileNotFoundError:
        raise DataError(f"model file '{path}' does not exist") from None
    except OSError as exc:
        raise DataError(f"cannot read model file '{path}': {exc.strerror or exc}") from None
    if not S_ISREG(stat.st_mode):  # a named pipe would block the reader, a device never end
        raise DataError(f"'{path}' is {describe_kind(stat.st_mode)}, not a model file")
    return file, stat


def read_model_info(path: str) -> ModelFileInfo:
    """Format, spec and saved history of the model file at ``path`` (cached per file version)."""
    file, stat = stat_model_file(path)
    return _read_info_cached(str(file), stat.st_mtime_ns, stat.st_size, path)


@functools.lru_cache(maxsize=32)
def _read_info_cached(file: str, mtime_ns: int, size: int, shown: str) -> ModelFileInfo:
    fmt = file_format(file)
    try:
        metadata, config = _read_raw(Path(file), fmt, shown)
    except NeuroFlowError:
        raise
    except Exception as exc:
        raise DataError(f"'{shown}' is not a readable {_format_name(fmt)} model file ({_one_line(exc)})") from None
    if metadata is not None:
        return _info_from_metadata(metadata, fmt, shown)
    return ModelFileInfo(format=fmt, spec=_spec_from_config(config, shown))


def _format_name(fmt: str) -> str:
    return "Keras (.keras)" if fmt == "keras" else "HDF5 (.h5)"


def _read_raw(file: Path, fmt: str, shown: str) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(NeuroFlow metadata or None, Keras model config) of a model file, read with size limits
    and refused when the config names anything but built-in Keras classes."""
    with open_regular_file(file, shown, "model file") as raw:
        if fmt == "keras":
            with zipfile.ZipFile(raw) as archive:
                model_safety.check_archive(archive, shown)
                names = set(archive.namelist())
                if "config.json" not in names:
                    raise DataError(f"'{shown}' has no config.json; it is not a Keras model archive")
                config_text = model_safety.read_member_text(archive, "config.json", shown, "config.json")
                metadata_text = (
                    model_safety.read_member_text(archive, METADATA_ENTRY, shown, "NeuroFlow metadata")
                    if METADATA_ENTRY in names else None
                )
        else:
            import h5py

            with h5py.File(raw, "r") as handle:
                config_text = model_safety.read_attribute_text(handle, "model_config", shown, "model configuration")
                metadata_text = model_safety.read_attribute_text(handle, METADATA_ATTR, shown, "NeuroFlow metadata")
            if config_text is None:
                raise DataError(f"'{shown}' holds no model configuration (only weights?); save the whole model")
    try:
        config = json.loads(config_text)
        metadata = json.loads(metadata_text) if metadata_text is not None else None
    except RecursionError:
        raise DataError(f"'{shown}' is not a model NeuroFlow reads: its configuration is nested too deeply") from None
    model_safety.check_config(config, shown)
    if fmt == "h5":  # Keras 2 forms Keras 3 would build differently (see legacy_config)
        config, _ = legacy_config.translate(config)
    return metadata, config


def _info_from_metadata(metadata: Any, fmt: str, shown: str) -> ModelFileInfo:
    def bad(reason: str) -> DataError:
        return DataError(f"'{shown}' has damaged NeuroFlow metadata: {reason}")

    if not isinstance(metadata, dict) or metadata.get("format") != METADATA_FORMAT:
        raise bad("not a neuroflow.model record")
    version = metadata.get("version")
    if not isinstance(version, int) or version > METADATA_VERSION:
        raise bad(f"version {version!r} is newer than this NeuroFlow understands ({METADATA_VERSION})")
    try:
        names = tuple(str(name) for name in metadata["class_names"])
        input_shape = tuple(int(d) for d in metadata["input_shape"])
        output_shape = tuple(int(d) for d in metadata["output_shape"])
        history = {str(k): [float(v) for v in values] for k, values in metadata.get("history", {}).items()}
        seconds = float(metadata.get("seconds", 0.0))
    except (KeyError, TypeError, ValueError) as exc:
        raise bad(_one_line(exc)) from None
    spec = ModelSpec(input_shape=input_shape, output_shape=output_shape, class_names=names)
    if class_count(spec) != len(names):
        raise bad(f"{len(names)} class names for an output of shape {output_shape}")
    return ModelFileInfo(fmt, spec, history, str(metadata.get("stop_reason", "")), seconds, True)


def _spec_from_config(config: dict[str, Any], shown: str) -> ModelSpec:
    """Input and output shape of a model saved without NeuroFlow metadata, from its config."""
    inner = config.get("config", {}) if isinstance(config, dict) else {}
    layers = inner.get("layers") or []
    if not isinstance(layers, list) or not layers:
        raise DataError(f"'{shown}' describes no layers; it is not a Keras model NeuroFlow can use")
    by_name = {layer.get("config", {}).get("name") or layer.get("name"): layer for layer in layers}
    if config.get("class_name") == "Sequential":
        first, last = layers[0], layers[-1]
        previous = {
            _name(layers[i]): layers[i - 1] for i in range(1, len(layers))
        }
    else:
        inputs = _layer_refs(inner.get("input_layers"))
        outputs = _layer_refs(inner.get("output_layers"))
        if len(inputs) != 1 or len(outputs) != 1:
            raise DataError(
                f"'{shown}' has {len(inputs)} inputs and {len(outputs)} outputs; NeuroFlow uses "
                "models with one image input and one class output"
            )
        first, last = by_name.get(inputs[0], {}), by_name.get(outputs[0], {})
        previous = {
            name: by_name[source]
            for name, layer in by_name.items()
            if (source := _inbound_source(layer)) in by_name
        }
    layer_config = first.get("config", {})
    batch_shape = layer_config.get("batch_shape") or layer_config.get("batch_input_shape")
    if not batch_shape or any(d is None for d in batch_shape[1:]):
        raise DataError(f"'{shown}' does not state a fixed input shape ({batch_shape!r})")
    input_shape = tuple(int(d) for d in batch_shape[1:])
    units = _output_units(last, previous)
    if units is None:
        raise DataError(
            f"cannot tell how many classes '{shown}' predicts: its output layer "
            f"'{_name(last)}' ({last.get('class_name')}) does not follow a Dense layer"
        )
    names = tuple(str(k) for k in range(2 if units == 1 else units))
    return ModelSpec(input_shape=input_shape, output_shape=(units,), class_names=names)


def _name(layer: dict[str, Any]) -> str:
    return str(layer.get("config", {}).get("name") or layer.get("name") or "")


def _layer_refs(raw: Any) -> list[str]:
    """Layer names of ``input_layers``/``output_layers``: ``["x", 0, 0]`` or ``[["x", 0, 0], ...]``."""
    if not isinstance(raw, list) or not raw:
        return []
    if isinstance(raw[0], str):
        return [raw[0]]
    return [str(ref[0]) for ref in raw if isinstance(ref, list) and ref]


def _inbound_source(layer: dict[str, Any]) -> str | None:
    """The single layer feeding ``layer`` (Keras 3 ``keras_history`` or Keras 2 node lists)."""
    nodes = layer.get("inbound_nodes") or []
    if len(nodes) != 1:
        return None
    node = nodes[0]
    if isinstance(node, dict):  # Keras 3
        args = node.get("args") or []
        if len(args) == 1 and isinstance(args[0], dict):
            history = args[0].get("config", {}).get("keras_history")
            return str(history[0]) if history else None
        return None
    if isinstance(node, list) and len(node) == 1 and isinstance(node[0], list):  # Keras 2
        return str(node[0][0])
    return None


def _output_units(layer: dict[str, Any], previous: dict[str, dict[str, Any]]) -> int | None:
    seen = 0
    while layer and seen < 64:
        kind = layer.get("class_name")
        if kind == "Dense":
            return int(layer.get("config", {}).get("units", 0)) or None
        if kind not in _SIZE_KEEPING:
            return None
        layer = previous.get(_name(layer), {})
        seen += 1
    return None


# -- loading with Keras -------------------------------------------------------------------------
def load_trained_model(path: str) -> TrainedModel:
    """The model at ``path`` with its class names and history; refuses files with Python code."""
    info = read_model_info(path)
    model = load_keras_model(path)
    if isinstance(model.input_shape, list):
        raise DataError(f"'{path}' has {len(model.input_shape)} inputs; NeuroFlow models take one image input")
    units = model.output_shape[-1] if isinstance(model.output_shape, tuple) else None
    if units != info.spec.output_shape[-1]:
        raise DataError(
            f"'{path}' ends in {units} units but its metadata says {info.spec.output_shape[-1]}"
        )
    return TrainedModel(
        model=model,
        class_names=info.spec.class_names,
        history={k: list(v) for k, v in info.history.items()},
        stop_reason=info.stop_reason or "loaded from file",
        seconds=info.seconds,
    )


def load_keras_model(path: str) -> Any:
    """The ``keras.Model`` at ``path``, uncompiled: checked by NeuroFlow first (a regular file
    whose config names only built-in Keras classes), then loaded by Keras in safe mode."""
    check_model_file(path)
    import keras

    try:
        legacy = _legacy_h5_config(path)
        if legacy is not None:
            return _load_translated_h5(path, legacy)
        return keras.saving.load_model(str(model_path(path)), compile=False, safe_mode=True)
    except NeuroFlowError:
        raise
    except Exception as exc:
        text = str(exc)
        if "safe_mode" in text or "Lambda" in text or "arbitrary code" in text:
            raise DataError(
                f"'{path}' contains Python code (a Lambda layer); NeuroFlow loads models in "
                "Keras safe mode and refuses to run it"
            ) from None
        raise DataError(f"cannot load the model '{path}': {_one_line(exc)}") from None


def _legacy_h5_config(path: str) -> str | None:
    """The translated configuration (JSON) of a Keras 2 ``.h5`` file whose forms Keras 3 would
    build differently, else None (the file then loads as it is)."""
    if file_format(path) != "h5":
        return None
    import h5py

    with open_regular_file(model_path(path), path, "model file") as raw, h5py.File(raw, "r") as handle:
        text = model_safety.read_attribute_text(handle, "model_config", path, "model configuration")
    if text is None:
        return None
    translated, changes = legacy_config.translate(json.loads(text))
    return json.dumps(translated) if changes else None


def _load_translated_h5(path: str, config_text: str) -> Any:
    """Load a Keras 2 ``.h5`` file with its translated configuration: the file is copied into
    memory (a model file is a few MB to a few hundred), the copy's ``model_config`` is replaced,
    and Keras's own ``.h5`` loader reads the copy in safe mode - the user's file is never written."""
    import io

    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    with open_regular_file(model_path(path), path, "model file") as raw:
        buffer = io.BytesIO(raw.read())
    with h5py.File(buffer, "r+") as handle:
        handle.attrs["model_config"] = config_text
        return legacy_h5_format.load_model_from_hdf5(handle, compile=False, safe_mode=True)


def check_model_file(path: str) -> None:
    """Refuse the model file at ``path`` unless it is a regular file of bounded size whose
    configuration names only built-in Keras classes (cached per file version). Run before
    Keras is given the file."""
    file, stat = stat_model_file(path)
    _check_cached(str(file), stat.st_mtime_ns, stat.st_size, path)


@functools.lru_cache(maxsize=32)
def _check_cached(file: str, mtime_ns: int, size: int, shown: str) -> None:
    fmt = file_format(file)
    try:
        _read_raw(Path(file), fmt, shown)
    except NeuroFlowError:
        raise
    except Exception as exc:
        raise DataError(f"'{shown}' is not a readable {_format_name(fmt)} model file ({_one_line(exc)})") from None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
