"""Hostile model files: refused by NeuroFlow before Keras reads them, whatever Keras would do.

The Lambda files here hold a lambda that creates a marker file when it runs; each test first
shows that plain Keras without safe mode does run it (so the file really is hostile), then that
every NeuroFlow path - configure, validate, loading, continuing into layers - refuses it with the
marker still absent. Keras's own safe mode is taken out of the picture by replacing
``keras.saving.load_model`` with an unsafe one, as on the Keras versions where safe mode was
bypassed: NeuroFlow's own check must be enough.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from deadlines import deadline

from neuroflow.cli import main
from neuroflow.core import fileformat
from neuroflow.core.errors import DataError
from neuroflow.core.node import ExecutionContext
from neuroflow.core.registry import default_registry
from neuroflow.core.workflow import Workflow
from neuroflow.training import model_safety
from neuroflow.training.model_files import load_keras_model, read_model_info
from neuroflow.training.model_graph import read_model_graph

READER = "neuroflow.learning.reader"



def reader(path: Path, **settings: Any) -> Any:
    return default_registry().get(READER)({"path": str(path), **settings})


def refusal(path: Path, **settings: Any) -> str:
    with pytest.raises(DataError) as caught:
        reader(path, **settings).configure({})
    return str(caught.value)


@pytest.fixture
def unsafe_keras(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``keras.saving.load_model`` ignoring safe mode, as on Keras versions where it was bypassed;
    the list records every file handed to it."""
    import keras

    real = keras.saving.load_model
    handed: list[str] = []

    def load_model(path: Any, *args: Any, **kwargs: Any) -> Any:
        handed.append(str(path))
        kwargs["safe_mode"] = False
        return real(path, *args, **kwargs)

    monkeypatch.setattr(keras.saving, "load_model", load_model)
    return handed


def lambda_model(tmp_path: Path, suffix: str, marker: Path, nested: bool = False) -> Path:
    """A model whose Lambda layer 'payload' creates ``marker`` when Keras builds it."""
    import keras

    payload = eval(f"lambda t: t if open({str(marker)!r}, 'w').close() is None else t")  # noqa: S307
    if nested:  # the Lambda inside a TimeDistributed wrapper inside a Sequential inside a model
        inner = keras.Sequential([keras.Input((3, 4)), keras.layers.TimeDistributed(
            keras.layers.Lambda(payload, name="payload"), name="wrapper")], name="inner")
        inputs = keras.Input((3, 4))
        outputs = keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(inner(inputs)))
        model = keras.Model(inputs, outputs)
    else:
        model = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(payload, name="payload"),
                                  keras.layers.Dense(2, activation="softmax")])
    marker.unlink()  # building the model ran the lambda once
    path = tmp_path / f"hostile{suffix}"
    model.save(path)
    assert not marker.exists()
    return path


