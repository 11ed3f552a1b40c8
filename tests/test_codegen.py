"""``neuroflow export FILE --python OUT.py``: standalone Keras scripts, run as a user runs them.

The scripts are written by the command and executed by a fresh Python, as a user would; the
parameter counts they build are compared with what ``neuroflow validate`` prints, and the
flagship's test accuracy on a sample with what ``neuroflow run`` reports.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from neuroflow.core import fileformat

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((REPO / "workflows").glob("*.workflow"))
FLAGSHIP = REPO / "workflows" / "mnist_cnn.workflow"
#: Modules an exported script may import: the standard library's, numpy and Keras/TensorFlow.
ALLOWED_ROOTS = {"numpy", "keras", "tensorflow"} | set(sys.stdlib_module_names)


def neuroflow(cwd: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "neuroflow", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def export(tmp_path: Path, workflow: Path, out: Path, *overrides: str) -> None:
    sets = [part for text in overrides for part in ("--set", text)]
    done = neuroflow(tmp_path, "export", workflow, "--python", out, *sets)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def validated_params(tmp_path: Path, workflow: Path, *overrides: str) -> int:
    sets = [part for text in overrides for part in ("--set", text)]
    done = neuroflow(tmp_path, "validate", workflow, *sets)
    assert done.returncode == 0, done.stdout + done.stderr
    return int(re.search(r"Total params: ([\d,]+)", done.stdout).group(1).replace(",", ""))  # type: ignore[union-attr]


def built_params(scripts: list[Path]) -> list[int]:
    """Each script's ``--build-only`` parameter count, in one Python (one TensorFlow start)."""
    code = (
        "import contextlib, io, runpy, sys\n"
        "for path in sys.argv[1:]:\n"
        "    out = io.StringIO()\n"
        "    with contextlib.redirect_stdout(out):\n"
        "        runpy.run_path(path, run_name='exported').get('main')(['--build-only'])\n"
        "    print([l for l in out.getvalue().splitlines() if l.startswith('parameters: ')][-1])\n"
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", code, *map(str, scripts)], capture_output=True, text=True,
                          timeout=900, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return [int(line.split()[1]) for line in done.stdout.splitlines() if line.startswith("parameters: ")]


def imported_roots(script: Path) -> set[str]:
    tree = ast.parse(script.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small class folder for the transfer-learning workflow (its own folder is not shipped)."""
    from neuroflow.datasets.image_folder_export import export_image_folder

    folder = tmp_path_factory.mktemp("photos") / "clothes"
    export_image_folder(folder, dataset="digits", size=32, color="rgb", per_class=3)
    return folder


def test_every_shipped_workflow_exports_and_builds_the_parameters_validate_reports(
    tmp_path: Path, photos: Path
) -> None:
    scripts, expected = [], []
    for workflow in WORKFLOWS:
        overrides = []
        if workflow.stem == "transfer_learning":  # random weights: nothing to download in a test
            overrides = [f"reader.folder={photos}", "pretrained.weights=none", "pretrained.trainable=all"]
        script = tmp_path / f"{workflow.stem}.py"
        export(tmp_path, workflow, script, *overrides)
        text = script.read_text(encoding="utf-8")
        compile(text, str(script), "exec")
        assert imported_roots(script) <= ALLOWED_ROOTS, imported_roots(script) - ALLOWED_ROOTS
        assert "import neuroflow" not in text and "from neuroflow" not in text
        assert f"Workflow: {workflow}" in text and "def main(" in text and "--epochs" in text and "--limit" in text
        scripts.append(script)
        expected.append(validated_params(tmp_path, workflow, *overrides))
    assert built_params(scripts) == expected


def test_the_layers_appear_in_data_flow_order_with_keras_names_and_labels(tmp_path: Path) -> None:
    script = tmp_path / "flagship.py"
    export(tmp_path, FLAGSHIP, script)
    text = script.read_text(encoding="utf-8")
    data = json.loads(FLAGSHIP.read_text(encoding="utf-8"))
    labels = {node["id"]: node["label"] for node in data["nodes"]}
    order = [text.index(f"name='{name}'") for name in
             ("inputlayer_input", "conv2d_conv", "maxpooling2d_pool", "flatten_flatten", "dense_dense", "dense_output")]
    assert order == sorted(order)
    assert f"# {labels['conv']}: (26, 26, 32), 320 parameters" in text
    # the learner's settings, not defaults
    assert "validation_split(training.labels, 0.1, seed=42)" in text
    assert "keras.optimizers.Adam(learning_rate=0.001)" in text and "epochs = args.epochs or 3" in text


def test_flagship_script_reaches_neuroflows_test_accuracy_on_a_sample(tmp_path: Path) -> None:
    sample = ["MNIST train.limit=3000", "MNIST test.limit=1000", "learner.epochs=2",
              f"writer.path={tmp_path / 'neuroflow.keras'}"]
    sets = [part for text in sample for part in ("--set", text)]
    done = neuroflow(tmp_path, "run", FLAGSHIP, *sets, "--quiet", "--no-history", "--report", tmp_path / "r.json")
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    theirs = report["scores"]["scorer"]["accuracy"]

    script = tmp_path / "flagship.py"
    export(tmp_path, FLAGSHIP, script, *sample[:3], f"writer.path={tmp_path / 'script.keras'}")
    ran = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert ran.returncode == 0, ran.stderr[-3000:]
    ours = float(re.search(r"^test accuracy: (0\.\d{4})$", ran.stdout, re.M).group(1))  # type: ignore[union-attr]
    assert abs(ours - theirs) <= 0.005, (ours, theirs)  # in practice equal: same seed, same draws
    assert (tmp_path / "script.keras").is_file()


def branched_flagship(tmp_path: Path) -> Path:
    """The flagship with two more convolutions: conv + conv_c added, then concatenated with conv_b."""
    workflow = fileformat.load(FLAGSHIP)
    conv = workflow.nodes["conv"].node.settings_json()
    for nid in ("conv_b", "conv_c"):
        workflow.add_node("neuroflow.layers.conv2d", settings=conv, label=f"Conv2D {nid}", node_id=nid)
        workflow.connect("input", "network", nid, "network")
    workflow.add_node("neuroflow.layers.add", label="Add skip", node_id="skip")
    workflow.add_node("neuroflow.layers.concatenate", label="Concatenate branches", node_id="join")
    old = next(c for c in workflow.connections if c.source == "conv" and c.target == "pool")
    workflow.disconnect(old)
    workflow.connect("conv", "network", "skip", "network_1")
    workflow.connect("conv_c", "network", "skip", "network_2")
    workflow.connect("skip", "network", "join", "network_1")
    workflow.connect("conv_b", "network", "join", "network_2")
    workflow.connect("join", "network", "pool", "network")
    path = tmp_path / "branched.workflow"
    fileformat.save(workflow, path)
    return path


def test_branches_and_blocks_export_and_build(tmp_path: Path) -> None:
    branched = branched_flagship(tmp_path)
    blocks = REPO / "workflows" / "best_mnist_cnn.workflow"
    scripts = [tmp_path / "branched.py", tmp_path / "blocks.py"]
    export(tmp_path, branched, scripts[0])
    export(tmp_path, blocks, scripts[1])
    text = scripts[0].read_text(encoding="utf-8")
    assert re.search(r"skip = layers\.Add\(name='add_skip'\)\(\[conv, conv_c\]\)", text), text
    assert re.search(r"join = layers\.Concatenate\(.*name='concatenate_join'.*\)\(\[skip, conv_b\]\)", text, re.S)
    assert "# block Stage 1: 2x Conv 32" in scripts[1].read_text(encoding="utf-8")
    assert built_params(scripts) == [validated_params(tmp_path, branched), validated_params(tmp_path, blocks)]


PLUGIN = """
from neuroflow.core.node import Node
from neuroflow.core.ports import Port, PortType


class InvertNode(Node):
    type_id = "acme.data.invert"
    name = "Invert"
    category = "Data"
    description = "Inverts pixel values (a third-party node without a Python emitter)."
    inputs = (Port("data", PortType.IMAGES, "images"),)
    outputs = (Port("data", PortType.IMAGES, "images"),)

    def configure(self, specs):
        return {"data": specs["data"]}
"""


def test_an_unsupported_node_is_named_in_one_line(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "acme_invert.py").write_text(PLUGIN, encoding="utf-8")
    data = json.loads(FLAGSHIP.read_text(encoding="utf-8"))
    data["nodes"].append({"id": "invert", "label": "Invert colours", "settings": {}, "type": "acme.data.invert",
                          "version": 1})
    data["connections"] = [c for c in data["connections"] if c["from"] != "train_reader.data"]
    data["connections"] += [{"from": "train_reader.data", "to": "invert.data"},
                            {"from": "invert.data", "to": "train_norm.data"}]
    path = tmp_path / "with_plugin.workflow"
    path.write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "never.py"
    env = {**os.environ, "NEUROFLOW_NODES_DIR": str(plugins)}
    validated = subprocess.run([sys.executable, "-m", "neuroflow", "validate", str(path)], cwd=tmp_path, env=env,
                               capture_output=True, text=True, timeout=300)
    assert validated.returncode == 0, validated.stderr  # a valid workflow, only not exportable
    done = subprocess.run([sys.executable, "-m", "neuroflow", "export", str(path), "--python", str(out)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert done.stderr == ("neuroflow: error: cannot export 'Invert colours' (Invert): node type acme.data.invert "
                           "has no Python emitter\n")
    assert not out.exists()


@pytest.fixture(scope="module")
def digit_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 grayscale digit JPEGs of 32x32 in class folders, with labels.csv listing them."""
    from neuroflow.datasets.image_folder_export import export_image_folder

    folder = tmp_path_factory.mktemp("digits") / "digits"
    export_image_folder(folder, dataset="digits", size=32, color="grayscale", per_class=30, write_csv=True)
    return folder


@pytest.mark.parametrize("kind", ["image_folder_reader", "image_list_reader"])
def test_file_readers_give_the_script_neuroflows_accuracy(tmp_path: Path, digit_files: Path, kind: str) -> None:
    """The flagship on photos read from files (resized 32 -> 28, cached in memory for the folder)."""
    workflow = fileformat.load(FLAGSHIP)
    for reader, norm in (("train_reader", "train_norm"), ("test_reader", "test_norm")):
        workflow.remove_node(reader)
        settings: dict[str, object] = {"size": [28, 28], "color_mode": "grayscale", "resize_mode": "crop"}
        if kind == "image_folder_reader":
            settings.update(folder=str(digit_files), cache="memory" if reader == "train_reader" else "none")
        else:
            settings.update(csv_file=str(digit_files / "labels.csv"), split_column="split", split_value="train")
        workflow.add_node(f"neuroflow.data.{kind}", settings=settings, label=reader, node_id=reader)
        workflow.connect(reader, "data", norm, "data")
    workflow.set_setting("learner", "epochs", 2)
    workflow.set_setting("learner", "batch_size", 32)
    workflow.set_setting("writer", "path", str(tmp_path / "model.keras"))
    path = tmp_path / f"{kind}.workflow"
    fileformat.save(workflow, path)

    done = neuroflow(tmp_path, "run", path, "--quiet", "--no-history", "--report", tmp_path / "r.json")
    assert done.returncode == 0, done.stderr
    theirs = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["scores"]["scorer"]["accuracy"]
    script = tmp_path / f"{kind}.py"
    export(tmp_path, path, script)
    ran = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert ran.returncode == 0, ran.stderr[-3000:]
    ours = float(re.search(r"^test accuracy: (0\.\d{4})$", ran.stdout, re.M).group(1))  # type: ignore[union-attr]
    assert abs(ours - theirs) <= 0.005, (ours, theirs)


@pytest.mark.parametrize("settings", [
    {"optimizer": "sgd", "momentum": 0.9, "learning_rate": 0.05, "lr_schedule": "step", "lr_every": 1,
     "lr_factor": 0.5, "class_weights": "balanced", "top_k": 3},
    {"lr_schedule": "cosine", "min_learning_rate": 0.0001, "early_stopping": True, "patience": 1,
     "restore_best": True, "monitor": "val_accuracy", "loss": "sparse_categorical_crossentropy"},
    {"lr_schedule": "plateau", "lr_patience": 0, "validation_split": 0.2, "shuffle": False},
], ids=["sgd-step-balanced-topk", "cosine-early-best-sparse", "plateau-unshuffled"])
def test_learner_settings_train_the_same_in_the_script(tmp_path: Path, settings: dict[str, object]) -> None:
    workflow = fileformat.load(FLAGSHIP)
    for name, value in {"epochs": 3, **settings}.items():
        workflow.set_setting("learner", name, value)
    workflow.set_setting("train_reader", "limit", 1000)
    workflow.set_setting("test_reader", "limit", 500)
    workflow.set_setting("writer", "path", str(tmp_path / "model.keras"))
    path = tmp_path / "settings.workflow"
    fileformat.save(workflow, path)
    done = neuroflow(tmp_path, "run", path, "--quiet", "--no-history", "--report", tmp_path / "r.json")
    assert done.returncode == 0, done.stderr
    theirs = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["scores"]["scorer"]["accuracy"]
    script = tmp_path / "settings.py"
    export(tmp_path, path, script)
    ran = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert ran.returncode == 0, ran.stderr[-3000:]
    ours = float(re.search(r"^test accuracy: (0\.\d{4})$", ran.stdout, re.M).group(1))  # type: ignore[union-attr]
    assert abs(ours - theirs) <= 0.005, (ours, theirs)


EXPORTABLE_PLUGIN = PLUGIN.replace('"acme.data.invert"', '"acme.data.invert2"').replace("class InvertNode", "class Invert2Node") + '''

    def python_emitter(export, item):
        source = export.source(item.id, "data")
        export.line(f"{export.var(item.id, 'data')} = replace({source}, pixels=255 - {source}.pixels)")
'''


def test_a_plugin_node_declaring_its_emitter_exports(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "acme_invert2.py").write_text(EXPORTABLE_PLUGIN, encoding="utf-8")
    data = json.loads(FLAGSHIP.read_text(encoding="utf-8"))
    data["nodes"].append({"id": "invert", "label": "Invert colours", "settings": {}, "type": "acme.data.invert2",
                          "version": 1})
    data["connections"] = [c for c in data["connections"] if c["from"] != "train_reader.data"]
    data["connections"] += [{"from": "train_reader.data", "to": "invert.data"},
                            {"from": "invert.data", "to": "train_norm.data"}]
    path = tmp_path / "with_plugin.workflow"
    path.write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "inverted.py"
    done = subprocess.run([sys.executable, "-m", "neuroflow", "export", str(path), "--python", str(out)],
                          cwd=tmp_path, env={**os.environ, "NEUROFLOW_NODES_DIR": str(plugins)},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    assert text.index("train_reader = read_mnist(") < text.index(
        "invert = replace(train_reader, pixels=255 - train_reader.pixels)") < text.index(
        "train_norm = invert.rescaled((0.0, 1.0))")
    compile(text, str(out), "exec")


def test_epochs_and_limit_make_a_quick_try(tmp_path: Path) -> None:
    script = tmp_path / "flagship.py"
    export(tmp_path, FLAGSHIP, script, f"writer.path={tmp_path / 'quick.keras'}")
    ran = subprocess.run([sys.executable, str(script), "--epochs", "1", "--limit", "400"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=600)
    assert ran.returncode == 0, ran.stderr[-3000:]
    # one epoch of 400 training images less the 10 % validation split: 360 images, 3 batches of 128
    assert len(re.findall(r"^3/3 - .* val_accuracy", ran.stdout, re.M)) == 1, ran.stdout
    assert re.search(r"^test accuracy: 0\.\d{4}$", ran.stdout, re.M)
    assert (tmp_path / "quick.keras").is_file()


def test_a_validation_split_with_nothing_to_hold_out_stops_the_script_as_it_stops_neuroflow(tmp_path: Path) -> None:
    script = tmp_path / "flagship.py"
    export(tmp_path, FLAGSHIP, script, f"writer.path={tmp_path / 'never.keras'}")
    ran = subprocess.run([sys.executable, str(script), "--limit", "8"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=600)
    assert ran.returncode == 1
    assert ran.stderr.strip().splitlines()[-1] == (
        "a validation split of 0.1 leaves 8 training and 0 validation images of 8; use more images or another split")
    assert not (tmp_path / "never.keras").exists()
