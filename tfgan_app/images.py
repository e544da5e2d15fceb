"""Converting generator outputs to pictures: uint8 quantisation, grids and PNG files.

Generators in this library output float images in [-1, 1] (tanh). These helpers
are the single place where that range is mapped to uint8 pixels.
"""

import math
import os
from typing import Optional

import numpy as np
from PIL import Image


def to_uint8(images) -> np.ndarray:
    """Maps float images in [-1, 1] to uint8 in [0, 255] (values outside are clipped)."""
    images = np.asarray(images, dtype=np.float32)
    return np.clip(np.round((images + 1.0) * 127.5), 0, 255).astype(np.uint8)


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
