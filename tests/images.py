"""Image files for tests, written from the formats (PNG) or by TensorFlow (JPEG), and a way to
see what a file-backed dataset decodes to."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from neuroflow.core.data import ImageFileDataset


def png_bytes(pixels: np.ndarray) -> bytes:
    """A minimal 8-bit PNG (grayscale for (H, W), RGB for (H, W, 3)), filter 0 on every row."""
    height, width = pixels.shape[:2]
    color_type = 0 if pixels.ndim == 2 else 2

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    rows = b"".join(b"\x00" + row.astype(np.uint8).tobytes() for row in pixels)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def jpeg_bytes(pixels: np.ndarray, quality: int = 95) -> bytes:
    """A JPEG of (H, W, 1) or (H, W, 3) uint8 pixels (1 or 3 components)."""
    import tensorflow as tf

    return tf.io.encode_jpeg(pixels.astype(np.uint8), quality=quality).numpy()


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def decoded(dataset: ImageFileDataset) -> np.ndarray:
    """All images of ``dataset`` as the training pipeline produces them, in dataset order."""
    from neuroflow.training.pipeline import file_pipeline

    batches = [b.numpy() for b in file_pipeline(dataset, batch_size=64)]
    return np.concatenate(batches) if batches else np.zeros((0, *dataset.shape), np.float32)
