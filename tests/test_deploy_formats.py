"""The Network Writer's deployable formats: .keras, .h5, TensorFlow SavedModel and TensorFlow Lite.

The flagship is trained once on a sample; it is then written in every format, each written model
is loaded back the way a user elsewhere would load it and predicts, the TFLite file is checked
against the Keras model on 1,000 test images, and failed writes leave nothing half-written.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from neuroflow.nodes.learning.writer import NetworkWriterNode

from neuroflow.core import fileformat
from neuroflow.core.data import ImageDataset, TrainedModel, WrittenModel
from neuroflow.core.errors import ConfigureError, DataError
from neuroflow.core.events import NodeWarning
from neuroflow.core.executor import Executor
from neuroflow.core.node import ExecutionContext
from neuroflow.core.ports import DatasetSpec, ModelSpec
from neuroflow.core.registry import default_registry
from neuroflow.training.deploy_formats import human_size, size_on_disk, writer_format

REPO = Path(__file__).resolve().parents[1]
FLAGSHIP = REPO / "workflows" / "mnist_cnn.workflow"


def hidden_leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# -- without TensorFlow --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "fmt"),
    [("m.keras", "keras"), ("m.h5", "h5"), ("m.HDF5", "h5"), ("m.tflite", "tflite"),
     ("m.savedmodel", "savedmodel"), ("out/m.savedmodel/", "savedmodel")],
)
def test_auto_follows_the_extension(name: str, fmt: str) -> None:
    assert writer_format(name) == fmt
    assert writer_format(name, fmt) == fmt


def test_unknown_or_mismatched_extensions_are_refused_in_one_line() -> None:
    with pytest.raises(ConfigureError, match=r"end it in \.keras, \.h5, \.tflite or \.savedmodel"):
        writer_format("model")
    with pytest.raises(ConfigureError, match=r"format 'tflite' does not match .*'m\.keras'; end it in \.tflite"):
        writer_format("m.keras", "tflite")


def test_sizes_count_every_file_of_a_folder(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"x" * 1500)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b").write_bytes(b"y" * 500)
    assert size_on_disk(tmp_path) == 2000
    assert size_on_disk(tmp_path / "a") == 1500
    assert [human_size(n) for n in (999, 1500, 2_345_678, 3_200_000_000)] == ["999 B", "1.5 KB", "2.3 MB", "3.2 GB"]


def test_version_1_writers_load_with_no_quantization() -> None:
    text = FLAGSHIP.read_text()
    data = json.loads(text)
    for node in data["nodes"]:
        if node["id"] == "writer":
            node["version"] = 1
            node["settings"].pop("quantization", None)
    workflow = fileformat.loads(json.dumps(data))
    writer = workflow.nodes["writer"].node
    assert writer["quantization"] == "none" and writer["path"] == "out/mnist_cnn.keras"
    assert json.loads(fileformat.dumps(workflow))["nodes"][-1]["version"] == 2


def test_configure_notes_an_unchecked_tflite_model() -> None:
    model = ModelSpec((28, 28, 1), (10,), tuple("0123456789"))
    writer = NetworkWriterNode({"path": "m.tflite"})
    writer.configure({"model": model, "sample": None})
    assert "connect sample images" in writer.note
    writer.configure({"model": model, "sample": DatasetSpec((28, 28, 1), tuple("0123456789"), 10)})
    assert writer.note == ""


# -- with the trained flagship -------------------------------------------------------------------
@pytest.fixture(scope="module")
def flagship() -> tuple[TrainedModel, ImageDataset]:
    """The flagship trained one epoch on 3,000 images, and 1,000 normalized test images."""
    workflow = fileformat.load(FLAGSHIP)
    for node, name, value in (("train_reader", "limit", 3000), ("test_reader", "limit", 1000),
                              ("learner", "epochs", 1)):
        workflow.set_setting(node, name, value)
    workflow.remove_node("writer")
    result = Executor(workflow).run(targets=["learner", "test_norm"])
    assert result.ok, result.failed
    return workflow.nodes["learner"].outputs["model"], workflow.nodes["test_norm"].outputs["data"]


def write(trained: TrainedModel, path: Path, sample: Any = None, **settings: Any) -> tuple[WrittenModel, list[str], str]:
    """Run a Network Writer on ``trained``: what it kept, its warnings and its status line."""
    writer = NetworkWriterNode({"path": str(path), **settings})
    events: list[Any] = []
    ctx = ExecutionContext("writer", "Network Writer", emit=events.append)
    outputs = writer.execute({"model": trained, "sample": sample}, ctx)
    warnings = [e.message for e in events if isinstance(e, NodeWarning)]
    return outputs["saved"], warnings, ctx.result


def test_every_format_is_written_loads_back_and_predicts(flagship, tmp_path: Path) -> None:
    import keras
    import tensorflow as tf

    trained, test = flagship
    x = test.images[:32].astype(np.float32)
    expected = trained.model.predict(x, verbose=0).argmax(axis=1)
    sizes = {}
    for name in ("net.keras", "net.h5", "net.savedmodel", "net.tflite"):
        saved, _, status = write(trained, tmp_path / name, sample=test if name.endswith(".tflite") else None)
        sizes[saved.format] = saved.size
        assert saved.size == size_on_disk(tmp_path / name) > 100_000
        assert status.startswith(human_size(saved.size))
    print("sizes:", {k: human_size(v) for k, v in sizes.items()})

    for name in ("net.keras", "net.h5"):
        model = keras.saving.load_model(tmp_path / name, compile=False, safe_mode=True)
        assert (model.predict(x, verbose=0).argmax(axis=1) == expected).all()
    served = tf.saved_model.load(str(tmp_path / "net.savedmodel"))
    assert (np.asarray(served.serve(tf.constant(x))).argmax(axis=1) == expected).all()
    meta = json.loads((tmp_path / "net.savedmodel" / "neuroflow.json").read_text())
    assert meta["class_names"] == list(trained.class_names)
    interpreter = tf.lite.Interpreter(model_path=str(tmp_path / "net.tflite"))
    entry, result = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    interpreter.resize_tensor_input(entry["index"], list(x.shape))
    interpreter.allocate_tensors()
    interpreter.set_tensor(entry["index"], x)
    interpreter.invoke()
    lite = interpreter.get_tensor(result["index"])
    assert lite.shape == (32, 10)
    assert (lite.argmax(axis=1) == expected).mean() >= 0.95
    assert sizes["tflite"] < sizes["keras"]  # no optimizer state in a TFLite file
    assert hidden_leftovers(tmp_path) == []


def test_tflite_agrees_with_keras_on_1000_test_images(flagship, tmp_path: Path) -> None:
    trained, test = flagship
    assert len(test) == 1000
    figures = {}
    for quantization in ("none", "float16", "dynamic"):
        path = tmp_path / f"net-{quantization}.tflite"
        saved, warnings, status = write(trained, path, sample=test, quantization=quantization)
        assert saved.agreement_count == 1000 and saved.quantization == quantization
        figures[quantization] = (saved.agreement, human_size(saved.size))
        assert "TFLite agrees with Keras on" in status
        assert bool(warnings) == (saved.agreement < 0.99)
    print("TFLite agreement and size:", figures)
    assert figures["none"][0] >= 0.99
    assert figures["float16"][0] >= 0.99
    assert figures["dynamic"][0] >= 0.9


def test_a_low_agreement_is_a_warning(flagship, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from neuroflow.training import tflite_check

    trained, test = flagship
    real = tflite_check.tflite_predict
    monkeypatch.setattr(tflite_check, "tflite_predict", lambda content, x: np.roll(real(content, x), 1, axis=1))
    saved, warnings, _ = write(trained, tmp_path / "net.tflite", sample=test.subset(np.arange(200)))
    assert saved.agreement is not None and saved.agreement < 0.5 and saved.agreement_count == 200
    assert len(warnings) == 1 and "below 99%" in warnings[0]


def test_an_unchecked_tflite_model_warns(flagship, tmp_path: Path) -> None:
    saved, warnings, _ = write(flagship[0], tmp_path / "net.tflite")
    assert saved.agreement is None
    assert warnings and "was not checked" in warnings[0]


@pytest.mark.parametrize("name", ["net.keras", "net.h5", "net.savedmodel", "net.tflite"])
def test_an_existing_model_is_kept_without_overwrite(flagship, tmp_path: Path, name: str) -> None:
    target = tmp_path / name
    if name.endswith(".savedmodel"):
        target.mkdir()
        (target / "saved_model.pb").write_bytes(b"old")
    else:
        target.write_bytes(b"old")
    with pytest.raises(DataError, match="already exists; turn on 'overwrite'"):
        write(flagship[0], target)
    assert (target / "saved_model.pb" if target.is_dir() else target).read_bytes() == b"old"
    assert hidden_leftovers(tmp_path) == []


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes into read-only folders")
@pytest.mark.parametrize("name", ["net.savedmodel", "net.tflite"])
def test_an_unwritable_folder_leaves_nothing(flagship, tmp_path: Path, name: str) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(DataError, match=f"could not save the model to '.*{name}': permission denied"):
            write(flagship[0], folder / name)
    finally:
        folder.chmod(0o755)
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize(("name", "module", "step"), [("net.savedmodel", "deploy_save", "rename"),
                                                     ("net.tflite", "atomic", "replace")])
def test_a_refused_last_step_leaves_the_old_model_and_nothing_else(
    flagship, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, module: str, step: str
) -> None:
    """The folder turns read-only between the checks and the swap (also meaningful as root)."""
    import errno
    import importlib

    target = tmp_path / name
    write(flagship[0], target)
    before = size_on_disk(target)
    patched = importlib.import_module(f"neuroflow.{'core' if module == 'atomic' else 'training'}.{module}")

    def refuse(*args: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(patched.os, step, refuse)
    with pytest.raises(DataError, match=f"could not save the model to '.*{name}': permission denied"):
        write(flagship[0], target, overwrite=True)
    monkeypatch.undo()
    assert size_on_disk(target) == before
    assert hidden_leftovers(tmp_path) == []


def test_a_failed_savedmodel_export_keeps_the_old_folder(flagship, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from neuroflow.training import deploy_save

    target = tmp_path / "net.savedmodel"
    saved, _, _ = write(flagship[0], target)
    before = sorted(str(p.relative_to(target)) for p in target.rglob("*"))

    def half_export(model: Any, folder: Path) -> None:
        folder.mkdir()
        (folder / "saved_model.pb").write_bytes(b"half")
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(deploy_save, "_export_saved_model", half_export)
    with pytest.raises(DataError, match="could not save the model to .*: RuntimeError: the disk went away"):
        write(flagship[0], target, overwrite=True)
    assert sorted(str(p.relative_to(target)) for p in target.rglob("*")) == before
    assert size_on_disk(target) == saved.size
    assert hidden_leftovers(tmp_path) == []

    monkeypatch.undo()
    again, _, _ = write(flagship[0], target, overwrite=True)  # a real overwrite swaps the folder
    assert again.size > 100_000 and hidden_leftovers(tmp_path) == []


def test_the_run_report_and_summary_show_the_size(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from neuroflow.cli import main

    report, model = tmp_path / "report.json", tmp_path / "cnn.tflite"
    code = main(["run", str(FLAGSHIP), "--set", "MNIST train.limit=600", "--set", "test_reader.limit=200",
                 "--set", "learner.epochs=1", "--set", f"writer.path={model}", "--report", str(report)])
    out, err = capsys.readouterr()
    assert code == 0, err
    saved = json.loads(report.read_text())["written_models"]["writer"]
    assert saved["format"] == "tflite" and saved["size"] == model.stat().st_size
    assert f"wrote {model}: {human_size(saved['size'])} (tflite)" in out
    assert f"{human_size(saved['size'])} TensorFlow Lite file" in out  # the node's status line
    assert "was not checked" in err or "was not checked" in out


def test_the_writer_is_registered_with_its_sample_port() -> None:
    node_type = default_registry().get("neuroflow.learning.writer")
    assert node_type.version == 2
    assert [(p.name, p.optional) for p in node_type.inputs] == [("model", False), ("sample", True)]


def test_the_node_footer_shows_the_size_and_agreement() -> None:
    from neuroflow.core.events import NodeState
    from neuroflow.gui.node_info import footer_lines

    workflow = fileformat.load(FLAGSHIP)
    item = workflow.nodes["writer"]
    item.state = NodeState.EXECUTED
    item.outputs = {"saved": WrittenModel("m.tflite", "tflite", 2_234_567, "none", 0.996, 1000)}
    assert footer_lines(item)[0] == "wrote 2.2 MB, agrees 99.6%"


@pytest.mark.parametrize(("name", "kind"), [("m.tflite", "TensorFlow Lite model"), ("m.savedmodel", "TensorFlow SavedModel")])
def test_the_reader_names_write_only_formats(name: str, kind: str) -> None:
    from neuroflow.nodes.learning.reader import NetworkReaderNode

    reader = NetworkReaderNode({"path": name})
    with pytest.raises(ConfigureError, match=f"'{name}' is a {kind}: a format for deployment .* read the .keras or .h5"):
        reader.configure({})


def test_half_exports_of_killed_saves_are_removed(tmp_path: Path) -> None:
    import time

    from neuroflow.core.atomic import remove_stale_temporaries

    dead = 2**22 + 4321  # above Linux's largest pid: no such process

    def folder(name: str, age: float) -> Path:
        path = tmp_path / name
        path.mkdir()
        (path / "saved_model.pb").write_bytes(b"half")
        stamp = time.time() - age
        os.utime(path, (stamp, stamp))
        return path

    stale = folder(f".net.savedmodel.{dead}-0badf00d.tmp", 600)
    fresh = folder(f".net.savedmodel.{dead}-12345678.tmp", 5)
    aside = folder(f".net.savedmodel.{dead}-0badf00d.old", 600)  # maybe the only copy of the old model
    alive = folder(f".net.savedmodel.{os.getppid()}-abcdef01.tmp", 600)
    assert remove_stale_temporaries(tmp_path / "net.savedmodel", folders=True) == [stale]
    assert fresh.exists() and aside.exists() and alive.exists()
