"""Auxiliary classifier GAN (ACGAN; Odena, Olah & Shlens 2017, "Conditional image synthesis with auxiliary
classifier GANs").

The generator is conditional (`[z, labels]`); the discriminator sees only the
image and outputs `[B, 1 + K]`: column 0 is the real/fake logit, the other K are
class logits (build it with `extended_discriminator(num_classes=K, class_head=True)`). With CE
the softmax cross-entropy and y the labels of the batch (G is fed the real
batch's labels, as in `ConditionalGAN`):

    D loss = adversarial D loss + w·(CE(class(x), y) + CE(class(G(z, y)), y))
    G loss = adversarial G loss + w·CE(class(G(z, y)), y)

Example:
>>> g = dcgan_generator(100, (28, 28, 1), num_classes=10)
>>> d = extended_discriminator((28, 28, 1), num_classes=10, class_head=True)
>>> gan = ACGAN(g, d, num_classes=10)
"""

from typing import Any, Dict, Tuple

import keras
import tensorflow as tf

from tfgan_app.errors import UsageError
from tfgan_app.gans.conditional import ConditionalGAN


def split_heads(outputs: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
    """Splits `[B, 1 + n]` discriminator outputs into (adversarial logits `[B, 1]`, auxiliary logits `[B, n]`)."""
    outputs = tf.cast(outputs, tf.float32)
    return outputs[:, :1], outputs[:, 1:]


def check_output_width(discriminator: keras.Model, width: int, builder_hint: str) -> None:
    """Raises UsageError unless the discriminator outputs `[B, width]`."""
    actual = discriminator.outputs[0].shape[-1] if discriminator.outputs else None
    if len(discriminator.outputs) != 1 or actual != width:
        raise UsageError(f"This GAN needs a discriminator with one output of width {width} (adversarial logit + "
                         f"heads); received outputs of shape {[tuple(o.shape) for o in discriminator.outputs]}. "
                         f"Build it with {builder_hint}.")


def class_cross_entropy(labels, class_logits) -> tf.Tensor:
    """Per-example softmax cross-entropy of int labels `[B]` against logits `[B, K]`."""
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.cast(labels, tf.int32), logits=class_logits)


@keras.saving.register_keras_serializable(package="tfgan_app")
class ACGAN(ConditionalGAN):
    """ACGAN: conditional generator, unconditional discriminator with an auxiliary class head.

    Args:
      num_classes: K; the discriminator must output `[B, 1 + K]`.
      class_weight: w, weight of the auxiliary classification losses (1 in the paper).
      (other arguments as `GAN`)

    Example:
    >>> g = dcgan_generator(64, (28, 28, 1), num_classes=10, base_filters=16)
    >>> d = extended_discriminator((28, 28, 1), num_classes=10, class_head=True, base_filters=16)
    >>> gan = ACGAN(g, d, num_classes=10)
    >>> gan.compile(d_optimizer="adam", g_optimizer="adam", loss="non_saturating")
    >>> history = gan.fit(load_dataset("mnist", batch_size=64).dataset.take(10), epochs=1, verbose=0)
    >>> gan.generate(4, labels=[7, 7, 1, 1]).shape
    (4, 28, 28, 1)
    """

    discriminator_takes_labels = False

    def __init__(self, generator: keras.Model, discriminator: keras.Model, num_classes: int,
                 class_weight: float = 1.0, **kwargs):
        check_output_width(discriminator, 1 + int(num_classes),
                           'discriminator "extended" with discriminator_options {"class_head": true}')
        super().__init__(generator, discriminator, num_classes, **kwargs)
        self.class_weight = float(class_weight)

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "class_weight": self.class_weight}

    def discriminator_inputs(self, samples, condition):
        return samples  # the discriminator predicts the class instead of seeing it

    def adversarial_logits(self, outputs) -> tf.Tensor:
        """The real/fake logits `[B, 1]` (column 0) of the discriminator outputs."""
        return split_heads(outputs)[0]

    def discriminator_loss(self, real_logits, fake_logits, real, fake, condition) -> tf.Tensor:
        auxiliary = (class_cross_entropy(condition, split_heads(real_logits)[1])
                     + class_cross_entropy(condition, split_heads(fake_logits)[1]))
        adversarial = self.loss_pair.discriminator(self.adversarial_logits(real_logits),
                                                   self.adversarial_logits(fake_logits))
        return adversarial + self.class_weight * auxiliary

    def generator_loss(self, fake_logits, fake, real, condition) -> tf.Tensor:
        auxiliary = class_cross_entropy(condition, split_heads(fake_logits)[1])
        return self.adversarial_generator_loss(fake_logits, fake, real, condition) + self.class_weight * auxiliary
