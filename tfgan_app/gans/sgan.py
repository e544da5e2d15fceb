"""Semi-supervised GAN (Odena 2016, "Semi-supervised learning with GANs"; Salimans et al. 2016, "Improved
techniques for training GANs", §5).

The discriminator is a (K+1)-class classifier: outputs `[B, 1 + K]` where column
0 is the logit of the "generated" class and columns 1..K the logits of the real
classes (`extended_discriminator(extra_outputs=K)`). Its real-vs-fake logit is
log Σ_k exp(l_k) − l_fake, so the standard adversarial losses apply to it, and
labelled examples add a K-class cross-entropy:

    D loss = adversarial D loss on the real/fake logit
             + w·CE(l_1..K(x), y) over the labelled examples of the batch
    G loss = adversarial G loss (or feature matching, with `feature_matching=True`:
             Salimans et al. found it best for semi-supervised learning)

Batches are `(images, labels)` with label −1 for unlabelled examples;
`semi_supervised_dataset` builds them from a few labelled and many unlabelled
examples. The trained discriminator is the classifier: `classify(images)`.

Example:
>>> data = semi_supervised_dataset(images, labels, num_labelled=100, batch_size=100)
>>> gan = SGAN(g, extended_discriminator((28, 28, 1), extra_outputs=10), num_classes=10,
...            feature_matching=True)
>>> gan.compile(d_optimizer="adam", g_optimizer="adam"); gan.fit(data, epochs=10)
>>> accuracy = np.mean(gan.classify(test_images) == test_labels)
"""

from typing import Any, Dict, Optional

import keras
import numpy as np
import tensorflow as tf

from tfgan_app.errors import UsageError
from tfgan_app.gans.acgan import check_output_width, class_cross_entropy, split_heads
from tfgan_app.gans.base import GAN


