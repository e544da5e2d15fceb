"""Wasserstein GANs: weight clipping (WGAN) and gradient penalty (WGAN-GP).

* `WGAN` — Arjovsky, Chintala & Bottou 2017, "Wasserstein GAN". The critic
  maximises E D(x) − E D(G(z)) (loss "wasserstein": D minimises
  E D(G(z)) − E D(x), G minimises −E D(G(z))) and is kept Lipschitz by clipping
  every weight to [−c, c] after each critic update (c = 0.01, n_critic = 5,
  RMSProp lr 5e-5).
* `WGANGP` — Gulrajani et al. 2017, "Improved Training of Wasserstein GANs".
  Clipping is replaced by the penalty λ E(‖∇x̂ D(x̂)‖₂ − 1)² on x̂ = αx + (1−α)G(z),
  α ~ U(0, 1) per sample (λ = 10, n_critic = 5, Adam 1e-4 β (0, 0.9), no batch
  norm in the critic: use `extended_discriminator(normalization="layer")`).

Both only override hooks of `GAN` (`after_discriminator_step`, `discriminator_penalty`).

Example:
>>> gan = WGANGP(generator, critic)            # d_steps=5, gp_weight=10
>>> gan.compile(d_optimizer=keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9),
...             g_optimizer=keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9), loss="wasserstein")
"""

from typing import Any, Dict

import keras
import tensorflow as tf

from tfgan_app import losses as gan_losses
from tfgan_app.errors import UsageError
from tfgan_app.gans.base import GAN
from tfgan_app.gans.sampling import GRADIENT_PENALTY_ALPHA, stream_seed


@keras.saving.register_keras_serializable(package="tfgan_app")
class WGAN(GAN):
    """WGAN with weight clipping: every critic weight is clipped to [−clip_value, clip_value] after each update.

    Args:
      clip_value: c in the paper (0.01).
      d_steps: critic updates per generator update (n_critic, 5 in the paper).
      (other arguments as `GAN`; compile with loss="wasserstein" and RMSProp)

    Raises:
      UsageError: for a non-positive `clip_value`, or a bad option of `GAN` (e.g. `d_steps` < 1).

    Example:
    >>> gan = WGAN(dcgan_generator(64, (28, 28, 1), base_filters=16), dcgan_discriminator((28, 28, 1), base_filters=16))
    >>> gan.compile(d_optimizer=keras.optimizers.RMSprop(5e-5), g_optimizer=keras.optimizers.RMSprop(5e-5),
    ...             loss="wasserstein")
    >>> history = gan.fit(load_dataset("mnist", batch_size=64).dataset.take(10), epochs=1, verbose=0)
    >>> max(float(keras.ops.max(keras.ops.abs(w))) for w in gan.discriminator.trainable_weights) <= 0.01
    True
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, clip_value: float = 0.01,
                 d_steps: int = 5, **kwargs):
        super().__init__(generator, discriminator, d_steps=d_steps, **kwargs)
        if not clip_value > 0:
            raise UsageError(f"clip_value must be positive (the paper uses 0.01), received {clip_value!r}.")
        self.clip_value = float(clip_value)

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "clip_value": self.clip_value}

    def after_discriminator_step(self) -> None:
        for variable in self.discriminator.trainable_variables:
            variable.assign(tf.clip_by_value(variable, -self.clip_value, self.clip_value))


@keras.saving.register_keras_serializable(package="tfgan_app")
class WGANGP(GAN):
    """WGAN with gradient penalty λ·E(‖∇x̂ D(x̂)‖₂ − 1)² added to the critic loss.

    Args:
      gp_weight: λ (10 in the paper).
      d_steps: critic updates per generator update (5 in the paper).
      (other arguments as `GAN`; compile with loss="wasserstein" and Adam(1e-4, β=(0, 0.9)))

    Raises:
      UsageError: for a negative `gp_weight`, or a bad option of `GAN` (e.g. `d_steps` < 1).

    Example:
    >>> gan = WGANGP(dcgan_generator(64, (28, 28, 1), base_filters=16),
    ...              dcgan_discriminator((28, 28, 1), base_filters=16), gp_weight=10.0)
    >>> gan.compile(d_optimizer=keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9),
    ...             g_optimizer=keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9), loss="wasserstein")
    >>> history = gan.fit(load_dataset("mnist", batch_size=64).dataset.take(10), epochs=1, verbose=0)
    >>> gan.generate(4).shape
    (4, 28, 28, 1)
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, gp_weight: float = 10.0,
                 d_steps: int = 5, **kwargs):
        super().__init__(generator, discriminator, d_steps=d_steps, **kwargs)
        if not gp_weight >= 0:
            raise UsageError(f"gp_weight must be >= 0 (the paper uses 10), received {gp_weight!r}.")
        self.gp_weight = float(gp_weight)

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "gp_weight": self.gp_weight}

    def discriminator_penalty(self, real, fake, condition) -> tf.Tensor:
        alpha = tf.random.stateless_uniform(
            tf.shape(real)[:1], seed=stream_seed(self.seed, GRADIENT_PENALTY_ALPHA, self.d_optimizer.iterations))
        critic = lambda x: self.discriminate(x, condition, training=True)  # noqa: E731
        penalty = tf.reduce_mean(gan_losses.gradient_penalty(critic, real, fake, alpha))
        return super().discriminator_penalty(real, fake, condition) + self.gp_weight * penalty
