"""Turning a list of labelled image files into a file-backed dataset (shared by the readers).

Readers of photos (a folder per class, a CSV list) differ only in how they find files and
labels. What follows is the same for all and lives here: choosing grayscale or colour when the
user asked for "auto" (from the headers of a sample of the files), checking every file before
training (:mod:`.image_files`: header and end, no decoding) and either skipping the unreadable
ones with a report or refusing them, and building the
:class:`~neuroflow.core.data.ImageFileDataset` that the ``tf.data`` pipeline decodes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neuroflow.core.data import ImageFileDataset
from neuroflow.core.errors import DataError

from .image_files import UnreadableImage, probe, probe_many

#: Files whose headers decide "auto" colour: spread evenly over the list.
COLOR_SAMPLE = 24
VALUE_RANGE = (0.0, 255.0)
#: Skipped files named in a reader's warning (all of them are in the dataset and its view).
NAMED_IN_WARNING = 3

Progress = Callable[[float | None, str], None]


@dataclass(frozen=True)
class DecodeOptions:
    """How a reader decodes its images; the settings every photo reader shares."""

    color_mode: str  # "auto", "grayscale" or "rgb"
    size: tuple[int, int]
    resize_mode: str
    on_error: str  # "skip" or "fail"
    cache: str
    cache_folder: str = ""


def channels_for(color_mode: str, paths: Sequence[str]) -> int:
    """1 or 3: as asked, or for "auto" 3 when any sampled image is colour, else 1."""
    if color_mode == "grayscale":
        return 1
    if color_mode == "rgb":
        return 3
    if not paths:
        return 3
    step = max(1, len(paths) // COLOR_SAMPLE)
    readable = 0
    for path in list(paths)[::step][:COLOR_SAMPLE]:
        try:
            info = probe(path)
        except UnreadableImage:
            continue
        readable += 1
        if info.channels == 3:
            return 3
    return 1 if readable else 3


def check_files(
    paths: Sequence[str], labels: np.ndarray, *, on_error: str, progress: Progress | None = None
) -> tuple[list[str], np.ndarray, list[tuple[str, str]]]:
    """The readable files and their labels, and the skipped ones with reasons.

    With ``on_error`` "fail", any unreadable file is a :class:`DataError` naming it; with
    "skip", only a dataset where nothing is readable is.
    """
    total = len(paths)

    def report(done: int) -> None:
        if progress is not None:
            progress(done / max(total, 1), f"checked {done:,} of {total:,} image files")

    results = probe_many(list(paths), progress=report)
    bad = [(path, result) for path, result in zip(paths, results, strict=True) if isinstance(result, str)]
    if bad and on_error == "fail":
        path, reason = bad[0]
        more = f" (and {len(bad) - 1:,} more unreadable files)" if len(bad) > 1 else ""
        raise DataError(
            f"cannot read image {path}: {reason}{more}; remove it, or set 'unreadable files' to skip"
        )
    if bad and len(bad) == total:
        path, reason = bad[0]
        raise DataError(f"none of the {total:,} images can be read, e.g. {path}: {reason}")
    keep = np.fromiter((not isinstance(r, str) for r in results), dtype=bool, count=total)
    kept = [path for path, ok in zip(paths, keep, strict=True) if ok]
    return kept, np.asarray(labels)[keep], bad


def build_dataset(
    paths: Sequence[str],
    labels: np.ndarray,
    class_names: tuple[str, ...],
    options: DecodeOptions,
    *,
    source: str,
    progress: Progress | None = None,
    warn: Callable[[str], None] | None = None,
) -> ImageFileDataset:
    """Check the files and describe them as a dataset (decoding happens later, while training)."""
    channels = channels_for(options.color_mode, paths)
    kept, kept_labels, skipped = check_files(paths, labels, on_error=options.on_error, progress=progress)
    if skipped and warn is not None:
        warn(skipped_message(skipped, len(paths)))
    height, width = options.size
    return ImageFileDataset(
        paths=np.array(kept, dtype=object),
        labels=kept_labels.astype(np.int64),
        class_names=class_names,
        image_shape=(int(height), int(width), channels),
        resize_mode=options.resize_mode,
        value_range=VALUE_RANGE,
        cache=options.cache,
        cache_folder=options.cache_folder,
        on_error=options.on_error,
        source=source,
        skipped=tuple(skipped),
    )


def skipped_message(skipped: Sequence[tuple[str, str]], total: int) -> str:
    """One line: how many files were skipped, and the first few with their reasons."""
    named = ", ".join(f"{Path(path).name} ({reason})" for path, reason in skipped[:NAMED_IN_WARNING])
    more = f" and {len(skipped) - NAMED_IN_WARNING:,} more" if len(skipped) > NAMED_IN_WARNING else ""
    noun = "file" if len(skipped) == 1 else "files"
    return f"skipped {len(skipped):,} unreadable image {noun} of {total:,}: {named}{more}"
