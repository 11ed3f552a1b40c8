"""The shipped transfer-learning workflow: reproducible, and it runs on a generated photo folder.

ImageNet weights cannot be downloaded here, so the runs use the two other weight sources a user
has: random weights trained from scratch, and a weights file (written by the test, as a user
would have one from an earlier training or a download made elsewhere) with the backbone frozen.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from neuroflow.cli import main
from neuroflow.core import fileformat
from neuroflow.datasets.image_folder_export import export_image_folder

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / "workflows" / "transfer_learning.workflow"
SIZE = "32,32"


def test_the_generator_reproduces_the_shipped_file() -> None:
    done = subprocess.run([sys.executable, str(REPO / "tools" / "make_transfer_workflow.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_save_load_save_is_byte_identical(tmp_path: Path) -> None:
    workflow = fileformat.load(WORKFLOW)
    fileformat.save(workflow, tmp_path / "again.workflow")
    assert (tmp_path / "again.workflow").read_text() == WORKFLOW.read_text()


def test_without_its_photo_folder_it_says_where_it_looked(capsys: pytest.CaptureFixture[str]) -> None:
    if (REPO / "workflows" / "data" / "clothes").exists():
        pytest.skip("the demo photos have been generated in this checkout")
    assert main(["validate", str(WORKFLOW)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.endswith("'Photos' (reader): image folder not found: " + str(REPO / "workflows" / "data" / "clothes"))


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("photos") / "digits"
    export_image_folder(folder, dataset="digits", size=40, color="rgb", per_class=12, seed=3)
    return folder


def run(photos: Path, tmp_path: Path, *settings: str) -> dict:
    report = tmp_path / "report.json"
    overrides = [
        f"reader.folder={photos}", f"reader.size={SIZE}", f"pretrained.input_size={SIZE}",
        "pretrained.architecture=MobileNetV3Small", "learner.epochs=2", "learner.batch_size=16",
        f"writer.path={tmp_path / 'model.keras'}", *settings,
    ]
    args = ["run", str(WORKFLOW), "--quiet", "--report", str(report)]
    for override in overrides:
        args += ["--set", override]
    assert main(args) == 0
    return json.loads(report.read_text())


@pytest.mark.slow
def test_it_trains_from_scratch_on_a_generated_folder(photos: Path, tmp_path: Path) -> None:
    report = run(photos, tmp_path, "pretrained.weights=none", "pretrained.trainable=all")
    assert report["ok"] and report["datasets"]["reader"]["data"]["images"] == 120
    assert report["datasets"]["reader"]["data"]["shape"] == [32, 32, 3]
    history = report["training"]["learner"]["history"]
    assert len(history["loss"]) == 2 and history["loss"][1] < history["loss"][0]
    assert report["scores"]["scorer"]["count"] == 24
    assert (tmp_path / "model.keras").is_file()


@pytest.mark.slow
def test_a_frozen_backbone_from_a_weights_file_learns_a_new_head(photos: Path, tmp_path: Path) -> None:
    import keras

    keras.utils.set_random_seed(1)
    backbone = keras.applications.MobileNetV3Small(include_top=False, weights=None, input_shape=(32, 32, 3))
    weights = tmp_path / "backbone.weights.h5"
    backbone.save_weights(str(weights))
    report = run(photos, tmp_path, "pretrained.weights=file", f"pretrained.weights_path={weights}",
                 "pretrained.trainable=frozen", "learner.learning_rate=0.01")
    history = report["training"]["learner"]["history"]
    assert report["ok"] and history["loss"][1] < history["loss"][0]
    loaded = keras.saving.load_model(str(tmp_path / "model.keras"), safe_mode=True)
    inner = next(layer for layer in loaded.layers if isinstance(layer, keras.Model))
    application = next(layer for layer in inner.layers if isinstance(layer, keras.Model))
    for trained, original in zip(application.get_weights(), backbone.get_weights(), strict=True):
        assert (trained == original).all()  # frozen: the backbone is exactly the file's
