"""Relativistic average GAN (RaGAN; Jolicoeur-Martineau 2018, "The relativistic discriminator").

The discriminator estimates how much more realistic a real sample is than the
average fake (and vice versa). With C the logit and σ the sigmoid:

    D loss = −E log σ(C(x) − E C(G(z))) − E log(1 − σ(C(G(z)) − E C(x)))
    G loss = −E log σ(C(G(z)) − E C(x)) − E log(1 − σ(C(x) − E C(G(z))))

Unlike the standard losses, the generator loss needs the real logits too, so
`RelativisticGAN` overrides the loss hooks instead of being a `GANLoss` pair.
Batch means are taken over the local (per-replica) batch.

Example:
>>> gan = RelativisticGAN(generator, discriminator)
>>> gan.compile(d_optimizer="adam", g_optimizer="adam")   # the compiled loss pair is not used
"""

from typing import Tuple

import keras
import tensorflow as tf

from tfgan_app.gans.base import GAN
from tfgan_app.losses import per_example_mean


def relativistic_average_losses(real_logits, fake_logits) -> Tuple[tf.Tensor, tf.Tensor]:
    """Returns per-example `(D loss, G loss)` of RaGAN (BCE form) for logits `[B]` or `[B, ...]`.

    Example i of each vector is the real term of real i plus the fake term of fake i.
    For logit maps (PatchGAN) each patch is compared with the mean of all the other
    side's logits and the per-patch losses are averaged per example (as ESRGAN does).
    """
    real = tf.cast(tf.convert_to_tensor(real_logits), tf.float32)
    fake = tf.cast(tf.convert_to_tensor(fake_logits), tf.float32)
    real_rel = real - tf.reduce_mean(fake)  # C(x) − E C(G(z))
    fake_rel = fake - tf.reduce_mean(real)  # C(G(z)) − E C(x)
    # −log σ(a) = softplus(−a), −log(1 − σ(a)) = softplus(a)
    d_loss = per_example_mean(tf.nn.softplus(-real_rel)) + per_example_mean(tf.nn.softplus(fake_rel))
    g_loss = per_example_mean(tf.nn.softplus(-fake_rel)) + per_example_mean(tf.nn.softplus(real_rel))
    return d_loss, g_loss


@keras.saving.register_keras_serializable(package="tfgan_app")
class RelativisticGAN(GAN):
    """RaGAN: relativistic average discriminator and generator losses (see the module docstring).

    Args:
      generator: `keras.Model` mapping latents `[B, latent_dim]` to samples.
      discriminator: `keras.Model` mapping samples to logits C(x) `[B, 1]` (or a PatchGAN logit map).
      (other arguments as `GAN`; the compiled loss pair is not used)

    Example:
    >>> gan = RelativisticGAN(dcgan_generator(64, (28, 28, 1), base_filters=16),
    ...                       dcgan_discriminator((28, 28, 1), base_filters=16))
    >>> gan.compile(d_optimizer="adam", g_optimizer="adam")
    >>> history = gan.fit(load_dataset("mnist", batch_size=64).dataset.take(10), epochs=1, verbose=0)
    >>> gan.generate(4).shape
    (4, 28, 28, 1)
    """

    def discriminator_loss(self, real_logits, fake_logits, real, fake, condition) -> tf.Tensor:
        return relativistic_average_losses(real_logits, fake_logits)[0]

    def adversarial_generator_loss(self, fake_logits, fake, real, condition) -> tf.Tensor:
        if self.feature_matching:  # replaces the adversarial term, relativistic or not
            return super().adversarial_generator_loss(fake_logits, fake, real, condition)
        real_logits = self.discriminate(real, condition, training=True)
        return relativistic_average_losses(real_logits, fake_logits)[1]
