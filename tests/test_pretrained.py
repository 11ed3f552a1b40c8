"""Pretrained Network: Keras Applications backbones for transfer learning.

Configure's shapes and parameter counts (plain Python rules) equal the built Keras model's for
every architecture at two input sizes; the built-in preprocessing equals Keras's own
``preprocess_input`` for any pixel range; frozen / last N / all train exactly the weights they
say; backbones train end to end (random weights, weights from a file, ImageNet weights fetched
through a loopback mirror) and the trained model survives a safe-mode save and load. All models
are built offline: weights files are written by the tests.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import http.server
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_layers import Net
from test_learning_nodes import learner_context, node_of, run

from neuroflow.core.data import ImageDataset
from neuroflow.core.errors import DataError
from neuroflow.core.memory import InMemorySource
from neuroflow.core.network import NetworkSpec, build_keras_model
from neuroflow.core.workflow import Workflow
from neuroflow.training import backbones
from neuroflow.training.backbones import ARCHITECTURES, Architecture, preprocess_layer

REPO = Path(__file__).resolve().parents[1]
PRETRAINED = "neuroflow.layers.pretrained_network"
ARCHS = tuple(ARCHITECTURES)
RANGES = ((0.0, 255.0), (0.0, 1.0), (-1.0, 1.0))


# -- helpers ----------------------------------------------------------------------------------------
def backbone(net: Net, source: str | None = None, **settings: Any) -> str:
    """Add a Pretrained Network (after ``source`` when given) and return its id."""
    node_id = net.wf.add_node(PRETRAINED, settings=settings).id
    if source is not None:
        net.wf.connect(source, "network", node_id, "network")
    return node_id


def keras_reference_preprocess(arch: Architecture, images: np.ndarray, value_range: tuple[float, float]) -> np.ndarray:
    """Keras's own ``preprocess_input`` of ``arch`` on the same images as 0-255 RGB pixels
    (applications that preprocess inside, MobileNetV3 and EfficientNet, take those as they are)."""
    import importlib

    low, high = value_range
    raw = (images.astype(np.float64) - low) * (255.0 / (high - low))
    if raw.shape[-1] == 1:
        raw = np.repeat(raw, 3, axis=-1)
    module = importlib.import_module(f"keras.applications.{arch.module}")
    return np.asarray(module.preprocess_input(raw.astype(np.float32)))


def random_images(shape: tuple[int, ...], value_range: tuple[float, float], seed: int = 0) -> np.ndarray:
    low, high = value_range
    return np.random.default_rng(seed).uniform(low, high, size=shape).astype(np.float32)


def backbone_model(model: Any, spec: NetworkSpec, node_id: str) -> Any:
    return model.get_layer(spec.by_id[node_id].keras_name)


def trainable_count(weights: list[Any]) -> int:
    return sum(int(np.prod(w.shape)) for w in weights)


def check_against_keras(spec: NetworkSpec, model: Any) -> None:
    """As ``test_layers.assert_matches_keras``, on a model already built (builds are slow here)."""
    for layer in spec.layers:
        keras_layer = model.get_layer(layer.keras_name)
        where = f"{layer.class_name} {layer.id}"
        assert tuple(int(d) for d in keras_layer.output.shape[1:]) == layer.output_shape, where
        assert keras_layer.count_params() == layer.params, where
    assert model.count_params() == spec.total_params
    assert len(model.layers) == len(spec.layers)


# -- configure = Keras, and the preprocessing = Keras's --------------------------------------------
@pytest.mark.parametrize("name", ARCHS)
def test_shape_params_and_preprocessing_equal_keras_at_two_sizes(name: str) -> None:
    """96x96 RGB started by the node itself on raw pixels; 75x130 grayscale after an Input,
    normalised to [-1, 1] - odd and unequal sizes, where each architecture rounds differently."""
    import keras

    arch = ARCHITECTURES[name]
    net = Net()
    own = backbone(net, architecture=name, input_size=[96, 96], weights="none", trainable="all")
    gray = net.add("input", shape=[75, 130, 1])
    after_input = backbone(net, gray, architecture=name, weights="none", trainable="all")
    for node_id, shape, value_range in ((own, (96, 96, 3), (0.0, 255.0)), (after_input, (75, 130, 1), (-1.0, 1.0))):
        spec = net.spec(net.add("dense", net.add("flatten", node_id), units=2, activation="softmax"))
        assert spec.by_id[node_id].output_shape == arch.output_shape(shape[0], shape[1])
        model = build_keras_model(spec, value_range=value_range)
        check_against_keras(spec, model)
        wrapper = backbone_model(model, spec, node_id)
        application = wrapper.layers[-1]
        assert len(application.layers) == arch.layers
        assert application.count_params() == arch.params
        # 'all' trains every trainable weight Keras declares, never the preprocessing
        assert trainable_count(wrapper.trainable_weights) == trainable_count(application.trainable_weights) > 0
        assert not wrapper.get_layer("preprocess").trainable_weights
        # the preprocessing is Keras's own, for this value range (and grayscale repeated)
        images = random_images((4, *shape), value_range)
        probe = keras.Model(wrapper.inputs, wrapper.get_layer("preprocess").output)
        expected = keras_reference_preprocess(arch, images, value_range)
        np.testing.assert_allclose(np.asarray(probe(images)), expected, rtol=1e-5, atol=2e-3)


@pytest.mark.parametrize("value_range", RANGES, ids=lambda r: f"{r[0]:g}..{r[1]:g}")
@pytest.mark.parametrize("name", ARCHS)
def test_preprocess_layer_equals_keras_preprocess_input(name: str, value_range: tuple[float, float]) -> None:
    arch = ARCHITECTURES[name]
    images = random_images((3, 8, 9, 3), value_range, seed=1)
    images[0, 0, 0], images[0, 0, 1] = value_range  # the ends of the range map exactly
    ours = np.asarray(preprocess_layer(arch, value_range)(images))
    np.testing.assert_allclose(ours, keras_reference_preprocess(arch, images, value_range), rtol=1e-5, atol=2e-3)


@pytest.mark.slow  # builds ten networks
def test_imagenet_weight_files_are_the_ones_keras_fetches(monkeypatch: pytest.MonkeyPatch) -> None:
    """For each architecture, Keras's application asks for exactly the file, URL and checksum
    the rules name - so a file fetched by NeuroFlow is one Keras finds in its cache."""
    import keras
    from keras.src.utils import file_utils

    asked: list[tuple[str, str, str | None]] = []

    class Asked(Exception):
        pass

    def get_file(fname: str, origin: str, cache_subdir: str = "", file_hash: str | None = None, **_: Any) -> str:
        assert cache_subdir == "models"
        asked.append((fname, origin, file_hash))
        raise Asked

    monkeypatch.setattr(file_utils, "get_file", get_file)
    for name, height, width in [(name, 32, 32) for name in ARCHS] + [("MobileNetV2", 96, 96)]:
        arch = ARCHITECTURES[name]
        with pytest.raises(Asked), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Weights for input shape (224, 224) will be loaded"
            getattr(keras.applications, name)(include_top=False, weights="imagenet",
                                              input_shape=(height, width, 3), **dict(arch.options))
        assert asked[-1] == (arch.weights_name(height, width), arch.weights_url(height, width), arch.md5), name
    # MobileNetV2 has weights per square size; other sizes get the 224 ones
    assert asked[0][0].endswith("_224_no_top.h5") and asked[-1][0].endswith("_96_no_top.h5")


# -- configure: shapes without TensorFlow, and one-line refusals ------------------------------------
def test_unconnected_node_starts_the_network_with_its_own_input() -> None:
    net = Net()
    node_id = backbone(net, architecture="DenseNet121", input_size=[100, 130])
    spec = net.spec(node_id)
    assert [(layer.class_name, layer.output_shape) for layer in spec.layers] == [
        ("InputLayer", (100, 130, 3)), ("DenseNet121", (3, 4, 1024))]
    assert spec.inputs[0].id == f"{node_id}_input" and spec.total_params == 7_037_504
    config = dict(spec.by_id[node_id].config)
    assert config["weights"] == "imagenet" and config["trainable"] == "frozen"
    assert config["input_shape"] == (100, 130, 3)


def test_a_connected_input_sets_the_size_and_the_size_setting_is_ignored() -> None:
    net = Net()
    source = net.add("random_flip", net.add("input", shape=[64, 48, 3]))
    spec = net.spec(backbone(net, source, architecture="ResNet50", input_size=[300, 300]))
    assert spec.shape == (2, 2, 2048)
    assert spec.by_id[spec.output].params == 23_587_712 + 12  # + the frozen RGB->BGR 1x1 convolution


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"input_size": [28, 28]},
         "MobileNetV2 needs images of at least 32x32 pixels; setting 'input_size' is 28x28"),
        ({"weights": "none"},
         "weights 'none' are random and must all be trained, but what trains is 'frozen': set it "
         "to 'all', or use ImageNet weights"),
        ({"weights": "none", "trainable": "last"},
         "weights 'none' are random and must all be trained, but what trains is 'last': set it "
         "to 'all', or use ImageNet weights"),
        ({"weights": "file"}, "weights 'file' needs a weights file: set 'weights_path'"),
        ({"weights": "file", "weights_path": "backbone.npz"},
         "the weights file 'backbone.npz' is not a Keras weights file (.h5 or .weights.h5)"),
        ({"weights": "file", "weights_path": "nowhere/backbone.weights.h5"},
         "the weights file 'nowhere/backbone.weights.h5' does not exist"),
        ({"architecture": "ResNet50", "trainable": "last", "train_last": 175},
         "ResNet50 has 174 layers, so it cannot train its last 175 (setting 'train_last'); choose "
         "'all' to train everything"),
    ],
)
def test_nonsense_settings_are_refused_in_one_line(settings: dict[str, Any], message: str) -> None:
    net = Net()
    node_id = backbone(net, **settings)
    assert str(net.refusal(node_id)) == message


def test_a_weights_file_that_is_a_named_pipe_is_refused_at_once(tmp_path: Path) -> None:
    import os
    import signal

    pipe = tmp_path / "backbone.weights.h5"
    os.mkfifo(pipe)
    net = Net()
    node_id = backbone(net, weights="file", trainable="all", weights_path=str(pipe))
    message = f"'{pipe}' is a named pipe (FIFO), not a weights file; NeuroFlow reads only regular files"

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError("blocked on the named pipe")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(10)
    try:
        assert str(net.refusal(node_id)) == message
        with pytest.raises(DataError) as caught:  # the builder checks again before Keras opens it
            backbones.application(ARCHITECTURES["MobileNetV2"], 96, 96, "file", str(pipe))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ([("input", {"shape": [64, 64, 2]})],
         "Pretrained Network needs images of shape (height, width, 3) or (height, width, 1), got shape (64, 64, 2)"),
        ([("input", {"shape": [784]})],
         "Pretrained Network needs images of shape (height, width, 3) or (height, width, 1), got shape (784)"),
        ([("input", {"shape": [64, 64, 3]}), ("conv2d", {"filters": 3, "padding": "same"})],
         "Pretrained Network needs image pixels, but a layer before it (such as Conv2D or Dense) has turned "
         "them into features: connect it right after the Input or augmentation layers"),
        ([("input", {"shape": [31, 200, 1]})],
         "MobileNetV2 needs images of at least 32x32 pixels, got shape (31, 200, 1)"),
    ],
)
def test_inputs_that_are_not_images_of_a_usable_size_are_refused(
    layers: list[tuple[str, dict[str, Any]]], message: str
) -> None:
    net = Net()
    source = net.add(*layers[0][:1], **layers[0][1])
    source = net.chain(source, layers[1:])
    node_id = backbone(net, source)
    assert str(net.refusal(node_id)) == message


def test_configure_never_imports_tensorflow() -> None:
    script = textwrap.dedent(
        f"""
        import sys
        from neuroflow.core.workflow import Workflow
        wf = Workflow()
        for name in {list(ARCHS)!r}:
            node = wf.add_node("{PRETRAINED}", settings={{"architecture": name, "input_size": [75, 130]}})
            wf.add_node("neuroflow.layers.flatten", node_id="f" + node.id)
            wf.connect(node.id, "network", "f" + node.id, "network")
        assert wf.first_problem() is None, wf.first_problem()
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
        assert not heavy, heavy
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_node_is_listed() -> None:
    done = subprocess.run([sys.executable, "-m", "neuroflow", "nodes", "--brief"], cwd=REPO,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Pretrained Network" in done.stdout


# -- what trains --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def v3_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Random weights of a headless MobileNetV3Small for 32x32 images, saved the Keras 3 way."""
    import keras

    keras.utils.set_random_seed(7)
    model = keras.applications.MobileNetV3Small(include_top=False, weights=None, input_shape=(32, 32, 3))
    path = tmp_path_factory.mktemp("weights") / "mobilenet_v3_small.weights.h5"
    model.save_weights(str(path))
    return path


def built_head(trainable: str, weights_path: Path, **settings: Any) -> tuple[Any, Any, NetworkSpec]:
    """Pretrained Network (MobileNetV3Small, 32x32, weights from a file) -> Flatten -> Dense 2."""
    net = Net()
    node_id = backbone(net, architecture="MobileNetV3Small", input_size=[32, 32], weights="file",
                       weights_path=str(weights_path), trainable=trainable, **settings)
    spec = net.spec(net.add("dense", net.add("flatten", node_id), units=2, activation="softmax"))
    model = build_keras_model(spec)
    return model, backbone_model(model, spec, node_id), spec


def test_frozen_last_n_and_all_train_the_right_weights(v3_weights: Path) -> None:
    import keras

    head = (576 + 1) * 2
    reference = keras.applications.MobileNetV3Small(include_top=False, weights=None, input_shape=(32, 32, 3))
    model, _, _ = built_head("frozen", v3_weights)
    assert trainable_count(model.trainable_weights) == head

    model, _, _ = built_head("all", v3_weights)
    assert trainable_count(model.trainable_weights) == head + trainable_count(reference.trainable_weights)

    last = 30
    expected = sum(trainable_count(layer.trainable_weights) for layer in reference.layers[-last:]
                   if not isinstance(layer, keras.layers.BatchNormalization))
    model, wrapper, _ = built_head("last", v3_weights, train_last=last)
    assert trainable_count(model.trainable_weights) == head + expected
    application = wrapper.layers[-1]
    trains = [layer.name for layer in application.layers if layer.trainable_weights]
    assert trains and all(application.layers.index(application.get_layer(n)) >= len(application.layers) - last
                          for n in trains)
    assert not any(isinstance(application.get_layer(n), keras.layers.BatchNormalization) for n in trains)


@pytest.mark.filterwarnings("ignore::UserWarning")  # Keras lists each layer it could not load
def test_a_weights_file_of_another_network_is_refused_in_one_line(v3_weights: Path) -> None:
    net = Net()
    node_id = backbone(net, architecture="MobileNetV3Large", input_size=[32, 32], weights="file",
                       weights_path=str(v3_weights))
    with pytest.raises(DataError) as caught:
        build_keras_model(net.spec(node_id))
    message = str(caught.value)
    assert message.startswith(f"the weights file '{v3_weights}' does not fit a headless MobileNetV3Large: ")
    assert "\n" not in message


@pytest.fixture(scope="module")
def b0_imagenet_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Random EfficientNetB0 weights in the layout of Keras's no-top ImageNet file (legacy HDF5),
    whose Normalization holds the ImageNet statistics as that file does."""
    import h5py
    import keras
    from keras.src.legacy.saving import legacy_h5_format

    keras.utils.set_random_seed(5)
    source = keras.applications.EfficientNetB0(include_top=False, weights=None, input_shape=(32, 32, 3))
    norm = next(layer for layer in source.layers if isinstance(layer, keras.layers.Normalization))
    norm.set_weights([np.array(backbones.IMAGENET_MEAN), np.array(backbones.IMAGENET_STD), np.array(0)])
    path = tmp_path_factory.mktemp("b0") / "efficientnetb0_notop.h5"
    with h5py.File(path, "w") as handle:
        legacy_h5_format.save_weights_to_hdf5_group(handle, source)
    return path


def test_a_frozen_backbone_runs_as_at_inference_while_training(b0_imagenet_file: Path) -> None:
    """Frozen means inference mode inside ``fit`` too: frozen BatchNormalization keeps its moving
    statistics and a frozen EfficientNet's stochastic-depth Dropout drops nothing."""
    import keras

    images = random_images((4, 32, 32, 3), (0.0, 255.0))
    for trainable, same in (("frozen", True), ("all", False)):
        net = Net()
        node_id = backbone(net, architecture="EfficientNetB0", input_size=[32, 32], weights="file",
                           weights_path=str(b0_imagenet_file), trainable=trainable)
        model = build_keras_model(net.spec(node_id))
        training = np.asarray(model(images, training=True))
        inference = np.asarray(model(images, training=False))
        assert np.allclose(training, inference, atol=1e-5) is same, trainable
        dropouts = [layer for layer in model.layers[-1].layers[-1].layers if isinstance(layer, keras.layers.Dropout)]
        assert dropouts and all((layer.rate == 0) is same for layer in dropouts)


def test_efficientnet_weights_from_a_file_equal_keras_imagenet_model(
    b0_imagenet_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keras divides by the ImageNet standard deviation once more for weights="imagenet" only;
    the same no-top file loaded as weights 'file' - or a .weights.h5 saved from Keras's ImageNet
    model - must compute the same features."""
    import keras
    from keras.src.utils import file_utils

    monkeypatch.setattr(file_utils, "get_file", lambda *args, **kwargs: str(b0_imagenet_file))
    imagenet = keras.applications.EfficientNetB0(include_top=False, weights="imagenet", input_shape=(32, 32, 3))
    saved = tmp_path / "b0_imagenet.weights.h5"
    imagenet.save_weights(str(saved))
    images = random_images((3, 32, 32, 3), (0.0, 1.0))
    expected = np.asarray(imagenet(images * 255.0))
    for path in (b0_imagenet_file, saved):
        net = Net()
        node_id = backbone(net, architecture="EfficientNetB0", input_size=[32, 32], weights="file",
                           weights_path=str(path))
        ours = build_keras_model(net.spec(node_id), value_range=(0.0, 1.0))
        np.testing.assert_allclose(np.asarray(ours(images)), expected, rtol=1e-4, atol=1e-4, err_msg=path.name)


# -- training end to end ----------------------------------------------------------------------------
def colour_dataset(count: int, seed: int, size: int = 32) -> ImageDataset:
    """Reddish and bluish noise images, 0-255: two classes any backbone can tell apart."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % 2
    images = rng.uniform(0, 100, size=(count, size, size, 3))
    images[labels == 0, :, :, 0] += 155
    images[labels == 1, :, :, 2] += 155
    return ImageDataset(images.astype(np.float32), labels.astype(np.int64), ("red", "blue"), (0.0, 255.0), "colours")


def transfer_workflow(backbone_settings: dict[str, Any], learner: dict[str, Any], out: Path | None = None) -> Workflow:
    """Pretrained Network -> Flatten -> Dropout -> Dense softmax -> Learner -> Executor -> Scorer."""
    workflow = Workflow()
    workflow.add_node(PRETRAINED, node_id="backbone", settings=backbone_settings)
    workflow.add_node("neuroflow.layers.flatten", node_id="flat")
    workflow.add_node("neuroflow.layers.dropout", node_id="drop", settings={"rate": 0.2})
    workflow.add_node("neuroflow.layers.dense", node_id="classes", settings={"units": 2, "activation": "softmax"})
    workflow.add_node(InMemorySource(colour_dataset(40, seed=1)), node_id="train")
    workflow.add_node(InMemorySource(colour_dataset(40, seed=2)), node_id="test")
    workflow.add_node("neuroflow.learning.learner", node_id="learn", settings=learner)
    workflow.add_node("neuroflow.learning.executor", node_id="apply")
    workflow.add_node("neuroflow.learning.scorer", node_id="score")
    for source, target in (("backbone", "flat"), ("flat", "drop"), ("drop", "classes"), ("classes", "learn")):
        workflow.connect(source, "network", target, "network")
    workflow.connect("train", "data", "learn", "training")
    workflow.connect("learn", "model", "apply", "model")
    workflow.connect("test", "data", "apply", "images")
    workflow.connect("apply", "predictions", "score", "predictions")
    if out is not None:
        workflow.add_node("neuroflow.learning.writer", node_id="save", settings={"path": str(out)})
        workflow.connect("learn", "model", "save", "model")
    return workflow


SMALL = {"architecture": "MobileNetV3Small", "input_size": [32, 32]}


@pytest.fixture(scope="module")
def from_scratch() -> Workflow:
    """MobileNetV3Small with random weights, all of it trained on the colour images."""
    workflow = transfer_workflow({**SMALL, "weights": "none", "trainable": "all"},
                                 {"epochs": 4, "batch_size": 8, "seed": 1})
    result, _ = run(workflow)
    assert result.ok, result
    return workflow


@pytest.fixture(scope="module")
def pretrained_file(from_scratch: Workflow, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The backbone trained from scratch, saved as a weights file: a small stand-in for ImageNet
    weights. Its BatchNormalization statistics are first set from one batch of the training
    images (after a few steps their moving averages are still near 0 and 1)."""
    import keras

    trained = from_scratch.nodes["learn"].outputs["model"].model  # type: ignore[index]
    application = trained.get_layer("mobilenetv3small_backbone").layers[-1]
    copy = keras.models.clone_model(application)
    copy.set_weights(application.get_weights())
    norms = [layer for layer in copy.layers if isinstance(layer, keras.layers.BatchNormalization)]
    for layer in norms:
        layer.momentum = 0.0
    copy(colour_dataset(40, seed=1).images, training=True)  # raw 0-255 pixels, as it preprocesses inside
    path = tmp_path_factory.mktemp("pretrained") / "colours.weights.h5"
    copy.save_weights(str(path))
    return path


@pytest.mark.slow
def test_random_weights_train_from_scratch(from_scratch: Workflow) -> None:
    history = from_scratch.nodes["learn"].outputs["model"].history  # type: ignore[index]
    assert history["loss"][-1] < history["loss"][0]
    assert history["accuracy"][-1] >= 0.8, history
    assert from_scratch.nodes["score"].outputs["scores"].count == 40  # type: ignore[index]


@pytest.mark.slow
def test_weights_from_a_file_train_and_the_saved_model_loads_in_safe_mode(pretrained_file: Path, tmp_path: Path) -> None:
    """Frozen pretrained features and a new head: accurate after a few epochs; the saved model
    (nested backbone, its Rescaling and all) loads in safe mode and predicts the same."""
    import keras

    out = tmp_path / "colours.keras"
    workflow = transfer_workflow(
        {**SMALL, "weights": "file", "weights_path": str(pretrained_file), "trainable": "frozen"},
        {"epochs": 5, "batch_size": 8, "learning_rate": 0.01, "seed": 2}, out,
    )
    result, _ = run(workflow)
    assert result.ok, result
    scores = workflow.nodes["score"].outputs["scores"]  # type: ignore[index]
    assert scores.accuracy >= 0.85, scores.accuracy
    trained = workflow.nodes["learn"].outputs["model"]  # type: ignore[index]
    # frozen: the backbone still holds exactly the file's weights
    reference = keras.applications.MobileNetV3Small(include_top=False, weights=None, input_shape=(32, 32, 3))
    reference.load_weights(str(pretrained_file))
    application = trained.model.get_layer("mobilenetv3small_backbone").layers[-1]
    for ours, theirs in zip(application.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    # the Network Reader loads the written model in safe mode, and it predicts the same
    loaded = node_of("neuroflow.learning.reader", path=str(out)).execute({}, learner_context())["model"]
    images = colour_dataset(40, seed=2).images
    np.testing.assert_allclose(np.asarray(loaded.model(images)), np.asarray(trained.model(images)),
                               rtol=1e-5, atol=1e-6)
    assert loaded.class_names == ("red", "blue")


# -- ImageNet weights: fetched with progress into the Keras cache, or a clear offline message -------
@contextlib.contextmanager
def serving(folder: Path) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 serving ``folder``; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


IMAGENET_RUN = textwrap.dedent(
    """
    import dataclasses, json, sys
    import numpy as np
    sys.path.insert(0, "tests")
    from test_pretrained import transfer_workflow
    from neuroflow.core.events import NodeProgress
    from neuroflow.core.executor import Executor
    from neuroflow.training import backbones

    # Keras's own host is replaced by a closed port: the test never depends on the internet
    arch = backbones.ARCHITECTURES["MobileNetV2"]
    backbones.ARCHITECTURES["MobileNetV2"] = dataclasses.replace(arch, weights_base=sys.argv[1])
    workflow = transfer_workflow(
        {"architecture": "MobileNetV2", "input_size": [32, 32], "weights": "imagenet"},
        {"epochs": 1, "batch_size": 20, "seed": 1},
    )
    events = []
    result = Executor(workflow, listener=events.append).run()
    out = {"failed": result.failed, "progress": [e.message for e in events
           if isinstance(e, NodeProgress) and e.node_id == "learn" and "weights" in e.message]}
    if result.ok:
        import keras
        reference = keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(32, 32, 3))
        reference.load_weights(sys.argv[2])
        model = workflow.nodes["learn"].outputs["model"].model
        wrapper = model.get_layer("mobilenetv2_backbone")
        out["same_weights"] = all(np.array_equal(a, b) for a, b in
                                  zip(wrapper.layers[-1].get_weights(), reference.get_weights(), strict=True))
    print("RESULT" + json.dumps(out))
    """
)


def run_imagenet(keras_home: Path, mirror: str, official: str, served: Path) -> dict[str, Any]:
    env = dict(os.environ, KERAS_HOME=str(keras_home), NEUROFLOW_WEIGHTS_MIRROR=mirror, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, "-c", IMAGENET_RUN, official, str(served)], cwd=REPO,
                          capture_output=True, text=True, env=env, timeout=600)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT"):])


@pytest.mark.slow
def test_imagenet_weights_come_through_the_mirror_with_progress_or_fail_in_one_line(tmp_path: Path) -> None:
    import h5py
    import keras
    from keras.src.legacy.saving import legacy_h5_format

    name = ARCHITECTURES["MobileNetV2"].weights_name(32, 32)
    assert name == "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"
    served = tmp_path / "mirror"
    served.mkdir()
    keras.utils.set_random_seed(11)
    source = keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(32, 32, 3))
    with h5py.File(served / name, "w") as handle:  # the legacy HDF5 layout of Keras's own files
        legacy_h5_format.save_weights_to_hdf5_group(handle, source)
    official = f"http://127.0.0.1:{closed_port()}/keras/"

    with serving(served) as mirror:
        fetched = run_imagenet(tmp_path / "home", mirror, official, served / name)
    assert fetched["failed"] == {}
    assert fetched["same_weights"] is True
    assert (tmp_path / "home" / "models" / name).read_bytes() == (served / name).read_bytes()
    assert fetched["progress"][0] == f"downloading the MobileNetV2 ImageNet weights {name}"
    assert fetched["progress"][-1].startswith(f"downloading the MobileNetV2 ImageNet weights {name}: ")
    assert fetched["progress"][-1].endswith(" MB")

    mirror = f"http://127.0.0.1:{closed_port()}/"  # the server is gone
    offline = run_imagenet(tmp_path / "empty", mirror, official, served / name)
    cache = tmp_path / "empty" / "models"
    what = f"the MobileNetV2 ImageNet weights {name}"
    assert offline["failed"] == {"learn": (
        f"cannot download {what} from {mirror}{name}: connection refused; "
        f"cannot download {what} from {official}{name}: connection refused - to work offline, put "
        f"{name} (from {official}{name}) into {cache}, or set the Pretrained Network's weights to 'file'"
    )}
    assert not cache.exists() or not any(cache.iterdir())  # nothing half-written left behind


def test_a_cached_file_is_used_and_a_corrupt_download_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cached weights are not fetched again; a file failing Keras's checksum never stays."""
    monkeypatch.setattr(backbones, "keras_cache_dir", lambda: tmp_path / "models")
    mobilenet = ARCHITECTURES["MobileNetV2"]
    (tmp_path / "models").mkdir()
    cached = tmp_path / "models" / mobilenet.weights_name(96, 96)
    cached.write_bytes(b"cached")
    monkeypatch.setenv(backbones.MIRROR_VARIABLE, f"http://127.0.0.1:{closed_port()}")
    assert backbones.fetch_imagenet_weights(mobilenet, 96, 96) == cached  # nothing downloaded

    resnet = dataclasses.replace(ARCHITECTURES["ResNet50"], weights_base=f"http://127.0.0.1:{closed_port()}/")
    served = tmp_path / "mirror"
    served.mkdir()
    (served / resnet.weights_name(224, 224)).write_bytes(b"not the weights")
    with serving(served) as mirror:
        monkeypatch.setenv(backbones.MIRROR_VARIABLE, mirror)
        with pytest.raises(DataError) as caught:
            backbones.fetch_imagenet_weights(resnet, 224, 224)
    message = str(caught.value)
    assert message.startswith(
        f"the ResNet50 ImageNet weights {resnet.weights_name(224, 224)} from {mirror}"
        f"{resnet.weights_name(224, 224)} does not match Keras's MD5 checksum {resnet.md5}; the file was removed; "
    )
    assert "\n" not in message and not list((tmp_path / "models").glob("resnet50*"))
