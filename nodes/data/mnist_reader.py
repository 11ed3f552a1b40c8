"""MNIST Reader: the MNIST handwritten digits (bundled) or Fashion-MNIST, one split at a time."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from neuroflow.core.data import ImageDataset
from neuroflow.core.errors import SettingError
from neuroflow.core.node import ExecutionContext, Node
from neuroflow.core.ports import DatasetSpec, Port, PortType, Spec
from neuroflow.core.settings import BoolSetting, ChoiceSetting, IntSetting, PathSetting, StringSetting
from neuroflow.datasets.mnist import (
    COLLECTIONS,
    MIRROR_VARIABLE,
    PendingDownload,
    SplitFiles,
    check_mirror,
    fetch_split,
    inspect_split,
    load_split,
    plan_split,
)

VALUE_RANGE = (0.0, 255.0)
#: Share of the node's progress bar given to downloading; reading the files gets the rest.
DOWNLOAD_SHARE = 0.9
#: Download progress is passed on when it moved by this much, or after this many seconds.
PROGRESS_STEP = 0.01
PROGRESS_SECONDS = 0.1


class MnistReaderNode(Node):
    type_id = "neuroflow.data.mnist_reader"
    # 2: the download setting and the download mirror.
    version = 2
    category = "Data"
    name = "MNIST Reader"
    description = (
        "Reads the training or test split of MNIST (handwritten digits 0-9, shipped with "
        "NeuroFlow) or Fashion-MNIST (ten kinds of clothing) as 28x28 grayscale images with "
        "pixel values 0-255. It reads IDX files (gzipped or not) or a Keras-style mnist.npz "
        "from the data folder; without one it uses the bundled MNIST, and looks for "
        "Fashion-MNIST in $NEUROFLOW_DATA/fashion-mnist, ~/.neuroflow/data/fashion-mnist and "
        "the Keras cache ~/.keras/datasets/fashion-mnist - downloading it into the first of "
        "these, with verified checksums, when it is missing."
    )
    keywords = ("mnist", "fashion", "digits", "reader", "idx", "npz", "dataset", "load", "download")
    outputs = (
        Port("data", PortType.IMAGES, "images", help="The images (N, 28, 28, 1) uint8 with labels 0-9."),
    )
    settings_spec = (
        ChoiceSetting(
            "dataset", "Dataset", "digits", choices=("digits", "fashion"),
            choice_labels=("MNIST handwritten digits", "Fashion-MNIST clothing"),
            help="Which dataset of the MNIST family to read.",
        ),
        ChoiceSetting(
            "split", "Split", "train", choices=("train", "test"),
            choice_labels=("training set (60,000 images)", "test set (10,000 images)"),
            help="The training split for learning, the test split for scoring.",
        ),
        PathSetting(
            "data_folder", "Data folder", "", mode="folder",
            help="Folder with the IDX files (.gz or raw) or an .npz archive; may also name the "
                 ".npz file itself. Empty: bundled MNIST, or the standard Fashion-MNIST places "
                 "(downloaded there when missing). A folder set here is never downloaded into.",
        ),
        IntSetting(
            "limit", "Sample limit", 0, minimum=0,
            help="Read only the first N images (0 = all). The files store samples in shuffled "
                 "order, so the first N are a fair, reproducible sample, and reading stops there.",
        ),
        BoolSetting(
            "download", "Download when missing", True,
            help="Fetch a missing Fashion-MNIST split (two .gz files, 4.4 MB for test, 26.5 MB "
                 "for train) when the node runs, checked against the published SHA-256 checksums, "
                 "into $NEUROFLOW_DATA/fashion-mnist or else ~/.neuroflow/data/fashion-mnist. "
                 "MNIST digits ship with NeuroFlow and need no download.",
            visible_when=("dataset", ("fashion",)),
        ),
        StringSetting(
            "mirror", "Download mirror", "",
            help=f"Base URL (http, https or file) of a copy of the .gz files, used instead of the "
                 f"official hosts (Zalando's, then the one Keras uses). Empty: the official hosts. "
                 f"${MIRROR_VARIABLE}, when set, is tried before either.",
            visible_when=("dataset", ("fashion",)),
        ),
    )

    @classmethod
    def migrate_settings(cls, from_version: int, settings: dict[str, Any]) -> dict[str, Any]:
        if from_version < 2:  # files from before downloads existed: download when missing
            settings = {**settings, "download": True, "mirror": ""}
        return settings

    def _plan(self) -> SplitFiles | PendingDownload:
        collection = COLLECTIONS[self["dataset"]]
        folder = self["data_folder"].strip()
        folder = str(self.resolve_path(folder)) if folder else ""  # relative: from the workflow's folder
        return plan_split(collection, self["split"], folder, download=self["download"])

    def configure(self, specs: Mapping[str, Spec | None]) -> dict[str, Spec]:
        # File headers only, and no network: cheap enough to run after every edit.
        plan = self._plan()
        self.note = ""
        if isinstance(plan, PendingDownload):
            problem = check_mirror(self["mirror"], "setting 'mirror'")
            if problem:
                raise SettingError(problem, setting="mirror")
            collection = plan.collection
            total = collection.split_count(self["split"])
            count = min(self["limit"], total) if self["limit"] > 0 else total
            self.note = plan.describe()
            return {
                "data": DatasetSpec(
                    shape=(*collection.image_shape, 1), class_names=collection.class_names,
                    count=count, value_range=VALUE_RANGE,
                )
            }
        info = inspect_split(plan)
        return {
            "data": DatasetSpec(
                shape=(*info.image_shape, 1),
                class_names=info.files.collection.class_names,
                count=info.selected(self["limit"]),
                value_range=VALUE_RANGE,
            )
        }

    def execute(self, inputs: Mapping[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
        plan = self._plan()
        share = 0.0
        if isinstance(plan, PendingDownload):
            plan = fetch_split(plan, self["mirror"], progress=_Throttled(ctx, DOWNLOAD_SHARE))
            share = DOWNLOAD_SHARE
        info = inspect_split(plan)

        def reading(fraction: float | None, message: str) -> None:
            ctx.progress(None if fraction is None else share + (1.0 - share) * fraction, message)

        images, labels = load_split(info, self["limit"], progress=reading)
        dataset = ImageDataset(
            images, labels, info.files.collection.class_names, VALUE_RANGE, source=info.files.describe()
        )
        return {"data": dataset}


class _Throttled:
    """Passes download progress on to the node, scaled to ``share`` of its bar and thinned out.

    A download reports every 64 KiB; the editor and the command line need a fraction of that.
    Cancel is still checked on every report, so a cancel stops the download within one chunk.
    """

    def __init__(self, ctx: ExecutionContext, share: float) -> None:
        self.ctx = ctx
        self.share = share
        self._fraction: float | None = None
        self._time = 0.0
        self._topic: str | None = None

    def __call__(self, fraction: float | None, message: str) -> None:
        self.ctx.check_cancelled()
        now = time.monotonic()
        topic = message.partition(":")[0]  # "downloading FILE": a new file is always shown
        last = self._fraction
        moved = fraction is not None and last is not None and (
            fraction - last >= PROGRESS_STEP or (fraction >= 1.0 > last)
        )
        if topic != self._topic or moved or now - self._time >= PROGRESS_SECONDS:
            self._fraction, self._time, self._topic = fraction, now, topic
            self.ctx.progress(None if fraction is None else self.share * fraction, message)
