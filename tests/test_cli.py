"""The ``neuroflow`` command: summaries, headless runs and one-line errors for bad input."""

from __future__ import annotations

import gzip
import io
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from neuroflow.cli import main
from neuroflow.core import fileformat
from neuroflow.core.workflow import Workflow

REPO = Path(__file__).resolve().parents[1]
FLAGSHIP = REPO / "workflows" / "mnist_cnn.workflow"


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("neuroflow: error: ")
    return lines[0]


def test_validate_prints_a_keras_style_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "validate", FLAGSHIP)
    assert code == 0, err
    assert "  Conv2D (conv)              Conv2D        (None, 26, 26, 32)      320" in out
    assert "(None, 5408)" in out
    assert "Total params: 542,230" in out
    assert "MNIST test (test_reader)           10,000 images 28x28x1, 10 classes" in out
    assert "valid (14 nodes, 13 connections)" in out


def test_nodes_lists_every_type_with_settings(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "nodes")
    assert code == 0
    for name in ("MNIST Reader", "Image Folder Reader", "Normalizer", "Partitioning", "Input", "Conv2D",
                 "MaxPooling2D", "AveragePooling2D", "Flatten", "Dense", "Dropout", "BatchNormalization",
                 "Activation", "Concatenate", "Add", "Network Learner", "Network Executor", "Scorer",
                 "Network Writer", "Network Reader"):
        assert f"  {name} " in out, name
    assert "dilation_rate" in out and "early_stopping" in out


