"""Keras models in: ``neuroflow import`` (a model file as layer nodes, optionally with its weights)
and Keras 2.2.4-style ``.h5`` files (what KNIME writes) through Network Reader -> Executor -> Scorer.

One flagship model is trained once on a small MNIST sample; every test starts from its file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from keras2_files import write_keras2_sequential

from neuroflow.cli import main
from neuroflow.core import fileformat
from neuroflow.core.workflow import Workflow
from neuroflow.training.legacy_config import translate

REPO = Path(__file__).resolve().parents[1]
FLAGSHIP = REPO / "workflows" / "mnist_cnn.workflow"
TEST_IMAGES = 300


def cli(capsys: pytest.CaptureFixture[str], *args: Any) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The flagship trained for one epoch on 600 images, saved as .keras."""
    folder = tmp_path_factory.mktemp("flagship")
    model = folder / "flagship.keras"
    code = main([
        "run", str(FLAGSHIP), "--quiet", "--no-history", "--set", "MNIST train.limit=600",
        "--set", "test_reader.limit=100", "--set", "learner.epochs=1", "--set", f"writer.path={model}",
    ])
    assert code == 0 and model.is_file()
    return model


def scoring_workflow(model: Path, out: Path) -> Path:
    """MNIST test sample -> Normalizer -> Network Executor (model from a Network Reader) -> Scorer."""
    workflow = Workflow()
    workflow.add_node("neuroflow.data.mnist_reader", node_id="test_reader",
                      settings={"split": "test", "limit": TEST_IMAGES})
    workflow.add_node("neuroflow.data.normalizer", node_id="norm", settings={"range": "0..1"})
    workflow.add_node("neuroflow.learning.reader", node_id="reader", settings={"path": str(model)})
    workflow.add_node("neuroflow.learning.executor", node_id="executor")
    workflow.add_node("neuroflow.learning.scorer", node_id="scorer")
    workflow.connect("test_reader", "data", "norm", "data")
    workflow.connect("norm", "data", "executor", "images")
    workflow.connect("reader", "model", "executor", "model")
    workflow.connect("executor", "predictions", "scorer", "predictions")
    fileformat.save(workflow, out)
    return out


def scores(capsys: pytest.CaptureFixture[str], workflow: Path) -> dict[str, Any]:
    report = workflow.with_suffix(".json")
    code, _, err = cli(capsys, "run", workflow, "--quiet", "--no-history", "--report", report)
    assert code == 0, err
    return json.loads(report.read_text())["scores"]["scorer"]


def summary_rows(out: str) -> list[tuple[str, str, str]]:
    """(type, output shape, parameters) of each row of ``validate``'s network summary."""
    rows = re.findall(r"^  .+?\(\S+\)\s+(\w+)\s+(\(None[^)]*\))\s+([\d,]+)$", out, flags=re.M)
    return [(kind, shape, params) for kind, shape, params in rows]


# -- Keras 2.2.4-style .h5 ------------------------------------------------------------------------
def test_translation_of_keras2_forms() -> None:
    config = {"class_name": "Sequential", "config": [
        {"class_name": "Dense", "config": {"name": "d1", "units": 4, "input_dim": 8,
                                            "kernel_initializer": {"class_name": "VarianceScaling", "config": {
                                                "scale": 2.0, "mode": "fan_in", "distribution": "normal"}},
                                            "kernel_regularizer": {"class_name": "l2", "config": {"l2": 0.01}}}},
    ]}
    translated, changes = translate(config)
    layers = translated["config"]["layers"]
    assert layers[0] == {"class_name": "InputLayer", "config": {"batch_shape": [None, 8], "dtype": "float32",
                                                                "sparse": False, "name": "d1_input"}}
    dense = layers[1]["config"]
    assert "input_dim" not in dense
    assert dense["kernel_initializer"]["config"]["distribution"] == "truncated_normal"
    assert dense["kernel_regularizer"]["class_name"] == "L2"
    assert len(changes) == 4
    assert config["config"][0]["config"]["input_dim"] == 8  # the argument is left alone
    keras3 = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 8], "name": "i"}},
        {"class_name": "Dense", "config": {"name": "d", "units": 2}}]}}
    assert translate(keras3) == (keras3, [])


