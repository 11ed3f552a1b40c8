"""Partitioning: split one image dataset in two, e.g. for training and testing."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from neuroflow.core.data import ImageData
from neuroflow.core.errors import ConfigureError
from neuroflow.core.node import ExecutionContext, Node
from neuroflow.core.ports import DatasetSpec, Port, PortType, Spec
from neuroflow.core.settings import BoolSetting, ChoiceSetting, FloatSetting, IntSetting


class PartitioningNode(Node):
    type_id = "neuroflow.data.partitioning"
    category = "Data"
    name = "Partitioning"
    description = (
        "Splits a dataset in two: the first partition gets a fraction or a fixed number of the "
        "images, the second gets the rest. Stratified splitting keeps every class's share the "
        "same in both parts; images are picked at random (reproducibly, from the seed) or "
        "taken from the top. Both partitions keep the images' original order. Images read from "
        "files are split as a list of files, without loading them."
    )
    keywords = ("split", "train", "test", "validation", "holdout", "sample", "stratified", "subset")
    inputs = (Port("data", PortType.IMAGES, "images", help="The dataset to split."),)
    outputs = (
        Port("first", PortType.IMAGES, "first partition", help="The chosen fraction or count, e.g. for training."),
        Port("second", PortType.IMAGES, "second partition", help="All other images, e.g. for testing."),
    )
    settings_spec = (
        ChoiceSetting(
            "mode", "Split by", "fraction", choices=("fraction", "count"),
            choice_labels=("fraction of the images", "number of images"),
            help="Size the first partition relative to the input or as a fixed number of images.",
        ),
        FloatSetting(
            "fraction", "First partition fraction", 0.8, minimum=0.0, maximum=1.0,
            visible_when=("mode", ("fraction",)),
            help="Share of the images in the first partition (rounded to whole images).",
        ),
        IntSetting(
            "count", "First partition size", 1000, minimum=0, visible_when=("mode", ("count",)),
            help="Number of images in the first partition; at most the number of input images.",
        ),
        BoolSetting(
            "stratified", "Stratified", True,
            help="Keep each class's share of the images the same in both partitions.",
        ),
        ChoiceSetting(
            "sampling", "Sampling", "random", choices=("random", "top"),
            choice_labels=("random (seeded)", "take from top"),
            help="Pick images at random, or take the first ones in dataset order.",
        ),
        IntSetting(
            "seed", "Random seed", 42, minimum=0, maximum=2**32 - 1, visible_when=("sampling", ("random",)),
            help="The same seed gives the same split every run.",
        ),
    )

    def first_size(self, total: int) -> int:
        """Images in the first partition out of ``total``; refuses a count larger than the input."""
        if self["mode"] == "fraction":
            return math.floor(self["fraction"] * total + 0.5)
        if self["count"] > total:
            raise ConfigureError(
                f"setting 'count': {self['count']:,} is more than the {total:,} images in the input"
            )
        return int(self["count"])

    def configure(self, specs: Mapping[str, Spec | None]) -> dict[str, Spec]:
        spec: DatasetSpec = self.require(specs, "data", DatasetSpec)
        if spec.count is None:
            first = self["count"] if self["mode"] == "count" else None
            second = None
        else:
            first = self.first_size(spec.count)
            second = spec.count - first
        return {
            "first": dataclasses.replace(spec, count=first),
            "second": dataclasses.replace(spec, count=second),
        }

    def execute(self, inputs: Mapping[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
        dataset: ImageData = inputs["data"]
        size = self.first_size(len(dataset))
        chosen = first_partition(
            dataset.labels, size, stratified=self["stratified"],
            seed=self["seed"] if self["sampling"] == "random" else None,
        )
        in_first = np.zeros(len(dataset), dtype=bool)
        in_first[chosen] = True
        outputs = {
            "first": dataset.subset(np.flatnonzero(in_first)),
            "second": dataset.subset(np.flatnonzero(~in_first)),
        }
        for port, part in outputs.items():
            if len(part) == 0:
                ctx.warn(f"the {port} partition is empty")
        ctx.progress(1.0, f"split {len(dataset):,} images into {size:,} and {len(dataset) - size:,}")
        return outputs


def first_partition(labels: np.ndarray, size: int, *, stratified: bool, seed: int | None) -> np.ndarray:
    """Sorted indices of the ``size`` images of the first partition.

    ``seed`` None takes images from the top; otherwise they are drawn at random from that
    seed. Stratified, each class gets its share of ``size`` (see :func:`stratified_quotas`).
    """
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


def stratified_quotas(counts: np.ndarray, size: int) -> np.ndarray:
    """Split ``size`` over classes in proportion to ``counts``, summing to exactly ``size``.

    Each class gets the whole part of its exact share; the images left over go to the classes
    with the largest remainders (ties to the lower class index) - the largest remainder
    method, so no class is ever off its exact share by a whole image or more.
    """
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.zeros_like(counts)
    exact = counts * size
    quotas, remainders = exact // total, exact % total
    missing = size - int(quotas.sum())
    order = np.lexsort((np.arange(len(counts)), -remainders))
    quotas[order[:missing]] += 1
    return quotas
