"""Keep-best cannot be won by mode collapse: `fcd` ranks a one-digit generator below a ten-digit one.

The two "generators" draw real MNIST test digits (so each digit is read confidently):
the collapsed one only digits of one class, the healthy one digits of every class. By
`confidence` the collapsed one ties or wins (the issue's 1.0 with 1/10 classes covered);
by `fcd`, what `scripts/run_main.sh` and `--eval_metric=auto` use on MNIST, it loses.
"""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_app.data.arrays import load_mnist
from tfgan_app.errors import UsageError
from tfgan_app.evaluation.callback import EvaluationCallback, default_eval_metric, parse_eval_metrics

LATENT_DIM = 8
SAMPLES = 500


class DigitBank(keras.layers.Layer):
    """Maps a latent to one of a fixed bank of images (in [-1, 1]), picked by the latent's first entry."""

    def __init__(self, bank, **kwargs):
        super().__init__(**kwargs)
        self.bank = tf.constant(bank)

    def call(self, z):
        u = 0.5 * (1.0 + tf.math.erf(z[:, 0] / np.sqrt(2.0)))  # uniform on (0, 1) for z ~ N(0, 1)
        index = tf.minimum(tf.cast(u * self.bank.shape[0], tf.int32), self.bank.shape[0] - 1)
        return tf.gather(self.bank, index)


class BankGAN:
    """The little of a GAN the evaluation reads: `generate` and `sampling_generator`."""

    def __init__(self, images):
        z = keras.Input((LATENT_DIM,))
        self.sampling_generator = keras.Model(z, DigitBank(images.astype("float32") / 127.5 - 1.0)(z))
        self.generator = self.sampling_generator

    def generate(self, num, seed=0, labels=None):
        z = tf.random.stateless_normal((num, LATENT_DIM), seed=(seed, 0))
        return self.sampling_generator(z)


@pytest.fixture(scope="module")
def generators():
    images, labels = load_mnist("test")
    return {"collapsed": BankGAN(images[labels == 4][:400]), "healthy": BankGAN(images[:2000])}


def _evaluate(gan, metric):
    callback = EvaluationCallback("mnist", metrics=metric, num_samples=SAMPLES)
    callback.set_model(gan)
    return callback.evaluate_now()


def test_confidence_can_be_won_by_collapse_fcd_cannot(generators):
    collapsed = _evaluate(generators["collapsed"], "confidence,fcd")
    healthy = _evaluate(generators["healthy"], "confidence,fcd")
    assert collapsed["classes_covered"] <= 2 and healthy["classes_covered"] == 10, (collapsed, healthy)
    assert collapsed["confidence"] >= healthy["confidence"] - 0.02, (collapsed, healthy)  # the trap
    assert collapsed["fcd"] > 5 * healthy["fcd"] and healthy["fcd"] < 5, (collapsed, healthy)
    callback = EvaluationCallback("mnist", metrics="fcd", num_samples=SAMPLES)
    assert callback.improved(healthy["fcd"])
    callback.best = healthy["fcd"]
    assert not callback.improved(collapsed["fcd"])  # lower is better: the collapsed generator never wins


def test_auto_is_fcd_on_digits_and_fcd_needs_the_shipped_classifier():
    assert parse_eval_metrics("auto", "mnist") == ["fcd"] and default_eval_metric("fashion_mnist") == "fcd"
    assert default_eval_metric("toy:ring8") == "coverage" and default_eval_metric("tfds:cifar10") == "fid"
    with pytest.raises(UsageError, match="fcd uses the shipped MNIST"):
        EvaluationCallback("tfds:cifar10", metrics="fcd")
    with pytest.raises(UsageError, match="extractor='inception'"):
        EvaluationCallback("mnist", metrics="fcd", extractor="inception")


def test_run_main_keeps_the_best_by_fcd():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "scripts", "run_main.sh"), encoding="utf-8") as f:
        assert "--eval_metric=fcd" in f.read()
