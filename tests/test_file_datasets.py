"""Photos in files: the Image Folder and Image List Readers, the tf.data pipeline and its cache,
and the data nodes and learning nodes on file-backed datasets.

Images are written here in ``tmp_path`` (PNG from the format, JPEG by TensorFlow) with known
pixels, so what the pipeline decodes can be checked value by value.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from deadlines import deadline
from images import decoded, jpeg_bytes, png_bytes, write
from neuroflow.nodes.data.image_folder_reader import ImageFolderReaderNode
from neuroflow.nodes.data.image_list_reader import ImageListReaderNode
from neuroflow.nodes.data.normalizer import NormalizerNode
from neuroflow.nodes.data.partitioning import PartitioningNode

from neuroflow.cli import apply_override
from neuroflow.core.data import ImageFileDataset
from neuroflow.core.errors import Cancelled, DataError, NeuroFlowError
from neuroflow.core.events import NodeWarning
from neuroflow.core.executor import Executor
from neuroflow.core.fileformat import load, save
from neuroflow.core.node import CancelToken, ExecutionContext, Node
from neuroflow.core.ports import DatasetSpec
from neuroflow.core.workflow import Workflow

COLOURS = {"blue": (0, 0, 255), "gray": (120, 120, 120), "red": (255, 0, 0)}


def run(node: Node, inputs: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[Any]]:
    events: list[Any] = []
    outputs = node.execute(inputs or {}, ExecutionContext("n1", node.name, emit=events.append))
    return outputs, events


def flat(rgb: tuple[int, int, int], height: int, width: int) -> np.ndarray:
    return np.ones((height, width, 3), np.uint8) * np.array(rgb, np.uint8)


@pytest.fixture
def shapes(tmp_path: Path) -> Path:
    """Three classes of flat-coloured images of different sizes, one of them a gray JPEG."""
    root = tmp_path / "shapes"
    for name, rgb in COLOURS.items():
        for index, (height, width) in enumerate([(10, 14), (40, 30), (16, 12)]):
            write(root / name / f"img{index}.png", png_bytes(flat(rgb, height, width)))
    write(root / "gray" / "photo.JPG", jpeg_bytes(np.full((20, 20, 1), 120, np.uint8), quality=100))
    write(root / "gray" / "gray-only.png", png_bytes(np.full((8, 8), 120, np.uint8)))
    (root / "red" / "notes.txt").write_text("not an image")
    return root


# -- Image Folder Reader ---------------------------------------------------------------------
def test_folder_reader_lists_then_decodes_to_the_chosen_size(shapes: Path) -> None:
    node = ImageFolderReaderNode({"folder": str(shapes), "color_mode": "rgb", "size": [16, 12]})
    spec = node.configure({})["data"]
    assert spec == DatasetSpec((16, 12, 3), ("blue", "gray", "red"), 11, (0.0, 255.0), from_files=True)
    data = run(node)[0]["data"]
    assert isinstance(data, ImageFileDataset) and not data.in_memory
    assert data.spec == spec
    assert data.labels.tolist() == [0] * 3 + [1] * 5 + [2] * 3
    images = decoded(data)
    assert images.shape == (11, 16, 12, 3) and images.dtype == np.float32
    np.testing.assert_array_equal(images[0], np.broadcast_to([0, 0, 255], (16, 12, 3)))
    np.testing.assert_array_equal(images[-1], np.broadcast_to([255, 0, 0], (16, 12, 3)))
    assert np.abs(images[data.labels == 1] - 120).max() <= 2  # JPEG may be off by a level or two


def test_folder_reader_grayscale_with_limit(shapes: Path) -> None:
    node = ImageFolderReaderNode(
        {"folder": str(shapes), "color_mode": "grayscale", "size": [9, 7], "limit_per_class": 2}
    )
    assert node.configure({})["data"] == DatasetSpec((9, 7, 1), ("blue", "gray", "red"), 6, (0.0, 255.0), from_files=True)
    data = run(node)[0]["data"]
    images = decoded(data)
    assert images.shape == (6, 9, 7, 1) and data.labels.tolist() == [0, 0, 1, 1, 2, 2]
    means = [images[data.labels == k].mean() for k in range(3)]
    assert means[0] < 40 and abs(means[1] - 120) <= 2 and 60 < means[2] < 90  # blue darkest, red ~76


def test_auto_colour_follows_the_images(tmp_path: Path) -> None:
    for k in range(4):
        write(tmp_path / "a" / f"{k}.png", png_bytes(np.full((6, 6), 40 * k, np.uint8)))
        write(tmp_path / "b" / f"{k}.jpg", jpeg_bytes(np.full((6, 6, 1), 30 * k, np.uint8)))
    node = ImageFolderReaderNode({"folder": str(tmp_path), "size": [6, 6]})
    assert node["color_mode"] == "auto"
    assert node.configure({})["data"].shape == (6, 6, 1)
    write(tmp_path / "b" / "4.jpg", jpeg_bytes(flat((200, 30, 30), 6, 6)))
    assert node.configure({})["data"].shape == (6, 6, 3)
    assert run(node)[0]["data"].shape == (6, 6, 3)


def test_folder_reader_refuses_unusable_folders(tmp_path: Path) -> None:
    def problem(folder: Path | str) -> str:
        with pytest.raises(NeuroFlowError) as caught:
            ImageFolderReaderNode({"folder": str(folder)}).configure({})
        return str(caught.value)

    assert "no folder chosen" in problem("")
    assert "image folder not found" in problem(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert f"image folder {empty} is empty" in problem(empty)
    loose = tmp_path / "flat"
    write(loose / "a.png", png_bytes(np.zeros((4, 4), np.uint8)))
    assert f"image folder {loose} has no class sub-folders" in problem(loose)
    (loose / "cats").mkdir()
    (loose / "cats" / "readme.txt").write_text("no pictures")
    assert f"class folder {loose / 'cats'} holds no images (PNG, JPEG, GIF, BMP or WebP)" in problem(loose)


@pytest.fixture
def damaged(tmp_path: Path) -> Path:
    """A class folder with good images and four kinds of unreadable file."""
    root = tmp_path / "photos"
    for k in range(3):
        write(root / "a" / f"good{k}.png", png_bytes(np.full((4, 4), 50 * k, np.uint8)))
        write(root / "b" / f"good{k}.jpg", jpeg_bytes(np.full((4, 4, 1), 60 * k, np.uint8)))
    write(root / "a" / "torn.png", png_bytes(np.zeros((4, 4), np.uint8))[:30])
    write(root / "b" / "cut.jpg", jpeg_bytes(np.zeros((8, 8, 1), np.uint8))[:-40])
    write(root / "b" / "page.jpg", b"<html>not found</html>")
    write(root / "b" / "empty.jpg", b"")
    return root


def test_unreadable_files_are_skipped_and_reported(damaged: Path) -> None:
    node = ImageFolderReaderNode({"folder": str(damaged), "size": [4, 4]})
    assert node.configure({})["data"].count == 10  # listing only: nothing is opened
    outputs, events = run(node)
    data = outputs["data"]
    assert len(data) == 6 and data.labels.tolist() == [0, 0, 0, 1, 1, 1]
    reasons = dict((Path(p).name, r) for p, r in data.skipped)
    assert reasons == {
        "torn.png": "truncated (no PNG end chunk)", "cut.jpg": "truncated (no JPEG end marker)",
        "page.jpg": "not an image (PNG, JPEG, GIF, BMP or WebP)", "empty.jpg": "empty file",
    }
    warnings = [e.message for e in events if isinstance(e, NodeWarning)]
    assert len(warnings) == 1 and warnings[0].startswith("skipped 4 unreadable image files of 10: ")
    assert warnings[0].endswith("and 1 more") and "\n" not in warnings[0]
    assert decoded(data).shape == (6, 4, 4, 1)


def test_unreadable_file_stops_the_run_when_asked(damaged: Path) -> None:
    node = ImageFolderReaderNode({"folder": str(damaged), "on_error": "fail"})
    with pytest.raises(DataError) as caught:
        run(node)
    message = str(caught.value)
    assert "torn.png: truncated (no PNG end chunk) (and 3 more unreadable files)" in message
    assert "set 'unreadable files' to skip" in message


def test_nested_folders_and_links_are_followed_once(tmp_path: Path) -> None:
    root = tmp_path / "data"
    write(root / "cats" / "2019" / "a.png", png_bytes(np.zeros((4, 4), np.uint8)))
    write(root / "cats" / "b.png", png_bytes(np.zeros((4, 4), np.uint8)))
    elsewhere = write(tmp_path / "elsewhere" / "dogs" / "c.png", png_bytes(np.zeros((4, 4), np.uint8)))
    (root / "dogs").symlink_to(elsewhere.parent, target_is_directory=True)
    (root / "cats" / "linked.png").symlink_to(root / "cats" / "b.png")
    (root / "cats" / "2019" / "loop").symlink_to(root / "cats", target_is_directory=True)
    write(root / ".thumbnails" / "x.png", png_bytes(np.zeros((4, 4), np.uint8)))
    spec = ImageFolderReaderNode({"folder": str(root)}).configure({})["data"]
    assert spec.class_names == ("cats", "dogs") and spec.count == 4  # 2019/a, b, linked; c


def test_folder_scan_notices_new_files(tmp_path: Path) -> None:
    write(tmp_path / "a" / "1.png", png_bytes(np.zeros((4, 4), np.uint8)))
    node = ImageFolderReaderNode({"folder": str(tmp_path)})
    assert node.configure({})["data"].count == 1
    write(tmp_path / "b" / "1.png", png_bytes(np.zeros((4, 4), np.uint8)))
    write(tmp_path / "a" / "deeper" / "2.png", png_bytes(np.zeros((4, 4), np.uint8)))
    spec = node.configure({})["data"]
    assert spec.count == 3 and spec.class_names == ("a", "b")


def test_resize_modes_stretch_crop_and_pad(tmp_path: Path) -> None:
    # 20 x 40: green left quarter, red middle half, blue right quarter.
    wide = np.zeros((20, 40, 3), np.uint8)
    wide[:, :10] = (0, 255, 0)
    wide[:, 10:30] = (255, 0, 0)
    wide[:, 30:] = (0, 0, 255)
    write(tmp_path / "x" / "wide.png", png_bytes(wide))

    def image(mode: str) -> np.ndarray:
        node = ImageFolderReaderNode({"folder": str(tmp_path), "size": [10, 10], "resize_mode": mode,
                                      "color_mode": "rgb"})
        return decoded(run(node)[0]["data"])[0]

    stretched, cropped, padded = image("stretch"), image("crop"), image("pad")
    assert stretched[5, 0].tolist() == [0, 255, 0] and stretched[5, 9].tolist() == [0, 0, 255]
    np.testing.assert_array_equal(cropped, np.broadcast_to([255, 0, 0], (10, 10, 3)))  # the centre only
    assert padded[:2].max() == 0 and padded[8:].max() == 0  # black above and below
    assert padded[5, 0].tolist() == [0, 255, 0] and padded[5, 5].tolist() == [255, 0, 0]


# -- Image List Reader ----------------------------------------------------------------------
@pytest.fixture
def listed(tmp_path: Path) -> Path:
    for name in ("a1", "a2", "b1", "b2", "c1"):
        write(tmp_path / "images" / f"{name}.png", png_bytes(np.full((5, 5), 10 * len(name), np.uint8)))
    csv = tmp_path / "labels.csv"
    csv.write_text(
        "path,label,split\n"
        "images/a1.png,ant,train\nimages/b1.png,bee,train\nimages/a2.png,ant,test\n"
        f"{tmp_path / 'images' / 'b2.png'},bee,train\nimages/c1.png,cat,test\n\n"
    )
    return csv


def test_list_reader_reads_one_split_with_the_classes_of_the_whole_file(listed: Path) -> None:
    train = ImageListReaderNode({"csv_file": str(listed), "split_column": "split", "size": [5, 5]})
    test = ImageListReaderNode({"csv_file": str(listed), "split_column": "split", "split_value": "test",
                                "size": [5, 5]})
    assert train.configure({})["data"] == DatasetSpec((5, 5, 1), ("ant", "bee", "cat"), 3, (0.0, 255.0), from_files=True)
    assert test.configure({})["data"].count == 2
    data = run(train)[0]["data"]
    assert [Path(p).name for p in data.paths] == ["a1.png", "b1.png", "b2.png"]
    assert data.labels.tolist() == [0, 1, 1] and data.source == "labels.csv (train)"
    assert run(test)[0]["data"].labels.tolist() == [0, 2]
    everything = ImageListReaderNode({"csv_file": str(listed)}).configure({})["data"]
    assert everything.count == 5


def test_list_reader_sniffs_the_delimiter_and_sorts_numeric_labels(tmp_path: Path) -> None:
    for k in range(3):
        write(tmp_path / f"{k}.png", png_bytes(np.zeros((3, 3), np.uint8)))
    (tmp_path / "list.csv").write_text("file;digit\n0.png;10\n1.png;2\n2.png;9\n")
    node = ImageListReaderNode({"csv_file": str(tmp_path / "list.csv"), "path_column": "file",
                                "label_column": "digit"})
    assert node.configure({})["data"].class_names == ("2", "9", "10")


@pytest.mark.parametrize(
    ("csv_text", "node_settings", "expected"),
    [
        ("file,label\nimages/a1.png,ant\n", {},
         "labels.csv has no path column 'path' (its columns: file, label)"),
        ("path,label\nimages/a1.png,ant\nimages/zz.png,ant\nimages/yy.png,bee\n", {},
         "labels.csv lists 2 image files that do not exist (line 3: images/zz.png, line 4: images/yy.png); "
         "paths are taken from the CSV's folder"),
        ("path,label\nimages/a1.png,ant\nimages/b1.png,bird\n", {"classes": "ant, bee"},
         "labels.csv line 3: label 'bird' is not one of the classes (ant, bee)"),
        ("path,label,split\nimages/a1.png,ant,training\n", {"split_column": "split"},
         "labels.csv: no row has 'train' in the split column 'split' (its values: training)"),
        ("path,label\nimages/a1.png,\n", {}, "labels.csv line 2: the label column 'label' is empty"),
        ("", {}, "image list labels.csv is empty"),
    ],
)
def test_list_reader_refuses_bad_lists_in_one_line(
    listed: Path, csv_text: str, node_settings: dict[str, Any], expected: str
) -> None:
    listed.write_text(csv_text)
    with pytest.raises(DataError) as caught:
        ImageListReaderNode({"csv_file": str(listed), **node_settings}).configure({})
    message = str(caught.value)
    assert message.startswith(expected) and "\n" not in message


# -- relative paths ----------------------------------------------------------------------------
def test_relative_paths_resolve_against_the_workflow_file(tmp_path: Path, shapes: Path) -> None:
    project = shapes.parent
    workflow = Workflow()
    reader = workflow.add_node("neuroflow.data.image_folder_reader", settings={"folder": "shapes"}).id
    assert workflow.first_problem() is not None  # unsaved: relative to the current folder
    save(workflow, project / "study.workflow")
    assert workflow.first_problem() is None and workflow.nodes[reader].specs["data"].count == 11
    moved = tmp_path / "moved"
    moved.mkdir()
    (project / "shapes").rename(moved / "shapes")
    (project / "study.workflow").rename(moved / "study.workflow")
    reopened = load(moved / "study.workflow")
    assert reopened.first_problem() is None and reopened.nodes[reader].node["folder"] == "shapes"


def test_command_line_paths_are_taken_from_the_current_folder(tmp_path: Path, shapes: Path) -> None:
    workflow = Workflow()
    workflow.set_folder(tmp_path / "elsewhere")
    reader = workflow.add_node("neuroflow.data.image_folder_reader").id
    cwd = os.getcwd()
    os.chdir(shapes.parent)
    try:
        apply_override(workflow, f"{reader}.folder=shapes")
    finally:
        os.chdir(cwd)
    assert workflow.nodes[reader].node["folder"] == str(shapes)
    assert workflow.first_problem() is None


# -- data nodes on files ----------------------------------------------------------------------
def test_normalizer_and_partitioning_work_on_file_lists(shapes: Path) -> None:
    data = run(ImageFolderReaderNode({"folder": str(shapes), "color_mode": "rgb", "size": [4, 4]}))[0]["data"]
    scaled = run(NormalizerNode({"range": "-1..1"}), {"data": data})[0]["data"]
    assert isinstance(scaled, ImageFileDataset) and scaled.value_range == (-1.0, 1.0)
    assert scaled.paths is data.paths  # nothing loaded, nothing copied
    pixels = decoded(scaled)
    assert pixels.min() == -1.0 and pixels.max() == 1.0
    np.testing.assert_allclose(pixels, decoded(data) / 127.5 - 1.0, atol=1e-6)
    parts = run(PartitioningNode({"fraction": 0.4, "seed": 3}), {"data": scaled})[0]
    first, second = parts["first"], parts["second"]
    assert isinstance(first, ImageFileDataset) and (len(first), len(second)) == (4, 7)
    assert sorted(first.paths.tolist() + second.paths.tolist()) == sorted(data.paths.tolist())
    assert np.bincount(first.labels, minlength=3).tolist() == [1, 2, 1]  # stratified
    assert first.scale == scaled.scale and first.value_range == (-1.0, 1.0)


# -- the disk cache ---------------------------------------------------------------------------
def test_disk_cache_is_written_once_reused_and_renewed_when_files_change(shapes: Path, tmp_path: Path) -> None:
    from neuroflow.training.pipeline import file_pipeline

    folder = tmp_path / "cache"
    node = ImageFolderReaderNode({"folder": str(shapes), "color_mode": "rgb", "size": [8, 8], "cache": "disk",
                                  "cache_folder": str(folder)})
    data = run(node)[0]["data"]
    reports: list[str] = []
    first = np.concatenate([b.numpy() for b in file_pipeline(data, batch_size=4, progress=lambda f, m: reports.append(m))])
    index_files = sorted(folder.glob("*.index"))
    assert len(index_files) == 1 and reports[-1] == "caching decoded images: 11 of 11"
    assert not list(folder.glob("*.part-*"))
    stamp = index_files[0].stat().st_mtime_ns
    reports.clear()
    again = np.concatenate([b.numpy() for b in file_pipeline(data, batch_size=4, progress=lambda f, m: reports.append(m))])
    np.testing.assert_array_equal(first, again)
    assert reports == [] and index_files[0].stat().st_mtime_ns == stamp  # reused, not rewritten
    write(shapes / "blue" / "img0.png", png_bytes(flat((0, 0, 200), 10, 14)))
    changed = run(node)[0]["data"]
    np.concatenate([b.numpy() for b in file_pipeline(changed, batch_size=4)])
    assert len(list(folder.glob("*.index"))) == 2


def test_cancel_while_caching_leaves_no_partial_cache(shapes: Path, tmp_path: Path) -> None:
    from neuroflow.training.pipeline import file_pipeline

    folder = tmp_path / "cache"
    node = ImageFolderReaderNode({"folder": str(shapes), "size": [8, 8], "cache": "disk", "cache_folder": str(folder)})
    data = run(node)[0]["data"]
    token = CancelToken()

    def progress(fraction: float | None, message: str) -> None:
        token.cancel()
        token.raise_if_cancelled()

    with pytest.raises(Cancelled):
        file_pipeline(data, batch_size=4, progress=progress)
    assert list(folder.iterdir()) == []


# -- learning on files -----------------------------------------------------------------------
def colour_folder(root: Path, per_class: int, size: int = 12) -> Path:
    """Noisy images of three colours, as JPEG and PNG: an easy task a tiny network learns."""
    rng = np.random.default_rng(0)
    for name, rgb in COLOURS.items():
        for k in range(per_class):
            pixels = np.clip(flat(rgb, size, size).astype(int) + rng.integers(-40, 40, (size, size, 3)), 0, 255)
            data = png_bytes(pixels.astype(np.uint8)) if k % 2 else jpeg_bytes(pixels.astype(np.uint8))
            write(root / name / f"{k:03d}.{'png' if k % 2 else 'jpg'}", data)
    return root


def photo_workflow(folder: Path, **learner: Any) -> tuple[Workflow, dict[str, str]]:
    wf = Workflow()
    ids = {
        "reader": wf.add_node("neuroflow.data.image_folder_reader",
                              settings={"folder": str(folder), "size": [12, 12], "color_mode": "rgb"}).id,
        "norm": wf.add_node("neuroflow.data.normalizer").id,
        "split": wf.add_node("neuroflow.data.partitioning", settings={"fraction": 0.7}).id,
        "input": wf.add_node("neuroflow.layers.input", settings={"shape": [12, 12, 3]}).id,
        "conv": wf.add_node("neuroflow.layers.conv2d", settings={"filters": 4}).id,
        "flat": wf.add_node("neuroflow.layers.flatten").id,
        "dense": wf.add_node("neuroflow.layers.dense", settings={"units": 3, "activation": "softmax"}).id,
        "learner": wf.add_node("neuroflow.learning.learner",
                               settings={"epochs": 4, "batch_size": 8, "learning_rate": 0.01, **learner}).id,
        "executor": wf.add_node("neuroflow.learning.executor", settings={"batch_size": 5}).id,
        "scorer": wf.add_node("neuroflow.learning.scorer").id,
    }
    wf.connect(ids["reader"], "data", ids["norm"], "data")
    wf.connect(ids["norm"], "data", ids["split"], "data")
    for a, b in (("input", "conv"), ("conv", "flat"), ("flat", "dense"), ("dense", "learner")):
        wf.connect(ids[a], "network", ids[b], "network")
    wf.connect(ids["split"], "first", ids["learner"], "training")
    wf.connect(ids["learner"], "model", ids["executor"], "model")
    wf.connect(ids["split"], "second", ids["executor"], "images")
    wf.connect(ids["executor"], "predictions", ids["scorer"], "predictions")
    return wf, ids


@pytest.mark.slow
@pytest.mark.parametrize("cache", ["none", "memory"])
def test_a_network_learns_from_a_folder_and_predicts_in_order(tmp_path: Path, cache: str) -> None:
    wf, ids = photo_workflow(colour_folder(tmp_path / "colours", 20), class_weights="balanced")
    wf.set_setting(ids["reader"], "cache", cache)
    result = Executor(wf).run()
    assert result.ok, result
    trained = wf.nodes[ids["learner"]].outputs["model"]
    assert trained.history["accuracy"][-1] > 0.8
    predictions = wf.nodes[ids["executor"]].outputs["predictions"]
    assert len(predictions.predicted) == 18 and predictions.dataset.paths.shape == (18,)
    assert wf.nodes[ids["scorer"]].outputs["scores"].accuracy >= 0.9


@pytest.mark.slow
def test_an_image_that_cannot_be_decoded_is_named(tmp_path: Path) -> None:
    folder = colour_folder(tmp_path / "colours", 6)
    good = png_bytes(flat((1, 2, 3), 12, 12))
    start = good.index(b"IDAT") + 4
    broken = good[:start] + bytes(b ^ 0x5A for b in good[start:start + 20]) + good[start + 20:]
    path = write(folder / "red" / "zz-broken.png", broken)  # header and end intact: only decoding fails
    wf, ids = photo_workflow(folder)
    wf.set_setting(ids["reader"], "on_error", "fail")
    result = Executor(wf).run()
    message = result.failed[ids["learner"]] if ids["learner"] in result.failed else result.failed.get(ids["executor"])
    assert message == (
        f"{path} is not a readable image: the header looks right but the image data cannot be decoded; "
        "remove or replace the file, or let the reader skip unreadable images"
    )
    # the Network Executor names it the same way (the learner trained on the other images)
    wf.set_setting(ids["reader"], "on_error", "skip")
    assert Executor(wf).run().ok
    strict = dataclasses.replace(wf.nodes[ids["split"]].outputs["second"], on_error="fail")
    executor = wf.nodes[ids["executor"]].node
    model = wf.nodes[ids["learner"]].outputs["model"]
    broken_only = dataclasses.replace(strict, paths=np.array([str(path)], dtype=object), labels=np.array([0]))
    with pytest.raises(DataError) as caught:
        executor.execute({"model": model, "images": broken_only}, ExecutionContext("e", "Network Executor"))
    assert str(caught.value) == message


@pytest.mark.slow
def test_command_line_run_reports_the_files_it_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from neuroflow.cli import main

    folder = colour_folder(tmp_path / "colours", 8)
    write(folder / "blue" / "zz-empty.png", b"")
    wf, ids = photo_workflow(folder)
    wf.set_setting(ids["learner"], "epochs", 1)
    wf.set_setting(ids["reader"], "folder", "colours")  # relative to the workflow file
    save(wf, tmp_path / "photos.workflow")
    code = main(["run", str(tmp_path / "photos.workflow"), "--report", str(tmp_path / "report.json")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "skipped 1 unreadable image file of 25: zz-empty.png (empty file)" in err
    report = json.loads((tmp_path / "report.json").read_text())
    entry = report["datasets"][ids["reader"]]["data"]
    assert entry["images"] == 24 and entry["stored"] == "files" and entry["shape"] == [12, 12, 3]
    assert entry["skipped"] == [{"path": str((folder / "blue" / "zz-empty.png").resolve()), "reason": "empty file"}]
    assert report["scores"][ids["scorer"]]["count"] == 7


def test_a_size_mismatch_offers_the_reader_size_for_photos_only(tmp_path: Path) -> None:
    wf, ids = photo_workflow(colour_folder(tmp_path / "colours", 2))
    wf.set_setting(ids["input"], "shape", [16, 16, 3])
    assert wf.first_problem() == (
        f"'Network Learner' ({ids['learner']}): the training data has images of shape 12x12x3 (432 values) "
        "but the network input expects 16x16x3 (768 values); set the Input layer's shape to 12x12x3, "
        "or the reader's image size to 16x16"
    )
    mnist = Workflow()
    reader = mnist.add_node("neuroflow.data.mnist_reader", settings={"limit": 10}).id
    learner = mnist.add_node("neuroflow.learning.learner").id
    inp = mnist.add_node("neuroflow.layers.input", settings={"shape": [16, 16, 1]}).id
    flat = mnist.add_node("neuroflow.layers.flatten").id
    dense = mnist.add_node("neuroflow.layers.dense", settings={"units": 10, "activation": "softmax"}).id
    for a, b in ((inp, flat), (flat, dense), (dense, learner)):
        mnist.connect(a, "network", b, "network")
    mnist.connect(reader, "data", learner, "training")
    assert mnist.first_problem().endswith("set the Input layer's shape to 28x28x1")


def test_the_pipeline_reshapes_images_to_a_flat_network_input(shapes: Path) -> None:
    from neuroflow.training.pipeline import file_pipeline

    data = run(ImageFolderReaderNode({"folder": str(shapes), "color_mode": "grayscale", "size": [4, 4]}))[0]["data"]
    flat = np.concatenate([b.numpy() for b in file_pipeline(data, batch_size=5, input_shape=(16,))])
    assert flat.shape == (11, 16)
    np.testing.assert_array_equal(flat, decoded(data).reshape(11, 16))


def test_a_one_class_folder_is_told_it_needs_a_second_class(tmp_path: Path) -> None:
    folder = colour_folder(tmp_path / "colours", 4)
    for name in ("gray", "red"):
        for path in (folder / name).iterdir():
            path.unlink()
        (folder / name).rmdir()
    wf, ids = photo_workflow(folder)
    assert wf.first_problem() == (
        f"'Network Learner' ({ids['learner']}): the training data has only one class ('blue'); a "
        "classifier needs at least two to tell apart: give the reader images of another class too "
        "(an image folder needs one sub-folder per class, at least two)"
    )
    # following the advice leads on: a second class, then the output layer sized to two classes
    write(folder / "green" / "1.png", png_bytes(flat((0, 200, 0), 12, 12)))
    wf.set_setting(ids["reader"], "folder", str(folder))  # a setting change re-lists the folder
    assert wf.first_problem() == (
        f"'Network Learner' ({ids['learner']}): the network ends in 3 units but the training data has "
        "2 classes; set the last Dense layer to 2 units"
    )
    wf.set_setting(ids["dense"], "units", 2)
    assert wf.first_problem() is None


def test_named_pipes_among_photos_are_reported_not_waited_for(damaged: Path) -> None:
    pipe = damaged / "a" / "zz-pipe.png"
    os.mkfifo(pipe)
    with deadline(10):
        data = run(ImageFolderReaderNode({"folder": str(damaged), "size": [4, 4]}))[0]["data"]
        assert dict(data.skipped)[str(pipe)] == "a named pipe (FIFO), not an image file"
    clean = damaged.parent / "clean"
    for name in ("a", "b"):
        write(clean / name / "good.png", png_bytes(np.zeros((4, 4), np.uint8)))
    os.mkfifo(clean / "b" / "pipe.png")
    with deadline(10), pytest.raises(DataError) as caught:
        run(ImageFolderReaderNode({"folder": str(clean), "on_error": "fail"}))
    assert str(caught.value) == (
        f"cannot read image {clean / 'b' / 'pipe.png'}: a named pipe (FIFO), not an image file; remove "
        "it, or set 'unreadable files' to skip"
    )


def test_an_image_list_that_is_a_named_pipe_is_refused_at_once(listed: Path) -> None:
    pipe = listed.parent / "pipe.csv"
    os.mkfifo(pipe)
    with deadline(10), pytest.raises(DataError) as caught:
        ImageListReaderNode({"csv_file": str(pipe)}).configure({})
    assert str(caught.value) == f"{pipe} is a named pipe (FIFO); expected a CSV file listing images and labels"
    # a pipe listed in the CSV is found unreadable when the files are checked
    os.mkfifo(listed.parent / "images" / "z.png")
    listed.write_text(listed.read_text() + "images/z.png,cat,train\n")
    with deadline(10):
        data = run(ImageListReaderNode({"csv_file": str(listed), "split_column": "split", "size": [5, 5]}))[0]["data"]
    assert [(Path(p).name, reason) for p, reason in data.skipped] == [("z.png", "a named pipe (FIFO), not an image file")]


def test_a_class_folder_that_links_far_away_is_refused_not_walked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from neuroflow.datasets import image_folder

    deep = tmp_path / "photos" / "cats"
    for level in range(5):
        deep = deep / f"d{level}"
    write(deep / "a.png", png_bytes(np.zeros((4, 4), np.uint8)))
    monkeypatch.setattr(image_folder, "MAX_DEPTH", 3)
    with pytest.raises(DataError, match="nests folders more than 3 deep"):
        ImageFolderReaderNode({"folder": str(tmp_path / "photos")}).configure({})


def test_the_writer_says_which_file_is_in_the_way_of_its_folder(tmp_path: Path) -> None:
    from neuroflow.nodes.learning.writer import create_folder

    (tmp_path / "out").write_text("a file, not a folder")
    with pytest.raises(DataError, match=r"cannot create the folder .*out/models: .*out is a file"):
        create_folder(tmp_path / "out" / "models")
