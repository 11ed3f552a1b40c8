"""Data nodes: MNIST Reader, Normalizer, Partitioning (the photo readers: test_photo_readers.py).

Everything outside the bundled MNIST is built here in ``tmp_path``: tiny IDX files (gz, raw
and .npz) written byte by byte from the format description, so the tests check the readers
against the formats rather than against themselves.
"""

from __future__ import annotations

import gzip
import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from neuroflow.nodes.data.image_folder_reader import ImageFolderReaderNode
from neuroflow.nodes.data.mnist_reader import MnistReaderNode
from neuroflow.nodes.data.normalizer import NormalizerNode
from neuroflow.nodes.data.partitioning import PartitioningNode, first_partition, stratified_quotas

from neuroflow.core.data import ImageDataset
from neuroflow.core.errors import Cancelled, ConfigureError, DataError
from neuroflow.core.events import NodeProgress
from neuroflow.core.executor import Executor
from neuroflow.core.node import CancelToken, ExecutionContext, Node
from neuroflow.core.ports import DatasetSpec
from neuroflow.core.workflow import Workflow

DIGITS = tuple("0123456789")
FASHION = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
NAMES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


# -- helpers: files written from the format descriptions ------------------------------------
def idx_bytes(values: np.ndarray, type_code: int = 0x08) -> bytes:
    """IDX: two zero bytes, type code, number of dimensions, big-endian int32 sizes, data."""
    header = bytes([0, 0, type_code, values.ndim]) + struct.pack(f">{values.ndim}I", *values.shape)
    return header + values.astype(np.uint8).tobytes()


