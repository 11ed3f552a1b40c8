"""``tf.data`` pipelines for images that live in files.

A file-backed dataset (:class:`~neuroflow.core.data.ImageFileDataset`) reaches Keras through
one pipeline, the standard one for data that does not fit in memory::

    file names + targets -> shuffle -> decode and resize (parallel) -> [cache] -> batch
    -> scale -> prefetch

* Only file names are shuffled when there is no cache, so every epoch is a full random
  permutation and memory holds strings, not images.
* Decoding runs on all cores (``AUTOTUNE``); each image becomes uint8 at the dataset's size:
  stretched, centre-cropped or padded (antialiased when shrunk; untouched when it already has
  the size).
* The optional cache keeps decoded uint8 images (a quarter of float32) in memory, or in files
  on disk that a second run reuses. A disk cache is written completely in a pass of its own
  before training and only then renamed into place, so a cancelled or crashed run never leaves
  a partial cache that a later run would take for a whole one; its name is a digest of the
  file list (names, sizes, modification times) and the decode settings, so any change to the
  data makes a new one. With a cache the file order is permuted once (from the seed) before
  caching and then mixed in a shuffle buffer each epoch.
* Scaling (the Normalizer's ``value * scale + offset``) happens after the cache, so the cache
  is shared by every normalisation.

Peak memory depends on the batch, the prefetch depth and the shuffle buffer - not on the
number of images. TensorFlow is imported when a pipeline is built, never at import time.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neuroflow.core.data import ImageFileDataset
from neuroflow.core.errors import Cancelled, DataError

#: Decoded images held for mixing when a cache fixes the file order (see the module docstring).
SHUFFLE_BUFFER = 2048
#: Version of the cache layout; part of every cache name.
CACHE_VERSION = 1
Progress = Callable[[float | None, str], None]


def default_cache_folder() -> Path:
    """``$NEUROFLOW_CACHE`` or ``~/.cache/neuroflow`` (``$XDG_CACHE_HOME`` honoured), + ``images``."""
    if os.environ.get("NEUROFLOW_CACHE"):
        return Path(os.environ["NEUROFLOW_CACHE"]).expanduser() / "images"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "neuroflow" / "images"


def file_pipeline(
    dataset: ImageFileDataset,
    *,
    batch_size: int,
    targets: np.ndarray | None = None,
    shuffle: bool = False,
    seed: int = 0,
    input_shape: Sequence[int] | None = None,
    drop_remainder: bool = False,
    progress: Progress | None = None,
) -> Any:
    """A batched ``tf.data.Dataset`` of images, or of (image, target) pairs with ``targets``.

    ``input_shape`` reshapes each image to the network's input (same number of values).
    A disk cache that does not exist yet is written first, reporting to ``progress``.
    """
    import tensorflow as tf

    count = len(dataset)
    order = np.arange(count)
    cached = dataset.cache != "none"
    if cached and shuffle:
        order = np.random.default_rng(seed).permutation(count)
    paths = np.asarray(dataset.paths, dtype=object)[order].astype(str)
    columns: list[Any] = []
    if targets is not None:
        columns.append(np.asarray(targets)[order])

    decode = decoder(dataset)
    if cached:
        # Cached elements are (position, image): targets are looked up by position afterwards,
        # so an image skipped as undecodable can never shift the labels of those after it.
        images = tf.data.Dataset.from_tensor_slices((np.arange(count, dtype=np.int64), paths))
        images = images.map(lambda i, p: (i, decode(p)), num_parallel_calls=tf.data.AUTOTUNE)
        images = _skip_errors(images, dataset)
        if dataset.cache == "memory":
            images = images.cache()
        else:
            images = images.cache(str(ensure_disk_cache(dataset, paths, progress)))
        if shuffle:
            images = images.shuffle(min(SHUFFLE_BUFFER, max(count, 1)), seed=seed, reshuffle_each_iteration=True)
        tables = [tf.constant(column) for column in columns]
        data = images.map(lambda i, image: (image, *(tf.gather(t, i) for t in tables)) if tables else image,
                          num_parallel_calls=tf.data.AUTOTUNE)
    else:
        names = tf.data.Dataset.from_tensor_slices(paths)
        data = names if not columns else tf.data.Dataset.zip((names, *map(_slices, columns)))
        if shuffle:
            data = data.shuffle(max(count, 1), seed=seed, reshuffle_each_iteration=True)
        data = data.map(_first(decode), num_parallel_calls=tf.data.AUTOTUNE)
        data = _skip_errors(data, dataset)
    # Scaling whole batches is one vectorised operation instead of one per image.
    data = data.batch(batch_size, drop_remainder=drop_remainder)
    data = data.map(_first(scaler(dataset, input_shape)), num_parallel_calls=tf.data.AUTOTUNE)
    return data.prefetch(tf.data.AUTOTUNE)


def decoder(dataset: ImageFileDataset) -> Callable[[Any], Any]:
    """A graph function: file path -> uint8 image of ``dataset.image_shape``."""
    import tensorflow as tf

    height, width, channels = (int(d) for d in dataset.image_shape)
    mode = dataset.resize_mode

    def to_uint8(image: Any) -> Any:
        return tf.cast(tf.clip_by_value(tf.round(image), 0.0, 255.0), tf.uint8)

    def resize(image: Any) -> Any:
        if mode == "pad":
            return to_uint8(tf.image.resize_with_pad(image, height, width, antialias=True))
        if mode == "crop":
            shape = tf.shape(image)
            h, w = shape[0], shape[1]
            # The largest centred window with the target's aspect ratio.
            crop_h = tf.minimum(h, tf.cast(tf.round(tf.cast(w * height, tf.float32) / width), tf.int32))
            crop_w = tf.minimum(w, tf.cast(tf.round(tf.cast(h * width, tf.float32) / height), tf.int32))
            crop_h, crop_w = tf.maximum(crop_h, 1), tf.maximum(crop_w, 1)
            image = tf.image.crop_to_bounding_box(image, (h - crop_h) // 2, (w - crop_w) // 2, crop_h, crop_w)
        return to_uint8(tf.image.resize(image, (height, width), method="bilinear", antialias=True))

    def decode(path: Any) -> Any:
        image = tf.io.decode_image(tf.io.read_file(path), channels=channels, dtype=tf.uint8,
                                   expand_animations=False)
        image.set_shape([None, None, channels])
        size = tf.shape(image)[:2]
        same = tf.logical_and(tf.equal(size[0], height), tf.equal(size[1], width))
        image = tf.cond(same, lambda: image, lambda: resize(image))
        image.set_shape([height, width, channels])
        return image

    return decode


def scaler(dataset: ImageFileDataset, input_shape: Sequence[int] | None = None) -> Callable[[Any], Any]:
    """A graph function: a batch of uint8 images -> float32 ``value * scale + offset``, each image
    reshaped to fit the network's input."""
    import tensorflow as tf

    scale, offset = np.float32(dataset.scale), np.float32(dataset.offset)
    target = tuple(int(d) for d in input_shape) if input_shape is not None else None
    reshape = target is not None and target != dataset.shape

    def scaled(image: Any) -> Any:
        values = tf.cast(image, tf.float32)
        if scale != 1.0:
            values = values * scale
        if offset != 0.0:
            values = values + offset
        return tf.reshape(values, (-1, *target)) if reshape and target is not None else values

    return scaled


