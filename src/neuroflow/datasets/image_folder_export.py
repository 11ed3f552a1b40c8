"""Write MNIST or Fashion-MNIST as a folder of JPEG files, one sub-folder per class.

Tests, benchmarks and users need image folders of a known size and content for the Image
Folder Reader (and an image list with ``labels.csv``) without collecting photos. This module
makes them from the MNIST family: the images of each class are picked with a seed, resized to
N x N and written as ``OUT/<class>/<nnnnn>.jpg`` - as 1-component grayscale JPEGs, or as real
colour images (3 components) where each image gets its own seeded foreground and background
hue, so that a colour pipeline has colour to learn from.

Qt's ``QImage`` (PySide6, already a dependency) resizes and encodes: it needs no display and no
application object, starts in a tenth of a second where TensorFlow takes seconds, and releases
the GIL while it works, so a few threads use every core. The folder is written under a
temporary name beside ``OUT`` and renamed when complete, so a failure never leaves half a set.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neuroflow.core.errors import DataError, SettingError

from .mnist import COLLECTIONS, PendingDownload, fetch_split, inspect_split, load_split, plan_split

COLORS = ("rgb", "grayscale")
SPLITS = ("train", "test")
MIN_SIZE, MAX_SIZE = 8, 4096
CSV_NAME = "labels.csv"
#: ``progress(fraction or None, message)``: downloading, then writing.
Progress = Callable[[float | None, str], None]


@dataclass(frozen=True)
class ExportSummary:
    """What :func:`export_image_folder` wrote."""

    folder: Path
    count: int
    class_names: tuple[str, ...]
    folder_names: tuple[str, ...]
    size: int
    color: str
    seconds: float
    csv_path: Path | None = None

    def line(self) -> str:
        per_class = self.count // max(len(self.class_names), 1)
        csv_text = f" and {self.csv_path.name}" if self.csv_path else ""
        return (
            f"wrote {self.count:,} images ({len(self.class_names)} classes x {per_class:,}, "
            f"{self.size}x{self.size} {self.color} JPEG){csv_text} to {self.folder} in {self.seconds:.1f} s"
        )


def safe_folder_names(class_names: Sequence[str]) -> tuple[str, ...]:
    """File-system-safe, distinct folder names: ``"T-shirt/top"`` becomes ``"T-shirt_top"``."""
    names: list[str] = []
    for index, name in enumerate(class_names):
        safe = re.sub(r"[^A-Za-z0-9._ -]+", "_", name).strip(" .") or f"class_{index}"
        candidate, number = safe, 2
        while candidate.lower() in (n.lower() for n in names):  # case-insensitive file systems too
            candidate, number = f"{safe}_{number}", number + 1
        names.append(candidate)
    return tuple(names)


def export_image_folder(
    out: str | Path,
    *,
    dataset: str = "digits",
    size: int = 28,
    color: str = "rgb",
    per_class: int = 100,
    split: str = "train",
    seed: int = 0,
    write_csv: bool = False,
    quality: int = 90,
    workers: int | None = None,
    progress: Progress | None = None,
) -> ExportSummary:
    """Write ``per_class`` images of each class of ``dataset`` as JPEG files under ``out``.

    The dataset is found where the MNIST Reader finds it (downloaded like the reader does when
    missing). ``seed`` picks the images and, for ``color="rgb"``, their colours: the same
    arguments write the same bytes. ``write_csv`` adds ``out/labels.csv`` (``path,label,split``,
    paths relative to the CSV, labels the original class names). ``out`` must not exist or be
    an empty folder. Bad arguments raise :class:`SettingError`, data problems :class:`DataError`.
    """
    started = time.perf_counter()
    target = Path(out).expanduser()
    _check_arguments(target, dataset, size, color, per_class, split, quality)
    collection = COLLECTIONS[dataset]
    plan = plan_split(collection, split, "", download=True)
    if isinstance(plan, PendingDownload):
        plan = fetch_split(plan, progress=progress)
    info = inspect_split(plan)
    images, labels = load_split(info)
    rng = np.random.default_rng(seed)
    chosen = _choose(labels, per_class, collection.class_names, f"{collection.title} {split}", rng)
    pixels = images[chosen, :, :, 0]
    tints = draw_tints(len(chosen), rng) if color == "rgb" else None
    folder_names = safe_folder_names(collection.class_names)
    digits = max(5, len(str(per_class - 1)))
    relative = [
        f"{folder_names[labels[index]]}/{rank % per_class:0{digits}d}.jpg" for rank, index in enumerate(chosen)
    ]

    staging = target.with_name(f".{target.name}.part-{uuid.uuid4().hex[:8]}")
    try:
        for name in folder_names:
            (staging / name).mkdir(parents=True)
        _encode_all(pixels, tints, [staging / path for path in relative], size, quality, workers, progress)
        csv_path = None
        if write_csv:
            csv_path = staging / CSV_NAME
            with open(csv_path, "w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow(("path", "label", "split"))
                for path, index in zip(relative, chosen, strict=True):
                    writer.writerow((path, collection.class_names[labels[index]], split))
        if target.exists():
            target.rmdir()  # checked empty above; os.replace cannot rename onto a folder
        os.replace(staging, target)
    except OSError as exc:
        raise DataError(f"cannot write the image folder {target}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ExportSummary(
        target, len(chosen), collection.class_names, folder_names, size, color,
        time.perf_counter() - started, target / CSV_NAME if write_csv else None,
    )


def _check_arguments(
    target: Path, dataset: str, size: int, color: str, per_class: int, split: str, quality: int
) -> None:
    if dataset not in COLLECTIONS:
        raise SettingError(f"dataset: expected one of {', '.join(COLLECTIONS)}, got {dataset!r}", setting="dataset")
    if color not in COLORS:
        raise SettingError(f"color: expected one of {', '.join(COLORS)}, got {color!r}", setting="color")
    if split not in SPLITS:
        raise SettingError(f"split: expected one of {', '.join(SPLITS)}, got {split!r}", setting="split")
    for name, value, low, high in (("size", size, MIN_SIZE, MAX_SIZE), ("quality", quality, 1, 100)):
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise SettingError(f"{name}: expected an integer from {low} to {high}, got {value!r}", setting=name)
    if not isinstance(per_class, int) or isinstance(per_class, bool) or per_class < 1:
        raise SettingError(f"per-class: expected an integer of at least 1, got {per_class!r}", setting="per_class")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        what = "is not empty" if target.is_dir() else "is a file"
        raise SettingError(f"output folder {target} {what}; name a new or empty folder", setting="out")


def _choose(
    labels: np.ndarray, per_class: int, class_names: Sequence[str], what: str, rng: np.random.Generator
) -> np.ndarray:
    """Sample indices, ``per_class`` of each class (in file order within a class), class by class."""
    counts = np.bincount(labels, minlength=len(class_names))
    smallest = int(np.argmin(counts))
    if counts[smallest] < per_class:
        raise SettingError(
            f"per-class: {what} has at most {counts[smallest]:,} images per class (class "
            f"{class_names[smallest]!r}), asked for {per_class:,}",
            setting="per_class",
        )
    picked = [
        np.sort(rng.choice(np.flatnonzero(labels == label), per_class, replace=False))
        for label in range(len(class_names))
    ]
    return np.concatenate(picked)


def draw_tints(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A foreground and a background colour per image, ``(count, 3)`` each in [0, 1].

    The foreground is bright and saturated, the background darker and of another hue (a
    quarter to three quarters of the colour wheel away), so shapes stay as visible as in the
    grayscale original while every image has its own colours.
    """
    hue = rng.random(count)
    background_hue = (hue + rng.uniform(0.25, 0.75, count)) % 1.0
    foreground = _hsv_to_rgb(hue, rng.uniform(0.55, 1.0, count), rng.uniform(0.8, 1.0, count))
    background = _hsv_to_rgb(background_hue, rng.uniform(0.4, 0.9, count), rng.uniform(0.1, 0.45, count))
    return foreground, background


