"""Unpaired two-domain datasets for CycleGAN: `(domain_a, domain_b)` batches.

| name | domain A | domain B |
|---|---|---|
| `mnist_fashion` | MNIST digits | Fashion-MNIST clothes |
| `mnist_recolored` | white-on-black MNIST digits (RGB) | orange-on-navy MNIST digits (RGB) |
| `tfds:cycle_gan/NAME` | TFDS split `trainA` / `testA` | `trainB` / `testB` (e.g. `tfds:cycle_gan/horse2zebra`) |
| `folder:/PATH` | `PATH/trainA` / `PATH/testA` | `PATH/trainB` / `PATH/testB` (the CycleGAN download layout) |

TFDS reads `~/tensorflow_datasets` (or `$TFDS_DATA_DIR`) and downloads what is not prepared there;
offline, that ends in a `MissingResourceError` saying how to prepare the data elsewhere (after
TFDS's download retries, about 3.5 minutes here).

The two domains are shuffled independently, so a batch pairs unrelated images. In
`mnist_recolored` the two domains use disjoint halves of MNIST, so no digit appears in both.

Batches are `(a float32 [B, H, W, C], b float32 [B, H, W, C])` in [-1, 1], always full and
prefetched; `DatasetInfo.image_shape` is the shape of domain A.

Example:
>>> info = load_unpaired("mnist_fashion", batch_size=16)
>>> digits, clothes = next(iter(info.dataset))
>>> digits.shape, clothes.shape
(TensorShape([16, 28, 28, 1]), TensorShape([16, 28, 28, 1]))
"""

import os
from typing import Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from tfgan_app.data.info import DatasetInfo
from tfgan_app.data.arrays import load_fashion_mnist, load_mnist
from tfgan_app.data.folder import load_folder
from tfgan_app.data.paired import shuffled_batches
from tfgan_app.data.tfds_source import load_tfds
from tfgan_app.errors import MissingResourceError, UsageError
from tfgan_app.images import tf_from_uint8

__all__ = ["UNPAIRED_DATASETS", "load_unpaired", "recolor"]

UNPAIRED_DATASETS = ("mnist_fashion", "mnist_recolored", "tfds:cycle_gan/NAME", "folder:/PATH")
FOREGROUND = (255, 153, 0)  # orange
BACKGROUND = (0, 0, 128)  # navy


def recolor(gray: np.ndarray, foreground=FOREGROUND, background=BACKGROUND) -> np.ndarray:
    """Maps uint8 grayscale `[N, H, W, 1]` to RGB: 0 → `background`, 255 → `foreground`, linear between."""
    t = gray.astype(np.float32) / 255.0
    fg, bg = np.asarray(foreground, np.float32), np.asarray(background, np.float32)
    return np.round(bg + t * (fg - bg)).astype(np.uint8)


def _array_domains(name: str, split: str) -> Tuple[np.ndarray, np.ndarray]:
    if name == "mnist_fashion":
        return load_mnist(split)[0], load_fashion_mnist(split)[0]
    digits = load_mnist(split)[0]
    half = len(digits) // 2
    return np.repeat(digits[:half], 3, axis=-1), recolor(digits[half:])


def _folder_domains(root: str, split: str, image_size: Optional[Sequence[int]]) -> Tuple[np.ndarray, np.ndarray]:
    domains = []
    for suffix in ("A", "B"):
        folder = os.path.join(root, f"{split}{suffix}")
        if not os.path.isdir(folder):
            raise MissingResourceError(
                f"Unpaired image folder {root!r} has no {split}{suffix}/ sub-folder. Expected the CycleGAN "
                "layout ROOT/trainA, ROOT/trainB, ROOT/testA, ROOT/testB.")
        size = image_size if image_size is not None or not domains else domains[0].shape[1:3]
        channels = None if not domains else domains[0].shape[-1]
        domains.append(load_folder(folder, size, channels)[0])
    return domains[0], domains[1]


def _tfds_domain(name: str, split: str, suffix: str, image_size: Optional[Sequence[int]]) -> tf.data.Dataset:
    dataset, _, _ = load_tfds(name, f"{split}{suffix}")
    dataset = dataset.map(lambda image, label: image)
    if image_size is not None:
        # Antialiased bilinear, rounded to uint8 (as PIL's bilinear in the folder loader): plain bilinear
        # aliases fine textures (zebra stripes) when downscaling, and a bare cast truncates.
        dataset = dataset.map(lambda image: tf.saturate_cast(
            tf.round(tf.image.resize(image, image_size, antialias=True)), tf.uint8))
    return dataset


def load_unpaired(name: str, batch_size: int, split: str = "train", seed: Optional[int] = None,
                  shuffle: bool = True, image_size: Optional[Sequence[int]] = None) -> DatasetInfo:
    """Builds `(domain_a, domain_b)` batches of an unpaired dataset (see the module docstring).

    Args:
      name: `mnist_fashion`, `mnist_recolored`, `tfds:cycle_gan/NAME` or `folder:/PATH`.
      batch_size: images per domain per batch.
      split: `train` or `test`.
      seed: shuffle seed (domain B uses `seed + 1`).
      shuffle: reshuffle every epoch.
      image_size: `(H, W)` to resize to (TFDS and folders; default: as stored, 256x256 for TFDS).
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise UsageError(f"batch_size must be a positive integer, received {batch_size!r}.")
    if split not in ("train", "test"):
        raise UsageError(f"Unknown split {split!r}; expected 'train' or 'test'.")
    if name.startswith("tfds:"):
        tfds_name = name[len("tfds:"):]
        image_size = image_size or (256, 256)  # the size of every cycle_gan/* image; batching needs a fixed one
        domains = [_tfds_domain(tfds_name, split, suffix, image_size) for suffix in ("A", "B")]
        if shuffle:
            domains = [d.shuffle(1000, seed=None if seed is None else seed + i, reshuffle_each_iteration=True)
                       for i, d in enumerate(domains)]
        dataset = tf.data.Dataset.zip(*domains).batch(batch_size, drop_remainder=True)
        num_examples = None
    else:
        if name.startswith("folder:"):
            a, b = _folder_domains(name[len("folder:"):], split, image_size)
        elif name in ("mnist_fashion", "mnist_recolored"):
            a, b = _array_domains(name, split)
        else:
            raise UsageError(f"Unknown unpaired dataset {name!r}. Valid names: {', '.join(UNPAIRED_DATASETS)}.")
        if a.shape[1:] != b.shape[1:]:
            raise UsageError(f"The two domains of {name!r} have different image shapes {a.shape[1:]} and "
                             f"{b.shape[1:]}; pass image_size and use images with the same channels.")
        num_examples = min(len(a), len(b))
        if num_examples < batch_size:
            raise UsageError(f"Unpaired dataset {name!r} has {num_examples} images in its smaller domain, fewer "
                             f"than one batch of {batch_size}; lower batch_size to at most {num_examples}.")
        dataset = tf.data.Dataset.zip(
            shuffled_batches(a[:num_examples], batch_size, shuffle, seed),
            shuffled_batches(b[:num_examples], batch_size, shuffle, None if seed is None else seed + 1))
    dataset = dataset.map(lambda x, y: (tf_from_uint8(x), tf_from_uint8(y)),
                          num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    image_shape = tuple(int(d) for d in dataset.element_spec[0].shape[1:])
    return DatasetInfo(dataset, image_shape, None, num_examples, batch_size)