def tiny_split(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``count`` distinguishable 28x28 images and labels cycling through 0-9."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8), np.arange(count) % 10


def write_split(folder: Path, split: str, images: np.ndarray, labels: np.ndarray, fmt: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "npz":
        key = "train" if split == "train" else "test"
        arrays = {f"x_{key}": images, f"y_{key}": labels.astype(np.uint8)}
        np.savez_compressed(folder / "mnist.npz", **arrays)
        return
    for name, values in zip(NAMES[split], (images, labels), strict=True):
        data = idx_bytes(values)
        if fmt == "gz":
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)



def run(node: Node, inputs: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[Any]]:
    """Execute a node alone; return its outputs and the events it sent."""
    events: list[Any] = []
    outputs = node.execute(inputs or {}, ExecutionContext("n1", node.name, emit=events.append))
    return outputs, events


def dataset(labels: list[int] | np.ndarray, classes: int = 3, value_range=(0.0, 255.0)) -> ImageDataset:
    labels = np.asarray(labels, dtype=np.int64)
    images = np.arange(len(labels), dtype=np.uint8).reshape(-1, 1, 1, 1) * np.ones((1, 2, 2, 1), np.uint8)
    return ImageDataset(images, labels, tuple(f"c{i}" for i in range(classes)), value_range)


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh home and data folder, so the Fashion-MNIST lookup never sees this machine's files."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("NEUROFLOW_DATA", str(tmp_path / "nfdata"))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    return tmp_path


# -- MNIST Reader on the bundled MNIST ------------------------------------------------------
def test_mnist_configure_reads_headers_only(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pixels(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("configure read pixel data")

    monkeypatch.setattr("neuroflow.datasets.mnist.read_idx", no_pixels)
    train = MnistReaderNode().configure({})["data"]
    assert train == DatasetSpec((28, 28, 1), DIGITS, 60_000, (0.0, 255.0))
    test = MnistReaderNode({"split": "test", "limit": 250}).configure({})["data"]
    assert test == DatasetSpec((28, 28, 1), DIGITS, 250, (0.0, 255.0))
    assert MnistReaderNode({"split": "test", "limit": 50_000}).configure({})["data"].count == 10_000


@pytest.mark.parametrize("split", ["train", "test"])
def test_mnist_reader_reads_bundled_sample(split: str) -> None:
    node = MnistReaderNode({"split": split, "limit": 300})
    outputs, events = run(node)
    data = outputs["data"]
    assert isinstance(data, ImageDataset)
    assert data.images.shape == (300, 28, 28, 1) and data.images.dtype == np.uint8
    assert data.labels.shape == (300,) and data.labels.dtype == np.int64
    assert data.labels.min() >= 0 and data.labels.max() <= 9
    assert set(data.labels.tolist()) == set(range(10))  # the first 300 are a mixed sample
    assert data.class_names == DIGITS
    assert data.spec == node.configure({})["data"]
    assert 0 < data.images.mean() < 128 and data.images.max() == 255  # dark background, white ink
    assert any(isinstance(e, NodeProgress) and e.fraction == 1.0 for e in events)
    if split == "train":  # MNIST's canonical first training labels
        assert data.labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


def test_mnist_sample_limit_is_a_prefix_of_the_full_split() -> None:
    small = run(MnistReaderNode({"split": "test", "limit": 40}))[0]["data"]
    full = run(MnistReaderNode({"split": "test"}))[0]["data"]
    assert len(full) == 10_000
    np.testing.assert_array_equal(small.images, full.images[:40])
    np.testing.assert_array_equal(small.labels, full.labels[:40])


def test_mnist_reading_stops_when_cancelled() -> None:
    token = CancelToken()
    seen: list[Any] = []

    def emit(event: Any) -> None:
        seen.append(event)
        token.cancel()  # the user presses cancel while the first chunk is reported

    with pytest.raises(Cancelled):
        MnistReaderNode().execute({}, ExecutionContext("n1", "reader", token, emit))
    assert len(seen) == 1 and seen[0].fraction < 0.2  # stopped at the next chunk, not at the end


# -- MNIST Reader on files built here ---------------------------------------------------------
@pytest.mark.parametrize("fmt", ["gz", "raw", "npz"])
def test_fashion_reader_reads_data_folder_formats(tmp_path: Path, fmt: str) -> None:
    images, labels = tiny_split(23, seed=1)
    write_split(tmp_path / "fashion", "test", images, labels, fmt)
    node = MnistReaderNode({"dataset": "fashion", "split": "test", "data_folder": str(tmp_path / "fashion")})
    assert node.configure({})["data"] == DatasetSpec((28, 28, 1), FASHION, 23, (0.0, 255.0))
    data = run(node)[0]["data"]
    np.testing.assert_array_equal(data.images[..., 0], images)
    np.testing.assert_array_equal(data.labels, labels)
    assert data.class_names == FASHION and data.labels.dtype == np.int64

    node.set("limit", 5)
    assert node.configure({})["data"].count == 5
    limited = run(node)[0]["data"]
    np.testing.assert_array_equal(limited.images[..., 0], images[:5])


def test_npz_archive_can_be_named_directly_and_splits_are_chosen_by_key(tmp_path: Path) -> None:
    train, train_labels = tiny_split(12, seed=2)
    test, test_labels = tiny_split(7, seed=3)
    path = tmp_path / "my-mnist.npz"
    np.savez(path, x_train=train, y_train=train_labels, x_test=test, y_test=test_labels)
    for split, images in (("train", train), ("test", test)):
        node = MnistReaderNode({"split": split, "data_folder": str(path)})
        assert node.configure({})["data"].count == len(images)
        np.testing.assert_array_equal(run(node)[0]["data"].images[..., 0], images)


def test_fashion_found_in_standard_places(data_home: Path) -> None:
    images, labels = tiny_split(11)
    node = MnistReaderNode({"dataset": "fashion", "split": "train"})
    write_split(data_home / "home" / ".keras" / "datasets" / "fashion-mnist", "train", images, labels, "gz")
    assert node.configure({})["data"].count == 11
    # $NEUROFLOW_DATA comes first
    write_split(data_home / "nfdata" / "fashion-mnist", "train", images[:4], labels[:4], "raw")
    assert node.configure({})["data"].count == 4
    np.testing.assert_array_equal(run(node)[0]["data"].images[..., 0], images[:4])


def test_fashion_not_found_lists_every_place_and_how_to_get_it(data_home: Path) -> None:
    node = MnistReaderNode({"dataset": "fashion", "download": False})
    with pytest.raises(DataError) as caught:
        node.configure({})
    message = str(caught.value)
    for place in (
        data_home / "nfdata" / "fashion-mnist",
        data_home / "home" / ".neuroflow" / "data" / "fashion-mnist",
        data_home / "home" / ".keras" / "datasets" / "fashion-mnist",
    ):
        assert str(place) in message
    assert "train-images-idx3-ubyte.gz" in message and "data folder" in message
    assert message.endswith("or turn on its download setting (it is off)")
    assert "\n" not in message


def test_missing_folder_and_missing_file_are_named(tmp_path: Path) -> None:
    absent = tmp_path / "nowhere"
    with pytest.raises(DataError, match="data folder not found: .*nowhere"):
        MnistReaderNode({"data_folder": str(absent)}).configure({})

    images, labels = tiny_split(5)
    write_split(tmp_path, "train", images, labels, "gz")
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError) as caught:
        MnistReaderNode({"data_folder": str(tmp_path)}).configure({})
    assert str(tmp_path / "train-labels-idx1-ubyte") in str(caught.value)

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match=r"no MNIST test files in .*empty"):
        MnistReaderNode({"split": "test", "data_folder": str(empty)}).configure({})


def test_label_count_must_match_image_count(tmp_path: Path) -> None:
    images, labels = tiny_split(6)
    write_split(tmp_path, "train", images, labels[:4], "gz")
    with pytest.raises(DataError) as caught:
        MnistReaderNode({"data_folder": str(tmp_path)}).configure({})
    message = str(caught.value)
    assert message.startswith("labels do not match images")
    assert "train-images-idx3-ubyte.gz holds 6 images" in message
    assert "train-labels-idx1-ubyte.gz holds 4 labels" in message


def test_bad_magic_numbers_are_refused(tmp_path: Path) -> None:
    images, labels = tiny_split(3)
    write_split(tmp_path, "train", images, labels, "raw")
    # a labels file where the images belong: a valid IDX file, but the wrong kind
    (tmp_path / "train-images-idx3-ubyte").write_bytes(idx_bytes(labels))
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte does not hold IDX images: bad magic number 0x00000801"):
        MnistReaderNode({"data_folder": str(tmp_path)}).configure({})
    # not IDX at all
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"<html>not found</html>")
    with pytest.raises(DataError, match=r"is not an IDX file: bad magic number 0x3c68746d"):
        MnistReaderNode({"data_folder": str(tmp_path)}).configure({})


