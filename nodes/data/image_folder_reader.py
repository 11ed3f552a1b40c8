"""Image Folder Reader: your own images, one sub-folder per class."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from neuroflow.core.errors import ConfigureError
from neuroflow.core.node import ExecutionContext, Node
from neuroflow.core.ports import DatasetSpec, Port, PortType, Spec
from neuroflow.core.settings import IntSetting, PathSetting
from neuroflow.datasets.file_dataset import VALUE_RANGE, build_dataset, channels_for
from neuroflow.datasets.image_folder import FolderScan, scan_image_folder

from ._photos import DECODE_SETTINGS, decode_options


class ImageFolderReaderNode(Node):
    type_id = "neuroflow.data.image_folder_reader"
    #: 2: colour "auto", fit-to-size modes, unreadable-file policy, cache; streams from disk.
    version = 2
    category = "Data"
    name = "Image Folder Reader"
    description = (
        "Reads your own photos from a folder that holds one sub-folder per class (images may sit "
        "in nested folders; links are followed); the sub-folder names, sorted, become the class "
        "names. PNG, JPEG, GIF, BMP and WebP of any size are brought to one size and colour mode, "
        "with pixel values 0-255 ready for a Normalizer. Images are not loaded here: only listed "
        "and checked, then decoded in parallel while training, so a folder of 100,000 photos "
        "needs no more memory than one of 1,000."
    )
    keywords = ("images", "folder", "png", "jpeg", "jpg", "photos", "reader", "own data", "classes",
                "load", "directory")
    outputs = (
        Port("data", PortType.IMAGES, "images", help="The images (height, width, channels), values 0-255."),
    )
    settings_spec = (
        PathSetting(
            "folder", "Folder", "", mode="folder",
            help="A folder with one sub-folder of images per class. A relative path is taken "
                 "from the workflow file's folder.",
        ),
        IntSetting(
            "limit_per_class", "Images per class", 0, minimum=0,
            help="Read only the first N images of each class in file-name order (0 = all).",
        ),
        *DECODE_SETTINGS,
    )

    @classmethod
    def migrate_settings(cls, from_version: int, settings: dict[str, Any]) -> dict[str, Any]:
        # Version 1 had only grayscale/RGB and stretched every image, as the new defaults of
        # 'resize_mode' do; its default colour was grayscale and its default size 28x28.
        settings.setdefault("color_mode", "grayscale")
        settings.setdefault("size", [28, 28])
        return settings

    def _scan(self) -> FolderScan:
        folder = self["folder"].strip()
        if not folder:
            raise ConfigureError(
                "setting 'folder': no folder chosen; choose a folder with one sub-folder of images per class"
            )
        return scan_image_folder(self.resolve_path(folder))  # lists files, decodes nothing

    def configure(self, specs: Mapping[str, Spec | None]) -> dict[str, Spec]:
        scan = self._scan()
        selected = scan.selected(self["limit_per_class"])
        height, width = self["size"]
        channels = channels_for(self["color_mode"], [p for paths in selected for p in paths])
        return {
            "data": DatasetSpec(
                shape=(height, width, channels),
                class_names=scan.class_names,
                count=scan.count(self["limit_per_class"]),
                value_range=VALUE_RANGE,
                from_files=True,
            )
        }

    def execute(self, inputs: Mapping[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
        scan = self._scan()
        selected = scan.selected(self["limit_per_class"])
        paths = [path for paths in selected for path in paths]
        labels = np.repeat(np.arange(len(selected)), [len(p) for p in selected])
        dataset = build_dataset(
            paths, labels, scan.class_names, decode_options(self),
            source=str(scan.folder), progress=ctx.progress, warn=ctx.warn,
        )
        ctx.progress(1.0, f"{len(dataset):,} images in {len(scan.class_names)} classes")
        return {"data": dataset}
