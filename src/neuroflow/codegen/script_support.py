"""Helpers every exported script carries, copied into it as they stand here.

An exported script must run without NeuroFlow installed, so this module imports only the
standard library, numpy and (inside functions) TensorFlow, and its text is pasted into the
script by :mod:`neuroflow.codegen.script`. Each helper does what the NeuroFlow code named in
its docstring does, step for step, so that the script reads the same images in the same
order, splits them the same way and feeds Keras the same arrays - which is what makes the
script's accuracy equal NeuroFlow's. ``tests/test_codegen.py`` compares them.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import os
import struct
from dataclasses import dataclass, replace

import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


@dataclass(frozen=True)
class Images:
    """Labelled images: in memory (``pixels``) or as files (``paths``) decoded while training."""

    labels: np.ndarray
    classes: tuple
    value_range: tuple
    pixels: np.ndarray | None = None
    paths: np.ndarray | None = None
    shape: tuple = ()
    resize_mode: str = "stretch"
    scale: float = 1.0
    offset: float = 0.0
    #: Decoded images kept between epochs ("memory"; NeuroFlow's "disk" orders them the same).
    cache: bool = False

    def __len__(self):
        return len(self.labels)

    def subset(self, index):
        pixels = None if self.pixels is None else self.pixels[index]
        paths = None if self.paths is None else self.paths[index]
        return replace(self, labels=self.labels[index], pixels=pixels, paths=paths)

    def rescaled(self, target):
        """NeuroFlow's Normalizer: values mapped linearly from ``value_range`` to ``target``."""
        (low, high), (target_low, target_high) = self.value_range, target
        if self.pixels is None:  # files: scaled as they are decoded
            scale = (target_high - target_low) / (high - low)
            offset = target_low - low * scale
            return replace(self, scale=self.scale * scale, offset=self.offset * scale + offset,
                           value_range=target)
        pixels = self.pixels.astype(np.float32)
        pixels -= np.float32(low)
        pixels /= np.float32(high - low)
        if target_high - target_low != 1.0:
            pixels *= np.float32(target_high - target_low)
        pixels += np.float32(target_low)
        return replace(self, pixels=pixels, value_range=target)


# -- MNIST-style files (NeuroFlow's MNIST Reader) -----------------------------------------------
def read_idx(path, limit):
    """The first ``limit`` items of an IDX file, gzipped or raw (``datasets/idx.py``)."""
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    with (gzip.open(path, "rb") if gzipped else open(path, "rb")) as stream:
        zero, kind, dims = struct.unpack(">HBB", stream.read(4))
        if zero != 0 or kind != 0x08:
            raise SystemExit(f"{path} is not an IDX file of unsigned bytes")
        shape = struct.unpack(f">{dims}I", stream.read(4 * dims))
        count = min(shape[0], limit) if limit else shape[0]
        size = count * math.prod(shape[1:])
        values = np.frombuffer(stream.read(size), dtype=np.uint8)
    return values.reshape(count, *shape[1:])


def read_mnist(images_path, labels_path, classes, limit=0, npz_keys=None):
    """28x28x1 uint8 images and int64 labels of one split (the MNIST Reader's ``load_split``)."""
    if npz_keys:
        with np.load(images_path) as archive:
            pixels, labels = archive[npz_keys[0]], archive[npz_keys[1]]
        if limit:
            pixels, labels = pixels[:limit], labels[:limit]
    else:
        pixels, labels = read_idx(images_path, limit), read_idx(labels_path, limit)
    count, height, width = pixels.shape[:3]
    return Images(labels.astype(np.int64), tuple(classes), (0.0, 255.0),
                  pixels=pixels.reshape(count, height, width, 1))


# -- image folders (NeuroFlow's Image Folder Reader) --------------------------------------------
def list_image_folder(folder, limit_per_class=0):
    """Class names (sorted sub-folders) and each class's image files by relative path, the
    order NeuroFlow's ``scan_image_folder`` lists them in."""
    classes = sorted(e.name for e in os.scandir(folder) if not e.name.startswith(".") and e.is_dir())
    paths, labels = [], []
    for label, name in enumerate(classes):
        found = []
        root_dir = os.path.join(folder, name)
        for root, dirs, names in os.walk(root_dir, followlinks=True):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            relative = os.path.relpath(root, root_dir)
            for file in names:
                if not file.startswith(".") and file.lower().endswith(IMAGE_SUFFIXES):
                    found.append((os.path.normpath(os.path.join(relative, file)), os.path.join(root, file)))
        found.sort()
        chosen = [os.path.abspath(full) for _, full in found]
        if limit_per_class:
            chosen = chosen[:limit_per_class]
        paths += chosen
        labels += [label] * len(chosen)
    return tuple(classes), np.asarray(paths, dtype=object), np.asarray(labels, dtype=np.int64)


