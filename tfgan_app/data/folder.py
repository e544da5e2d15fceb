"""Images from a folder: `folder:/path` dataset specs, streamed from disk.

Layout: either images directly in the folder (unlabelled) or one sub-folder per
class (`/path/cat/*.png`, `/path/dog/*.jpg`): labels are the sorted sub-folder
names' indices (as in `keras.utils.image_dataset_from_directory`).

`folder_dataset` streams the files through `tf.data` (file names → parallel
`tf.io.decode_image` → resize or centre-crop → batches), so memory does not grow
with the number of images. Before that, `check_images` opens every file in
parallel threads and reads its header and structure with Pillow (no pixels are
kept), so an unreadable file is reported by name before training starts.
Paths go through `tf.io.gfile`, so any filesystem TensorFlow has (`gs://`,
`ram://`) works too.

`load_folder` reads a (small) folder into one uint8 array, for the sources that
need the images in memory (pairs, CycleGAN domains, evaluation).
"""

import concurrent.futures
import os
from typing import List, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf
from PIL import Image, UnidentifiedImageError

from tfgan_app.errors import MissingResourceError, UsageError
from tfgan_app.names import CROP_MODES

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
# Pillow's parsing holds the GIL, so threads only overlap the file reads; each thread checks a chunk of files
# (one task per file made the pool's bookkeeping and GIL hand-offs cost 3x the checks: 10.2 s vs 3.7 s of CPU
# for 100,000 64x64 PNGs; benchmarks/RESULTS.md, input pipeline).
_CHECK_THREADS = 2
_CHECK_CHUNK = 1024


def _list_images(folder: str) -> List[str]:
    if "://" in folder:  # TensorFlow's filesystems (gs://, ram://)
        names = [f for f in tf.io.gfile.listdir(folder) if not tf.io.gfile.isdir(os.path.join(folder, f))]
    else:  # one directory read, no stat per file
        with os.scandir(folder) as entries:
            names = [entry.name for entry in entries if not entry.is_dir()]
    return sorted(os.path.join(folder, f) for f in names if f.lower().endswith(IMAGE_EXTENSIONS))


def list_folder(folder: str) -> Tuple[List[str], Optional[List[int]], List[str]]:
    """The image files of a folder, their labels and the class names.

    Args:
      folder: images at its top level, or one sub-folder of images per class.

    Returns:
      `(paths, labels, classes)`: sorted paths (class by class), their class indices (None for a flat
      folder) and the sorted class sub-folder names (`[]` for a flat folder).

    Raises:
      MissingResourceError: the folder does not exist or holds no images.
    """
    if not tf.io.gfile.isdir(folder):
        raise MissingResourceError(
            f"Image folder {folder!r} does not exist. Pass --dataset=folder:/path/to/images with an existing "
            "folder holding images (or one sub-folder of images per class).")
    classes = sorted(d.rstrip("/") for d in tf.io.gfile.listdir(folder)
                     if tf.io.gfile.isdir(os.path.join(folder, d.rstrip("/"))))
    if classes:
        pairs = [(path, label) for label, name in enumerate(classes)
                 for path in _list_images(os.path.join(folder, name))]
        paths, labels = [p for p, _ in pairs], [label for _, label in pairs]
    else:
        paths, labels = _list_images(folder), None
    if not paths:
        raise MissingResourceError(
            f"No images ({', '.join(IMAGE_EXTENSIONS)}) found in {folder!r} or its class sub-folders.")
    return paths, labels, classes


def _check_one(path: str) -> Tuple[Tuple[int, int], str]:
    """`((height, width), mode)` of an image file, after Pillow verified its structure (no pixels decoded)."""
    opener = tf.io.gfile.GFile if "://" in path else open  # the built-in open is twice as fast for local files
    try:
        with opener(path, "rb") as f, Image.open(f) as image:
            size, mode = (image.size[1], image.size[0]), image.mode
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, tf.errors.OpError) as e:
        raise MissingResourceError(
            f"Cannot read image file {path!r} ({e}). Remove or replace the file, then run again.") from e
    return size, mode


def _check_chunk(paths: Sequence[str]) -> Tuple[Tuple[int, int], str]:
    """Checks `paths` in order (`_check_one`); returns the first one's size and mode."""
    results = [_check_one(path) for path in paths]
    return results[0]


def check_images(paths: Sequence[str]) -> Tuple[Tuple[int, int], int]:
    """Checks in parallel that every file is a readable image; returns the first one's size and channels.

    Args:
      paths: image files.

    Returns:
      `((height, width), channels)` of the first image: channels 1 for a grayscale image, else 3.

    Raises:
      MissingResourceError: naming the first unreadable file (in `paths` order).
    """
    chunks = [paths[i:i + _CHECK_CHUNK] for i in range(0, len(paths), _CHECK_CHUNK)]
    with concurrent.futures.ThreadPoolExecutor(_CHECK_THREADS) as pool:
        firsts = list(pool.map(_check_chunk, chunks))
    size, mode = firsts[0]
    return size, 1 if mode in ("L", "1", "I;16", "I", "F") else 3


