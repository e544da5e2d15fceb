"""Pack an image folder once into TFRecord shards (`tfgan prepare`), stream it forever (`tfrecord:DIR`).

A prepared folder holds `shard-00000-of-0000N.tfrecord` files (each record: the image as PNG at the
prepared size, and its label, -1 if unlabelled) and `dataset.json`:

    {"format": "tfgan-tfrecord", "version": 1, "count": 70000, "image_size": [64, 64], "channels": 3,
     "class_names": ["cat", "dog"], "shards": [{"file": "shard-00000-of-00002.tfrecord", "count": 35000}, ...]}

Image i goes to shard `i % N`, so reading the shards round-robin in order gives the folder's order
back. Every path goes through `tf.io.gfile`: `gs://bucket/dir` works wherever TensorFlow's cloud
filesystems do. Under `MultiWorkerMirroredStrategy` each worker reads its own shards
(`AutoShardPolicy.FILE`) when there are at least as many shards as workers.
"""

import json
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

import tensorflow as tf

from tfgan_app.data.folder import folder_images, decode_files
from tfgan_app.errors import MissingResourceError, UsageError

DESCRIPTION = "dataset.json"
SHUFFLE_RECORDS = 5_000  # shuffle buffer, in encoded records (a few KB each at 64x64)
FORMAT = "tfgan-tfrecord"
_FEATURES = {"image": tf.io.FixedLenFeature([], tf.string), "label": tf.io.FixedLenFeature([], tf.int64)}


def shard_name(index: int, num_shards: int) -> str:
    """File name of shard `index` of `num_shards`."""
    return f"shard-{index:05d}-of-{num_shards:05d}.tfrecord"


def _example(png: bytes, label: int) -> bytes:
    return tf.train.Example(features=tf.train.Features(feature={
        "image": tf.train.Feature(bytes_list=tf.train.BytesList(value=[png])),
        "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[int(label)])),
    })).SerializeToString()


def prepare_folder(folder: str, output: str, image_size: Optional[Sequence[int]] = None,
                   channels: Optional[int] = None, num_shards: Optional[int] = None,
                   crop: str = "resize") -> Dict[str, Any]:
    """Writes a folder's images (checked, resized or centre-cropped) as TFRecord shards plus `dataset.json`.

    Args:
      folder: an image folder (flat, or one sub-folder per class; see `tfgan_app.data.folder`).
      output: the folder to write (local, `gs://...`, `ram://...`); created if missing.
      image_size: `(H, W)` to store; default: the size of the first image.
      channels: 1 or 3; default: 1 if the first image is grayscale else 3.
      num_shards: number of files; default: one per ~2,000 images (at least 1, at most 1,024).
      crop: "resize" or "center" (see `tfgan_app.data.folder.fit_to_size`).

    Returns:
      The description written to `dataset.json`.

    Raises:
      MissingResourceError: the folder is missing, empty or has an unreadable file (named).
      UsageError: bad arguments, or `output` already holds a prepared dataset.
    """
    dataset, count, shape, classes = folder_images(folder, image_size, channels, crop)
    num_shards = num_shards or max(1, min(1024, round(count / 2000)))
    if num_shards < 1 or num_shards > count:
        raise UsageError(f"--shards must be between 1 and the number of images ({count}), received {num_shards}.")
    if tf.io.gfile.exists(os.path.join(output, DESCRIPTION)):
        raise UsageError(f"{output!r} already holds a prepared dataset ({DESCRIPTION}); pass another --output "
                         "or delete it first.")
    tf.io.gfile.makedirs(output)
    encoded = decode_files(dataset, shape, crop).map(
        lambda image, label: (tf.io.encode_png(image), label),
        num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    names = [shard_name(i, num_shards) for i in range(num_shards)]
    writers = [tf.io.TFRecordWriter(os.path.join(output, name)) for name in names]
    counts = [0] * num_shards
    try:
        for i, (png, label) in enumerate(encoded.as_numpy_iterator()):
            writers[i % num_shards].write(_example(png, label))
            counts[i % num_shards] += 1
    finally:
        for writer in writers:
            writer.close()
    description = {"format": FORMAT, "version": 1, "count": count, "image_size": list(shape[:2]),
                   "channels": shape[2], "class_names": classes, "source": folder,
                   "shards": [{"file": name, "count": n} for name, n in zip(names, counts)]}
    with tf.io.gfile.GFile(os.path.join(output, DESCRIPTION), "w") as f:
        f.write(json.dumps(description, indent=2))
    return description


def read_description(folder: str) -> Dict[str, Any]:
    """The `dataset.json` of a prepared folder.

    Raises:
      MissingResourceError: the folder or its `dataset.json` is missing, or a shard it names is.
    """
    path = os.path.join(folder, DESCRIPTION)
    if not tf.io.gfile.exists(path):
        raise MissingResourceError(
            f"No prepared dataset at {folder!r} (no {DESCRIPTION}). Write one with "
            f"`tfgan prepare --dataset=folder:/path/to/images --output={folder}`.")
    with tf.io.gfile.GFile(path, "r") as f:
        try:
            description = json.loads(f.read())
        except json.JSONDecodeError as e:
            raise MissingResourceError(f"{path!r} is not valid JSON ({e}); run `tfgan prepare` again.") from e
    if description.get("format") != FORMAT:
        raise MissingResourceError(f"{path!r} is not a tfgan TFRecord description (format "
                                   f"{description.get('format')!r}, expected {FORMAT!r}).")
    for shard in description["shards"]:
        if not tf.io.gfile.exists(os.path.join(folder, shard["file"])):
            raise MissingResourceError(f"Shard {shard['file']!r} listed in {path!r} is missing; "
                                       "run `tfgan prepare` again.")
    return description


def _parse(record: tf.Tensor, channels: int) -> Tuple[tf.Tensor, tf.Tensor]:
    example = tf.io.parse_single_example(record, _FEATURES)
    image = tf.io.decode_png(example["image"], channels=channels)
    return image, tf.cast(example["label"], tf.int32)


def tfrecord_dataset(folder: str, shuffle: bool = True, seed: Optional[int] = None
                     ) -> Tuple[tf.data.Dataset, int, Tuple[int, int, int], List[str]]:
    """Streams a prepared folder as an unbatched dataset of `(uint8 image, int32 label)`.

    Shards are read round-robin (in order without `shuffle`, which gives the folder's order back; in
    a new order each epoch with it, then through a shuffle buffer of up to `SHUFFLE_RECORDS` encoded
    records, so memory stays small whatever the dataset's size).

    Returns:
      `(dataset, count, (H, W, C), class names)`.
    """
    description = read_description(folder)
    files = [os.path.join(folder, shard["file"]) for shard in description["shards"]]
    shape = (*(int(s) for s in description["image_size"]), int(description["channels"]))
    dataset = tf.data.Dataset.from_tensor_slices(files)
    if shuffle:
        dataset = dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.interleave(tf.data.TFRecordDataset, cycle_length=len(files) if not shuffle else
                                 min(len(files), 16), block_length=1,
                                 num_parallel_calls=tf.data.AUTOTUNE)  # in order: seeded runs repeat
    if shuffle:
        dataset = dataset.shuffle(min(int(description["count"]), SHUFFLE_RECORDS), seed=seed,
                                  reshuffle_each_iteration=True)
    dataset = dataset.map(lambda record: _parse(record, shape[2]), num_parallel_calls=tf.data.AUTOTUNE)
    return dataset, int(description["count"]), shape, list(description["class_names"])