def ensure_disk_cache(dataset: ImageFileDataset, paths: np.ndarray, progress: Progress | None = None) -> Path:
    """The prefix of a complete disk cache of ``paths`` decoded; written first if missing."""
    import tensorflow as tf

    folder = Path(dataset.cache_folder).expanduser() if dataset.cache_folder else default_cache_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create the image cache folder {folder}: {exc.strerror or exc}") from None
    prefix = folder / cache_name(dataset, paths)
    if Path(f"{prefix}.index").is_file():
        return prefix
    temp = folder / f"{prefix.name}.part-{uuid.uuid4().hex[:8]}"
    total = len(paths)
    decode = decoder(dataset)
    images = tf.data.Dataset.from_tensor_slices((np.arange(total, dtype=np.int64), paths))
    images = images.map(lambda i, p: (i, decode(p)), num_parallel_calls=tf.data.AUTOTUNE)
    images = _skip_errors(images, dataset).cache(str(temp)).batch(256).prefetch(2)
    done = 0
    try:
        for positions, _batch in images:
            done += int(positions.shape[0])
            if progress is not None:
                progress(done / max(total, 1), f"caching decoded images: {done:,} of {total:,}")
        for part in folder.glob(f"{temp.name}*"):
            part.replace(folder / part.name.replace(temp.name, prefix.name, 1))
    except (Cancelled, KeyboardInterrupt):
        _remove(folder, temp.name)
        raise
    except tf.errors.OpError as exc:
        _remove(folder, temp.name)
        raise decode_failure(dataset, exc) from None
    except BaseException:
        _remove(folder, temp.name)
        raise
    return prefix


