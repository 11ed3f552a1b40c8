"""Network Reader's network output: a saved model continued into layer nodes, cut and frozen.

A tiny CNN is trained on bundled MNIST images through the plain Keras API and saved as ``.keras``
and ``.h5``; the reader cuts its classifier head off, layer nodes add a new head, and the Network
Learner fine-tunes it. Configure's shapes and parameter counts (read from the file without
TensorFlow) are compared with Keras's own for every cut of several models, including real
Keras 2 files (``tests/data``, made by ``tools/make_keras2_models.py``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_learning_nodes import learner_context, node_of, read_mnist, run, write

from neuroflow.core import fileformat
from neuroflow.core.data import ImageDataset, TrainedModel
from neuroflow.core.errors import ConfigureError, NeuroFlowError
from neuroflow.core.events import NodeState
from neuroflow.core.memory import InMemorySource
from neuroflow.core.network import NetworkSpec, build_keras_model
from neuroflow.core.ports import ModelSpec, Unavailable
from neuroflow.core.workflow import Workflow
from neuroflow.reporting import print_network_summaries

READER = "neuroflow.learning.reader"
DATA = Path(__file__).resolve().parent / "data"
KERAS2 = [DATA / "keras2_cnn.h5", DATA / "keras2_sequential.h5"]
#: The base model's layers after its input, in order.
BASE_LAYERS = ["conv1", "bn1", "pool1", "conv2", "pool2", "flat", "fc", "head"]
SIZES = ("small", "large")  # the fine-tuning task: digits 0-4 against 5-9


# -- models saved through plain Keras -------------------------------------------------------------
@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small CNN with BatchNormalization trained on 1,000 MNIST digits, saved both ways."""
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((28, 28, 1), name="image")
    x = keras.layers.Conv2D(8, 3, activation="relu", name="conv1")(inputs)
    x = keras.layers.BatchNormalization(momentum=0.9, name="bn1")(x)
    x = keras.layers.MaxPooling2D(name="pool1")(x)
    x = keras.layers.Conv2D(8, 3, activation="relu", name="conv2")(x)
    x = keras.layers.MaxPooling2D(name="pool2")(x)
    x = keras.layers.Flatten(name="flat")(x)
    x = keras.layers.Dense(32, activation="relu", name="fc")(x)
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax", name="head")(x))
    data = read_mnist("train", 1000)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(data.images, data.labels, epochs=5, batch_size=32, verbose=0)  # ~89 % on test digits
    folder = tmp_path_factory.mktemp("base")
    model.save(folder / "base.keras")
    model.save(folder / "base.h5")
    return folder


def residual_model(folder: Path, suffix: str) -> Path:
    """Input -> conv_a -> conv_b -> add(conv_a, conv_b) -> flat -> out: branches inside."""
    import keras

    inputs = keras.Input((8, 8, 1))
    a = keras.layers.Conv2D(4, 3, padding="same", name="conv_a")(inputs)
    b = keras.layers.Conv2D(4, 3, padding="same", name="conv_b")(a)
    x = keras.layers.Flatten(name="flat")(keras.layers.Add(name="add")([a, b]))
    path = folder / f"residual{suffix}"
    keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="out")(x)).save(path)
    return path


def sequential_model(folder: Path, suffix: str) -> Path:
    import keras

    model = keras.Sequential(
        [keras.Input((10, 10, 2)), keras.layers.Conv2D(3, 3, strides=2, name="conv"),
         keras.layers.AveragePooling2D(2, name="pool"), keras.layers.Flatten(name="flat"),
         keras.layers.Dense(4, name="fc"), keras.layers.Dropout(0.2, name="drop"),
         keras.layers.Dense(2, activation="softmax", name="out")]
    )
    path = folder / f"sequential{suffix}"
    model.save(path)
    return path


def reader(path: Path, **settings: Any) -> Any:
    node = node_of(READER, path=str(path), **settings)
    node.node_id = "reader"
    return node


def network_of(path: Path, **settings: Any) -> NetworkSpec:
    network = reader(path, **settings).configure({})["network"]
    assert isinstance(network, NetworkSpec), network
    return network


def refusal(path: Path, **settings: Any) -> str:
    with pytest.raises(NeuroFlowError) as caught:
        reader(path, **settings).configure({})
    message = str(caught.value)
    assert "\n" not in message
    return message


