"""TFDS datasets: `tfds:NAME` dataset specs (e.g. `tfds:cifar10`, `tfds:mnist`).

Uses `tfds.load(NAME, data_dir=...)`. Online, TFDS downloads and prepares the
dataset on first use; offline it works when the dataset is already prepared in
`data_dir` (default `~/tensorflow_datasets`), and otherwise raises one clear
error instead of a download traceback.
"""

from typing import Optional, Tuple

import tensorflow as tf

from tfgan_app.errors import MissingResourceError, UsageError


def load_tfds(name: str, split: str = "train", data_dir: Optional[str] = None,
              download: bool = True) -> Tuple[tf.data.Dataset, Tuple[int, int, int], Optional[int]]:
    """Returns `(dataset of (uint8 image, label or -1), image_shape, num_classes)` for a TFDS dataset."""
    import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel

    if name.split("/")[0] not in tfds.list_builders():
        raise UsageError(f"Unknown TFDS dataset {name!r}. See `tfds.list_builders()` for valid names "
                         "(e.g. mnist, fashion_mnist, cifar10, celeb_a).")
    try:
        builder = tfds.builder(name, data_dir=data_dir)
        if not builder.is_prepared():
            if not download:
                raise MissingResourceError(f"TFDS dataset {name!r} is not prepared in {builder.data_dir!r}.")
            builder.download_and_prepare()
        dataset = builder.as_dataset(split=split, shuffle_files=True)
    except MissingResourceError:
        raise
    except Exception as e:  # TFDS raises many kinds of errors when it cannot download.
        raise MissingResourceError(
            f"Could not load TFDS dataset {name!r} (split {split!r}): {type(e).__name__}: {e}. On a machine "
            "without internet, prepare it where you are online (`tfds build "
            f"{name}`) and copy the data_dir, or pass --data_dir to where it is prepared.") from e
    features = builder.info.features
    image_key = "image" if "image" in features else next(
        (k for k, v in features.items() if isinstance(v, tfds.features.Image)), None)
    if image_key is None:
        raise UsageError(f"TFDS dataset {name!r} has no image feature; GAN training needs images.")
    label_feature = features["label"] if "label" in features else None
    num_classes = getattr(label_feature, "num_classes", None)
    image_shape = tuple(features[image_key].shape)

    def to_pair(example):
        label = example["label"] if num_classes else tf.constant(-1, tf.int64)
        return example[image_key], tf.cast(label, tf.int64)

    return dataset.map(to_pair, num_parallel_calls=tf.data.AUTOTUNE), image_shape, num_classes