def test_truncated_raw_file_is_refused_at_configure(tmp_path: Path) -> None:
    images, labels = tiny_split(4)
    write_split(tmp_path, "test", images, labels, "raw")
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte is truncated or corrupt: its header says 4 "
                                        r"images of 28x28 \(3,152 bytes\), but the file holds 3 \(3,052 bytes\)$"):
        MnistReaderNode({"split": "test", "data_folder": str(tmp_path)}).configure({})


def test_truncated_gzip_file_is_found_when_reading(tmp_path: Path) -> None:
    images, labels = tiny_split(20)
    write_split(tmp_path, "train", images, labels, "gz")
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    node = MnistReaderNode({"data_folder": str(tmp_path)})
    assert node.configure({})["data"].count == 20  # the header is intact: configure cannot know
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz is truncated"):
        run(node)


def forged_header(count: int, dims: tuple[int, ...], payload: bytes) -> bytes:
    """An IDX images file whose header claims ``count`` items but holds only ``payload``."""
    return bytes([0, 0, 0x08, 1 + len(dims)]) + struct.pack(f">{1 + len(dims)}I", count, *dims) + payload


def test_a_header_claiming_a_billion_images_is_refused_as_corrupt_at_configure(tmp_path: Path) -> None:
    images, labels = tiny_split(3)
    write_split(tmp_path, "train", images, labels, "gz")
    billion = 1_000_000_000
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(forged_header(billion, (28, 28), images.tobytes())))
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(forged_header(billion, (), bytes(3))))
    node = MnistReaderNode({"data_folder": str(tmp_path)})
    with pytest.raises(DataError) as caught:
        node.configure({})
    size = (tmp_path / "train-images-idx3-ubyte.gz").stat().st_size
    assert str(caught.value) == (
        f"{tmp_path / 'train-images-idx3-ubyte.gz'} is truncated or corrupt: its header says "
        f"1,000,000,000 images of 28x28 (784,000,000,016 bytes), more than a gzip file of {size:,} bytes can hold"
    )
    # raw: the file size tells at once
    raw = tmp_path / "raw"
    write_split(raw, "train", images, labels, "raw")
    (raw / "train-images-idx3-ubyte").write_bytes(forged_header(billion, (28, 28), images.tobytes()))
    with pytest.raises(DataError, match=r"is truncated or corrupt: its header says 1,000,000,000 images of 28x28 "
                                        r"\(784,000,000,016 bytes\), but the file holds 3 \(2,368 bytes\)$"):
        MnistReaderNode({"data_folder": str(raw)}).configure({})