def read_image_list(csv_path, path_column, label_column, classes, split_column="", split_value=""):
    """Paths and label indices of the rows of a CSV image list (NeuroFlow's Image List Reader):
    sniffed delimiter, paths from the CSV's folder, only the rows of ``split_value``."""
    with open(csv_path, "rb") as handle:
        text = handle.read().decode("utf-8-sig")
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = [row for row in csv.reader(io.StringIO(text), dialect=dialect) if any(c.strip() for c in row)]
    header = [cell.strip() for cell in rows[0]]
    known = {name: index for index, name in enumerate(classes)}
    base = os.path.dirname(os.path.abspath(csv_path))
    paths, labels = [], []
    for row in rows[1:]:
        cells = [row[i].strip() if i < len(row) else "" for i in range(len(header))]
        if split_column and cells[header.index(split_column)] != split_value:
            continue
        path = os.path.expanduser(cells[header.index(path_column)])
        paths.append(os.path.abspath(path if os.path.isabs(path) else os.path.join(base, path)))
        labels.append(known[cells[header.index(label_column)]])
    return np.asarray(paths, dtype=object), np.asarray(labels, dtype=np.int64)


def file_pipeline(data, batch_size, targets=None, shuffle=False, seed=0, input_shape=None, skip_errors=True):
    """A batched ``tf.data`` pipeline decoding ``data``'s files: shuffle names, decode and resize
    in parallel, batch, scale, prefetch (NeuroFlow's ``training/pipeline.py``). Unreadable files
    are skipped while training; ``skip_errors=False`` (predicting) stops at one instead."""
    import tensorflow as tf

    height, width, channels = data.shape
    mode = data.resize_mode

    def to_uint8(image):
        return tf.cast(tf.clip_by_value(tf.round(image), 0.0, 255.0), tf.uint8)

    def resize(image):
        if mode == "pad":
            return to_uint8(tf.image.resize_with_pad(image, height, width, antialias=True))
        if mode == "crop":
            size = tf.shape(image)
            h, w = size[0], size[1]
            crop_h = tf.minimum(h, tf.cast(tf.round(tf.cast(w * height, tf.float32) / width), tf.int32))
            crop_w = tf.minimum(w, tf.cast(tf.round(tf.cast(h * width, tf.float32) / height), tf.int32))
            crop_h, crop_w = tf.maximum(crop_h, 1), tf.maximum(crop_w, 1)
            image = tf.image.crop_to_bounding_box(image, (h - crop_h) // 2, (w - crop_w) // 2, crop_h, crop_w)
        return to_uint8(tf.image.resize(image, (height, width), method="bilinear", antialias=True))

    def decode(path, *rest):
        image = tf.io.decode_image(tf.io.read_file(path), channels=channels, dtype=tf.uint8,
                                   expand_animations=False)
        image.set_shape([None, None, channels])
        size = tf.shape(image)[:2]
        same = tf.logical_and(tf.equal(size[0], height), tf.equal(size[1], width))
        image = tf.cond(same, lambda: image, lambda: resize(image))
        image.set_shape([height, width, channels])
        return (image, *rest) if rest else image

    scale, offset = np.float32(data.scale), np.float32(data.offset)
    target = tuple(input_shape) if input_shape is not None else tuple(data.shape)

    def scaled(images, *rest):
        values = tf.cast(images, tf.float32) * scale + offset
        values = tf.reshape(values, (-1, *target))
        return (values, *rest) if rest else values

    paths = np.asarray(data.paths).astype(str)
    if not data.cache:  # shuffle the names, every epoch a new permutation
        items = tf.data.Dataset.from_tensor_slices(paths if targets is None else (paths, targets))
        if shuffle:
            items = items.shuffle(max(len(paths), 1), seed=seed, reshuffle_each_iteration=True)
        items = items.map(decode, num_parallel_calls=tf.data.AUTOTUNE)
        items = items.ignore_errors() if skip_errors else items
    else:  # permute once, cache decoded images, then mix them in a buffer of 2048 every epoch
        order = np.random.default_rng(seed).permutation(len(paths)) if shuffle else np.arange(len(paths))
        positions = np.arange(len(paths), dtype=np.int64)
        items = tf.data.Dataset.from_tensor_slices((positions, paths[order]))
        items = items.map(lambda i, p: (i, decode(p)), num_parallel_calls=tf.data.AUTOTUNE)
        items = (items.ignore_errors() if skip_errors else items).cache()
        if shuffle:
            items = items.shuffle(min(2048, max(len(paths), 1)), seed=seed, reshuffle_each_iteration=True)
        if targets is None:
            items = items.map(lambda i, image: image)
        else:
            table = tf.constant(np.asarray(targets)[order])
            items = items.map(lambda i, image: (image, tf.gather(table, i)))
    items = items.batch(batch_size).map(scaled, num_parallel_calls=tf.data.AUTOTUNE)
    return items.prefetch(tf.data.AUTOTUNE)


# -- splitting (NeuroFlow's Partitioning and the Learner's validation split) --------------------
def first_partition(labels, size, stratified, seed):
    """Sorted indices of the first partition (``nodes/data/partitioning.py``)."""
    rng = None if seed is None else np.random.default_rng(seed)
    if not stratified:
        order = np.arange(len(labels)) if rng is None else rng.permutation(len(labels))
        return np.sort(order[:size])
    classes, counts = np.unique(labels, return_counts=True)
    by_class = np.split(np.argsort(labels, kind="stable"), np.cumsum(counts)[:-1])
    chosen = []
    for members, quota in zip(by_class, stratified_quotas(counts, size), strict=True):
        if rng is not None:
            members = rng.permutation(members)
        chosen.append(members[:quota])
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)