def apply_tints(gray: np.ndarray, foreground: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Grayscale ``(N, H, W)`` uint8 to colour ``(N, H, W, 3)`` uint8: 0 is the background, 255 the foreground."""
    alpha = gray.astype(np.float32)[..., None] / 255.0
    blended = background[:, None, None, :] + alpha * (foreground - background)[:, None, None, :]
    return np.clip(np.rint(blended * 255.0), 0, 255).astype(np.uint8)


def colorize(gray: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Tint grayscale images ``(N, H, W)`` into colour ``(N, H, W, 3)`` uint8 with colours from ``rng``."""
    return apply_tints(gray, *draw_tints(len(gray), rng))


def _hsv_to_rgb(hue: np.ndarray, saturation: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Vectorised HSV to RGB in [0, 1], ``(N,)`` each -> ``(N, 3)``."""
    sector = np.floor(hue * 6.0)
    f = hue * 6.0 - sector
    p, q, t = value * (1 - saturation), value * (1 - f * saturation), value * (1 - (1 - f) * saturation)
    sector = sector.astype(np.int64) % 6
    choices = [
        np.stack(channels, axis=-1)
        for channels in ((value, t, p), (q, value, p), (p, value, t), (p, q, value), (t, p, value), (value, p, q))
    ]
    return np.select([(sector == k)[:, None] for k in range(6)], choices).astype(np.float32)


def _encode_all(
    gray: np.ndarray, tints: tuple[np.ndarray, np.ndarray] | None, paths: Sequence[Path], size: int,
    quality: int, workers: int | None, progress: Progress | None,
) -> None:
    """Tint, resize and write every image as JPEG with Qt, on a few threads.

    QImage releases the GIL while it scales and encodes, and so does numpy while it tints, so
    the threads use every core; tinting a chunk at a time keeps memory flat.
    """
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage

    image_format = QImage.Format.Format_Grayscale8 if tints is None else QImage.Format.Format_RGB888
    height, width = gray.shape[1:3]
    line_bytes = width * (1 if tints is None else 3)

    def write(start: int, stop: int) -> None:
        chunk = gray[start:stop]
        if tints is not None:
            chunk = apply_tints(chunk, tints[0][start:stop], tints[1][start:stop])
        for offset, pixels in enumerate(chunk):
            image = QImage(pixels.tobytes(), width, height, line_bytes, image_format)
            if (width, height) != (size, size):
                image = image.scaled(
                    size, size, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation
                )
            # PySide6 takes the format as text at run time; its stubs say bytes, which it refuses
            if not image.save(str(paths[start + offset]), "JPEG", quality):  # type: ignore[call-overload]
                raise DataError(f"cannot write {paths[start + offset]} (Qt's JPEG writer failed)")

    count = len(paths)
    threads = max(1, workers if workers is not None else min(os.cpu_count() or 1, 8))
    step = 500  # images per task: progress and errors come back often enough
    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(write, start, min(start + step, count)) for start in range(0, count, step)]
        for done, future in enumerate(futures, start=1):
            future.result()
            if progress is not None:
                progress(min(done * step, count) / count, f"wrote {min(done * step, count):,} of {count:,} images")
