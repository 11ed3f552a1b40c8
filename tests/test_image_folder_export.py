"""tools/make_image_folder.py and its core, export_image_folder: JPEG class folders from MNIST."""

from __future__ import annotations

import csv
import importlib.util
import re
import shutil
import struct
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from neuroflow.core.errors import SettingError
from neuroflow.datasets.image_folder_export import export_image_folder, safe_folder_names
from neuroflow.datasets.mnist import DIGITS, FASHION, inspect_split, load_split, locate_split

REPO = Path(__file__).resolve().parents[1]
SIBLING_FASHION = REPO.parent / "shared" / "data" / "fashion-mnist"


def jpeg_frame(path: Path) -> tuple[int, int, int]:
    """(height, width, components) from a JPEG's start-of-frame segment."""
    data = path.read_bytes()
    assert data[:2] == b"\xff\xd8", path
    position = 2
    while position < len(data):
        marker, length = data[position + 1], struct.unpack(">H", data[position + 2:position + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width, components = struct.unpack(">HHB", data[position + 5:position + 10])
            return height, width, components
        position += 2 + length
    raise AssertionError(f"no frame header in {path}")


def decode(path: Path) -> np.ndarray:
    """Pixels (H, W, 3) uint8 of a JPEG, read back with Qt."""
    from PySide6.QtGui import QImage

    image = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB888)
    assert not image.isNull(), path
    line = image.bytesPerLine()
    raw = np.frombuffer(bytes(image.constBits()), np.uint8).reshape(image.height(), line)
    return raw[:, : image.width() * 3].reshape(image.height(), image.width(), 3)


def listing(folder: Path) -> dict[str, list[str]]:
    return {d.name: sorted(f.name for f in d.iterdir()) for d in sorted(folder.iterdir()) if d.is_dir()}


@pytest.mark.parametrize(("color", "components"), [("rgb", 3), ("grayscale", 1)])
def test_writes_class_folders_of_resized_jpegs_and_the_csv(tmp_path: Path, color: str, components: int) -> None:
    out = tmp_path / "digits"
    summary = export_image_folder(out, dataset="digits", size=32, color=color, per_class=3, write_csv=True)
    assert listing(out) == {str(d): ["00000.jpg", "00001.jpg", "00002.jpg"] for d in range(10)}
    for jpeg in out.glob("*/*.jpg"):
        assert jpeg_frame(jpeg) == (32, 32, components)
    with open(out / "labels.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["path", "label", "split"] and len(rows) == 31
    assert {row[0] for row in rows[1:]} == {p.relative_to(out).as_posix() for p in out.glob("*/*.jpg")}
    assert all(row[1] == row[0].split("/")[0] and row[2] == "train" for row in rows[1:])
    assert summary.count == 30 and summary.csv_path == out / "labels.csv"
    assert re.fullmatch(
        rf"wrote 30 images \(10 classes x 3, 32x32 {color} JPEG\) and labels.csv to {re.escape(str(out))} in \d+\.\d s",
        summary.line(),
    )
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left


def test_rgb_images_are_coloured_each_in_its_own_tint(tmp_path: Path) -> None:
    export_image_folder(tmp_path / "c", dataset="digits", size=32, color="rgb", per_class=3, seed=5)
    pixels = [decode(p).astype(int) for p in sorted((tmp_path / "c").glob("*/*.jpg"))]
    for image in pixels:  # far from gray: the channels differ clearly
        spread = image.max(axis=2) - image.min(axis=2)
        assert spread.mean() > 25
    corners = np.array([image[:3, :3].reshape(-1, 3).mean(axis=0) for image in pixels])  # the background
    assert len({tuple(np.round(c / 32)) for c in corners}) > 10  # many different background colours


def test_grayscale_images_are_the_datasets_images_of_their_class(tmp_path: Path) -> None:
    export_image_folder(tmp_path / "g", dataset="digits", split="test", size=28, color="grayscale",
                        per_class=2, quality=100, seed=3)
    images, labels = load_split(inspect_split(locate_split(DIGITS, "test")))
    flat = images.reshape(len(images), -1).astype(np.int16)
    for jpeg in (tmp_path / "g").glob("*/*.jpg"):
        pixels = decode(jpeg)[..., 0].reshape(-1).astype(np.int16)
        errors = np.abs(flat - pixels).mean(axis=1)
        best = int(np.argmin(errors))
        assert errors[best] < 2.0 and str(labels[best]) == jpeg.parent.name


def test_the_seed_decides_images_and_colours(tmp_path: Path) -> None:
    def files(name: str, seed: int) -> dict[str, bytes]:
        export_image_folder(tmp_path / name, dataset="digits", size=16, color="rgb", per_class=2, seed=seed)
        return {p.relative_to(tmp_path / name).as_posix(): p.read_bytes() for p in (tmp_path / name).glob("*/*.jpg")}

    first, again, other = files("a", 1), files("b", 1), files("c", 2)
    assert first == again
    assert sum(first[key] != other[key] for key in first) == len(first)


def test_class_names_are_made_safe_for_file_names() -> None:
    assert safe_folder_names(FASHION.class_names)[0] == "T-shirt_top"
    assert safe_folder_names(("a/b", "a:b", "A?b", "..", "ok")) == ("a_b", "a_b_2", "A_b_3", "class_3", "ok")


def test_fashion_is_found_the_standard_way_and_its_labels_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
    if not all((SIBLING_FASHION / name).is_file() for name in names):
        pytest.skip("the Fashion-MNIST files are not beside the repository")
    data = tmp_path / "data" / "fashion-mnist"
    data.mkdir(parents=True)
    for name in names:
        shutil.copyfile(SIBLING_FASHION / name, data / name)
    monkeypatch.setenv("NEUROFLOW_DATA", str(tmp_path / "data"))
    out = tmp_path / "fashion"
    export_image_folder(out, dataset="fashion", split="test", size=32, color="grayscale", per_class=1,
                        write_csv=True)
    assert sorted(listing(out)) == sorted(safe_folder_names(FASHION.class_names))
    rows = list(csv.reader(open(out / "labels.csv", newline="")))
    assert ["T-shirt_top/00000.jpg", "T-shirt/top", "test"] in rows


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"size": 4}, "size: expected an integer from 8 to 4096, got 4"),
        ({"quality": 0}, "quality: expected an integer from 1 to 100, got 0"),
        ({"per_class": 0}, "per-class: expected an integer of at least 1, got 0"),
        ({"color": "sepia"}, "color: expected one of rgb, grayscale, got 'sepia'"),
        ({"split": "test", "per_class": 1000}, "per-class: MNIST test has at most 892 images per class (class '5'), asked for 1,000"),
    ],
)
def test_bad_arguments_are_one_line_and_write_nothing(tmp_path: Path, arguments: dict[str, Any], message: str) -> None:
    settings = {"dataset": "digits", "size": 16, "color": "rgb", "per_class": 1, **arguments}
    with pytest.raises(SettingError) as caught:
        export_image_folder(tmp_path / "out", **settings)
    assert str(caught.value) == message
    assert list(tmp_path.iterdir()) == []


