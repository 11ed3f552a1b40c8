"""Image Folder Reader: your own images, one sub-folder per class."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from neuroflow.core.data import ImageDataset
from neuroflow.core.errors import ConfigureError
from neuroflow.core.node import ExecutionContext, Node
from neuroflow.core.ports import DatasetSpec, Port, PortType, Spec
from neuroflow.core.settings import ChoiceSetting, IntSetting, IntTupleSetting, PathSetting
from neuroflow.datasets.image_folder import FolderScan, load_image_folder, scan_image_folder

VALUE_RANGE = (0.0, 255.0)
CHANNELS = {"grayscale": 1, "rgb": 3}


class ImageFolderReaderNode(Node):
    type_id = "neuroflow.data.image_folder_reader"
    category = "Data"
    name = "Image Folder Reader"
    description = (
        "Reads PNG and JPEG images from a folder that holds one sub-folder per class; the "
        "sub-folder names, sorted, become the class names. Every image is converted to "
        "grayscale or RGB and stretched to the chosen height and width, giving pixel values "
        "0-255 ready for a Normalizer."
    )
    keywords = ("images", "folder", "png", "jpeg", "jpg", "reader", "own data", "classes", "load")
    outputs = (
        Port("data", PortType.IMAGES, "images", help="The images (N, height, width, channels) uint8."),
    )
    settings_spec = (
        PathSetting(
            "folder", "Folder", "", mode="folder",
            help="A folder with one sub-folder of PNG/JPEG images per class.",
        ),
        ChoiceSetting(
            "color_mode", "Colour", "grayscale", choices=tuple(CHANNELS),
            choice_labels=("grayscale (1 channel)", "RGB (3 channels)"),
            help="Colour images become gray or gray images become RGB as needed.",
        ),
        IntTupleSetting(
            "size", "Image size", (28, 28), min_length=2, max_length=2, minimum=1, maximum=4096,
            element_names=("height", "width"),
            help="Height and width every image is resized to (aspect ratio is not kept).",
        ),
        IntSetting(
            "limit_per_class", "Images per class", 0, minimum=0,
            help="Read only the first N images of each class in file-name order (0 = all).",
        ),
    )

    def _scan(self) -> FolderScan:
        folder = self["folder"].strip()
        if not folder:
            raise ConfigureError(
                "setting 'folder': no folder chosen; choose a folder with one sub-folder of images per class"
            )
        return scan_image_folder(folder)

    def configure(self, specs: Mapping[str, Spec | None]) -> dict[str, Spec]:
        scan = self._scan()  # lists files, decodes nothing
        height, width = self["size"]
        return {
            "data": DatasetSpec(
                shape=(height, width, CHANNELS[self["color_mode"]]),
                class_names=scan.class_names,
                count=scan.count(self["limit_per_class"]),
                value_range=VALUE_RANGE,
            )
        }

    def execute(self, inputs: Mapping[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
        scan = self._scan()
        images, labels = load_image_folder(
            scan,
            size=self["size"],
            channels=CHANNELS[self["color_mode"]],
            limit_per_class=self["limit_per_class"],
            progress=ctx.progress,
        )
        return {"data": ImageDataset(images, labels, scan.class_names, VALUE_RANGE, source=str(scan.folder))}
