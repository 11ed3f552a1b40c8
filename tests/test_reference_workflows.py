"""The reference workflows of issue 4: the articles' networks, canonical files, headless sample runs.

Each workflow's network is checked against a Keras model built here from the article's own
description (the parameter totals must agree), its learner against the article's training
settings, and each runs headless on a small sample. The full-data accuracy comparison lives in
``benchmarks/reference_accuracy.py``.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import math
import struct
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from neuroflow.cli import main
from neuroflow.core import fileformat

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO / "workflows"
SIBLING_FASHION = REPO.parent / "shared" / "data" / "fashion-mnist"
FLAGSHIP_IDS = {"train_reader", "test_reader", "train_norm", "test_norm", "input", "learner", "executor",
                "scorer", "writer"}


# -- the articles' networks, written as plain Keras -------------------------------------------------
def _simple(L: Any) -> list[Any]:
    return [L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(2, 2), L.Flatten(),
            L.Dense(100, activation="relu"), L.Dense(10, activation="softmax")]


def _two_conv(L: Any) -> list[Any]:
    return [L.Conv2D(32, 3, activation="relu"), L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(2, 2),
            L.Flatten(), L.Dense(100, activation="relu"), L.Dense(10, activation="softmax")]


def _fashion(L: Any) -> list[Any]:
    return [L.Conv2D(16, 2, activation="relu"), L.Conv2D(16, 2, activation="relu"), L.MaxPooling2D(2, 2),
            L.Conv2D(32, 2, activation="relu"), L.Conv2D(32, 2, activation="relu"), L.MaxPooling2D(2),
            L.Flatten(), L.Dense(100, activation="relu"), L.Dense(10, activation="softmax")]


def _keras_example(L: Any) -> list[Any]:
    return [L.Conv2D(32, 3, activation="relu"), L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(2),
            L.Dropout(0.25), L.Flatten(), L.Dense(128, activation="relu"), L.Dropout(0.5),
            L.Dense(10, activation="softmax")]


def _dense(L: Any) -> list[Any]:
    return [L.Flatten(), L.Dense(512, activation="relu"), L.Dense(10, activation="softmax")]


def _tutorial(L: Any) -> list[Any]:
    return [L.Conv2D(28, 3), L.MaxPooling2D(2), L.Flatten(), L.Dense(128, activation="relu"),
            L.Dropout(0.2), L.Dense(10, activation="softmax")]


def _best(L: Any) -> list[Any]:
    block = lambda n: [L.Conv2D(n, 3, activation="relu"), L.BatchNormalization(),  # noqa: E731
                       L.Conv2D(n, 3, activation="relu"), L.BatchNormalization(), L.MaxPooling2D(2),
                       L.Dropout(0.25)]
    return [*block(32), *block(64), L.Flatten(), L.Dense(256, activation="relu"), L.BatchNormalization(),
            L.Dropout(0.5), L.Dense(10, activation="softmax")]


CCE, SCCE = "categorical_crossentropy", "sparse_categorical_crossentropy"
#: workflow name -> (dataset, network, (optimizer, learning rate, schedule, epochs, batch size, loss))
REFERENCES: dict[str, tuple[str, Callable[[Any], list[Any]], tuple[str, float, str, int, int, str]]] = {
    "knime_simple_cnn": ("digits", _simple, ("adadelta", 1.0, "constant", 10, 200, CCE)),
    "knime_two_conv_cnn": ("digits", _two_conv, ("adadelta", 1.0, "constant", 3, 200, CCE)),
    # the shipped file adds a Random Flip and a Random Shift (no weights) in front of the article's network
    "knime_fashion_cnn": ("fashion", _fashion, ("adam", 0.001, "cosine", 30, 32, CCE)),
    # and a Random Shift (no weights) in front of the Keras example's
    "keras_example_cnn": ("digits", _keras_example, ("adam", 0.001, "cosine", 15, 128, CCE)),
    "keras_dense_mnist": ("digits", _dense, ("rmsprop", 0.001, "constant", 10, 128, CCE)),  # article: 5 epochs
    "keras_cnn_tutorial": ("digits", _tutorial, ("adam", 0.001, "constant", 10, 32, SCCE)),
    "best_mnist_cnn": ("digits", _best, ("adam", 0.0005, "constant", 12, 128, CCE)),
}
NAMES = list(REFERENCES)
#: The workflows whose repeated layer groups are blocks, and the blocks' labels in network order.
BLOCKED = {
    "best_mnist_cnn": ["Stage 1: 2x Conv 32", "Stage 2: 2x Conv 64", "Classifier: Dense 256"],
    "keras_example_cnn": ["Features: Conv 32, 64", "Classifier: Dense 128"],
}
BLOCK_TYPE = "neuroflow.blocks.block"


def path_of(name: str) -> Path:
    return WORKFLOWS / f"{name}.workflow"


def article_params(name: str) -> int:
    import keras

    network = REFERENCES[name][1]
    return int(keras.Sequential([keras.Input((28, 28, 1)), *network(keras.layers)]).count_params())


# -- Fashion-MNIST for the tests ---------------------------------------------------------------------
def _idx(path: Path, magic: int, array: np.ndarray) -> None:
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture(scope="module")
def fashion_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The canonical files beside the repository, else tiny synthetic Fashion-MNIST IDX files."""
    if SIBLING_FASHION.is_dir():
        return SIBLING_FASHION
    folder = tmp_path_factory.mktemp("fashion-mnist")
    rng = np.random.default_rng(0)
    for prefix, count in (("train", 600), ("t10k", 200)):
        labels = np.arange(count) % 10
        images = rng.integers(0, 60, (count, 28, 28)) + labels[:, None, None] * 19
        _idx(folder / f"{prefix}-images-idx3-ubyte.gz", 0x803, images)
        _idx(folder / f"{prefix}-labels-idx1-ubyte.gz", 0x801, labels)
    return folder