def test_a_non_empty_output_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(SettingError, match=f"output folder {re.escape(str(tmp_path))} is not empty; name a new"):
        export_image_folder(tmp_path, dataset="digits", size=16, color="rgb", per_class=1)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def tool(monkeypatch: pytest.MonkeyPatch) -> Any:
    path = REPO / "tools" / "make_image_folder.py"
    spec = importlib.util.spec_from_file_location("make_image_folder", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module


def test_the_tool_prints_one_summary_line_and_one_line_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    make = tool(monkeypatch)
    out = tmp_path / "set"
    assert make.main([str(out), "--dataset", "digits", "--size", "24", "--color", "grayscale",
                      "--per-class", "2", "--split", "test", "--csv", "--quality", "80"]) == 0
    stdout, stderr = capsys.readouterr()
    assert stderr == "" and len(stdout.splitlines()) == 1
    assert stdout.startswith(f"wrote 20 images (10 classes x 2, 24x24 grayscale JPEG) and labels.csv to {out} in ")
    assert jpeg_frame(out / "7" / "00001.jpg") == (24, 24, 1)

    assert make.main([str(out), "--dataset", "digits", "--size", "24", "--color", "rgb", "--per-class", "2"]) == 1
    assert capsys.readouterr().err == f"make_image_folder: error: output folder {out} is not empty; name a new or empty folder\n"
    with pytest.raises(SystemExit) as stopped:
        make.main([str(tmp_path / "x"), "--dataset", "letters", "--size", "24", "--color", "rgb", "--per-class", "2"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("make_image_folder: error: argument --dataset: invalid choice")