def stratified_quotas(counts, size):
    """``size`` shared among classes by the largest remainder method."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.zeros_like(counts)
    exact = counts * size
    quotas, remainders = exact // total, exact % total
    order = np.lexsort((np.arange(len(counts)), -remainders))  # ties to the lower class
    quotas[order[: size - int(quotas.sum())]] += 1
    return quotas


def partition(data, size, stratified, seed):
    """The two partitions of ``data``, the first with ``size`` images."""
    chosen = first_partition(data.labels, size, stratified, seed)
    first = np.zeros(len(data), dtype=bool)
    first[chosen] = True
    return data.subset(np.flatnonzero(first)), data.subset(np.flatnonzero(~first))


def validation_split(labels, fraction, seed):
    """Indices (training, validation) holding out ``fraction`` of every class, drawn by ``seed``
    (``training/targets.py``: Keras's own split would take the last images)."""
    rng = np.random.default_rng(seed)
    held_out = []
    for klass in np.unique(labels):
        members = np.flatnonzero(labels == klass)
        rng.shuffle(members)
        held_out.append(members[: int(round(len(members) * fraction))])
    validation = np.sort(np.concatenate(held_out))
    keep = np.ones(len(labels), dtype=bool)
    keep[validation] = False
    if len(validation) == 0 or keep.sum() == 0:  # NeuroFlow's Learner stops here too
        raise SystemExit(f"a validation split of {fraction:g} leaves {int(keep.sum())} training and "
                         f"{len(validation)} validation images of {len(labels)}; use more images or another split")
    return np.flatnonzero(keep), validation


# -- what Keras is fed (``training/feeding.py``) -------------------------------------------------
def targets(labels, classes, loss, units):
    """One-hot rows, integer labels (sparse loss) or one 0/1 column (one sigmoid unit)."""
    if loss == "sparse_categorical_crossentropy":
        return labels.astype(np.int32, copy=False)
    if units == 1:
        return labels.astype(np.float32).reshape(-1, 1)
    return np.eye(classes, dtype=np.float32)[labels]


def balanced_class_weights(labels, classes):
    """Keras's "balanced" weights: n / (classes * count)."""
    counts = np.bincount(labels, minlength=classes).astype(np.float64)
    return {k: (float(counts.sum() / (classes * c)) if c else 0.0) for k, c in enumerate(counts)}


def model_inputs(data, input_shape, batch_size, labels=None, shuffle=False, seed=0, skip_errors=True):
    """``(x, y)`` for Keras: float32 arrays for images in memory (Keras batches and shuffles
    them), or a pipeline of (image, target) batches and ``None`` for images in files."""
    if data.pixels is None:
        return file_pipeline(data, batch_size, labels, shuffle, seed, input_shape, skip_errors), None
    pixels = np.asarray(data.pixels, dtype=np.float32)
    return pixels.reshape(len(pixels), *input_shape), labels


def best_epoch_callback(monitor):
    """Keeps the weights of the epoch with the best ``monitor`` value and puts them back at the
    end of training (``training/best_epoch.py``)."""
    import keras

    class BestEpoch(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.best, self.weights = None, None

        def on_epoch_end(self, epoch, logs=None):
            value = (logs or {}).get(monitor)
            if value is None:
                return
            higher = monitor.endswith("accuracy")
            if self.best is None or (value > self.best if higher else value < self.best):
                self.best, self.weights = float(value), self.model.get_weights()

        def on_train_end(self, logs=None):
            if self.weights is not None:
                self.model.set_weights(self.weights)

    return BestEpoch()