def fit_to_size(image: tf.Tensor, size: Sequence[int], crop: str = "resize") -> tf.Tensor:
    """Resizes one image `[H, W, C]` to `size` (bilinear), first centre-cropping it to `size`'s aspect ratio
    if `crop` is "center" (as Keras' `crop_to_aspect_ratio=True`); returns uint8 (4x less memory than float32
    in shuffle buffers and caches; a prepared PNG holds exactly what the folder pipeline gives)."""
    height, width = int(size[0]), int(size[1])
    if crop == "center":
        shape = tf.shape(image)
        h, w = shape[0], shape[1]
        crop_h = tf.minimum(h, tf.cast(tf.round(tf.cast(w, tf.float64) * height / width), tf.int32))
        crop_w = tf.minimum(w, tf.cast(tf.round(tf.cast(h, tf.float64) * width / height), tf.int32))
        image = tf.image.crop_to_bounding_box(image, (h - crop_h) // 2, (w - crop_w) // 2, crop_h, crop_w)
    image = tf.image.resize(image, (height, width), method="bilinear")
    return tf.cast(tf.clip_by_value(tf.round(image), 0.0, 255.0), tf.uint8)


def decode_file(path: tf.Tensor, size: Sequence[int], channels: int, crop: str = "resize") -> tf.Tensor:
    """Reads and decodes one image file (PNG, JPEG, BMP, GIF first frame, WebP) to uint8 `size + (channels,)`."""
    image = tf.io.decode_image(tf.io.read_file(path), channels=channels, expand_animations=False)
    image.set_shape([None, None, channels])
    image = fit_to_size(image, size, crop)
    image.set_shape([int(size[0]), int(size[1]), channels])
    return image


def check_crop(crop: str) -> str:
    """Returns `crop` if it is a valid crop mode, else raises `UsageError` naming it."""
    if crop not in CROP_MODES:
        raise UsageError(f"crop must be one of {', '.join(CROP_MODES)}, received {crop!r}.")
    return crop


def folder_images(folder: str, image_size: Optional[Sequence[int]] = None, channels: Optional[int] = None,
                  crop: str = "resize") -> Tuple[tf.data.Dataset, int, Tuple[int, int, int], List[str]]:
    """A checked folder as an unbatched, unshuffled `tf.data.Dataset` of `(path, label)` plus what it holds.

    Args:
      folder: the folder (see `list_folder`).
      image_size: `(H, W)`; default: the size of the first image.
      channels: 1 or 3; default: 1 if the first image is grayscale else 3.
      crop: "resize" (stretch to `image_size`) or "center" (centre-crop to its aspect ratio, then resize).

    Returns:
      `(dataset of (path, label int32; -1 unlabelled), count, (H, W, C), class names)`.

    Raises:
      MissingResourceError: no such folder, no images, or an unreadable file (named).
      UsageError: a bad `channels` or `crop`.
    """
    check_crop(crop)
    paths, labels, classes = list_folder(folder)
    first_size, first_channels = check_images(paths)
    size = tuple(int(s) for s in (image_size or first_size))
    channels = channels or first_channels
    if channels not in (1, 3):
        raise UsageError(f"channels must be 1 or 3, received {channels}.")
    labels = np.full(len(paths), -1, np.int32) if labels is None else np.asarray(labels, np.int32)
    dataset = tf.data.Dataset.from_tensor_slices((paths, labels))
    return dataset, len(paths), (size[0], size[1], channels), classes


def decode_files(dataset: tf.data.Dataset, shape: Sequence[int], crop: str = "resize") -> tf.data.Dataset:
    """Maps `(path, label)` to `(uint8 image of shape, label)` in parallel, keeping the order."""
    return dataset.map(lambda path, label: (decode_file(path, shape[:2], shape[2], crop), label),
                       num_parallel_calls=tf.data.AUTOTUNE)


def folder_dataset(folder: str, image_size: Optional[Sequence[int]] = None, channels: Optional[int] = None,
                   crop: str = "resize", shuffle: bool = True, seed: Optional[int] = None,
                   cache: Optional[str] = None) -> Tuple[tf.data.Dataset, int, Tuple[int, int, int], List[str]]:
    """Streams a folder as an unbatched dataset of `(uint8 image, int32 label)`.

    Without `cache`, the file names are shuffled (all of them: cheap) and then decoded in parallel, so
    memory does not depend on the number of images; with `cache` ("memory" or a file path prefix) the
    decoded images are cached after the first epoch and shuffled in a buffer of up to 10,000.

    Args:
      folder, image_size, channels, crop: as in `folder_images`.
      shuffle: reshuffle every epoch.
      seed: shuffle seed.
      cache: None, "memory", or a path prefix for `tf.data.Dataset.cache`.

    Returns:
      `(dataset, count, (H, W, C), class names)`.
    """
    dataset, count, shape, classes = folder_images(folder, image_size, channels, crop)
    if cache:
        dataset = decode_files(dataset, shape, crop).cache("" if cache == "memory" else cache)
        if shuffle:
            dataset = dataset.shuffle(min(count, 10_000), seed=seed, reshuffle_each_iteration=True)
    else:
        if shuffle:
            dataset = dataset.shuffle(count, seed=seed, reshuffle_each_iteration=True)
        dataset = decode_files(dataset, shape, crop)  # in order: a seeded run is reproducible
    return dataset, count, shape, classes


def load_folder(folder: str, image_size: Optional[Tuple[int, int]] = None,
                channels: Optional[int] = None) -> Tuple[np.ndarray, Optional[np.ndarray], List[str]]:
    """Reads a folder of images into uint8 `[N, H, W, C]`, labels (or None) and class names.

    For sources that need every image in memory (pairs, CycleGAN domains, evaluation); training streams
    folders with `folder_dataset` instead.

    Args:
      folder: the folder; images at its top level, or one sub-folder per class.
      image_size: `(H, W)` to resize to; default: the size of the first image.
      channels: 1 (grayscale) or 3 (RGB); default: 1 if the first image is grayscale else 3.
    """
    dataset, count, shape, classes = folder_images(folder, image_size, channels)
    images, labels = np.zeros((count,) + tuple(shape), np.uint8), np.zeros(count, np.int64)
    start = 0
    for x, y in decode_files(dataset, shape).batch(256):
        images[start:start + len(x)], labels[start:start + len(x)] = x.numpy(), y.numpy()
        start += len(x)
    return images, labels if classes else None, classes