def test_a_keras_2_2_4_sequential_h5_scores_like_its_source(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import keras
    import numpy as np

    source = keras.saving.load_model(trained, compile=False)
    legacy = tmp_path / "knime_style.h5"
    write_keras2_sequential(source, legacy)
    # The file really has the Keras 2 form Keras 3 builds wrongly on its own.
    sample = np.zeros((2, 28, 28, 1), dtype="float32")
    with pytest.raises(Exception, match="(?i)shape|distribution"):
        keras.saving.load_model(legacy, compile=False).predict(sample, verbose=0)

    original = scores(capsys, scoring_workflow(trained, tmp_path / "original.workflow"))
    legacy_flow = scoring_workflow(legacy, tmp_path / "legacy.workflow")
    code, out, err = cli(capsys, "validate", legacy_flow)
    assert code == 0, err
    assert f"{legacy_flow}: valid" in out
    read = scores(capsys, legacy_flow)
    assert read["count"] == original["count"] == TEST_IMAGES
    assert read["accuracy"] == original["accuracy"]
    assert read["confusion_matrix"] == original["confusion_matrix"]


def test_a_weights_only_h5_keeps_its_clear_message(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import keras

    weights_only = tmp_path / "weights_only.h5"
    write_keras2_sequential(keras.saving.load_model(trained, compile=False), weights_only, with_config=False)
    code, out, err = cli(capsys, "validate", scoring_workflow(weights_only, tmp_path / "w.workflow"))
    assert code == 1
    assert "holds no model configuration (only weights?)" in err
    code, _, err = cli(capsys, "import", weights_only, "--out", tmp_path / "w2.workflow")
    assert code == 1 and "holds no model configuration (only weights?)" in err


# -- import ---------------------------------------------------------------------------------------
def test_round_trip_validate_shows_the_same_layers(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "imported.workflow"
    code, out, err = cli(capsys, "import", trained, "--out", out_file)
    assert code == 0, err
    assert "imported 6 layers" in out
    code, original, err = cli(capsys, "validate", FLAGSHIP)
    assert code == 0, err
    code, imported, err = cli(capsys, "validate", out_file)
    assert code == 0, err
    expected = summary_rows(original)
    assert len(expected) == 6
    assert summary_rows(imported) == expected
    workflow = fileformat.load(out_file)
    xs = [workflow.nodes[nid].position[0] for nid in workflow.topological_order()]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)  # laid out left to right along the data flow
    code, _, err = cli(capsys, "import", trained, "--out", out_file)
    assert code == 1 and "already exists" in err


def imported_with_data(capsys: pytest.CaptureFixture[str], model: Path, out_file: Path) -> Workflow:
    """``neuroflow import --weights``, then the MNIST test sample as training data (0 epochs
    never fits; the learner needs the classes) and for an Executor and a Scorer."""
    code, _, err = cli(capsys, "import", model, "--out", out_file, "--weights")
    assert code == 0, err
    workflow = fileformat.load(out_file)
    workflow.add_node("neuroflow.data.mnist_reader", node_id="test_reader",
                      settings={"split": "test", "limit": TEST_IMAGES})
    workflow.add_node("neuroflow.data.normalizer", node_id="norm", settings={"range": "0..1"})
    workflow.add_node("neuroflow.learning.executor", node_id="executor")
    workflow.add_node("neuroflow.learning.scorer", node_id="scorer")
    workflow.connect("test_reader", "data", "norm", "data")
    workflow.connect("norm", "data", "learner", "training")
    workflow.connect("norm", "data", "executor", "images")
    workflow.connect("learner", "model", "executor", "model")
    workflow.connect("executor", "predictions", "scorer", "predictions")
    fileformat.save(workflow, out_file)
    return workflow


def test_imported_weights_score_like_the_original_without_training(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "with_weights.workflow"
    learner = imported_with_data(capsys, trained, out_file).nodes["learner"].node
    assert learner["epochs"] == 0 and Path(learner["initial_weights"]).name == trained.name
    imported = scores(capsys, out_file)
    original = scores(capsys, scoring_workflow(trained, tmp_path / "original.workflow"))
    assert imported["accuracy"] == original["accuracy"] > 0.3  # well above chance (0.1)
    assert imported["confusion_matrix"] == original["confusion_matrix"]


def test_initial_weights_that_no_longer_fit_are_refused_in_one_line(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "changed.workflow"
    imported_with_data(capsys, trained, out_file)
    code, _, err = cli(capsys, "run", out_file, "--quiet", "--no-history", "--set", "dense_dense.units=50")
    assert code == 1
    line = one_line(err)
    assert "initial weights file" in line and "'dense_dense'" in line and "(50,)" in line


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def test_importing_the_keras2_h5_gives_the_same_network(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import keras

    legacy = tmp_path / "legacy.h5"
    write_keras2_sequential(keras.saving.load_model(trained, compile=False), legacy)
    out_file = tmp_path / "legacy.workflow"
    code, _, err = cli(capsys, "import", legacy, "--out", out_file)
    assert code == 0, err
    code, imported, err = cli(capsys, "validate", out_file)
    assert code == 0, err
    _, original, _ = cli(capsys, "validate", FLAGSHIP)
    assert summary_rows(imported) == summary_rows(original)
    conv = fileformat.load(out_file).nodes["conv2d_1"].node
    assert conv["kernel_initializer"] == "he_normal"  # Keras 2's VarianceScaling form, named


def test_unsupported_layers_stop_the_import_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import keras

    inputs = keras.Input((28, 28), name="rows")
    x = keras.layers.LSTM(4, name="memory")(inputs)
    x = keras.layers.Dense(8, activation="relu", name="hidden")(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="classes")(keras.layers.UnitNormalization(name="unit")(x))
    path = tmp_path / "recurrent.keras"
    keras.Model(inputs, outputs).save(path)
    out_file = tmp_path / "recurrent.workflow"
    code, _, err = cli(capsys, "import", path, "--out", out_file)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert "'memory' (LSTM)" in lines[0] and "'unit' (UnitNormalization)" in lines[0]
    assert "hidden" not in lines[0]
    assert not out_file.exists()


def test_a_lambda_is_refused_before_anything_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 4], "name": "i"}},
        {"class_name": "Lambda", "config": {"name": "code", "function": "print('hi')"}}]}}
    path = tmp_path / "lambda.h5"
    import h5py

    with h5py.File(path, "w") as handle:
        handle.attrs["model_config"] = json.dumps(config)
    code, _, err = cli(capsys, "import", path, "--out", tmp_path / "l.workflow")
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "Lambda" in err and "code" in err