# -- configure: shapes and parameters equal Keras's -------------------------------------------------
def check_every_cut(path: Path) -> int:
    """For each number of removed layers, configure (no TensorFlow) agrees with Keras."""
    import keras

    model = keras.saving.load_model(path, compile=False, safe_mode=True)
    body = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    checked = 0
    for remove in range(len(body)):
        end = body[-1 - remove]
        try:
            network = network_of(path, remove_last=remove)
        except ConfigureError as error:
            assert "branches there" in str(error), error
            continue
        keras_part = keras.Model(model.inputs, end.output)
        reused = network.by_id["reader"]
        assert network.inputs[0].output_shape == tuple(model.input_shape[1:])
        assert dict(reused.config)["output_layer"] == end.name
        assert reused.output_shape == tuple(keras_part.output.shape[1:]), (path.name, remove)
        assert reused.params == keras_part.count_params(), (path.name, remove)
        built = build_keras_model(network)  # one Keras layer per description entry
        assert [layer.name for layer in built.layers] == ["inputlayer_reader.input", "functional_reader"]
        assert built.count_params() == network.total_params
        assert tuple(built.output.shape[1:]) == network.shape
        checked += 1
    return checked


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_configure_gives_keras_shapes_and_params_at_every_cut(suffix: str, base: Path, tmp_path: Path) -> None:
    assert check_every_cut(base / f"base{suffix}") == len(BASE_LAYERS)
    assert check_every_cut(sequential_model(tmp_path, suffix)) == 6
    # conv_a -> conv_b -> add(conv_a, conv_b): no cut between conv_a and add
    assert check_every_cut(residual_model(tmp_path, suffix)) == 4


@pytest.mark.filterwarnings("ignore:Do not pass an `input_shape`")  # Keras 3 on Keras 2's Sequential
@pytest.mark.parametrize("path", KERAS2, ids=lambda p: p.name)
def test_keras2_files_get_shapes_computed_from_their_layer_types(path: Path) -> None:
    # Keras 2 records no shapes in its config: every one here is computed
    counts = {"keras2_cnn.h5": 7, "keras2_sequential.h5": 3}
    assert check_every_cut(path) == counts[path.name]


