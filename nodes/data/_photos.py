"""Settings shared by the readers of photos (not a node type itself).

The Image Folder Reader and the Image List Reader find their files differently but decode them
the same way, so the editor shows the same fields, help texts and choices in both, and both
turn their settings into the same :class:`~neuroflow.datasets.file_dataset.DecodeOptions`.
"""

from __future__ import annotations

from neuroflow.core.data import CACHE_MODES, RESIZE_MODES
from neuroflow.core.node import Node
from neuroflow.core.settings import ChoiceSetting, IntTupleSetting, PathSetting, Setting
from neuroflow.datasets.file_dataset import DecodeOptions

COLOR_MODE = ChoiceSetting(
    "color_mode", "Colour", "auto", choices=("auto", "grayscale", "rgb"),
    choice_labels=("auto (RGB when the images are colour)", "grayscale (1 channel)", "RGB (3 channels)"),
    help="Auto reads the headers of a sample of the images and chooses RGB when any of them is "
         "colour. Colour images become gray or gray images become RGB as needed.",
)
SIZE = IntTupleSetting(
    "size", "Image size", (128, 128), min_length=2, max_length=2, minimum=1, maximum=4096,
    element_names=("height", "width"),
    help="Height and width every image is brought to, whatever its own size.",
)
RESIZE_MODE = ChoiceSetting(
    "resize_mode", "Fit to size", "stretch", choices=RESIZE_MODES,
    choice_labels=("stretch", "centre-crop (keep the aspect ratio)", "pad (keep all of the image)"),
    help="Stretch resizes to the size, distorting images of another aspect ratio. Centre-crop "
         "cuts the largest centred part with the right aspect ratio and resizes it. Pad resizes "
         "the whole image to fit and fills the rest with black.",
)
ON_ERROR = ChoiceSetting(
    "on_error", "Unreadable files", "skip", choices=("skip", "fail"),
    choice_labels=("skip and report them", "stop with an error"),
    help="Every file is checked before training (its header and its end, without decoding): "
         "empty, truncated and non-image files are skipped and listed in a warning, or stop the "
         "run with an error naming the file.",
)
CACHE = ChoiceSetting(
    "cache", "Cache decoded images", "none", choices=CACHE_MODES,
    choice_labels=("no (decode every epoch)", "in memory", "on disk (reused by later runs)"),
    help="Decoding is the slow part of reading photos. In memory: decoded once, kept for later "
         "epochs (needs height x width x channels bytes per image). On disk: written once to the "
         "cache folder and reused by every later epoch and run until the files change.",
)
CACHE_FOLDER = PathSetting(
    "cache_folder", "Cache folder", "", mode="folder", visible_when=("cache", ("disk",)),
    help="Where the disk cache goes; empty: $NEUROFLOW_CACHE or ~/.cache/neuroflow. A relative "
         "path is taken from the workflow file's folder.",
)

#: The shared declarations, in the order the editor shows them (after each reader's own).
DECODE_SETTINGS: tuple[Setting, ...] = (COLOR_MODE, SIZE, RESIZE_MODE, ON_ERROR, CACHE, CACHE_FOLDER)


def decode_options(node: Node) -> DecodeOptions:
    """The decode settings of a photo reader node; the cache folder resolved like every path."""
    folder = node["cache_folder"].strip()
    return DecodeOptions(
        color_mode=node["color_mode"],
        size=tuple(node["size"]),  # type: ignore[arg-type]
        resize_mode=node["resize_mode"],
        on_error=node["on_error"],
        cache=node["cache"],
        cache_folder=str(node.resolve_path(folder)) if folder else "",
    )