def test_a_functional_model_with_branches_imports_wired_as_in_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import keras

    inputs = keras.Input((16, 16, 3), name="image")
    stem = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="stem")(inputs)
    left = keras.layers.Conv2D(8, 3, padding="same", name="left")(stem)
    left = keras.layers.BatchNormalization(name="left_bn")(left)
    residual = keras.layers.Add(name="residual")([stem, left])
    side = keras.layers.DepthwiseConv2D(3, padding="same", name="side")(residual)
    joined = keras.layers.Concatenate(name="joined")([residual, side])
    pooled = keras.layers.GlobalAveragePooling2D(name="gap")(keras.layers.MaxPooling2D(name="pool")(joined))
    dropped = keras.layers.Dropout(0.2, name="drop")(pooled)
    outputs = keras.layers.Dense(5, activation="softmax", name="classes",
                                 kernel_regularizer=keras.regularizers.L2(1e-4))(dropped)
    model = keras.Model(inputs, outputs)
    path = tmp_path / "branches.keras"
    model.save(path)
    out_file = tmp_path / "branches.workflow"
    code, _, err = cli(capsys, "import", path, "--out", out_file)
    assert code == 0, err
    workflow = fileformat.load(out_file)
    wires = {(c.source, c.target, c.target_port) for c in workflow.connections}
    assert {("stem", "residual", "network_1"), ("left_bn", "residual", "network_2"),
            ("residual", "joined", "network_1"), ("side", "joined", "network_2")} <= wires
    assert workflow.nodes["classes"].node["l2"] == pytest.approx(1e-4)
    network = workflow.nodes["classes"].specs["network"]
    assert network.total_params == model.count_params()
    for layer in model.layers:
        desc = network.by_id[layer.name]
        assert desc.output_shape == tuple(layer.output.shape[1:]), layer.name
    positions = {nid: workflow.nodes[nid].position for nid in workflow.nodes}
    assert positions["left"][0] > positions["stem"][0] and positions["residual"][0] > positions["left_bn"][0]
    assert len(set(positions.values())) == len(positions)  # no two nodes on top of each other


def test_a_missing_initial_weights_file_is_a_configure_error(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "moved.workflow"
    imported_with_data(capsys, trained, out_file)
    code, _, err = cli(capsys, "validate", out_file, "--set", f"learner.initial_weights={tmp_path / 'gone.keras'}")
    assert code == 1
    assert "setting 'initial_weights'" in one_line(err) and "gone.keras' does not exist" in err


def test_a_file_written_by_real_keras_2_imports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """tests/data/keras2_cnn.h5 was saved by Keras 2 itself (tools/make_keras2_models.py)."""
    out_file = tmp_path / "keras2_cnn.workflow"
    code, _, err = cli(capsys, "import", REPO / "tests" / "data" / "keras2_cnn.h5", "--out", out_file)
    assert code == 0, err
    code, out, err = cli(capsys, "validate", out_file)
    assert code == 0, err
    assert [row[0] for row in summary_rows(out)] == [
        "InputLayer", "Conv2D", "BatchNormalization", "MaxPooling2D", "Conv2D", "GlobalAveragePooling2D",
        "Dense", "Dense"]
    assert "Total params: 361" in out
    conv2 = fileformat.load(out_file).nodes["conv2"].node
    assert conv2["strides"] == (2, 2) and conv2["padding"] == "same"