def test_configure_reads_the_cut_without_tensorflow(base: Path) -> None:
    script = textwrap.dedent(
        f"""
        import json, sys
        from neuroflow.core.registry import default_registry
        reader = default_registry().get("neuroflow.learning.reader")
        found = []
        for path in {[str(base / "base.keras"), str(base / "base.h5"), str(KERAS2[0])]!r}:
            network = reader({{"path": path, "remove_last": 1}}).configure({{}})["network"]
            found.append([list(network.shape), network.total_params])
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
        assert not heavy, heavy
        print(json.dumps(found))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # 26x26x8 conv + BN (4 x 8) + 5x5x8 conv (after pooling) + Dense 200 -> 32
    cnn = (3 * 3 * 1 * 8 + 8) + 4 * 8 + (3 * 3 * 8 * 8 + 8) + (5 * 5 * 8 * 32 + 32)
    assert json.loads(done.stdout) == [[[32], cnn], [[32], cnn], [[8], 334]]


# -- refusals -------------------------------------------------------------------------------------
def test_refusals_are_one_line_and_name_the_problem(base: Path, tmp_path: Path) -> None:
    path = base / "base.keras"
    assert refusal(path, remove_last=8) == (
        f"cannot remove the last 8 layers of '{path}': it has 8 layers after its input, so at most "
        "7 can go (setting 'remove_last')"
    )
    kept = "conv1, bn1, pool1, conv2, pool2, flat, ... (7 layers)"
    assert refusal(path, remove_last=1, freeze="pattern", freeze_pattern="dense*") == (
        f"freeze pattern 'dense*' matches no layer kept from '{path}'; its layers are {kept} "
        "(setting 'freeze_pattern')"
    )
    # the head is cut off, so a pattern naming only it matches nothing kept
    assert "freeze pattern 'head' matches no layer" in refusal(
        path, remove_last=1, freeze="pattern", freeze_pattern="head"
    )
    assert refusal(path, freeze="pattern") == (
        "no freeze pattern set: type layer names or patterns such as conv* (setting 'freeze_pattern')"
    )
    assert refusal(path, remove_last=1, freeze="first", freeze_count=8) == (
        f"cannot freeze the first 8 layers: the read part keeps 7 ({kept}) (setting 'freeze_count')"
    )
    residual = residual_model(tmp_path, ".keras")
    assert refusal(residual, remove_last=3) == (
        f"cannot cut '{residual}' after layer 'conv_b' (Conv2D): the network branches there - layer "
        "'add' after the cut also reads 'conv_a'; remove fewer or more layers (setting 'remove_last')"
    )
    # in a workflow, the reader itself is refused with that line
    workflow = Workflow()
    workflow.add_node(READER, node_id="reader", settings={"path": str(residual), "remove_last": 3})
    assert workflow.first_problem() == f"'Network Reader' (reader): {refusal(residual, remove_last=3)}"


def test_a_model_that_cannot_be_continued_still_serves_predictions(tmp_path: Path) -> None:
    import keras

    # a Keras 3 Sequential .h5 records no shapes, and NeuroFlow does not compute Permute's
    model = keras.Sequential(
        [keras.Input((4, 4, 1)), keras.layers.Permute((2, 1, 3), name="permute"),
         keras.layers.Flatten(name="flat"), keras.layers.Dense(3, activation="softmax", name="out")]
    )
    path = tmp_path / "permuted.h5"
    model.save(path)
    workflow = Workflow()
    workflow.add_node(READER, node_id="reader", settings={"path": str(path)})
    workflow.add_node("neuroflow.layers.dense", node_id="dense", settings={"units": 3})
    workflow.connect("reader", "network", "dense", "network")
    problems = workflow.configure()
    assert list(problems) == ["dense"]
    assert problems["dense"] == (
        f"input 'network' from 'Network Reader' (reader): cannot continue '{path}' into layers: "
        f"cannot tell the output shape of layer 'permute' (Permute) in '{path}': the file does not "
        "record it and NeuroFlow computes it only for common layer types (Dense, Conv2D, pooling, "
        "Flatten, merging, normalisation, dropout, ...); cut the model before it"
    )
    assert workflow.nodes["reader"].specs["model"] == ModelSpec((4, 4, 1), (3,), ("0", "1", "2"))
    assert isinstance(workflow.nodes["reader"].specs["network"], Unavailable)
    loaded = reader(path).execute({}, learner_context())
    assert isinstance(loaded["model"], TrainedModel) and isinstance(loaded["network"], Unavailable)
    # once a network setting is in use, the problem is the reader's own
    assert "cannot tell the output shape of layer 'permute'" in refusal(path, freeze="all")


def test_a_headless_model_continues_though_it_predicts_no_classes(tmp_path: Path) -> None:
    import keras

    path = tmp_path / "features.keras"
    keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3, name="conv"),
                      keras.layers.Flatten(name="flat")]).save(path)
    workflow = Workflow()
    workflow.add_node(READER, node_id="reader", settings={"path": str(path)})
    workflow.add_node("neuroflow.learning.executor", node_id="apply")
    workflow.connect("reader", "model", "apply", "model")
    problem = workflow.configure()["apply"]
    assert problem.startswith(
        f"input 'trained model' from 'Network Reader' (reader): cannot use '{path}' as a trained model: "
        f"cannot tell how many classes '{path}' predicts"
    )
    network = workflow.nodes["reader"].specs["network"]
    assert isinstance(network, NetworkSpec) and network.shape == (32,) and network.total_params == 20
    assert workflow.nodes["reader"].state is NodeState.CONFIGURED


# -- fine-tuning ----------------------------------------------------------------------------------
def by_size(data: ImageDataset) -> ImageDataset:
    return ImageDataset(data.images, (data.labels >= 5).astype(np.int64), SIZES, (0.0, 1.0))


def fine_tuning(path: Path, reader_settings: dict[str, Any], layers: list[tuple[str, dict[str, Any]]],
                train: ImageDataset, test: ImageDataset, **learner: Any) -> Workflow:
    """reader -> layers -> learner(train) -> executor(test) -> scorer."""
    workflow = Workflow()
    workflow.add_node(READER, node_id="reader", settings={"path": str(path), **reader_settings})
    previous = "reader"
    for index, (type_id, settings) in enumerate(layers):
        workflow.add_node(type_id, node_id=f"new{index}", settings=settings)
        workflow.connect(previous, "network", f"new{index}", "network")
        previous = f"new{index}"
    workflow.add_node(InMemorySource(train), node_id="train")
    workflow.add_node(InMemorySource(test), node_id="test")
    workflow.add_node("neuroflow.learning.learner", node_id="learn", settings=learner)
    workflow.add_node("neuroflow.learning.executor", node_id="apply")
    workflow.add_node("neuroflow.learning.scorer", node_id="score")
    workflow.connect(previous, "network", "learn", "network")
    workflow.connect("train", "data", "learn", "training")
    workflow.connect("learn", "model", "apply", "model")
    workflow.connect("test", "data", "apply", "images")
    workflow.connect("apply", "predictions", "score", "predictions")
    return workflow


def stored_weights(path: Path) -> dict[str, list[np.ndarray]]:
    import keras

    model = keras.saving.load_model(path, compile=False, safe_mode=True)
    return {layer.name: layer.get_weights() for layer in model.layers if layer.weights}


def same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_new_head_fine_tunes_with_the_read_part_frozen(suffix: str, base: Path, tmp_path: Path) -> None:
    import keras

    path = base / f"base{suffix}"
    head = [("neuroflow.layers.dense", {"units": 32, "activation": "relu"}),
            ("neuroflow.layers.dense", {"units": 2, "activation": "softmax"})]
    learner = {"epochs": 4, "batch_size": 32, "seed": 5, "learning_rate": 0.01}
    workflow = fine_tuning(
        path, {"remove_last": 1, "freeze": "all"}, head,
        by_size(read_mnist("train", 600, skip=1000)), by_size(read_mnist("t10k", 300)), **learner,
    )
    assert workflow.first_problem() is None
    network = workflow.nodes["new1"].specs["network"]
    assert [(layer.id, layer.output_shape) for layer in network.layers] == [
        ("reader.input", (28, 28, 1)), ("reader", (32,)), ("new0", (32,)), ("new1", (2,))
    ]
    assert dict(network.by_id["reader"].config)["frozen"] == tuple(BASE_LAYERS[:-1])
    keras.utils.set_random_seed(5)  # what the learner does before it builds: the same initial head
    initial = build_keras_model(network)
    initial_head = {name: initial.get_layer(name).get_weights() for name in ("dense_new0", "dense_new1")}

    result, _ = run(workflow)
    assert result.ok, result
    trained: TrainedModel = workflow.nodes["learn"].outputs["model"]  # type: ignore[index]
    model = trained.model
    assert model.count_params() == network.total_params
    assert sorted(w.path for w in model.trainable_weights) == [
        "dense_new0/bias", "dense_new0/kernel", "dense_new1/bias", "dense_new1/kernel"
    ]
    stored = stored_weights(path)
    inner = model.get_layer("functional_reader")
    for layer in inner.layers:
        if layer.weights:  # bit-identical, BatchNormalization's moving averages included
            assert same(layer.get_weights(), stored[layer.name]), layer.name
    for name, weights in initial_head.items():
        now = model.get_layer(name).get_weights()
        assert not any(np.array_equal(a, b) for a, b in zip(now, weights, strict=True)), name
    # features of a frozen digit classifier make small against large easy: typically 0.93
    assert workflow.nodes["score"].outputs["scores"].accuracy > 0.85  # type: ignore[index]

    # the trained combined model saves with the Network Writer and loads back in safe mode
    saved = tmp_path / f"fine_tuned{suffix}"
    write(trained, saved)
    loaded = reader(saved).execute({}, learner_context())
    assert loaded["model"].class_names == SIZES
    images = read_mnist("t10k", 50).images
    np.testing.assert_allclose(loaded["model"].model.predict(images, verbose=0),
                               model.predict(images, verbose=0), rtol=0, atol=1e-6)
    # ...and can itself be read as a network again: configure matches the saved model
    again = loaded["network"]
    assert isinstance(again, NetworkSpec) and again.shape == (2,)
    assert again.total_params == model.count_params()


@pytest.mark.parametrize(
    ("settings", "frozen"),
    [
        ({"freeze": "first", "freeze_count": 2}, ("conv1", "bn1")),
        ({"freeze": "pattern", "freeze_pattern": "conv*, fc"}, ("conv1", "conv2", "fc")),
    ],
    ids=["first-2", "pattern"],
)
def test_count_and_pattern_freeze_exactly_those_layers(
    settings: dict[str, Any], frozen: tuple[str, ...], base: Path
) -> None:
    path = base / "base.keras"
    data = read_mnist("train", 200, skip=2000)
    workflow = fine_tuning(path, settings, [], data, read_mnist("t10k", 50), epochs=1, batch_size=20)
    assert workflow.first_problem() is None
    assert dict(workflow.nodes["reader"].specs["network"].by_id["reader"].config)["frozen"] == frozen
    result, _ = run(workflow)
    assert result.ok, result
    inner = workflow.nodes["learn"].outputs["model"].model.get_layer("functional_reader")  # type: ignore[index]
    stored = stored_weights(path)
    for name, weights in stored.items():
        now = inner.get_layer(name).get_weights()
        if name in frozen:
            assert same(now, weights), name
        else:  # trained, and a trainable BatchNormalization updates its moving averages too
            assert all(not np.array_equal(a, b) for a, b in zip(now, weights, strict=True)), name


# -- settings versions and summaries --------------------------------------------------------------
def test_version_1_files_load_with_the_whole_model_and_nothing_frozen(base: Path, tmp_path: Path) -> None:
    data = {
        "format": "neuroflow.workflow", "format_version": 1,
        "nodes": [{"id": "reader", "type": READER, "version": 1, "label": "Network Reader",
                   "settings": {"path": str(base / "base.keras")}}],
        "connections": [], "layout": {},
    }
    file = tmp_path / "old.workflow"
    file.write_text(json.dumps(data))
    workflow = fileformat.load(file)
    assert workflow.nodes["reader"].node.settings == {
        "path": str(base / "base.keras"), "remove_last": 0, "freeze": "none", "freeze_count": 1,
        "freeze_pattern": "",
    }
    assert workflow.first_problem() is None
    saved = fileformat.to_dict(workflow)["nodes"][0]
    assert saved["version"] == 2
    workflow.set_setting("reader", "freeze", "pattern")
    workflow.set_setting("reader", "freeze_pattern", "conv*")
    fileformat.save(workflow, file)
    before = file.read_bytes()
    fileformat.save(fileformat.load(file), file)
    assert file.read_bytes() == before


def test_summaries_show_the_read_part_as_one_layer(base: Path) -> None:
    import io

    head = ("neuroflow.layers.dense", {"units": 2, "activation": "softmax"})
    workflow = fine_tuning(base / "base.h5", {"remove_last": 1}, [head], by_size(read_mnist("train", 10)),
                           by_size(read_mnist("t10k", 10)))
    out = io.StringIO()
    print_network_summaries(workflow, out)
    text = out.getvalue()
    assert "Network ending at Dense (new0)" in text
    rows = [line.split() for line in text.splitlines()]
    assert ["Input", "(reader.input)", "InputLayer", "(None,", "28,", "28,", "1)", "0"] in rows
    assert ["Network", "Reader", "(reader)", "Functional", "(None,", "32)", f"{7_128:,}"] in rows
    assert "Network ending at Network Reader" not in text
    assert "Network Reader (reader)            model 28x28x1 -> 10 classes; network, shape (32)" in text
    # a reader that only serves predictions is listed with the other nodes, not as a network
    alone = Workflow()
    alone.add_node(READER, node_id="reader", settings={"path": str(base / "base.h5")})
    out = io.StringIO()
    print_network_summaries(alone, out)
    assert "Network ending" not in out.getvalue() and "model 28x28x1 -> 10 classes" in out.getvalue()


def test_python_code_is_refused_while_editing(tmp_path: Path) -> None:
    import keras

    path = tmp_path / "lambda.keras"
    keras.Sequential([keras.Input((4,)), keras.layers.Lambda(lambda t: t * 2, name="double"),
                      keras.layers.Dense(2, activation="softmax", name="out")]).save(path)
    assert refusal(path, remove_last=1) == (
        f"'{path}' contains Python code (Lambda layer 'double'), which would run when the model is "
        "loaded; NeuroFlow refuses such model files"
    )