def test_a_plausible_false_header_is_found_by_reading_without_allocating_its_claim(tmp_path: Path) -> None:
    """A million images (784 MB) claimed, 1,000 stored: plausible for the gzip size, so configure
    cannot tell; reading stops where the data does, holding memory for what arrived."""
    import tracemalloc

    claimed, stored = 1_000_000, 1_000
    images = np.random.default_rng(0).integers(0, 256, size=(stored, 28, 28), dtype=np.uint8)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(forged_header(claimed, (28, 28), images.tobytes())))
    noise = np.random.default_rng(1).integers(0, 256, size=stored, dtype=np.uint8).tobytes()  # no compression
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(forged_header(claimed, (), noise)))
    node = MnistReaderNode({"data_folder": str(tmp_path)})
    assert node.configure({})["data"].count == claimed
    tracemalloc.start()
    try:
        with pytest.raises(DataError) as caught:
            run(node)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(caught.value) == (
        f"{tmp_path / 'train-images-idx3-ubyte.gz'} is truncated or corrupt: its header says "
        "1,000,000 images of 28x28, but the file holds 1,000"
    )
    assert peak < 40 << 20, f"{peak / 1e6:.0f} MB held for a file of 0.7 MB"
    # in a workflow, the node fails with that message, not with "ran out of memory"
    workflow = Workflow()
    workflow.add_node("neuroflow.data.mnist_reader", node_id="reader", settings={"data_folder": str(tmp_path)})
    result = Executor(workflow).run()
    assert result.failed == {"reader": str(caught.value)}


def test_an_npz_header_claiming_too_much_is_refused_and_a_limit_reads_only_its_rows(tmp_path: Path) -> None:
    import io
    import zipfile

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False, "shape": (10**9, 28, 28)})
    labels = io.BytesIO()
    np.lib.format.write_array_header_1_0(labels, {"descr": "|u1", "fortran_order": False, "shape": (10**9,)})
    forged = tmp_path / "mnist.npz"
    with zipfile.ZipFile(forged, "w") as archive:
        archive.writestr("x_train.npy", header.getvalue() + bytes(784 * 5))
        archive.writestr("y_train.npy", labels.getvalue() + bytes(5))
    with pytest.raises(DataError) as caught:
        MnistReaderNode({"data_folder": str(forged)}).configure({})
    assert str(caught.value) == (
        f"{forged} is truncated or corrupt: the header of 'x_train' says shape (1000000000, 28, 28) "
        "(784,000,000,000 bytes), but the archive holds 3,920 bytes for it"
    )
    # a real archive with a sample limit: only the first rows are read, and they are right
    from neuroflow.datasets.npz import read_npz_array

    images, _ = tiny_split(50)
    for saver in (np.savez, np.savez_compressed):
        saver(tmp_path / "real.npz", x_train=images)
        first = read_npz_array(tmp_path / "real.npz", "x_train", limit=7)
        np.testing.assert_array_equal(first, images[:7])
        assert first.base is None or first.base.nbytes < images.nbytes  # not the whole array


@pytest.mark.parametrize("what", ["idx", "npz", "folder-idx"])
def test_a_named_pipe_where_data_belongs_is_refused_at_once(what: str, tmp_path: Path) -> None:
    import os
    import signal

    images, labels = tiny_split(3)
    if what == "npz":
        pipe = tmp_path / "mnist.npz"
        os.mkfifo(pipe)
        settings = {"data_folder": str(pipe)}
    else:
        write_split(tmp_path, "train", images, labels, "gz")
        pipe = tmp_path / "train-images-idx3-ubyte.gz"
        pipe.unlink()
        os.mkfifo(pipe)
        settings = {"data_folder": str(tmp_path)}

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError("blocked on the named pipe")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(10)
    try:
        with pytest.raises(DataError) as caught:
            MnistReaderNode(settings).configure({})
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert str(caught.value) == f"'{pipe}' is a named pipe (FIFO), not a file; NeuroFlow reads only regular files"


def test_labels_outside_the_classes_are_refused(tmp_path: Path) -> None:
    images, labels = tiny_split(5)
    labels[3] = 12
    write_split(tmp_path, "train", images, labels, "gz")
    with pytest.raises(DataError, match="holds label 12 at position 3; MNIST labels are 0 to 9"):
        run(MnistReaderNode({"data_folder": str(tmp_path)}))