def edit_keras_config(path: Path, change: Any) -> None:
    """Rewrite a ``.keras`` archive's config.json through ``change(config)``."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    change(config)
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def edit_h5_config(path: Path, change: Any) -> None:
    import h5py

    with h5py.File(path, "a") as handle:
        config = json.loads(handle.attrs["model_config"])
        change(config)
        handle.attrs["model_config"] = json.dumps(config)


def small_model(path: Path) -> Path:
    import keras

    keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="hidden"),
                      keras.layers.Dense(2, activation="softmax", name="out")]).save(path)
    return path


def layer_named(config: dict[str, Any], name: str) -> dict[str, Any]:
    return next(layer for layer in config["config"]["layers"] if layer["config"].get("name") == name)


# -- Lambda layers: refused without running their code ------------------------------------------------
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_a_lambda_file_is_refused_everywhere_and_its_code_never_runs(
    suffix: str, tmp_path: Path, unsafe_keras: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "code-ran"
    path = lambda_model(tmp_path, suffix, marker)
    message = (f"'{path}' contains Python code (Lambda layer 'payload'), which would run when the model "
               "is loaded; NeuroFlow refuses such model files")
    # configure (the editor, while typing the path), the layer graph and the model spec
    assert refusal(path) == message
    assert refusal(path, remove_last=1) == message
    for read in (read_model_info, read_model_graph, load_keras_model):
        with pytest.raises(DataError) as caught:
            read(str(path))
        assert str(caught.value) == message
    # loading through the node
    with pytest.raises(DataError, match="contains Python code"):
        reader(path).execute({}, ExecutionContext("reader", "Network Reader", emit=lambda _: None))
    # the command line
    workflow = Workflow()
    workflow.add_node(READER, node_id="reader", settings={"path": str(path)})
    fileformat.save(workflow, tmp_path / "reads.workflow")
    for command in ("validate", "run"):
        assert main([command, str(tmp_path / "reads.workflow")]) == 1
        err = capsys.readouterr().err
        assert err.strip().splitlines() == [f"neuroflow: error: 'Network Reader' (reader): {message}"]
    assert unsafe_keras == [] and not marker.exists()
    # the file is really hostile: Keras without safe mode runs the lambda
    import keras

    keras.saving.load_model(path, safe_mode=False)
    assert marker.exists()


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_a_lambda_deep_inside_wrappers_and_nested_models_is_found(
    suffix: str, tmp_path: Path, unsafe_keras: list[str]
) -> None:
    marker = tmp_path / "code-ran"
    path = lambda_model(tmp_path, suffix, marker, nested=True)
    with pytest.raises(DataError, match=r"contains Python code \(Lambda layer 'payload'\)"):
        load_keras_model(str(path))
    assert refusal(path).startswith(f"'{path}' contains Python code (Lambda layer 'payload')")
    assert unsafe_keras == [] and not marker.exists()


def test_a_python_lambda_hidden_in_a_keras_3_config_is_refused(tmp_path: Path) -> None:
    path = small_model(tmp_path / "m.keras")
    edit_keras_config(path, lambda c: layer_named(c, "hidden")["config"].update(
        activation={"class_name": "__lambda__", "config": {"value": ["4wEAAA==", None, None]}}))
    assert refusal(path) == (
        f"'{path}' contains Python code (a lambda in the activation of layer 'hidden' (Dense)), which "
        "would run when the model is loaded; NeuroFlow refuses such model files"
    )


# -- custom classes and other gadgets -------------------------------------------------------------
def test_an_unregistered_custom_class_is_refused(tmp_path: Path, unsafe_keras: list[str]) -> None:
    import keras

    @keras.saving.register_keras_serializable("acme")
    class Doubler(keras.layers.Layer):
        def call(self, inputs: Any) -> Any:
            return inputs * 2

    path = tmp_path / "custom.keras"
    keras.Sequential([keras.Input((4,)), Doubler(name="doubler"), keras.layers.Dense(2, activation="softmax")]).save(path)
    assert refusal(path) == (
        f"'{path}' cannot be loaded safely: layer 'doubler' is the custom class 'acme>Doubler', which is "
        "not a built-in Keras class; NeuroFlow loads only built-in Keras layers, since a custom class "
        "needs Python code from outside the file"
    )
    with pytest.raises(DataError, match="custom class 'acme>Doubler'"):
        load_keras_model(str(path))
    assert unsafe_keras == []


def test_a_keras_2_style_unknown_class_is_refused(tmp_path: Path) -> None:
    path = small_model(tmp_path / "m.h5")
    edit_h5_config(path, lambda c: layer_named(c, "hidden").update(class_name="AcmeDense"))
    assert refusal(path) == (
        f"'{path}' cannot be loaded safely: layer 'hidden' is of class 'AcmeDense', which is not a "
        "built-in Keras layer; NeuroFlow loads only built-in Keras layers, since any other class needs "
        "Python code from outside the file"
    )


@pytest.mark.parametrize(
    ("replacement", "expected"),
    [
        # CVE-2025-8747: a Keras utility named as a function (it downloads files)
        ({"module": "keras.utils", "class_name": "function", "config": "get_file", "registered_name": "function"},
         "the activation of layer 'hidden' (Dense) names the Python function 'get_file' of module 'keras.utils'"),
        # CVE-2025-1550: any module and attribute of the attacker's choice
        ({"module": "os", "class_name": "system", "config": {}, "registered_name": None},
         "the activation of layer 'hidden' (Dense) is the class 'system' of module 'os', which is not part of Keras"),
        # a control-flow operation calls functions named in the file
        ({"module": "keras.src.ops.core", "class_name": "Switch", "config": {}, "registered_name": "Switch"},
         "the activation of layer 'hidden' (Dense) is the Keras operation 'Switch', which calls functions"),
    ],
)
def test_gadgets_named_in_a_config_are_refused(replacement: dict[str, Any], expected: str, tmp_path: Path) -> None:
    path = small_model(tmp_path / "m.keras")
    edit_keras_config(path, lambda c: layer_named(c, "hidden")["config"].update(activation=replacement))
    assert refusal(path).startswith(f"'{path}' cannot be loaded safely: {expected}")


@pytest.mark.parametrize(
    ("class_name", "config", "reason"),
    [
        ("TFSMLayer", {"name": "saved", "filepath": "/elsewhere/model"},
         "it loads another model (a TensorFlow SavedModel) from a path named in the file"),
        ("TFOpLambda", {"name": "op", "function": "math.add"},
         "it calls a TensorFlow function named in the file (a Keras 2 operation layer)"),
        ("StringLookup", {"name": "words", "vocabulary": "/etc/passwd"},
         "reads its vocabulary from the file '/etc/passwd' named in the model"),
    ],
)
def test_built_in_layers_that_load_code_or_files_are_refused(
    class_name: str, config: dict[str, Any], reason: str, tmp_path: Path
) -> None:
    path = small_model(tmp_path / "m.h5")

    def change(c: dict[str, Any]) -> None:
        layer = layer_named(c, "hidden")
        layer.update(class_name=class_name, config=config)

    edit_h5_config(path, change)
    message = refusal(path)
    assert message.startswith(f"'{path}' cannot be loaded safely: layer '{config['name']}' ")
    assert message.endswith(reason)


def test_models_of_built_in_layers_pass(tmp_path: Path) -> None:
    """Keras applications (MobileNetV3 records tensor operations, EfficientNet normalisation and
    rescaling), wrappers, recurrent layers, regularizers and compile settings are all built in."""
    import keras

    backbone = keras.applications.MobileNetV3Small(input_shape=(32, 32, 3), weights=None, include_top=False)
    inputs = keras.Input((5, 4))
    seq = keras.layers.Bidirectional(keras.layers.LSTM(2))(keras.layers.TimeDistributed(keras.layers.Dense(3))(inputs))
    recurrent = keras.Model(inputs, keras.layers.Dense(2, activation="softmax", kernel_regularizer="l2")(seq))
    recurrent.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(0.1, 10)),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    for model, name in ((backbone, "backbone"), (recurrent, "recurrent")):
        for suffix in (".keras", ".h5"):
            path = tmp_path / f"{name}{suffix}"
            model.save(path)
            with zipfile.ZipFile(path) if suffix == ".keras" else _h5(path) as source:
                config = json.loads(source.read("config.json") if suffix == ".keras" else source.attrs["model_config"])
            model_safety.check_config(config, str(path))  # raises if anything is refused
    loaded = load_keras_model(str(tmp_path / "recurrent.keras"))
    assert loaded.count_params() == recurrent.count_params()


def _h5(path: Path) -> Any:
    import h5py

    return h5py.File(path, "r")


# -- sizes: refused from the zip directory or the attribute's type -------------------------------
def test_an_oversized_config_is_refused_fast_without_reading_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = small_model(tmp_path / "m.keras")
    size = model_safety.MAX_CONFIG_BYTES + 1
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    stored, deflated = tmp_path / "stored.keras", tmp_path / "deflated.keras"
    for target, method in ((stored, zipfile.ZIP_STORED), (deflated, zipfile.ZIP_DEFLATED)):
        with zipfile.ZipFile(target, "w", compression=method) as archive:
            for name, data in members.items():
                archive.writestr(name, b"{" + b" " * (size - 2) + b"}" if name == "config.json" else data)
    # Both refused from the zip directory's sizes, without reading or inflating the member.
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *_a, **_k: pytest.fail("a member was read"))
    assert refusal(stored) == (
        f"'{stored}' is not a model NeuroFlow reads: its config.json is 64 MB, over the limit of 64 MB "
        "(a real model's is a few MB at most)"
    )
    assert refusal(deflated).startswith(
        f"'{deflated}' is not a model NeuroFlow reads: its member 'config.json' would expand from "
    )


def test_an_oversized_h5_config_is_refused_from_its_type(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import h5py

    huge = tmp_path / "huge.h5"
    with h5py.File(huge, "w", libver="latest") as handle:
        handle.attrs["model_config"] = np.bytes_(b"{" + b" " * (model_safety.MAX_CONFIG_BYTES + 10) + b"}")
    text = tmp_path / "text.h5"  # variable-length text (as Keras writes it): checked before parsing
    with h5py.File(text, "w", libver="latest") as handle:
        handle.attrs["model_config"] = "{" + " " * (model_safety.MAX_CONFIG_BYTES + 10) + "}"
    expected = ("is not a model NeuroFlow reads: its model configuration is 64 MB, over the limit of 64 MB "
                "(a real model's is a few MB at most)")
    assert refusal(text) == f"'{text}' {expected}"
    # A fixed-length string states its size in its type: refused without reading 64 MB.
    monkeypatch.setattr(h5py.AttributeManager, "__getitem__", lambda *_: pytest.fail("the attribute was read"))
    assert refusal(huge) == f"'{huge}' {expected}"


def test_zip_bombs_and_duplicate_members_are_refused(tmp_path: Path) -> None:
    path = small_model(tmp_path / "m.keras")
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("assets/zeros.bin", bytes(200 << 20))
    assert refusal(path).startswith(
        f"'{path}' is not a model NeuroFlow reads: its member 'assets/zeros.bin' would expand from "
    )
    twice = small_model(tmp_path / "twice.keras")
    with zipfile.ZipFile(twice, "a") as archive, pytest.warns(UserWarning, match="Duplicate name"):
        archive.writestr("config.json", b"{}")
    assert refusal(twice) == f"'{twice}' holds two files named 'config.json'; a Keras model archive never does"


# -- not a regular file ----------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_a_named_pipe_is_refused_at_once(suffix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pipe = tmp_path / f"model{suffix}"
    os.mkfifo(pipe)
    expected = f"'{pipe}' is a named pipe (FIFO), not a model file"
    with deadline(10):
        assert refusal(pipe) == expected
        with pytest.raises(DataError, match="named pipe"):
            load_keras_model(str(pipe))
        workflow = Workflow()
        workflow.add_node(READER, node_id="reader", settings={"path": str(pipe)})
        fileformat.save(workflow, tmp_path / "pipe.workflow")
        assert main(["validate", str(tmp_path / "pipe.workflow")]) == 1
    assert capsys.readouterr().err.strip() == f"neuroflow: error: 'Network Reader' (reader): {expected}"


def test_a_device_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "zeros.keras"
    link.symlink_to("/dev/zero")
    with deadline(10):
        assert refusal(link) == f"'{link}' is a character device, not a model file"
