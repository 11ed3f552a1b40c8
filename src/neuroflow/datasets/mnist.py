"""The MNIST family: where the files are, what their headers say, and reading them.

MNIST and Fashion-MNIST share one layout: per split an IDX file of 28x28 uint8 images and an
IDX file of labels 0-9, named ``train-images-idx3-ubyte``/``train-labels-idx1-ubyte`` and
``t10k-images-idx3-ubyte``/``t10k-labels-idx1-ubyte``, gzipped (``.gz``) or raw, or instead one
Keras-style ``.npz`` archive with ``x_train``, ``y_train``, ``x_test`` and ``y_test``.

MNIST digits ship inside the package (``neuroflow.assets``, the repository's ``assets/mnist``).
Fashion-MNIST does not; without a data folder it is looked for in
``$NEUROFLOW_DATA/fashion-mnist``, ``~/.neuroflow/data/fashion-mnist`` and the Keras download
cache ``~/.keras/datasets/fashion-mnist`` (``$KERAS_HOME`` is honoured), and the error lists
every place looked in and how to get the files.

A missing Fashion-MNIST split can be downloaded instead: :func:`plan_split` says either where the
files are or, as a :class:`PendingDownload`, which files would be fetched into the first of the
places above - without touching the network, so a reader's ``configure`` stays cheap (the shape,
classes and split sizes of a collection are fixed facts). :func:`fetch_split` then downloads them
from ``$NEUROFLOW_DATA_MIRROR`` (when set), a mirror given by the user or the collection's
built-in sources, each file verified against its published SHA-256 checksum.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from neuroflow.core.errors import DataError

from .download import DownloadError, download_first
from .download import Progress as DownloadProgress
from .idx import IdxHeader, Progress, read_idx, read_idx_header
from .npz import read_npz_array, read_npz_headers

#: IDX base names (images, labels) of each split; a ``.gz`` suffix is optional.
IDX_NAMES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
#: Array names (images, labels) of each split inside a Keras-style ``.npz`` archive.
NPZ_KEYS: dict[str, tuple[str, str]] = {"train": ("x_train", "y_train"), "test": ("x_test", "y_test")}
IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension
#: A base URL tried before every built-in source; ``<base>/<collection folder>/<file>``, so a copy
#: of a data folder (``~/.neuroflow/data``) served as it is works as a mirror.
MIRROR_VARIABLE = "NEUROFLOW_DATA_MIRROR"
MIRROR_SCHEMES = ("http", "https", "file")


@dataclass(frozen=True)
class RemoteFile:
    """One file of a collection's canonical release: its name, SHA-256 and size in bytes."""

    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Collection:
    """One dataset of the family: its names, classes and where to look for it."""

    key: str
    title: str
    class_names: tuple[str, ...]
    #: Sub-folder name searched for under the standard data places.
    folder_name: str
    #: Archive names recognised in a data folder, besides a folder's only ``.npz`` file.
    npz_names: tuple[str, ...]
    #: True when the files ship with NeuroFlow (``neuroflow.assets/<folder_name>``).
    bundled: bool
    homepage: str
    #: Samples per split in the canonical release, and the image size: fixed facts, so a
    #: split that is still to be downloaded can be configured.
    split_counts: tuple[tuple[str, int], ...] = (("train", 60_000), ("test", 10_000))
    image_shape: tuple[int, int] = (28, 28)
    #: Base URLs the IDX ``.gz`` files can be downloaded from, tried in order; empty: no download.
    sources: tuple[str, ...] = ()
    #: The canonical ``.gz`` files with their checksums (what a download must match).
    remote_files: tuple[RemoteFile, ...] = ()

    def split_count(self, split: str) -> int:
        return dict(self.split_counts)[split]

    def remote_file(self, name: str) -> RemoteFile:
        return next(f for f in self.remote_files if f.name == name)

    @property
    def downloadable(self) -> bool:
        return bool(self.remote_files)