def test_npz_problems_name_the_arrays(tmp_path: Path) -> None:
    images, labels = tiny_split(5)
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=images, y_train=labels[:3])
    with pytest.raises(DataError, match="labels do not match images: 'x_train' .* 5 images but 'y_train' holds 3"):
        MnistReaderNode({"data_folder": str(path)}).configure({})
    with pytest.raises(DataError, match=r"has no array 'x_test' \(it holds x_train, y_train\)"):
        MnistReaderNode({"split": "test", "data_folder": str(path)}).configure({})
    path.write_bytes(b"PK broken")
    with pytest.raises(DataError, match="is not a readable .npz archive"):
        MnistReaderNode({"data_folder": str(tmp_path)}).configure({})


# -- Normalizer ------------------------------------------------------------------------------
@pytest.mark.parametrize(("choice", "low", "high"), [("0..1", 0.0, 1.0), ("-1..1", -1.0, 1.0)])
def test_normalizer_scales_to_the_chosen_range(choice: str, low: float, high: float) -> None:
    images = np.array([0, 51, 255, 255], np.uint8).reshape(4, 1, 1, 1)
    source = ImageDataset(images, np.array([0, 1, 0, 1]), ("a", "b"))
    node = NormalizerNode({"range": choice})
    spec = node.configure({"data": source.spec})["data"]
    assert spec == DatasetSpec((1, 1, 1), ("a", "b"), 4, (low, high))
    out = run(node, {"data": source})[0]["data"]
    assert out.images.dtype == np.float32 and out.value_range == (low, high)
    assert out.images.ravel().tolist() == pytest.approx([low, low + 0.2 * (high - low), high, high])
    assert out.images.min() == low and out.images.max() == high
    assert out.spec == spec and source.images.dtype == np.uint8  # the input is left alone


def test_normalizer_uses_the_input_value_range_and_needs_an_input() -> None:
    source = ImageDataset(np.array([-1.0, 0.0, 1.0], np.float32).reshape(3, 1, 1, 1), np.zeros(3, np.int64),
                          ("a",), (-1.0, 1.0))
    out = run(NormalizerNode(), {"data": source})[0]["data"]
    assert out.images.ravel().tolist() == [0.0, 0.5, 1.0]
    with pytest.raises(ConfigureError, match="value range"):
        NormalizerNode().configure({"data": DatasetSpec((1, 1, 1), ("a",), 3, (5.0, 5.0))})
    with pytest.raises(ConfigureError, match="not connected"):
        NormalizerNode().configure({"data": None})


# -- Partitioning ----------------------------------------------------------------------------
def test_partitioning_configure_counts() -> None:
    spec = DatasetSpec((28, 28, 1), DIGITS, 1001)
    specs = PartitioningNode({"fraction": 0.7}).configure({"data": spec})
    assert (specs["first"].count, specs["second"].count) == (701, 300)
    assert specs["first"].shape == (28, 28, 1) and specs["second"].class_names == DIGITS
    specs = PartitioningNode({"mode": "count", "count": 250}).configure({"data": spec})
    assert (specs["first"].count, specs["second"].count) == (250, 751)
    unknown = DatasetSpec((28, 28, 1), DIGITS, None)
    assert PartitioningNode({"mode": "count", "count": 250}).configure({"data": unknown})["first"].count == 250
    assert PartitioningNode().configure({"data": unknown})["first"].count is None
    with pytest.raises(ConfigureError, match="setting 'count': 2,000 is more than the 1,001 images"):
        PartitioningNode({"mode": "count", "count": 2000}).configure({"data": spec})


@pytest.mark.parametrize("sampling", ["random", "top"])
def test_stratified_partition_keeps_class_proportions(sampling: str) -> None:
    labels = np.repeat([0, 1, 2], [600, 300, 100])
    np.random.default_rng(5).shuffle(labels)
    node = PartitioningNode({"fraction": 0.25, "stratified": True, "sampling": sampling})
    spec = node.configure({"data": dataset(labels).spec})
    outputs = run(node, {"data": dataset(labels)})[0]
    first, second = outputs["first"], outputs["second"]
    assert (len(first), len(second)) == (spec["first"].count, spec["second"].count) == (250, 750)
    assert first.class_counts().tolist() == [150, 75, 25]
    assert second.class_counts().tolist() == [450, 225, 75]
    together = np.sort(np.concatenate([first.images[:, 0, 0, 0], second.images[:, 0, 0, 0]]))
    np.testing.assert_array_equal(together, np.sort(dataset(labels).images[:, 0, 0, 0]))  # nothing lost


