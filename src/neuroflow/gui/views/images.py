"""Dataset images as Qt images: one place for value ranges, channels, scaling and files.

In-memory datasets hold images as (H, W, C) arrays of uint8 or float, in the range the dataset
declares (``value_range``: (0, 255) raw, (0, 1) or (-1, 1) after normalising, or a standardised
range). Views map that range linearly to 0..255 so a normalised image looks like the original,
and enlarge small images with nearest-neighbour scaling so pixels stay crisp.

File-backed datasets are shown from their files, read by Qt (``QImageReader``, which decodes a
JPEG straight at a reduced size) only when a thumbnail is painted - never TensorFlow, and never
the whole dataset. The thumbnail is fitted the way the dataset fits images to the network's
size (stretched, centre-cropped or padded), in grayscale when the network sees grayscale.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QImage, QImageReader, QPainter, QPixmap

from neuroflow.core.data import ImageData, ImageDataset, ImageFileDataset

#: Small images (MNIST's 28 px) are enlarged to about this many pixels, by a whole factor.
THUMBNAIL_TARGET = 84


def to_uint8(images: np.ndarray, value_range: tuple[float, float] = (0.0, 255.0)) -> np.ndarray:
    """Map ``images`` from ``value_range`` to uint8 0..255 (any shape; values outside are clipped)."""
    low, high = float(value_range[0]), float(value_range[1])
    if images.dtype == np.uint8 and (low, high) == (0.0, 255.0):
        return images
    if not high > low:  # a degenerate declared range: fall back to the data's own range
        low, high = float(np.min(images)), float(np.max(images))
        if not high > low:
            high = low + 1.0
    scaled = (images.astype(np.float32) - low) * (255.0 / (high - low))
    return np.clip(scaled + 0.5, 0, 255).astype(np.uint8)


def to_qimage(image: np.ndarray, value_range: tuple[float, float] = (0.0, 255.0)) -> QImage:
    """One (H, W), (H, W, 1), (H, W, 3) or (H, W, 4+) image as a QImage that owns its pixels."""
    pixels = to_uint8(np.asarray(image), value_range)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    elif pixels.ndim == 3 and pixels.shape[2] == 2:  # no standard meaning: show the first channel
        pixels = pixels[:, :, 0]
    elif pixels.ndim == 3 and pixels.shape[2] > 3:
        pixels = pixels[:, :, :3]
    if pixels.ndim not in (2, 3):
        raise ValueError(f"cannot show an array of shape {image.shape} as an image")
    pixels = np.ascontiguousarray(pixels)
    height, width = pixels.shape[:2]
    if pixels.ndim == 2:
        fmt, stride = QImage.Format.Format_Grayscale8, width
    else:
        fmt, stride = QImage.Format.Format_RGB888, width * 3
    buffer = pixels.tobytes()
    return QImage(buffer, width, height, stride, fmt).copy()  # copy: detach from ``buffer``


def thumbnail_size(height: int, width: int, target: int = THUMBNAIL_TARGET) -> tuple[int, int]:
    """Display size (w, h): small images grow by a whole factor, large ones shrink to ``target``."""
    longest = max(1, height, width)
    if longest <= target:
        factor = max(1, target // longest)
        return width * factor, height * factor
    shrink = target / longest
    return max(1, round(width * shrink)), max(1, round(height * shrink))


def to_pixmap(
    image: np.ndarray,
    value_range: tuple[float, float] = (0.0, 255.0),
    target: int = THUMBNAIL_TARGET,
) -> QPixmap:
    """A thumbnail: crisp nearest-neighbour enlargement, smooth reduction of large images."""
    qimage = to_qimage(image, value_range)
    width, height = thumbnail_size(qimage.height(), qimage.width(), target)
    mode = (
        Qt.TransformationMode.FastTransformation
        if width >= qimage.width()
        else Qt.TransformationMode.SmoothTransformation
    )
    scaled = qimage.scaled(width, height, Qt.AspectRatioMode.IgnoreAspectRatio, mode)
    return QPixmap.fromImage(scaled)


def dataset_thumbnail(dataset: ImageData, index: int, target: int = THUMBNAIL_TARGET) -> QPixmap:
    """Image ``index`` of either kind of dataset as a thumbnail (see the module docstring)."""
    if isinstance(dataset, ImageDataset):
        return to_pixmap(dataset.images[index], dataset.value_range, target)
    assert isinstance(dataset, ImageFileDataset)
    height, width, channels = dataset.image_shape
    size = QSize(*thumbnail_size(height, width, target))
    return file_thumbnail(str(dataset.paths[index]), size, dataset.resize_mode, grayscale=channels == 1)


def file_thumbnail(path: str, size: QSize, mode: str = "stretch", *, grayscale: bool = False) -> QPixmap:
    """The image file at ``path`` fitted into ``size`` by ``mode``; a gray "?" tile if unreadable."""
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    original = reader.size()
    if original.isValid() and mode == "stretch":
        reader.setScaledSize(size)  # JPEG decodes straight at the small size: fast for photos
    image = reader.read()
    if image.isNull():
        return _unreadable_tile(size)
    if grayscale:
        image = image.convertToFormat(QImage.Format.Format_Grayscale8)
    smooth = Qt.TransformationMode.SmoothTransformation
    if mode == "crop":
        ratio = size.width() / size.height()
        crop_w = min(image.width(), round(image.height() * ratio))
        crop_h = min(image.height(), round(image.width() / ratio))
        left, top = (image.width() - crop_w) // 2, (image.height() - crop_h) // 2
        image = image.copy(QRect(left, top, max(crop_w, 1), max(crop_h, 1)))
    if mode == "pad":
        fitted = image.scaled(size, Qt.AspectRatioMode.KeepAspectRatio, smooth)
        canvas = QPixmap(size)
        canvas.fill(QColor("black"))
        painter = QPainter(canvas)
        painter.drawImage((size.width() - fitted.width()) // 2, (size.height() - fitted.height()) // 2, fitted)
        painter.end()
        return canvas
    if image.size() != size:
        image = image.scaled(size, Qt.AspectRatioMode.IgnoreAspectRatio, smooth)
    return QPixmap.fromImage(image)


def _unreadable_tile(size: QSize) -> QPixmap:
    tile = QPixmap(size)
    tile.fill(QColor("#cbd5e1"))
    painter = QPainter(tile)
    painter.setPen(QColor("#475569"))
    painter.drawText(tile.rect(), Qt.AlignmentFlag.AlignCenter, "?")
    painter.end()
    return tile
