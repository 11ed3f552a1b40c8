"""Convert dataset images (numpy) to Qt images: one place for value ranges, channels and scaling.

Datasets hold images as (H, W, C) arrays of uint8 or float, in the range the dataset declares
(``ImageDataset.value_range``: (0, 255) raw, (0, 1) or (-1, 1) after normalising, or a
standardised range). Views map that range linearly to 0..255 so a normalised image looks like
the original, and enlarge small images with nearest-neighbour scaling so pixels stay crisp.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap

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
