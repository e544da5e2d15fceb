"""Paired image datasets for image-to-image models (pix2pix, SRGAN): `(input, target)` batches.

| name | input → target |
|---|---|
| `mnist_edges`, `fashion_edges` | Sobel edge map of the image → the 28x28 image |
| `mnist_lowres`, `fashion_lowres` | 14x14 image (2x area down-sampling) → the 28x28 image |
| `mnist_lowres_x4`, `fashion_lowres_x4` | 7x7 image (4x area down-sampling) → the 28x28 image |
| `mnist_inpaint`, `fashion_inpaint` | the image with its central hole (`center_mask`) set to 0 → the 28x28 image |
| `folder:/PATH` | pix2pix layout: `PATH/<split>/*.jpg`, each file the target and input side by side |

The derived sets are built offline from MNIST / Fashion-MNIST (`tfgan_app.data.load_mnist`).
For `folder:` the split folder is `train`, `test` (or `val` if there is no `test`); as in the
pix2pix `facades` files the left half is the target (photo) and the right half the input
(label map); pass `input_half="left"` for the other direction.

Batches are `(inputs float32 [B, h, w, C], targets float32 [B, H, W, C])` in [-1, 1], always
full and prefetched. `DatasetInfo.image_shape` is the target shape; the input shape is
`info.dataset.element_spec[0].shape[1:]`.

Example:
>>> info = load_paired("mnist_edges", batch_size=32)
>>> edges, digits = next(iter(info.dataset))
>>> edges.shape, digits.shape
(TensorShape([32, 28, 28, 1]), TensorShape([32, 28, 28, 1]))
"""

import os
from typing import Callable, Dict, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from tfgan_app.data.info import DatasetInfo
from tfgan_app.data.arrays import load_fashion_mnist, load_mnist
from tfgan_app.data.folder import load_folder
from tfgan_app.errors import MissingResourceError, UsageError
from tfgan_app.images import tf_from_uint8

__all__ = ["PAIRED_DATASETS", "load_paired", "sobel_edges", "downsample", "center_mask", "fill_hole", "MASKS", "hole_masks"]


def shuffled_batches(arrays, batch_size: int, shuffle: bool, seed: Optional[int]) -> tf.data.Dataset:
    """Full batches of rows of equal-length numpy `arrays` (a tuple gives tuples).

    Only the row indices go through the shuffle buffer and each batch is gathered
    at once, which is much faster than shuffling tens of thousands of images.
    """
    arrays = arrays if isinstance(arrays, tuple) else (arrays,)
    tensors = tuple(tf.constant(a) for a in arrays)
    indices = tf.data.Dataset.range(len(arrays[0]))
    if shuffle:
        indices = indices.shuffle(len(arrays[0]), seed=seed, reshuffle_each_iteration=True)
    indices = indices.batch(batch_size, drop_remainder=True)
    if len(tensors) == 1:
        return indices.map(lambda i: tf.gather(tensors[0], i))
    return indices.map(lambda i: tuple(tf.gather(t, i) for t in tensors))


def sobel_edges(images: tf.Tensor) -> tf.Tensor:
    """Edge maps in [-1, 1]: the Sobel gradient magnitude of `[B, H, W, C]` images in [-1, 1].

    Each map is divided by its own maximum, so every edge image spans [-1, 1]
    (a blank image gives an all -1 map).
    """
    gradients = tf.image.sobel_edges(images)  # [B, H, W, C, 2]
    magnitude = tf.sqrt(tf.reduce_sum(tf.square(gradients), axis=-1))  # data only: no gradient needed at 0
    peak = tf.reduce_max(magnitude, axis=[1, 2, 3], keepdims=True)
    return 2.0 * magnitude / tf.maximum(peak, 1e-6) - 1.0