def test_partition_seeds_and_take_from_top() -> None:
    labels = np.arange(200) % 4

    def first_of(**settings: Any) -> list[int]:
        node = PartitioningNode({"fraction": 0.3, **settings})
        return run(node, {"data": dataset(labels, classes=4)})[0]["first"].images[:, 0, 0, 0].tolist()

    assert first_of(seed=1) == first_of(seed=1)
    assert first_of(seed=1) != first_of(seed=2)
    assert first_of(seed=1, stratified=False) != first_of(seed=2, stratified=False)
    assert first_of(sampling="top", stratified=False) == list(range(60))
    assert first_of(sampling="top", seed=1) == first_of(sampling="top", seed=2) == list(range(60))


def test_unstratified_random_partition_is_not_class_balanced_by_construction() -> None:
    labels = np.repeat([0, 1], [50, 50])
    chosen = first_partition(labels, 50, stratified=False, seed=3)
    assert len(chosen) == 50 and len(set(chosen.tolist())) == 50
    assert np.bincount(labels[chosen], minlength=2).tolist() != [25, 25]  # seed 3 draws 26/24


def test_stratified_quotas_sum_exactly_and_stay_within_one_image() -> None:
    counts = np.array([7, 3, 11, 1, 0, 5])
    for size in range(0, counts.sum() + 1):
        quotas = stratified_quotas(counts, size)
        assert quotas.sum() == size
        exact = counts * size / counts.sum()
        assert np.all(np.abs(quotas - exact) < 1) and np.all(quotas <= counts)


def test_partition_warns_about_an_empty_partition() -> None:
    outputs, events = run(PartitioningNode({"fraction": 1.0}), {"data": dataset([0, 1, 2, 0])})
    assert len(outputs["first"]) == 4 and len(outputs["second"]) == 0
    assert any("second partition is empty" in getattr(e, "message", "") for e in events)


# -- settings ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("node_type", "settings"),
    [
        (MnistReaderNode, {"dataset": "fashion", "split": "test", "data_folder": "data/fm", "limit": 7,
                           "download": False, "mirror": "https://example.org/fashion/"}),
        (ImageFolderReaderNode, {"folder": "pics", "color_mode": "rgb", "size": [32, 24], "limit_per_class": 3}),
        (NormalizerNode, {"range": "-1..1"}),
        (PartitioningNode, {"mode": "count", "fraction": 0.5, "count": 12, "stratified": False,
                            "sampling": "top", "seed": 9}),
    ],
)
def test_settings_survive_a_json_round_trip(node_type: type[Node], settings: dict[str, Any]) -> None:
    node = node_type(settings)
    again = node_type(json.loads(json.dumps(node.settings_json())))
    assert again.settings == node.settings
    assert node_type().settings != node.settings  # every case differs from the defaults


# -- in a real workflow ----------------------------------------------------------------------
def test_reader_normalizer_partitioning_workflow_runs() -> None:
    workflow = Workflow()
    reader = workflow.add_node("neuroflow.data.mnist_reader", settings={"limit": 400}).id
    scale = workflow.add_node("neuroflow.data.normalizer", settings={"range": "-1..1"}).id
    split = workflow.add_node("neuroflow.data.partitioning", settings={"fraction": 0.75}).id
    workflow.connect(reader, "data", scale, "data")
    workflow.connect(scale, "data", split, "data")
    assert workflow.first_problem() is None
    configured = {port: workflow.nodes[split].specs[port] for port in ("first", "second")}
    assert (configured["first"].count, configured["second"].count) == (300, 100)

    events: list[Any] = []
    result = Executor(workflow, listener=events.append).run()
    assert result.ok, result
    outputs = workflow.nodes[split].outputs
    assert outputs is not None
    for port in ("first", "second"):
        part = outputs[port]
        assert part.spec == configured[port]
        assert part.images.dtype == np.float32 and part.images.min() >= -1.0 and part.images.max() <= 1.0
    assert any(isinstance(e, NodeProgress) and e.node_id == reader for e in events)


def test_workflow_reports_missing_fashion_mnist_on_the_node(data_home: Path) -> None:
    workflow = Workflow()
    reader = workflow.add_node(
        "neuroflow.data.mnist_reader", settings={"dataset": "fashion", "download": False}, label="Fashion"
    )
    workflow.add_node("neuroflow.data.normalizer")
    workflow.connect(reader.id, "data", "n2", "data")
    problem = workflow.first_problem()
    assert problem is not None and problem.startswith("'Fashion' (n1): Fashion-MNIST train files not found")
    result = Executor(workflow).run()
    assert not result.ok and set(result.not_configured) == {"n1", "n2"}
