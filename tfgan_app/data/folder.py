"""Images from a folder: `folder:/path` dataset specs.

Layout: either images directly in the folder (unlabelled) or one sub-folder per
class (`/path/cat/*.png`, `/path/dog/*.jpg`): labels are the sorted sub-folder
names' indices. Every file is decoded with Pillow up front so an unreadable
file is reported by name before training starts.
"""

import os
from typing import List, Optional, Tuple

import numpy as np
from PIL import Image, UnidentifiedImageError

from tfgan_app.errors import MissingResourceError, UsageError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


def _list_images(folder: str) -> List[str]:
    return sorted(os.path.join(folder, f) for f in os.listdir(folder)
                  if f.lower().endswith(IMAGE_EXTENSIONS) and os.path.isfile(os.path.join(folder, f)))


def _read_image(path: str, size: Tuple[int, int], channels: int) -> np.ndarray:
    try:
        with Image.open(path) as image:
            image = image.convert("L" if channels == 1 else "RGB")
            if image.size != (size[1], size[0]):
                image = image.resize((size[1], size[0]), Image.BILINEAR)
            array = np.asarray(image, dtype=np.uint8)
    except (UnidentifiedImageError, OSError) as e:
        raise MissingResourceError(
            f"Cannot read image file {path!r} ({e}). Remove or replace the file, then run again.") from e
    return array.reshape(size[0], size[1], channels)


def load_folder(folder: str, image_size: Optional[Tuple[int, int]] = None,
                channels: Optional[int] = None) -> Tuple[np.ndarray, Optional[np.ndarray], List[str]]:
    """Reads a folder of images into uint8 `[N, H, W, C]`, labels (or None) and class names.

    Args:
      folder: the folder; images at its top level, or one sub-folder per class.
      image_size: `(H, W)` to resize to; default: the size of the first image.
      channels: 1 (grayscale) or 3 (RGB); default: 1 if the first image is grayscale else 3.
    """
    if not os.path.isdir(folder):
        raise MissingResourceError(
            f"Image folder {folder!r} does not exist. Pass --dataset=folder:/path/to/images with an existing "
            "folder holding images (or one sub-folder of images per class).")
    classes = sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)))
    if classes:
        files = [(path, label) for label, name in enumerate(classes)
                 for path in _list_images(os.path.join(folder, name))]
    else:
        files = [(path, None) for path in _list_images(folder)]
    if not files:
        raise MissingResourceError(
            f"No images ({', '.join(IMAGE_EXTENSIONS)}) found in {folder!r} or its class sub-folders.")
    first = files[0][0]
    if image_size is None or channels is None:
        try:
            with Image.open(first) as image:
                image_size = image_size or (image.size[1], image.size[0])
                channels = channels or (1 if image.mode in ("L", "1", "I;16") else 3)
        except (UnidentifiedImageError, OSError) as e:
            raise MissingResourceError(f"Cannot read image file {first!r} ({e}).") from e
    if channels not in (1, 3):
        raise UsageError(f"channels must be 1 or 3, received {channels}.")
    images = np.stack([_read_image(path, image_size, channels) for path, _ in files])
    labels = np.array([label for _, label in files], np.int64) if classes else None
    return images, labels, classes