def downsample(images: tf.Tensor, factor: int) -> tf.Tensor:
    """Area (box-filter) down-sampling by an integer factor, the usual way low-res inputs are made."""
    height, width = images.shape[1], images.shape[2]
    if height % factor or width % factor:
        raise UsageError(f"Image size {height}x{width} is not divisible by the down-sampling factor {factor}.")
    return tf.image.resize(images, (height // factor, width // factor), method="area")


def center_mask(height: int, width: int) -> tf.Tensor:
    """The context encoder's central hole (Pathak et al. 2016): 1 on the central half-height × half-width
    block (a quarter of the pixels), 0 elsewhere, as float32 `[1, height, width, 1]`."""
    rows = tf.range(height)[:, None]
    cols = tf.range(width)[None, :]
    inside = ((rows >= height // 4) & (rows < height // 4 + height // 2)
              & (cols >= width // 4) & (cols < width // 4 + width // 2))
    return tf.cast(inside, tf.float32)[None, :, :, None]


def fill_hole(images: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
    """`images` `[B, H, W, C]` in [-1, 1] with the pixels where `mask` is 1 set to 0 (mid-grey): (1 − M̂) ⊙ x."""
    return tf.cast(images, tf.float32) * (1.0 - tf.cast(mask, tf.float32))


MASKS = ("center", "random")


def hole_masks(pattern: str, num: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """`num` inpainting holes as float32 `[num, height, width, 1]` (1 in the hole).

    Args:
      pattern: "center" (the training hole, `center_mask`) or "random" (a half-height × half-width block at a
        random position per image, Pathak et al.'s random-block masks with one block).
      num, height, width: how many masks and their size.
      seed: seed of the random positions.

    Raises:
      UsageError: for another pattern.
    """
    if pattern not in MASKS:
        raise UsageError(f"mask must be one of {', '.join(MASKS)}. Received: mask={pattern!r}")
    if pattern == "center":
        return np.repeat(center_mask(height, width).numpy(), num, axis=0)
    rng = np.random.default_rng(seed)
    masks = np.zeros((num, height, width, 1), np.float32)
    for mask in masks:
        top, left = rng.integers(0, height - height // 2 + 1), rng.integers(0, width - width // 2 + 1)
        mask[top:top + height // 2, left:left + width // 2] = 1.0
    return masks


def _inpaint_input(images: tf.Tensor) -> tf.Tensor:
    return fill_hole(images, center_mask(images.shape[1], images.shape[2]))


_SOURCES: Dict[str, Callable[[str], Tuple[np.ndarray, np.ndarray]]] = {
    "mnist": load_mnist, "fashion": load_fashion_mnist}
_TRANSFORMS: Dict[str, Callable[[tf.Tensor], tf.Tensor]] = {
    "edges": sobel_edges,
    "lowres": lambda images: downsample(images, 2),
    "lowres_x4": lambda images: downsample(images, 4),
    "inpaint": _inpaint_input,
}
PAIRED_DATASETS: Tuple[str, ...] = tuple(f"{s}_{t}" for s in _SOURCES for t in _TRANSFORMS) + ("folder:/PATH",)


def _split_folder(root: str, split: str) -> str:
    candidates = [split] + (["val"] if split == "test" else [])
    for name in candidates:
        if os.path.isdir(os.path.join(root, name)):
            return os.path.join(root, name)
    raise MissingResourceError(
        f"Paired image folder {root!r} has no {' or '.join(repr(c) for c in candidates)} sub-folder. Expected "
        "the pix2pix layout ROOT/train/*.jpg, ROOT/test/*.jpg with target and input side by side in each file.")


def _folder_pairs(root: str, split: str, image_size: Optional[Sequence[int]],
                  input_half: str) -> Tuple[np.ndarray, np.ndarray]:
    if input_half not in ("left", "right"):
        raise UsageError(f"input_half must be 'left' or 'right', received {input_half!r}.")
    size = None if image_size is None else (int(image_size[0]), 2 * int(image_size[1]))
    images, _, _ = load_folder(_split_folder(root, split), size, None)
    width = images.shape[2] // 2
    left, right = images[:, :, :width], images[:, :, width:2 * width]
    return (left, right) if input_half == "left" else (right, left)


def load_paired(name: str, batch_size: int, split: str = "train", seed: Optional[int] = None,
                shuffle: bool = True, image_size: Optional[Sequence[int]] = None,
                input_half: str = "right") -> DatasetInfo:
    """Builds `(input, target)` batches of a paired dataset (see the module docstring).

    Args:
      name: `mnist_edges`, `mnist_lowres`, `mnist_lowres_x4`, `mnist_inpaint`, the `fashion_*` versions, or
        `folder:/PATH`.
      batch_size: pairs per batch.
      split: `train` or `test`.
      seed: shuffle seed.
      shuffle: reshuffle every epoch.
      image_size: `(H, W)` of each half of a `folder:` image (default: as stored).
      input_half: which half of a `folder:` image is the input.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise UsageError(f"batch_size must be a positive integer, received {batch_size!r}.")
    if name.startswith("folder:"):
        inputs, targets = _folder_pairs(name[len("folder:"):], split, image_size, input_half)
        arrays = (inputs, targets)
        make_pair = lambda x, y: (tf_from_uint8(x), tf_from_uint8(y))  # noqa: E731
        num_examples = len(targets)
    else:
        source, _, transform = name.partition("_")
        if source not in _SOURCES or transform not in _TRANSFORMS:
            raise UsageError(f"Unknown paired dataset {name!r}. Valid names: {', '.join(PAIRED_DATASETS)}.")
        images, _ = _SOURCES[source](split)
        arrays = images
        make_pair = lambda x: (_TRANSFORMS[transform](tf_from_uint8(x)), tf_from_uint8(x))  # noqa: E731
        num_examples = len(images)
    if num_examples < batch_size:
        raise UsageError(f"Paired dataset {name!r} has {num_examples} pairs, fewer than one batch of "
                         f"{batch_size}; lower batch_size to at most {num_examples}.")
    dataset = shuffled_batches(arrays, batch_size, shuffle, seed)
    dataset = dataset.map(make_pair, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    target_shape = tuple(int(d) for d in dataset.element_spec[1].shape[1:])
    return DatasetInfo(dataset, target_shape, None, num_examples, batch_size)