def test_run_flagship_on_a_sample_writes_report_and_model(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report = tmp_path / "report.json"
    model = tmp_path / "models" / "cnn.keras"
    code, out, err = run_cli(
        capsys, "run", FLAGSHIP,
        "--set", "MNIST train.limit=3000", "--set", "test_reader.limit=500",
        "--set", "learner.epochs=1", "--set", f"writer.path={model}",
        "--report", report,
    )
    assert code == 0, err
    assert "epoch 1/1 [########################]" in err
    assert "Network Learner (learner)          ok" in out
    data = json.loads(report.read_text())
    assert data["ok"] is True
    assert {node["state"] for node in data["nodes"]} == {"executed"}
    history = data["training"]["learner"]["history"]
    assert set(history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    scores = data["scores"]["scorer"]
    assert scores["count"] == 500
    assert scores["accuracy"] > 0.75
    assert len(scores["confusion_matrix"]) == 10 and len(scores["per_class"]) == 10
    assert model.is_file()
    assert f"accuracy {scores['accuracy']:.4f}" in out


def idx_file(path: Path, magic: int, dims: tuple[int, ...]) -> None:
    count = 1
    for d in dims:
        count *= d
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims)
    with gzip.open(path, "wb") as handle:
        handle.write(header + bytes(count))


def broken_network(tmp_path: Path, kind: str) -> Path:
    workflow = Workflow()
    workflow.add_node("neuroflow.layers.input", node_id="in", settings={"shape": [8, 8, 1]})
    if kind == "conv_after_flatten":
        workflow.add_node("neuroflow.layers.flatten", node_id="flat")
        workflow.add_node("neuroflow.layers.conv2d", node_id="conv", label="Late conv")
        workflow.connect("in", "network", "flat", "network")
        workflow.connect("flat", "network", "conv", "network")
    else:
        workflow.add_node("neuroflow.layers.conv2d", node_id="conv", label="Big conv", settings={"kernel_size": [9, 9]})
        workflow.connect("in", "network", "conv", "network")
    path = tmp_path / f"{kind}.workflow"
    fileformat.save(workflow, path)
    return path


def flagship_variant(tmp_path: Path, change) -> Path:
    data = json.loads(FLAGSHIP.read_text())
    change(data)
    path = tmp_path / "variant.workflow"
    path.write_text(json.dumps(data))
    return path


def node_settings(data: dict, node_id: str) -> dict:
    return next(n for n in data["nodes"] if n["id"] == node_id)["settings"]


CASES = {
    "malformed JSON": (lambda tmp: _text(tmp, '{"format": "neuroflow.workflow",'), [],
                       "not valid JSON: Expecting property name enclosed in double quotes at line 1"),
    "unknown node type": (lambda tmp: flagship_variant(tmp, lambda d: d["nodes"][3].update(type="acme.magic")), [],
                          "nodes[3].type: unknown node type 'acme.magic'"),
    "missing setting": (lambda tmp: flagship_variant(tmp, lambda d: node_settings(d, "conv").pop("filters")), [],
                        "nodes[5].settings.filters: is missing (Conv2D)"),
    "wrong-typed setting": (lambda tmp: flagship_variant(tmp, lambda d: node_settings(d, "conv").update(filters="32")), [],
                            "nodes[5].settings.filters: setting 'filters': expected an integer, got '32'"),
    "value out of range": (lambda tmp: FLAGSHIP, ["--set", "learner.epochs=-1"],
                           "--set learner.epochs=-1: setting 'epochs': -1 is out of range (0 to 100000)"),
    "non-numeric --set": (lambda tmp: FLAGSHIP, ["--set", "conv.filters=many"],
                          "--set conv.filters=many: setting 'filters': expected an integer, got 'many'"),
    "unknown node in --set": (lambda tmp: FLAGSHIP, ["--set", "ghost.units=3"],
                              "--set ghost.units=3: no node with id or label 'ghost'"),
    "Conv2D after Flatten": (lambda tmp: broken_network(tmp, "conv_after_flatten"), [],
                             "'Late conv' (conv): Conv2D needs a 3-D input (height, width, channels), got shape (64)"),
    "kernel larger than input": (lambda tmp: broken_network(tmp, "big_kernel"), [],
                                 "'Big conv' (conv): Conv2D window 9x9 is larger than the input height 8"),
    "cycle": (lambda tmp: flagship_variant(tmp, lambda d: d["connections"].__setitem__(
        d["connections"].index({"from": "conv.network", "to": "pool.network"}), {"from": "dense.network", "to": "pool.network"})), [],
              "cannot connect 'Flatten' (flatten) output 'network' -> 'Dense 100' (dense) input 'network': it would make a cycle"),
    "unconnected input": (lambda tmp: flagship_variant(tmp, lambda d: d["connections"].remove({"from": "train_norm.data", "to": "learner.training"})), [],
                          "'Network Learner' (learner): input 'training data' is not connected"),
    "missing data file": (lambda tmp: FLAGSHIP, ["--set", "MNIST train.data_folder={tmp}/empty"],
                          "'MNIST train' (train_reader): "),
    "labels do not match images": (lambda tmp: _mismatched(tmp), ["--set", "MNIST train.data_folder={tmp}/bad"],
                                   "'MNIST train' (train_reader): "),
    # hostile input: never a traceback, always one line
    "5,000-digit number": (lambda tmp: _flagship_text(tmp, '"filters": 32', '"filters": 1' + "0" * 4999), [],
                           "settings.filters: the number 100000000000...000000 has 5,000 digits; at most 20 are allowed"),
    "deeply nested JSON": (lambda tmp: _text(tmp, "[" * 100_000 + "]" * 100_000), [],
                           "lists and objects are nested more than 64 deep (at line 1, column 65)"),
    "lone surrogate in a label": (lambda tmp: _flagship_text(tmp, '"label": "Conv2D', '"label": "\\ud800Conv2D'), [],
                                  "nodes[5].label: the text '\\ud800Conv2D' is not valid Unicode"),
    "NaN in the layout": (lambda tmp: _flagship_text(tmp, _conv_x(), '"conv": [\n      NaN'), [],
                          "layout.conv[0]: NaN is not a number JSON allows; expected a finite number"),
    "--set a 300-character folder name": (lambda tmp: FLAGSHIP, ["--set", "MNIST train.data_folder=" + "a" * 300],
                                          "the name '" + "a" * 59 + "... (302 characters) in the path is 300 bytes long"),
    "--set a path with NUL": (lambda tmp: FLAGSHIP, ["--set", "MNIST train.data_folder=da\x00ta"],
                              "setting 'data_folder': the text "),
    "--set 5,000 digits": (lambda tmp: FLAGSHIP, ["--set", "learner.epochs=" + "9" * 5000],
                           "(5,015 characters): setting 'epochs': expected an integer, got '999999"),
}


def _conv_x() -> str:
    """The text of the Conv2D node's x position in the flagship's layout, wherever it is laid out."""
    x = json.loads(FLAGSHIP.read_text(encoding="utf-8"))["layout"]["conv"][0]
    return f'"conv": [\n      {x!r}'


def _flagship_text(tmp: Path, old: str, new: str) -> Path:
    path = tmp / "variant.workflow"
    text = FLAGSHIP.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _text(tmp: Path, text: str) -> Path:
    path = tmp / "broken.workflow"
    path.write_text(text)
    return path


def _mismatched(tmp: Path) -> Path:
    folder = tmp / "bad"
    folder.mkdir()
    idx_file(folder / "train-images-idx3-ubyte.gz", 0x803, (5, 28, 28))
    idx_file(folder / "train-labels-idx1-ubyte.gz", 0x801, (4,))
    return FLAGSHIP


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("command", ["run", "validate"])
def test_bad_input_gets_one_line_and_touches_nothing(
    case: str, command: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    make, extra, expected = CASES[case]
    (tmp_path / "empty").mkdir()
    path = make(tmp_path)
    before = path.read_bytes()
    report = tmp_path / "report.json"
    report.write_text("previous report")
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in extra]
    if command == "run":
        args += ["--report", str(report)]
    code, _, err = run_cli(capsys, command, path, *args)
    assert code == 1
    line = one_line_error(err)
    assert expected in line
    if case == "labels do not match images":
        assert "5" in line and "4" in line and "train-labels-idx1-ubyte.gz" in line
    if case == "missing data file":
        assert "empty" in line
    assert path.read_bytes() == before
    assert report.read_text() == "previous report"
    assert not [p.name for p in tmp_path.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"]


# -- stderr holds the error and nothing else, also once TensorFlow has started ----------------------
def cli_subprocess(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m neuroflow ARGS`` as a user runs it: no TensorFlow log level set beforehand."""
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run([sys.executable, "-m", "neuroflow", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)


def test_a_run_failing_before_tensorflow_prints_exactly_one_line(tmp_path: Path) -> None:
    done = cli_subprocess(tmp_path, "run", str(FLAGSHIP), "--quiet", "--set", f"MNIST train.data_folder={tmp_path}")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"neuroflow: error: 'MNIST train' (train_reader): no MNIST train files in {tmp_path}: expected "
        "train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz], or mnist.npz"
    ]


def test_a_learner_failing_in_training_prints_exactly_one_line(tmp_path: Path) -> None:
    """TensorFlow is imported and trains before the error: its start-up lines (absl, oneDNN, CPU
    instructions) and its graph-error text stay out of stderr."""
    from images import png_bytes, write
    from test_file_datasets import colour_folder, flat, photo_workflow

    folder = colour_folder(tmp_path / "colours", 4)
    good = png_bytes(flat((1, 2, 3), 12, 12))
    start = good.index(b"IDAT") + 4
    broken = write(folder / "red" / "zz-broken.png",
                   good[:start] + bytes(b ^ 0x5A for b in good[start:start + 20]) + good[start + 20:])
    workflow, ids = photo_workflow(folder, epochs=1)
    workflow.set_setting(ids["reader"], "on_error", "fail")  # only decoding can find this file
    fileformat.save(workflow, tmp_path / "photos.workflow")
    done = cli_subprocess(tmp_path, "run", "photos.workflow", "--quiet")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"neuroflow: error: 'Network Learner' ({ids['learner']}): {broken} is not a readable image: the "
        "header looks right but the image data cannot be decoded; remove or replace the file, or let "
        "the reader skip unreadable images"
    ]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("stream", [io.StringIO, _Terminal])
def test_training_stopped_during_an_epoch_says_so_on_a_line_of_its_own(stream: type[io.StringIO]) -> None:
    from neuroflow.core.events import BatchEnded, EpochEnded, TrainingEnded, TrainingStarted
    from neuroflow.reporting import ConsoleProgress

    workflow = Workflow()
    learner = workflow.add_node("neuroflow.learning.learner").id
    out = stream()
    progress = ConsoleProgress(workflow, out)
    progress(TrainingStarted(learner, 3, 4, 128))
    for number in range(1, 5):
        progress(BatchEnded(learner, 1, number, 4, {"loss": 1.0}))
    progress(EpochEnded(learner, 1, 3, {"loss": 1.0}, 2.0))
    for number in range(1, 3):
        progress(BatchEnded(learner, 2, number, 4, {"loss": 0.5}))
    reason = "stopped by user during epoch 2, after 2 of 4 batches (not counted as an epoch)"
    progress(TrainingEnded(learner, 1, reason))
    progress.close()
    assert f"\n  training ended after 1 epoch: {reason}\n" in out.getvalue()