DIGITS = Collection(
    key="digits",
    title="MNIST",
    class_names=tuple(str(digit) for digit in range(10)),
    folder_name="mnist",
    npz_names=("mnist.npz",),
    bundled=True,
    homepage="https://yann.lecun.com/exdb/mnist/",
)
FASHION = Collection(
    key="fashion",
    title="Fashion-MNIST",
    class_names=(
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ),
    folder_name="fashion-mnist",
    npz_names=("fashion-mnist.npz", "fashion_mnist.npz"),
    bundled=False,
    homepage="https://github.com/zalandoresearch/fashion-mnist",
    sources=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",  # Zalando's own host
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",  # the mirror Keras uses
    ),
    # The canonical release (Zalando's published md5s match these files too).
    remote_files=(
        RemoteFile("train-images-idx3-ubyte.gz",
                   "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26_421_880),
        RemoteFile("train-labels-idx1-ubyte.gz",
                   "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29_515),
        RemoteFile("t10k-images-idx3-ubyte.gz",
                   "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4_422_102),
        RemoteFile("t10k-labels-idx1-ubyte.gz",
                   "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5_148),
    ),
)
COLLECTIONS: dict[str, Collection] = {c.key: c for c in (DIGITS, FASHION)}


@dataclass(frozen=True)
class SplitFiles:
    """Where one split lives: an images and a labels IDX file, or one ``.npz`` archive."""

    collection: Collection
    split: str
    images: Path
    labels: Path  # the same archive as ``images`` for .npz

    @property
    def is_npz(self) -> bool:
        return self.images == self.labels

    def describe(self) -> str:
        return f"{self.collection.title} {self.split} from {self.images.parent}"


@dataclass(frozen=True)
class SplitInfo:
    """What the headers of a split say; everything a reader's ``configure`` needs."""

    files: SplitFiles
    count: int
    image_shape: tuple[int, int]
    images_header: IdxHeader | None = None  # None for .npz
    labels_header: IdxHeader | None = None

    def selected(self, limit: int) -> int:
        """How many images a sample limit keeps (0 keeps all)."""
        return min(limit, self.count) if limit > 0 else self.count


# -- finding the files ------------------------------------------------------------------------
def bundled_folder() -> Path:
    """The folder of the MNIST files shipped in the ``neuroflow.assets`` package."""
    folder = resources.files("neuroflow.assets").joinpath(DIGITS.folder_name)
    try:
        return Path(os.fspath(folder))  # type: ignore[call-overload]
    except TypeError:  # installed inside a zip archive: no real folder to read from
        raise DataError(
            f"the bundled MNIST files are not on disk ({folder}); set the node's data folder"
        ) from None


def search_folders(collection: Collection) -> list[Path]:
    """The standard places a non-bundled collection is looked for, in order."""
    places = []
    if os.environ.get("NEUROFLOW_DATA"):
        places.append(Path(os.environ["NEUROFLOW_DATA"]).expanduser() / collection.folder_name)
    places.append(Path.home() / ".neuroflow" / "data" / collection.folder_name)
    keras_home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()
    places.append(keras_home / "datasets" / collection.folder_name)
    return places


def _is_entry(path: Path) -> bool:
    """True for anything but a folder: a named pipe or a device is found, then refused when read
    (with a message saying what it is) rather than reported missing."""
    return path.exists() and not path.is_dir()


def _idx_file(folder: Path, name: str) -> Path | None:
    for candidate in (folder / f"{name}.gz", folder / name):
        if _is_entry(candidate):
            return candidate
    return None


def find_in_folder(folder: Path, collection: Collection, split: str) -> SplitFiles | None:
    """The split's files in ``folder``: IDX (gz or raw) first, then an ``.npz``; None if neither.

    Finding only one of the two IDX files is an error that names the missing one.
    """
    names = IDX_NAMES[split]
    images, labels = (_idx_file(folder, name) for name in names)
    if images and labels:
        return SplitFiles(collection, split, images, labels)
    if images or labels:
        found, missing = (images, names[1]) if images else (labels, names[0])
        raise DataError(f"file not found: {folder / missing}.gz (nor without .gz), next to {found}")
    archives = [folder / name for name in collection.npz_names if _is_entry(folder / name)]
    if not archives:
        others = sorted(folder.glob("*.npz"))
        archives = others if len(others) == 1 else []  # several unknown archives: no guessing
    return SplitFiles(collection, split, archives[0], archives[0]) if archives else None


def locate_split(collection: Collection, split: str, data_folder: str = "") -> SplitFiles:
    """Find a split's files: in ``data_folder`` (a folder or an .npz file) or the default source.

    Never downloads; see :func:`plan_split` for a split that may be fetched when missing.
    """
    if split not in IDX_NAMES:
        raise DataError(f"unknown split {split!r}; expected one of {', '.join(IDX_NAMES)}")
    expected = f"{IDX_NAMES[split][0]}[.gz] and {IDX_NAMES[split][1]}[.gz], or {collection.npz_names[0]}"
    if data_folder.strip():
        path = Path(data_folder.strip()).expanduser()
        if path.suffix == ".npz" and _is_entry(path):
            return SplitFiles(collection, split, path, path)
        if not path.exists():
            raise DataError(f"data folder not found: {path}")
        if not path.is_dir():
            raise DataError(f"data folder {path} is a file; expected a folder or an .npz archive")
        found = find_in_folder(path, collection, split)
        if found is None:
            raise DataError(f"no {collection.title} {split} files in {path}: expected {expected}")
        return found
    if collection.bundled:
        folder = bundled_folder()
        found = find_in_folder(folder, collection, split) if folder.is_dir() else None
        if found is None:
            raise DataError(
                f"the bundled {collection.title} files are missing from {folder}; reinstall "
                "NeuroFlow or set the node's data folder"
            )
        return found
    places = search_folders(collection)
    for place in places:
        if place.is_dir():
            found = find_in_folder(place, collection, split)
            if found is not None:
                return found
    gz_files = ", ".join(f"{name}.gz" for pair in IDX_NAMES.values() for name in pair)
    switch = ", or turn on its download setting (it is off)" if collection.downloadable else ""
    raise DataError(
        f"{collection.title} {split} files not found; looked in {', '.join(map(str, places))}. "
        f"Download the four IDX .gz files ({gz_files}) from the {collection.title} project "
        f"({collection.homepage}) into one of these folders, or set the node's data folder{switch}"
    )


# -- downloading ------------------------------------------------------------------------------
@dataclass(frozen=True)
class PendingDownload:
    """A split that is not on disk yet and will be downloaded when the reader runs."""

    collection: Collection
    split: str
    #: Where the files go: the first of the standard places.
    folder: Path
    #: The split's files still missing there (one or both).
    files: tuple[RemoteFile, ...]
    #: Every place the split was looked for.
    searched: tuple[Path, ...]

    @property
    def size(self) -> int:
        return sum(remote.size for remote in self.files)

    def describe(self) -> str:
        names = " and ".join(remote.name for remote in self.files)
        return (
            f"{self.collection.title} {self.split} is not downloaded yet: running will download "
            f"{self.size / 1e6:.1f} MB ({names}) into {self.folder}"
        )


def download_folder(collection: Collection) -> Path:
    """Where downloads of ``collection`` go: ``$NEUROFLOW_DATA/<folder>``, else ``~/.neuroflow/data/<folder>``."""
    return search_folders(collection)[0]


def plan_split(
    collection: Collection, split: str, data_folder: str = "", download: bool = True
) -> SplitFiles | PendingDownload:
    """Where a split's files are, or - when they are missing and may be downloaded - what to fetch.

    Only looks at the file system. A data folder, a bundled collection or ``download=False``
    behave exactly as :func:`locate_split`. Otherwise a split found complete in a standard
    place is used; when none has it, the split's files still missing from the download folder
    (a half-finished earlier download is completed, not restarted) make a :class:`PendingDownload`.
    """
    if data_folder.strip() or collection.bundled or not download or not collection.downloadable:
        return locate_split(collection, split, data_folder)
    if split not in IDX_NAMES:
        raise DataError(f"unknown split {split!r}; expected one of {', '.join(IDX_NAMES)}")
    places = search_folders(collection)
    for place in places:
        if place.is_dir():
            try:
                found = find_in_folder(place, collection, split)
            except DataError:  # one file of the pair: downloading completes it in the first place
                continue
            if found is not None:
                return found
    target = places[0]
    missing = tuple(
        collection.remote_file(f"{name}.gz") for name in IDX_NAMES[split] if _idx_file(target, name) is None
    )
    return PendingDownload(collection, split, target, missing, tuple(places))


def download_sources(collection: Collection, mirror: str = "") -> list[str]:
    """Base URLs to fetch ``collection`` from, in order.

    ``$NEUROFLOW_DATA_MIRROR`` (a copy of the data folder layout, ``<base>/<folder>/<file>``)
    comes first when set; then ``mirror`` (a base URL holding the files themselves) when given,
    else the collection's built-in sources.
    """
    bases = []
    shared = os.environ.get(MIRROR_VARIABLE, "").strip()
    if shared:
        bases.append(f"{shared.rstrip('/')}/{collection.folder_name}/")
    if mirror.strip():
        bases.append(mirror.strip().rstrip("/") + "/")
    else:
        bases.extend(collection.sources)
    return bases


def check_mirror(value: str, what: str) -> str | None:
    """A problem with a mirror URL as one line, or None when it can be used (empty is fine)."""
    text = value.strip()
    if not text:
        return None
    parts = urlsplit(text)
    if parts.scheme.lower() not in MIRROR_SCHEMES or not (parts.netloc or parts.scheme.lower() == "file"):
        return f"{what}: expected an http://, https:// or file:// URL, got {value!r}"
    return None


def fetch_split(
    pending: PendingDownload, mirror: str = "", progress: DownloadProgress | None = None
) -> SplitFiles:
    """Download the missing files of a split, verified, and return where the split now is.

    ``progress(fraction, message)`` follows the bytes of all the files together and may raise
    ``Cancelled``; a cancelled or failed download leaves no partial file. A failure is one line
    naming the missing files, the places looked in, what went wrong with each source and how to
    get the files another way.
    """
    collection = pending.collection
    problem = check_mirror(os.environ.get(MIRROR_VARIABLE, ""), MIRROR_VARIABLE) or check_mirror(
        mirror, "the node's download mirror"
    )
    if problem:
        raise DataError(problem)
    bases = download_sources(collection, mirror)
    total = max(pending.size, 1)
    done = 0
    for index, remote in enumerate(pending.files):
        def report(fraction: float | None, message: str, start: int = done, size: int = remote.size) -> None:
            if progress is not None:
                progress(None if fraction is None else min((start + fraction * size) / total, 1.0), message)

        try:
            download_first(
                [base + remote.name for base in bases], pending.folder / remote.name,
                sha256=remote.sha256, progress=report,
            )
        except DownloadError as exc:
            raise DataError(_download_failed(pending, pending.files[index:], exc)) from None
        done += remote.size
    found = find_in_folder(pending.folder, collection, pending.split)
    if found is None:  # removed while downloading: nothing sensible to retry
        raise DataError(f"{collection.title} {pending.split} files vanished from {pending.folder} after downloading")
    return found


def _download_failed(pending: PendingDownload, missing: tuple[RemoteFile, ...], error: DownloadError) -> str:
    reasons: list[str] = []
    for problem in error.problems:
        where = urlsplit(problem.url).netloc
        text = f"cannot reach {where}: {problem.reason}" if problem.unreachable and where else str(problem)
        if text not in reasons:
            reasons.append(text)
    collection = pending.collection
    return (
        f"{collection.title} {pending.split} files missing: {', '.join(remote.name for remote in missing)} "
        f"(looked in {', '.join(map(str, pending.searched))}); download failed: {'; '.join(reasons)}. "
        f"Put the files from {collection.homepage} into {pending.folder}, point {MIRROR_VARIABLE} or the "
        "node's download mirror at a copy, or set the node's data folder"
    )


# -- headers ----------------------------------------------------------------------------------
def inspect_split(files: SplitFiles) -> SplitInfo:
    """Read and cross-check the headers of a split (no pixel data is read)."""
    if files.is_npz:
        return _inspect_npz(files)
    images = read_idx_header(files.images)
    labels = read_idx_header(files.labels)
    for header, magic, what in ((images, IMAGES_MAGIC, "images"), (labels, LABELS_MAGIC, "labels")):
        if header.magic != magic:
            raise DataError(
                f"{header.path} does not hold IDX {what}: bad magic number 0x{header.magic:08x}, "
                f"expected 0x{magic:08x}"
            )
    if images.count != labels.count:
        raise DataError(
            f"labels do not match images: {images.path} holds {images.count:,} images but "
            f"{labels.path} holds {labels.count:,} labels"
        )
    height, width = images.shape[1:]
    return SplitInfo(files, images.count, (height, width), images, labels)


def _inspect_npz(files: SplitFiles) -> SplitInfo:
    path = files.images
    headers = read_npz_headers(path)
    image_key, label_key = NPZ_KEYS[files.split]
    for key in (image_key, label_key):
        if key not in headers:
            raise DataError(
                f"{path} has no array '{key}' (it holds {', '.join(sorted(headers)) or 'no arrays'})"
            )
    images, labels = headers[image_key], headers[label_key]
    shape = images.shape
    if not (len(shape) == 3 or (len(shape) == 4 and shape[3] == 1)) or images.dtype != np.uint8:
        raise DataError(
            f"{path}: '{image_key}' must be uint8 images of shape (N, height, width), "
            f"got {images.dtype} {shape}"
        )
    if len(labels.shape) != 1 or labels.dtype.kind not in "iu":
        raise DataError(f"{path}: '{label_key}' must be integer labels of shape (N,), got {labels.dtype} {labels.shape}")
    if labels.shape[0] != shape[0]:
        raise DataError(
            f"labels do not match images: '{image_key}' in {path} holds {shape[0]:,} images but "
            f"'{label_key}' holds {labels.shape[0]:,} labels"
        )
    return SplitInfo(files, shape[0], (shape[1], shape[2]))


# -- reading ----------------------------------------------------------------------------------
def load_split(
    info: SplitInfo, limit: int = 0, progress: Progress | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, H, W, 1)`` uint8 and labels ``(N,)`` int64 of the first ``limit`` samples.

    The files store the samples in shuffled order, so the first N are a fair, reproducible
    sample - and reading stops after them.
    """
    count = info.selected(limit)
    files = info.files
    if files.is_npz:
        image_key, label_key = NPZ_KEYS[files.split]
        if progress is not None:
            progress(0.0, f"reading {files.images.name}")
        images = read_npz_array(files.images, image_key, limit=count)
        labels = read_npz_array(files.labels, label_key, limit=count)
    else:
        def image_progress(fraction: float, message: str) -> None:
            progress(0.95 * fraction, message)  # type: ignore[misc]

        images = read_idx(
            files.images, limit=count, header=info.images_header,
            progress=image_progress if progress is not None else None,
        )
        labels = read_idx(files.labels, limit=count, header=info.labels_header)
    if progress is not None:
        progress(1.0, f"read {count:,} images")
    _check_labels(labels, files)
    return images.reshape(count, *info.image_shape, 1), labels.astype(np.int64)


def _check_labels(labels: np.ndarray, files: SplitFiles) -> None:
    classes = len(files.collection.class_names)
    bad = np.flatnonzero((labels < 0) | (labels >= classes))
    if bad.size:
        position = int(bad[0])
        raise DataError(
            f"{files.labels} holds label {int(labels[position])} at position {position:,}; "
            f"{files.collection.title} labels are 0 to {classes - 1}"
        )