@keras.saving.register_keras_serializable(package="tfgan_app")
class SGAN(GAN):
    """Semi-supervised GAN with a (K+1)-class discriminator.

    Args:
      num_classes: K (from the dataset); the discriminator must output `[B, 1 + K]`.
      supervised_weight: w, weight of the labelled cross-entropy.
      (other arguments as `GAN`)

    Raises:
      UsageError: for a discriminator whose output is not `[B, 1 + num_classes]`, or a bad option of `GAN`.

    Example:
    >>> images, labels = load_mnist("train")
    >>> data = semi_supervised_dataset(images, labels, num_labelled=100, batch_size=64)
    >>> gan = SGAN(dcgan_generator(64, (28, 28, 1), base_filters=16),
    ...            extended_discriminator((28, 28, 1), extra_outputs=10, base_filters=16), num_classes=10)
    >>> gan.compile(d_optimizer="adam", g_optimizer="adam")
    >>> history = gan.fit(data.take(10), epochs=1, verbose=0)
    >>> gan.classify(images[:5]).shape   # predicted digits
    (5,)
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, num_classes: int,
                 supervised_weight: float = 1.0, **kwargs):
        super().__init__(generator, discriminator, **kwargs)
        check_output_width(discriminator, 1 + int(num_classes),
                           f'discriminator "extended" with extra_outputs={num_classes}')
        self.num_classes = int(num_classes)
        self.supervised_weight = float(supervised_weight)

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "num_classes": self.num_classes,
                "supervised_weight": self.supervised_weight}

    def unpack_batch(self, data):
        if not isinstance(data, (tuple, list)) or len(data) < 2:
            raise UsageError("SGAN needs (images, labels) batches with label -1 for unlabelled examples.")
        return data[0], tf.cast(data[1], tf.int32)

    def adversarial_logits(self, outputs) -> tf.Tensor:
        """The real-vs-fake logit `[B]`: log Σ_k exp(l_k) − l_fake."""
        fake_class, classes = split_heads(outputs)
        return tf.reduce_logsumexp(classes, axis=1) - fake_class[:, 0]

    def supervised_loss(self, outputs, labels) -> tf.Tensor:
        """Per-example CE on the labelled examples, scaled so that its batch mean is the labelled mean."""
        labelled = tf.cast(labels >= 0, tf.float32)
        _, classes = split_heads(outputs)
        ce = class_cross_entropy(tf.maximum(labels, 0), classes) * labelled
        share = tf.reduce_sum(labelled) / tf.cast(tf.shape(labels)[0], tf.float32)
        return tf.math.divide_no_nan(ce, share)

    def discriminator_loss(self, real_logits, fake_logits, real, fake, condition) -> tf.Tensor:
        adversarial = self.loss_pair.discriminator(self.adversarial_logits(real_logits),
                                                   self.adversarial_logits(fake_logits))
        return adversarial + self.supervised_weight * self.supervised_loss(real_logits, condition)

    def classify(self, samples, batch_size: int = 500) -> np.ndarray:
        """Predicted real classes (argmax over the K class logits) of `[N, ...]` samples, int numpy `[N]`."""
        predictions = []
        for start in range(0, len(samples), batch_size):
            _, classes = split_heads(self.discriminator(samples[start:start + batch_size], training=False))
            predictions.append(np.asarray(tf.argmax(classes, axis=1)))
        return np.concatenate(predictions)


def semi_supervised_dataset(images: np.ndarray, labels: np.ndarray, num_labelled: int, batch_size: int,
                            labelled_batch_size: Optional[int] = None, seed: int = 0) -> tf.data.Dataset:
    """Batches of `batch_size` unlabelled + `labelled_batch_size` labelled examples, for `SGAN.fit`.

    Keeps the labels of `num_labelled` examples chosen class-balanced with `seed`
    (num_labelled / K per class) and drops all others (label −1). Every batch
    concatenates `batch_size` examples drawn from the whole set (labels hidden)
    and `labelled_batch_size` (default `batch_size`) drawn from the labelled
    subset, reshuffled each epoch (Salimans et al.'s setup). An epoch is one pass
    over the unlabelled stream.

    Args:
      images: float images already in the model's range (e.g. [-1, 1]).
      labels: int labels `[N]` in [0, K).
    Returns the dataset; `labelled_indices(...)` tells which examples kept their label.
    """
    labelled = labelled_indices(labels, num_labelled, seed)
    labelled_batch_size = labelled_batch_size or batch_size
    if len(images) < batch_size:
        raise UsageError(f"Need at least batch_size={batch_size} examples, received {len(images)}.")
    hidden = np.full(len(images), -1, np.int32)
    unlabelled_ds = (tf.data.Dataset.from_tensor_slices((images, hidden))
                     .shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
                     .batch(batch_size, drop_remainder=True))
    labelled_ds = (tf.data.Dataset.from_tensor_slices((images[labelled], labels[labelled].astype(np.int32)))
                   .repeat().shuffle(len(labelled), seed=seed + 1).batch(labelled_batch_size))
    combine = lambda u, l: (tf.concat([u[0], l[0]], 0), tf.concat([u[1], l[1]], 0))  # noqa: E731
    return tf.data.Dataset.zip((unlabelled_ds, labelled_ds)).map(combine).prefetch(tf.data.AUTOTUNE)


def labelled_indices(labels: np.ndarray, num_labelled: int, seed: int = 0) -> np.ndarray:
    """Indices of `num_labelled` examples, the same number from each class, picked with `seed`."""
    labels = np.asarray(labels)
    classes = np.unique(labels)
    if num_labelled <= 0 or num_labelled % len(classes):
        raise UsageError(f"num_labelled must be a positive multiple of the number of classes ({len(classes)}), "
                         f"received {num_labelled}.")
    rng = np.random.RandomState(seed)
    per_class = num_labelled // len(classes)
    picks = []
    for c in classes:
        members = np.flatnonzero(labels == c)
        if len(members) < per_class:
            raise UsageError(f"Class {c} has {len(members)} examples, fewer than the {per_class} to label.")
        picks.append(rng.choice(members, per_class, replace=False))
    return np.sort(np.concatenate(picks))
