"""Conditional GAN (Mirza & Osindero 2014): G and D both see the class label.

Batches are `(images, labels)`. The generator is trained on the labels of the
real batch, so generated classes follow the data's class frequencies.
"""

from typing import Any, Dict, Optional, Sequence

import keras
import numpy as np
import tensorflow as tf

from tfgan_app.errors import UsageError
from tfgan_app.gans.base import GAN


def labels_in_turn(num: int, num_classes: int) -> np.ndarray:
    """The classes in turn, `[0, 1, ..., num_classes − 1, 0, 1, ...]` of length `num` (int32): what a conditional
    generator is asked for when no labels are given (`generate`, quality reports, evaluation)."""
    return np.arange(num, dtype=np.int32) % num_classes


@keras.saving.register_keras_serializable(package="tfgan_app")
class ConditionalGAN(GAN):
    """A label-conditioned GAN: generator `[z, labels]`, discriminator `[images, labels]`.

    Args:
      num_classes: number of labels; `labels` must be in `[0, num_classes)`.
      (other arguments as `GAN`)

    Raises:
      UsageError: unless the generator takes `[z, labels]` and the discriminator `[images, labels]` (images only
        for variants whose `discriminator_takes_labels` is False), or for a bad option of `GAN`.

    Example:
    >>> gan = ConditionalGAN(dcgan_generator(64, (28, 28, 1), num_classes=10, base_filters=16),
    ...                      dcgan_discriminator((28, 28, 1), num_classes=10, base_filters=16), num_classes=10)
    >>> gan.compile(d_optimizer="adam", g_optimizer="adam", loss="non_saturating")
    >>> history = gan.fit(load_dataset("mnist", batch_size=64).dataset.take(10), epochs=1, verbose=0)
    >>> gan.generate(10, labels=list(range(10))).shape   # one image per digit
    (10, 28, 28, 1)
    """

    # Whether the discriminator takes `[images, labels]` (ACGAN's sees images only and predicts labels).
    discriminator_takes_labels = True

    def __init__(self, generator: keras.Model, discriminator: keras.Model, num_classes: int,
                 **kwargs):
        expected_d_inputs = 2 if self.discriminator_takes_labels else 1
        if len(generator.inputs) != 2 or len(discriminator.inputs) != expected_d_inputs:
            d_form = "[images, labels]" if self.discriminator_takes_labels else "images only"
            raise UsageError(f"{type(self).__name__} needs a generator taking [z, labels] and a discriminator "
                             f"taking {d_form}; build them with num_classes set.")
        super().__init__(generator, discriminator, **kwargs)
        self.num_classes = int(num_classes)

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "num_classes": self.num_classes}

    def unpack_batch(self, data):
        if not isinstance(data, (tuple, list)) or len(data) < 2:
            raise UsageError("ConditionalGAN needs (images, labels) batches; use a labelled dataset.")
        return data[0], tf.cast(data[1], tf.int32)

    def generator_inputs(self, z, condition):
        return [z, condition]

    def discriminator_inputs(self, samples, condition):
        return [samples, condition]

    def condition_for_generation(self, num: int, labels: Optional[Sequence[int]]):
        """`labels` (cycled to `num`), or 0, 1, ..., num_classes-1 repeated when omitted."""
        labels = labels_in_turn(num, self.num_classes) if labels is None else np.resize(np.asarray(labels), num)
        if labels.min() < 0 or labels.max() >= self.num_classes:
            raise UsageError(f"labels must be in [0, {self.num_classes}), received {sorted(set(labels))}.")
        return tf.constant(labels, tf.int32)
