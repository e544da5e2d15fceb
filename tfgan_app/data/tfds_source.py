"""TFDS datasets: `tfds:NAME` dataset specs (e.g. `tfds:cifar10`, `tfds:mnist`).

Uses `tfds.load(NAME, data_dir=...)`. Online, TFDS downloads and prepares the
dataset on first use; offline it works when the dataset is already prepared in
`data_dir` (default `$TFDS_DATA_DIR`, else `~/tensorflow_datasets`), and otherwise raises one clear
error instead of a download traceback.
"""

from typing import Optional, Tuple

import tensorflow as tf

from tfgan_app.errors import MissingResourceError, UsageError


def _prepare_offline_hint(name: str, data_dir: str) -> str:
    """How to give a machine without internet a prepared TFDS dataset."""
    return (f"Prepare it where you are online (`tfds build {name}`), copy the data_dir (TFDS looked in "
            f"{data_dir!r}) and point TFDS at it with the TFDS_DATA_DIR environment variable (or --data_dir "
            "where a command has it).")


def _missing_module_message(name: str, error: ImportError) -> str:
    """The error for a Python package TFDS needs but which is not installed (e.g. importlib_resources)."""
    module = (error.name or str(error)).split(".")[0]
    return (f"Could not load TFDS dataset {name!r}: TensorFlow Datasets needs the Python package {module!r}, "
            f"which is not installed ({type(error).__name__}: {error}). Install it with `pip install {module}` "
            "(or reinstall tfgan_app, which declares it).")


def _nested_feature(features, path):
    """The feature at `path` (["attributes", "Young"]) of a TFDS `FeaturesDict`, or None."""
    feature = features
    for key in path:
        try:
            feature = feature[key]
        except (KeyError, TypeError):
            return None
    return feature


def load_tfds(name: str, split: str = "train", data_dir: Optional[str] = None,
              download: bool = True, label: Optional[str] = None
              ) -> Tuple[tf.data.Dataset, Tuple[int, int, int], Optional[int]]:
    """Returns `(dataset of (uint8 image, label or -1), image_shape, num_classes)` for a TFDS dataset.

    Args:
      name: `NAME[/CONFIG][:VERSION]`, e.g. `cifar10`.
      split: the TFDS split.
      data_dir: where TFDS keeps prepared datasets (default: TFDS's own, `$TFDS_DATA_DIR`).
      download: whether to prepare (download) the dataset when it is not prepared yet.
      label: the feature that is each image's class, a path through nested features such as
        "attributes/Young" (booleans are 2 classes: 0 false, 1 true); default: the `label` feature, if any.

    Raises:
      UsageError: for an unknown dataset, config or version, a dataset without images, or a `label` that is
        not a class or boolean feature of the dataset.
      MissingResourceError: naming what is missing: the prepared data (with the download's own error) or a
        Python package TFDS imports only when it needs it.
    """
    import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel  # optional: only tfds: specs

    base_name = name.split("/")[0].split(":")[0]  # NAME[/CONFIG][:VERSION]
    if base_name not in tfds.list_builders():
        raise UsageError(f"Unknown TFDS dataset {name!r}. See `tfds.list_builders()` for valid names "
                         "(e.g. mnist, fashion_mnist, cifar10, celeb_a).")
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except (ValueError, AssertionError) as e:  # an unknown config (ValueError) or version (AssertionError)
        configs = [c.name for c in getattr(tfds.builder_cls(base_name), "BUILDER_CONFIGS", None) or []]
        raise UsageError(f"Unknown TFDS dataset {name!r}: {e}"
                         + (f" Valid configs of {base_name}: {', '.join(configs)}." if configs else "")) from e
    prepared = builder.is_prepared()
    if not prepared and not download:
        raise MissingResourceError(f"TFDS dataset {name!r} is not prepared in {builder.data_dir!r}. "
                                   + _prepare_offline_hint(name, builder.data_dir))
    try:
        if not prepared:
            builder.download_and_prepare()
        dataset = builder.as_dataset(split=split, shuffle_files=True)
    except ImportError as e:  # TFDS imports some of its dependencies only when it first needs them
        raise MissingResourceError(_missing_module_message(name, e)) from e
    except Exception as e:  # TFDS raises many kinds of errors when it cannot download or read.
        state = ("it is not prepared there and preparing it (download_and_prepare) failed" if not prepared
                 else "it is prepared there but reading it failed")
        raise MissingResourceError(
            f"Could not load TFDS dataset {name!r} (split {split!r}) from {builder.data_dir!r}: {state}: "
            f"{type(e).__name__}: {e}. " + _prepare_offline_hint(name, builder.data_dir)) from e
    features = builder.info.features
    image_key = "image" if "image" in features else next(
        (k for k, v in features.items() if isinstance(v, tfds.features.Image)), None)
    if image_key is None:
        raise UsageError(f"TFDS dataset {name!r} has no image feature; GAN training needs images.")
    path = (label or "label").split("/")
    label_feature = _nested_feature(features, path)
    if label is not None and label_feature is None:
        raise UsageError(f"TFDS dataset {name!r} has no feature {label!r}. Received: data.label={label!r}")
    num_classes = getattr(label_feature, "num_classes", None)
    if label_feature is not None and num_classes is None and getattr(label_feature, "dtype", None) == tf.bool:
        num_classes = 2
    if label is not None and num_classes is None:
        raise UsageError(f"data.label must name a class or boolean feature of {name!r}; {label!r} is "
                         f"{type(label_feature).__name__}. Received: data.label={label!r}")
    image_shape = tuple(features[image_key].shape)

    def to_pair(example):
        if not num_classes:
            return example[image_key], tf.constant(-1, tf.int64)
        value = example
        for key in path:
            value = value[key]
        return example[image_key], tf.cast(value, tf.int64)

    return dataset.map(to_pair, num_parallel_calls=tf.data.AUTOTUNE), image_shape, num_classes