def data_args(name: str, folder: Path) -> list[str]:
    if REFERENCES[name][0] != "fashion":
        return []
    return ["--set", f"train_reader.data_folder={folder}", "--set", f"test_reader.data_folder={folder}"]


def script_module(relative: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    path = REPO / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


# -- the files ------------------------------------------------------------------------------------
def test_the_generator_reproduces_the_shipped_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = script_module("tools/make_reference_workflows.py", monkeypatch)
    assert sorted(module.BY_NAME) == sorted(NAMES)
    assert module.main(["--out", str(tmp_path)]) == 0
    for name in NAMES:
        assert (tmp_path / f"{name}.workflow").read_bytes() == path_of(name).read_bytes(), name


@pytest.mark.parametrize("name", NAMES)
def test_save_load_save_is_byte_identical(name: str, tmp_path: Path) -> None:
    copy = tmp_path / f"{name}.workflow"
    fileformat.save(fileformat.load(path_of(name)), copy)
    assert copy.read_bytes() == path_of(name).read_bytes()


def network_row(data: dict[str, Any]) -> list[str]:
    """The top-level nodes from ``input`` along the network wires to the learner (included)."""
    chain, links = ["input"], {c["from"].split(".")[0]: c["to"].split(".")[0] for c in data["connections"]
                               if c["from"].endswith(".network")}
    while chain[-1] in links:
        chain.append(links[chain[-1]])
    return chain


@pytest.mark.parametrize("name", [name for name in NAMES if name not in BLOCKED])
def test_flagship_ids_and_a_tidy_left_to_right_layout(name: str) -> None:
    data = json.loads(path_of(name).read_text())
    nodes = {node["id"]: node for node in data["nodes"]}
    layout = {key: tuple(value) for key, value in data["layout"].items()}
    assert FLAGSHIP_IDS <= set(nodes) and set(layout) == set(nodes)
    assert not any(node["type"] == BLOCK_TYPE for node in data["nodes"])
    # laid out in rows (tools/make_reference_workflows.arrange_in_rows): the network one straight
    # row from "input", read left to right; below it training (reader, normalizer, learner,
    # writer) and scoring (reader, normalizer, executor, scorer), each a row in shared columns
    chain = network_row(data)
    assert chain[-1] == "learner"
    network = chain[:-1]
    for before, after in zip(network, network[1:], strict=False):
        (x1, y1), (x2, y2) = layout[before], layout[after]
        assert y2 == y1 and x2 - x1 >= 200, (before, after)
    assert layout["input"][0] == layout["train_reader"][0] == layout["test_reader"][0] == 0.0
    assert layout["input"][1] < layout["train_reader"][1] < layout["test_reader"][1]
    assert layout["train_norm"][1] == layout["train_reader"][1] < layout["test_norm"][1] == layout["test_reader"][1]
    assert layout["learner"][0] == layout["executor"][0] > layout["train_norm"][0] == layout["test_norm"][0]
    assert layout["writer"][0] == layout["scorer"][0] > layout["learner"][0]
    assert layout["train_reader"][1] - 30 <= layout["learner"][1] < layout["test_reader"][1] - 30 <= layout["executor"][1]
    assert layout["input"][1] < layout["learner"][1] and layout["writer"][1] == layout["learner"][1]
    # no two nodes overlap (the layout's node size: at most 200 x 156 scene pixels)
    points = list(layout.values())
    for i, (x1, y1) in enumerate(points):
        for x2, y2 in points[i + 1:]:
            assert abs(x1 - x2) >= 200 or abs(y1 - y2) >= 110
    for nid in network[1:]:
        label = nodes[nid]["label"]
        assert label and label != nodes[nid]["type"], nid
    assert nodes["writer"]["settings"]["path"] == f"out/{name}.keras"
    assert nodes["train_reader"]["settings"]["data_folder"] == ""
    assert nodes["train_reader"]["settings"]["dataset"] == REFERENCES[name][0]


@pytest.mark.parametrize("name", BLOCKED)
def test_the_larger_networks_are_blocks_in_three_rows_that_fit_the_editor(name: str) -> None:
    data = json.loads(path_of(name).read_text())
    nodes = {node["id"]: node for node in data["nodes"]}
    layout = {key: tuple(value) for key, value in data["layout"].items()}
    assert FLAGSHIP_IDS <= set(nodes) and set(layout) == set(nodes)
    chain = network_row(data)
    assert chain[-1] == "learner"
    network = chain[:-1]
    blocks = [nid for nid in network if nodes[nid]["type"] == BLOCK_TYPE]
    assert [nodes[nid]["label"] for nid in blocks] == BLOCKED[name]
    assert len(nodes) == 12  # 26 and 20 nodes before: the repeated layer groups are blocks
    # three rows in four shared columns: the network; training; scoring
    rows = [network, ["train_reader", "train_norm", "learner", "writer"],
            ["test_reader", "test_norm", "executor", "scorer"]]
    columns = sorted({x for x, _ in layout.values()})
    assert len(columns) == 4 and columns[0] == 0.0
    assert all(b - a >= 240 for a, b in zip(columns, columns[1:], strict=False))
    for row in rows:
        assert [layout[nid][0] for nid in row] == columns[:len(row)], row
    first = [min(layout[nid][1] for nid in row) for row in rows]  # top of a row's highest node
    last = [max(layout[nid][1] for nid in row) for row in rows]  # and of its lowest
    assert {layout[nid][1] for nid in network} == {0.0}  # one straight row
    # rows apart by a node's height (110; the learner, with three inputs, 156) and more
    assert first[1] - last[0] >= 110 + 20 and first[2] - layout["learner"][1] >= 156
    # within the canvas of a 1600 x 1000 editor window at 100% zoom (about 1100 x 500 scene pixels)
    assert columns[-1] + 240 <= 1100 and last[2] + 120 <= 500


@pytest.mark.parametrize("name", BLOCKED)
def test_blocks_configure_to_the_network_of_their_expanded_layers(name: str) -> None:
    from neuroflow.core.block_edits import expand

    blocked = fileformat.load(path_of(name))
    flat = fileformat.load(path_of(name))
    for node_id in [nid for nid, item in flat.nodes.items() if item.type_id == BLOCK_TYPE]:
        expand(flat, node_id)
    assert not any(item.type_id == BLOCK_TYPE for item in flat.nodes.values())
    assert blocked.configure() == {} and flat.configure() == {}
    before = blocked.nodes[blocked.incoming("learner")["network"].source].specs["network"]
    after = flat.nodes[flat.incoming("learner")["network"].source].specs["network"]
    assert before.total_params == after.total_params == article_params(name)
    assert [(layer.class_name, layer.config, layer.output_shape, layer.params) for layer in before.layers] == \
           [(layer.class_name, layer.config, layer.output_shape, layer.params) for layer in after.layers]


@pytest.mark.parametrize("name", NAMES)
def test_validate_shows_the_articles_network_and_training(
    name: str, fashion_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["validate", str(path_of(name)), *data_args(name, fashion_folder)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"Total params: {article_params(name):,}\n" in out
    assert f"{path_of(name)}: valid" in out
    learner = fileformat.load(path_of(name)).nodes["learner"].node
    assert (learner["optimizer"], learner["learning_rate"], learner["lr_schedule"], learner["epochs"],
            learner["batch_size"], learner["loss"]) == REFERENCES[name][2]
    assert learner["validation_split"] == 0.0 and learner["shuffle"] and not learner["early_stopping"]


def test_a_missing_fashion_dataset_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NEUROFLOW_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    off = ["--set", "train_reader.download=false", "--set", "test_reader.download=false"]
    code = main(["validate", str(path_of("knime_fashion_cnn")), *off])
    err = capsys.readouterr().err
    assert code == 1
    assert "Fashion-MNIST" in err and str(tmp_path / "data" / "fashion-mnist") in err
    assert "train-images-idx3-ubyte.gz" in err and "data folder" in err


@pytest.mark.parametrize("name", NAMES)
def test_runs_headless_on_a_sample(
    name: str, fashion_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report, model = tmp_path / "report.json", tmp_path / f"{name}.keras"
    code = main([
        "run", str(path_of(name)), *data_args(name, fashion_folder),
        "--set", "train_reader.limit=500", "--set", "test_reader.limit=200", "--set", "learner.epochs=1",
        "--set", f"writer.path={model}", "--report", str(report),
    ])
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(report.read_text())
    assert data["ok"] and {node["state"] for node in data["nodes"]} == {"executed"}
    scores = data["scores"]["scorer"]
    assert scores["count"] == 200
    assert isinstance(scores["accuracy"], float) and math.isfinite(scores["accuracy"])
    assert 0.0 <= scores["accuracy"] <= 1.0
    assert len(data["training"]["learner"]["history"]["loss"]) == 1
    assert model.is_file()
    assert "warning:" not in err


def test_the_benchmark_trains_both_sides_alike_and_writes_the_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    benchmark = script_module("benchmarks/reference_accuracy.py", monkeypatch)
    assert {row.workflow for row in benchmark.ROWS} == set(NAMES)
    out = tmp_path / "results.md"
    monkeypatch.setattr(benchmark, "REPO", tmp_path)  # the models it saves go under tmp_path/out
    code = benchmark.main(["--only", "keras_dense_mnist", "--samples", "400", "--test-samples", "100",
                           "--epochs", "1", "--out", str(out)])
    assert code == 0
    row = benchmark.stored_data(out)["rows"][0]
    # the same seed, data and settings: NeuroFlow and the plain Keras script agree
    assert abs(row["neuroflow"]["accuracy"] - row["keras"]["accuracy"]) <= 0.02
    assert row["neuroflow"]["fit_seconds"] > 0 and row["keras"]["fit_seconds"] > 0
    text = out.read_text()
    assert "| Keras dense network (`keras_dense_mnist.workflow`) | MNIST | RMSprop lr 0.001" in text
    assert "Quick check, not the full benchmark" in text and "## Machine and libraries" in text
    assert "| KNIME simple CNN (`knime_simple_cnn.workflow`) | MNIST | Adadelta lr 1.0, batch 200, 10 epochs " \
           "| 94.26% | not run |" in text
    # the report stores its measurements: re-rendering keeps every row and changes nothing
    before = out.read_text()
    assert benchmark.main(["--render-only", "--samples", "400", "--test-samples", "100", "--epochs", "1",
                           "--out", str(out)]) == 0
    assert out.read_text() == before


def test_the_shipped_report_stores_a_full_run_of_every_row() -> None:
    text = (REPO / "docs" / "results.md").read_text()
    data = json.loads(text[text.rindex("<!-- reference-accuracy-data") + 28:text.rindex("-->")])
    assert data["config"] == {"train_limit": 0, "test_limit": 0, "epochs": 0}
    rows = {row["key"]: row for row in data["rows"]}
    assert {key for key in rows if "@" not in key} == set(NAMES)
    for key, row in rows.items():
        if row["keras"] is not None:
            assert abs(row["neuroflow"]["accuracy"] - row["keras"]["accuracy"]) <= 0.005, key
    assert rows["best_mnist_cnn"]["neuroflow"]["accuracy"] >= 0.993
