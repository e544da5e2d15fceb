"""Label accuracy of conditional generators: the share of samples the shipped classifier reads as the requested class.

The `cgan_mnist` target (#15) is stated in it; before this, the quality report and keep-best had no way to
measure it (a conditional GAN's report only counted confident samples, whatever digit they showed).
"""

import types

import numpy as np
import pytest

from tfgan_app.architectures import dcgan_discriminator, dcgan_generator
from tfgan_app.errors import UsageError
from tfgan_app.evaluation import digit_quality_report
from tfgan_app.evaluation.callback import EvaluationCallback
from tfgan_app.evaluation.extractors import ClassifierExtractor
from tfgan_app.evaluation.quality import DigitQualityReport
from tfgan_app.gans import GAN, ConditionalGAN
from tfgan_app.images import to_uint8

SHAPE = (28, 28, 1)


class FixedClassifier:
    """An extractor stand-in whose probabilities are one-hot on given classes (checks the arithmetic only)."""

    def __init__(self, classes):
        self.classes = np.asarray(classes)

    def __call__(self, images):
        return types.SimpleNamespace(probabilities=np.eye(10)[self.classes[:len(images)]])


def test_label_accuracy_counts_samples_read_as_their_requested_class():
    read = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9] * 2)
    images = np.zeros((20, 28, 28, 1), np.uint8)
    requested = read.copy()
    requested[:5] = (requested[:5] + 1) % 10  # 5 of 20 asked for another class than the one read
    report = digit_quality_report(images, extractor=FixedClassifier(read), labels=requested)
    assert report["label_accuracy"] == pytest.approx(15 / 20)
    assert "label_accuracy" not in digit_quality_report(images, extractor=FixedClassifier(read))
    with pytest.raises(UsageError, match="one class per image"):
        digit_quality_report(images, extractor=FixedClassifier(read), labels=requested[:3])


def tiny_cgan():
    return ConditionalGAN(dcgan_generator(8, SHAPE, num_classes=10, base_filters=4),
                          dcgan_discriminator(SHAPE, num_classes=10, base_filters=4), num_classes=10, seed=0)


def test_quality_report_of_a_conditional_gan_asks_for_each_class_and_scores_the_labels(tmp_path):
    gan = tiny_cgan()
    report = DigitQualityReport("mnist", str(tmp_path), seed=3, num_samples=40)
    report.set_model(gan)
    report.on_train_end()
    labels = np.arange(40) % 10
    classes = ClassifierExtractor.shipped("mnist")(to_uint8(gan.generate(40, seed=3, labels=labels))).probabilities
    assert report.report["label_accuracy"] == pytest.approx(float((classes.argmax(1) == labels).mean()))


def test_keep_best_on_label_accuracy():
    gan = tiny_cgan()
    callback = EvaluationCallback("mnist", metrics="label_accuracy", num_samples=30)
    callback.set_model(gan)
    results = callback.evaluate_now()
    assert 0.0 <= results["label_accuracy"] <= 1.0 and "confidence" in results
    plain = EvaluationCallback("mnist", metrics="label_accuracy", num_samples=30)
    plain.set_model(GAN(dcgan_generator(8, SHAPE, base_filters=4), dcgan_discriminator(SHAPE, base_filters=4)))
    with pytest.raises(UsageError, match="needs a conditional GAN"):
        plain.evaluate_now()
    with pytest.raises(UsageError, match="label_accuracy uses the shipped"):
        EvaluationCallback("cifar10", metrics="label_accuracy")
