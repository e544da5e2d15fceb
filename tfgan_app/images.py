"""Converting between model images and pictures: the pixel range, grids and PNG files.

Generators in this library output float images in [-1, 1] (tanh) and train on real images in that
range. This module is the single place where [-1, 1] is mapped to uint8 pixels and back:
`to_uint8` / `from_uint8` for NumPy arrays, `tf_to_uint8` / `tf_from_uint8` for graph code (`tf.data`
pipelines, SavedModel signatures), with `x_uint8 = round((x + 1) * PIXEL_SCALE)` clipped to [0, 255]
and `x = x_uint8 / PIXEL_SCALE - 1`.

Example:
>>> to_uint8(np.array([-1.0, 0.0, 1.0]))
array([  0, 128, 255], dtype=uint8)
>>> from_uint8(np.array([0, 255], np.uint8))
array([-1.,  1.], dtype=float32)
"""

import io
import math
import os
from typing import Optional, Tuple

import numpy as np
from PIL import Image, JpegImagePlugin, PngImagePlugin

PIXEL_SCALE = 127.5  # half of 255: [-1, 1] <-> [0, 255]
# Encoded images whose size `declared_size` reads from the header: (signature, Pillow plugin class).
_HEADER_READERS = ((b"\x89PNG\r\n\x1a\n", PngImagePlugin.PngImageFile),
                   (b"\xff\xd8\xff", JpegImagePlugin.JpegImageFile))


def to_uint8(images) -> np.ndarray:
    """Maps float images in [-1, 1] to uint8 in [0, 255] (values outside are clipped)."""
    images = np.asarray(images, dtype=np.float32)
    return np.clip(np.round((images + 1.0) * PIXEL_SCALE), 0, 255).astype(np.uint8)


def from_uint8(pixels) -> np.ndarray:
    """Maps pixels in [0, 255] (uint8, or floats on that scale) to float32 in [-1, 1]; inverse of `to_uint8`."""
    return np.asarray(pixels, dtype=np.float32) / PIXEL_SCALE - 1.0


def tf_to_uint8(images: "tf.Tensor") -> "tf.Tensor":
    """TensorFlow twin of `to_uint8`, for graph code (SavedModel signatures)."""
    import tensorflow as tf  # optional: only the tensor twins need TensorFlow; `tfgan --help` must not load it
    return tf.cast(tf.clip_by_value(tf.round((images + 1.0) * PIXEL_SCALE), 0.0, 255.0), tf.uint8)


def tf_from_uint8(pixels: "tf.Tensor") -> "tf.Tensor":
    """TensorFlow twin of `from_uint8`, for graph code (`tf.data` pipelines, SavedModel signatures)."""
    import tensorflow as tf  # optional: only the tensor twins need TensorFlow; `tfgan --help` must not load it
    return tf.cast(pixels, tf.float32) / PIXEL_SCALE - 1.0


def declared_size(data: bytes) -> Optional[Tuple[int, int]]:
    """`(height, width)` a PNG or JPEG declares in its header (IHDR / SOF), read without decoding any pixel.

    Pillow's plugins parse only the header when opened; they are used directly (not `Image.open`) so that a
    header declaring billions of pixels is measured, not refused by Pillow's own decompression-bomb check.

    Args:
        data: the encoded image.

    Returns:
        `(height, width)`, or None when `data` is neither a PNG nor a JPEG.

    Raises:
        ValueError: `data` starts like a PNG or JPEG but its header cannot be read.

    Example:
    >>> declared_size(open("digit.png", "rb").read())
    (28, 28)
    """
    reader = next((plugin for magic, plugin in _HEADER_READERS if data[:len(magic)] == magic), None)
    if reader is None:
        return None
    try:
        with reader(io.BytesIO(data)) as image:
            width, height = image.size
    except (SyntaxError, OSError, ValueError, EOFError) as e:
        raise ValueError(f"the {reader.format} header cannot be read ({e})") from e
    return height, width


def upscale(images, scale: int) -> np.ndarray:
    """Nearest-neighbour upscaling of `[..., H, W, C]` images by an integer `scale` (uint8 or float in [-1, 1]).

    Each pixel becomes a `scale x scale` block, so small images (28 px) stay sharp when viewed large.

    Example:
      >>> upscale(np.zeros((2, 28, 28, 1), np.uint8), 4).shape
      (2, 112, 112, 1)
    """
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 1:
        raise ValueError(f"Expected an integer scale >= 1, received scale={scale!r}.")
    images = np.asarray(images)
    if images.dtype != np.uint8:
        images = to_uint8(images)
    if scale == 1:
        return images
    if images.ndim < 3:
        raise ValueError(f"upscale expects [..., H, W, C] images, received shape {images.shape}.")
    return np.repeat(np.repeat(images, scale, axis=-3), scale, axis=-2)


def make_grid(images, cols: Optional[int] = None, padding: int = 2) -> np.ndarray:
    """Tiles `[N, H, W, C]` images (uint8 or float in [-1, 1]) into one `[H', W', C]` uint8 grid.

    `cols` defaults to a square-ish layout. Cells are separated by `padding`
    black pixels.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        images = to_uint8(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise ValueError(f"make_grid expects [N, H, W, C] images, received shape {images.shape}.")
    n, h, w, c = images.shape
    cols = cols or int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / cols))
    grid = np.zeros((rows * (h + padding) + padding, cols * (w + padding) + padding, c), np.uint8)
    for i, image in enumerate(images):
        r, col = divmod(i, cols)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        grid[top:top + h, left:left + w] = image
    return grid


def save_png(path: str, image) -> str:
    """Writes one `[H, W, C]` image (uint8, or float in [-1, 1]) as PNG; returns the path."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = to_uint8(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    Image.fromarray(image).save(path, format="PNG")
    return path


def save_grid(path: str, images, cols: Optional[int] = None) -> str:
    """Tiles `images` with `make_grid` and writes the grid as PNG; returns the path."""
    return save_png(path, make_grid(images, cols=cols))
