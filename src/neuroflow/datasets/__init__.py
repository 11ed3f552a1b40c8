"""Reading image datasets with numpy alone: IDX files (raw or gzipped), ``.npz`` archives,
the MNIST family, and folders of images with one sub-folder per class.

Reader nodes call :func:`inspect_split` or :func:`scan_image_folder` in ``configure`` - these
look at file headers and folder listings only - and the matching loaders in ``execute``. Only
decoding PNG/JPEG needs TensorFlow, and it is imported inside :func:`load_image_folder`.
Every problem is raised as a one-line :class:`~neuroflow.core.errors.DataError` naming the file.
"""

from .idx import IdxHeader, read_idx, read_idx_header
from .image_folder import IMAGE_SUFFIXES, FolderScan, load_image_folder, scan_image_folder
from .mnist import COLLECTIONS, Collection, SplitFiles, SplitInfo, inspect_split, load_split, locate_split
from .npz import NpyHeader, read_npz_array, read_npz_headers

__all__ = [
    "COLLECTIONS",
    "IMAGE_SUFFIXES",
    "Collection",
    "FolderScan",
    "IdxHeader",
    "NpyHeader",
    "SplitFiles",
    "SplitInfo",
    "inspect_split",
    "load_image_folder",
    "load_split",
    "locate_split",
    "read_idx",
    "read_idx_header",
    "read_npz_array",
    "read_npz_headers",
    "scan_image_folder",
]
