"""The Network Learner's TensorBoard log folder: Keras's callback, one sub-folder per training."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from neuroflow.cli import main
from neuroflow.core import fileformat
from neuroflow.history import open_store
from neuroflow.training import tensorboard

FLAGSHIP = Path(__file__).resolve().parents[1] / "workflows" / "mnist_cnn.workflow"
SAMPLE = ["--set", "MNIST train.limit=300", "--set", "test_reader.limit=100", "--set", "learner.epochs=2"]


def epoch_scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar in the event files under ``folder``, read back by TensorFlow's own reader."""
    import tensorflow as tf

    found: dict[str, list[tuple[int, float]]] = {}
    for events in sorted(folder.rglob("*tfevents*")):
        kind = events.parent.name  # Keras writes train/ and validation/
        for event in tf.compat.v1.train.summary_iterator(str(events)):
            for value in event.summary.value:
                number = float(tf.make_ndarray(value.tensor)) if value.HasField("tensor") else value.simple_value
                found.setdefault(f"{kind}/{value.tag}", []).append((event.step, number))
    return found


@pytest.mark.slow
@pytest.mark.skipif(tensorboard.missing() != "", reason="the tensorboard package is not installed")
def test_a_training_writes_event_files_with_the_epoch_loss(tmp_path: Path) -> None:
    # A workflow of its own whose log folder is relative: it is taken from the workflow's folder.
    raw = json.loads(FLAGSHIP.read_text())
    learner = next(node for node in raw["nodes"] if node["id"] == "learner")
    learner["settings"]["tensorboard_folder"] = "logs"
    workflow = tmp_path / "study.workflow"
    workflow.write_text(json.dumps(raw))
    for _ in range(2):
        assert main(["run", str(workflow), "--quiet", "--runs-dir", str(tmp_path), *SAMPLE,
                     "--set", f"writer.path={tmp_path / 'model.keras'}"]) == 0
    runs = sorted(path for path in (tmp_path / "logs").iterdir())
    assert len(runs) == 2 and all(path.name.endswith("-learner") or "-learner-" in path.name for path in runs)
    scalars = epoch_scalars(runs[0])
    with open_store(tmp_path / "study.runs.sqlite") as store:
        first = store.get_run(min(run.id for run in store.list_runs()))
    assert [step for step, _ in scalars["train/epoch_loss"]] == [0, 1]
    # The logs hold the very losses the run history recorded for that training.
    recorded = [value for _, value in first.curves["loss"]]
    assert [value for _, value in scalars["train/epoch_loss"]] == pytest.approx(recorded, rel=1e-5)
    assert "validation/epoch_loss" in scalars and "train/epoch_accuracy" in scalars


def test_run_folders_never_collide(tmp_path: Path) -> None:
    first = tensorboard.make_run_folder(tmp_path / "logs", "learner", now=1_800_000_000)
    second = tensorboard.make_run_folder(tmp_path / "logs", "learner", now=1_800_000_000)
    assert first != second and first.is_dir() and second.is_dir()
    assert second.name == f"{first.name}-2"


def test_older_learners_write_no_logs() -> None:
    raw = json.loads(FLAGSHIP.read_text())
    learner = next(node for node in raw["nodes"] if node["id"] == "learner")
    learner["version"] = 4
    learner["settings"].pop("tensorboard_folder", None)
    node = fileformat.loads(json.dumps(raw)).nodes["learner"].node
    assert node["tensorboard_folder"] == ""
    assert type(node).version >= 5


def test_a_log_folder_without_tensorboard_installed_is_a_configure_error(monkeypatch, capsys) -> None:
    monkeypatch.setattr(tensorboard.importlib.util, "find_spec",
                        lambda name, *a: None if name == "tensorboard" else object())
    code = main(["validate", str(FLAGSHIP), "--set", "learner.tensorboard_folder=logs"])
    err = capsys.readouterr().err
    assert code == 1
    assert "tensorboard_folder" in err and "pip install tensorboard" in err
