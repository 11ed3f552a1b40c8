"""Pictures made ready for a model in the editor: files, pasted images and drawings as 0..255
arrays of the model's input size and channels (the execution process maps them to the value
range of the training data).

A drawing becomes an MNIST-like digit: MNIST digits were fitted into a 20x20 box keeping their
aspect ratio (anti-aliased), then placed in the 28x28 field with their centre of mass at its
centre. Feeding a model a raw downscaled canvas instead (a digit filling the whole field, or off
to one side) is the usual reason a drawn digit is misread.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QImageReader

#: Image files the panel accepts from a dropped folder (what Qt can decode).
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".pgm", ".ppm"}
#: Images taken from one dropped folder.
FOLDER_LIMIT = 64
#: MNIST's digit box inside its 28x28 field.
MNIST_BOX = 20


def image_files(paths: list[str]) -> list[str]:
    """The image files among ``paths``, a folder standing for its images (sorted, at most
    :data:`FOLDER_LIMIT`)."""
    found: list[str] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
            found.extend(str(p) for p in inside[:FOLDER_LIMIT])
        elif path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
            found.append(str(path))
    return found


def read_image(path: str) -> QImage:
    """The decoded file (rotated as its EXIF says); a null image when it cannot be read."""
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    return reader.read()


def to_array(image: QImage, input_shape: tuple[int, ...]) -> np.ndarray:
    """``image`` resized (smoothly) to the model's (H, W) and channels: uint8 (H, W, C)."""
    height, width, channels = (tuple(input_shape) + (1,))[:3] if len(input_shape) == 2 else input_shape[:3]
    scaled = image.scaled(width, height, Qt.AspectRatioMode.IgnoreAspectRatio,
                          Qt.TransformationMode.SmoothTransformation)
    if channels == 1:
        gray = scaled.convertToFormat(QImage.Format.Format_Grayscale8)
        return _pixels(gray, 1).reshape(height, width, 1)
    rgb = scaled.convertToFormat(QImage.Format.Format_RGB888)
    array = _pixels(rgb, 3).reshape(height, width, 3)
    return array if channels == 3 else np.repeat(array.mean(axis=2, keepdims=True), channels, axis=2).astype(np.uint8)


def _pixels(image: QImage, channels: int) -> np.ndarray:
    """The image's bytes without the padding Qt adds to each line."""
    width, height = image.width(), image.height()
    raw = np.frombuffer(image.constBits(), np.uint8, count=image.bytesPerLine() * height)
    return raw.reshape(height, image.bytesPerLine())[:, : width * channels].copy()


def mnist_like(canvas: QImage, size: int = 28) -> np.ndarray:
    """A white-on-black drawing as an MNIST digit: uint8 (size, size, 1); blank stays blank."""
    gray = _pixels(canvas.convertToFormat(QImage.Format.Format_Grayscale8), 1)
    rows, cols = np.nonzero(gray > 0)
    field = np.zeros((size, size), np.uint8)
    if rows.size == 0:
        return field[..., None]
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    box = round(MNIST_BOX * size / 28)
    scale = box / max(bottom - top, right - left)
    height, width = max(1, round((bottom - top) * scale)), max(1, round((right - left) * scale))
    cropped = canvas.convertToFormat(QImage.Format.Format_Grayscale8).copy(left, top, right - left, bottom - top)
    small = _pixels(cropped.scaled(width, height, Qt.AspectRatioMode.IgnoreAspectRatio,
                                   Qt.TransformationMode.SmoothTransformation), 1).astype(np.float32)
    # place the digit's centre of mass at the field's centre (clamped so it stays inside)
    total = small.sum() or 1.0
    cy = float((small.sum(axis=1) * np.arange(height)).sum() / total)
    cx = float((small.sum(axis=0) * np.arange(width)).sum() / total)
    y0 = int(np.clip(round(size / 2 - cy), 0, size - height))
    x0 = int(np.clip(round(size / 2 - cx), 0, size - width))
    field[y0:y0 + height, x0:x0 + width] = np.clip(small, 0, 255).astype(np.uint8)
    return field[..., None]


def from_array(pixels: np.ndarray) -> QImage:
    """uint8 (H, W, 1 or 3) pixels as a QImage (a copy: the array may go away)."""
    array = np.ascontiguousarray(pixels)
    height, width = array.shape[:2]
    if array.ndim == 2 or array.shape[2] == 1:
        gray = np.ascontiguousarray(array.reshape(height, width))
        return QImage(gray.data, width, height, width, QImage.Format.Format_Grayscale8).copy()
    rgb = np.ascontiguousarray(array[..., :3])
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def heat_overlay(base: np.ndarray, heat: np.ndarray, opacity: float) -> np.ndarray:
    """``base`` (uint8 H, W, C) with ``heat`` ([0, 1], H, W) laid over it in a blue-to-red
    colour scale at ``opacity``: uint8 (H, W, 3)."""
    rgb = np.repeat(base, 3, axis=2) if base.shape[2] == 1 else base[..., :3]
    colours = heat_colours(heat)
    # cold areas stay mostly clear, so the picture under a weak map is still readable
    alpha = (opacity * (0.25 + 0.75 * np.clip(heat, 0.0, 1.0)))[..., None]
    return np.clip(rgb * (1 - alpha) + colours * alpha, 0, 255).astype(np.uint8)


#: Stops of the heat map's colour scale (value, RGB): dark blue, cyan, yellow, red.
_STOPS = np.array([0.0, 0.35, 0.7, 1.0])
_COLOURS = np.array([[30, 41, 160], [34, 211, 238], [250, 204, 21], [220, 38, 38]], np.float32)


def heat_colours(heat: np.ndarray) -> np.ndarray:
    """RGB float (H, W, 3) of ``heat`` on the scale above."""
    values = np.clip(np.asarray(heat, np.float32), 0.0, 1.0)
    return np.stack([np.interp(values, _STOPS, _COLOURS[:, k]) for k in range(3)], axis=-1)