def cache_name(dataset: ImageFileDataset, paths: np.ndarray) -> str:
    """A digest of the file list (names, sizes, modification times) and the decode settings."""
    digest = hashlib.sha256()
    digest.update(f"v{CACHE_VERSION} {dataset.image_shape} {dataset.resize_mode} {dataset.on_error}\n".encode())
    for path in paths:
        try:
            stat = os.stat(path)
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode("utf-8", "surrogateescape"))
        except OSError:
            digest.update(f"{path}\0missing\n".encode("utf-8", "surrogateescape"))
    height, width, channels = dataset.image_shape
    return f"{len(paths)}-{height}x{width}x{channels}-{digest.hexdigest()[:24]}"


def find_undecodable(dataset: ImageFileDataset, limit: int = 5) -> list[str]:
    """The first ``limit`` files of ``dataset`` that TensorFlow cannot decode (a full pass)."""
    import tensorflow as tf

    indices = np.arange(len(dataset))
    paths = np.asarray(dataset.paths, dtype=object).astype(str)
    decode = decoder(dataset)
    data = tf.data.Dataset.from_tensor_slices((indices, paths))
    data = data.map(lambda i, p: (i, decode(p)), num_parallel_calls=tf.data.AUTOTUNE).ignore_errors()
    data = data.map(lambda i, _image: i).batch(1024)
    survived = np.zeros(len(dataset), dtype=bool)
    for batch in data:
        survived[batch.numpy()] = True
    return [str(paths[i]) for i in np.flatnonzero(~survived)[:limit]]


def decode_failure(dataset: ImageFileDataset, exc: Any) -> DataError:
    """A one-line error for a TensorFlow error while reading ``dataset``'s files: the files that
    cannot be decoded, named and called unreadable images - never TensorFlow's own text, which
    speaks of graph nodes and iterators."""
    bad = find_undecodable(dataset)
    if not bad:
        return DataError(f"reading the images failed: {tensorflow_reason(exc)}")
    gone = [path for path in bad if not os.path.isfile(path)]
    if gone:
        return DataError(
            f"{gone[0]} cannot be opened any more (moved or deleted since the reader listed it); "
            "run the reader again"
        )
    names = ", ".join(bad[:3]) + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")
    subject = f"{names} is not a readable image" if len(bad) == 1 else f"{names} are not readable images"
    return DataError(
        f"{subject}: the header looks right but the image data cannot be decoded; remove or replace "
        f"{'the file' if len(bad) == 1 else 'them'}, or let the reader skip unreadable images"
    )


def tensorflow_reason(exc: Any) -> str:
    """The line of a TensorFlow error that says what went wrong, without graph-node names,
    iterator operations and the Python stack TensorFlow adds to it."""
    text = getattr(exc, "message", "") or str(exc)
    found = ""
    for line in text.splitlines():
        if line[:1].isspace():  # the stack TensorFlow records for graph errors
            continue
        cleaned = re.sub(r"\{\{[^}]*\}\}|\[\[.*?\]\]|\[Op:[^\]]*\]|\bname: ?$", "", line).strip(" \t:")
        if cleaned and not cleaned.startswith(("Graph execution error", "Detected at node")):
            found = cleaned
    return found or type(exc).__name__


def _skip_errors(data: Any, dataset: ImageFileDataset) -> Any:
    """With the reader's 'skip' policy, images that fail to decode are left out, not fatal."""
    return data.ignore_errors() if dataset.on_error == "skip" else data


def _slices(column: np.ndarray) -> Any:
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices(column)


def _first(function: Callable[[Any], Any]) -> Callable[..., Any]:
    """Apply ``function`` to the first element of a tuple element (images with their targets)."""

    def apply(first: Any, *rest: Any) -> Any:
        return (function(first), *rest) if rest else function(first)

    return apply


def _remove(folder: Path, prefix: str) -> None:
    for part in folder.glob(f"{prefix}*"):
        part.unlink(missing_ok=True)
