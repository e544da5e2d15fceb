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


def load_tfds(name: str, split: str = "train", data_dir: Optional[str] = None,
              download: bool = True) -> Tuple[tf.data.Dataset, Tuple[int, int, int], Optional[int]]:
    """Returns `(dataset of (uint8 image, label or -1), image_shape, num_classes)` for a TFDS dataset.

    Args:
      name: `NAME[/CONFIG][:VERSION]`, e.g. `cifar10`.
      split: the TFDS split.
      data_dir: where TFDS keeps prepared datasets (default: TFDS's own, `$TFDS_DATA_DIR`).
      download: whether to prepare (download) the dataset when it is not prepared yet.

    Raises:
      UsageError: for an unknown dataset, config or version, or a dataset without images.
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
    label_feature = features["label"] if "label" in features else None
    num_classes = getattr(label_feature, "num_classes", None)
    image_shape = tuple(features[image_key].shape)

    def to_pair(example):
        label = example["label"] if num_classes else tf.constant(-1, tf.int64)
        return example[image_key], tf.cast(label, tf.int64)

    return dataset.map(to_pair, num_parallel_calls=tf.data.AUTOTUNE), image_shape, num_classes
