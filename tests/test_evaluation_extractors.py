"""Feature extractors: InceptionV3 structure / resize convention (random weights, never downloaded),
missing-weights errors, and the shipped MNIST / Fashion-MNIST classifiers."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from tfgan_app.data import load_fashion_mnist, load_mnist
from tfgan_app.errors import MissingResourceError, UsageError
from tfgan_app.evaluation import ClassifierExtractor, InceptionExtractor, digit_quality_report, get_extractor
from tfgan_app.evaluation.extractors import CLASSIFIER_DIR, INCEPTION_NOTOP_FILE, INCEPTION_TOP_FILE


def _half_pixel_bilinear(image: np.ndarray, size: int) -> np.ndarray:
    """Independent reference of bilinear resizing with half-pixel centres (TF2 / PIL-free convention)."""
    height, width = image.shape[:2]

    def axis(n_in):
        src = (np.arange(size) + 0.5) * n_in / size - 0.5
        src = np.clip(src, 0, n_in - 1)
        lo = np.floor(src).astype(int)
        hi = np.minimum(lo + 1, n_in - 1)
        return lo, hi, src - lo

    y0, y1, wy = axis(height)
    x0, x1, wx = axis(width)
    top = image[y0][:, x0] * (1 - wx)[None, :, None] + image[y0][:, x1] * wx[None, :, None]
    bottom = image[y1][:, x0] * (1 - wx)[None, :, None] + image[y1][:, x1] * wx[None, :, None]
    return top * (1 - wy)[:, None, None] + bottom * wy[:, None, None]


@pytest.fixture(scope="module")
def random_inception():
    return InceptionExtractor(weights=None, with_probabilities=True, batch_size=2)


def test_inception_preprocessing_is_bilinear_299_in_minus_one_one(random_inception):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(2, 28, 28, 1), dtype=np.uint8)
    x = random_inception._preprocess(tf.constant(images)).numpy()
    assert x.shape == (2, 299, 299, 3)
    expected = _half_pixel_bilinear(images[0].astype(np.float64), 299) / 127.5 - 1.0
    np.testing.assert_allclose(x[0], np.repeat(expected, 3, axis=-1), atol=1e-4)
    corners = random_inception._preprocess(tf.constant(np.array([[[[0]]], [[[255]]]], np.uint8))).numpy()
    np.testing.assert_allclose(corners[0], -1.0)
    np.testing.assert_allclose(corners[1], 1.0)


def test_inception_outputs_pool3_features_and_probabilities(random_inception):
    images = np.random.default_rng(1).integers(0, 256, size=(3, 32, 32, 3), dtype=np.uint8)
    out = random_inception(images)
    assert out.features.shape == (3, 2048)
    assert out.probabilities.shape == (3, 1000)
    np.testing.assert_allclose(out.probabilities.sum(1), 1.0, rtol=1e-4)
    assert np.all(out.features >= 0)  # pool3 = average of ReLU activations


def test_inception_without_top_gives_features_only():
    extractor = InceptionExtractor(weights=None, with_probabilities=False)
    out = extractor(np.zeros((1, 16, 16, 3), np.uint8))
    assert out.features.shape == (1, 2048) and out.probabilities is None
    assert extractor.num_classes is None


def test_inception_missing_weights_error_names_file_and_url(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(MissingResourceError) as error:
        InceptionExtractor(weights="auto", with_probabilities=True)
    message = str(error.value)
    assert INCEPTION_TOP_FILE in message and "https://storage.googleapis.com" in message
    assert str(tmp_path / "models") in message
    with pytest.raises(MissingResourceError, match="does not exist"):
        InceptionExtractor(weights=str(tmp_path / "nope.h5"))
    notop = tmp_path / INCEPTION_NOTOP_FILE
    notop.write_bytes(b"")
    with pytest.raises(UsageError, match="notop"):
        InceptionExtractor(weights=str(notop), with_probabilities=True)


def test_extractor_rejects_float_images(random_inception):
    with pytest.raises(UsageError, match="to_uint8"):
        random_inception(np.zeros((1, 8, 8, 1), np.float32))


def test_get_extractor_rejects_unknown_names():
    with pytest.raises(UsageError, match="inception, mnist, fashion_mnist"):
        get_extractor("vgg")


@pytest.mark.parametrize("dataset, loader, minimum", [("mnist", load_mnist, 0.99),
                                                      ("fashion_mnist", load_fashion_mnist, 0.91)])
def test_shipped_classifier_is_small_and_accurate(dataset, loader, minimum):
    path = os.path.join(CLASSIFIER_DIR, f"{dataset}_classifier.keras")
    assert os.path.getsize(path) < 2_000_000
    with open(os.path.join(CLASSIFIER_DIR, "metrics.json")) as f:
        assert json.load(f)[dataset]["test_accuracy"] >= minimum
    images, labels = loader("test")
    extractor = ClassifierExtractor.shipped(dataset)
    out = extractor(images[:2000])
    assert out.features.shape == (2000, 128)
    # Measured here on the first 2000 test images; margin for the subset's sampling noise.
    assert (out.probabilities.argmax(1) == labels[:2000]).mean() >= minimum - 0.01


def test_digit_quality_report_on_real_and_collapsed_digits():
    images, _ = load_mnist("test")
    real = digit_quality_report(images[:1000])
    assert real["classifier_score_mean"] > 8.5
    assert real["confident_fraction"] > 0.95
    assert real["classes_covered"] == 10
    assert real["kl_to_uniform"] < 0.02
    ones = digit_quality_report(np.repeat(images[2:3], 100, axis=0))  # test image 2 is a "1"
    assert ones["classifier_score_mean"] == pytest.approx(1.0, abs=1e-3)
    assert ones["classes_covered"] == 1 and ones["class_fractions"][1] == 1.0
    assert ones["kl_to_uniform"] == pytest.approx(np.log(10))
