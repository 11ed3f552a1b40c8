"""Reading image datasets: IDX files (raw or gzipped), ``.npz`` archives, the MNIST family,
folders of images with one sub-folder per class, CSV image lists, and downloads.

Reader nodes call :func:`inspect_split`, :func:`scan_image_folder` or :func:`read_image_list`
in ``configure`` - these look at file headers, folder listings and the CSV only - and the
matching loaders in ``execute``. Photos are never decoded here: file-backed datasets are
decoded by the ``tf.data`` pipeline of :mod:`neuroflow.training.pipeline` while training.
Every problem is raised as a one-line :class:`~neuroflow.core.errors.DataError` naming the file.
"""

from .idx import IdxHeader, read_idx, read_idx_header
from .image_files import IMAGE_SUFFIXES, ImageInfo, UnreadableImage, probe
from .image_folder import FolderScan, scan_image_folder
from .image_list import ImageList, ListColumns, read_image_list
from .mnist import COLLECTIONS, Collection, SplitFiles, SplitInfo, inspect_split, load_split, locate_split
from .npz import NpyHeader, read_npz_array, read_npz_headers

__all__ = [
    "COLLECTIONS",
    "IMAGE_SUFFIXES",
    "Collection",
    "FolderScan",
    "IdxHeader",
    "ImageInfo",
    "ImageList",
    "ListColumns",
    "NpyHeader",
    "SplitFiles",
    "SplitInfo",
    "UnreadableImage",
    "inspect_split",
    "load_split",
    "locate_split",
    "probe",
    "read_idx",
    "read_idx_header",
    "read_image_list",
    "read_npz_array",
    "read_npz_headers",
    "scan_image_folder",
]
