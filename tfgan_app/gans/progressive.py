"""Progressive growing of GANs (Karras et al. 2018) on the one adversarial loop: `ProgressiveGAN`.

The networks (`tfgan_app.architectures.pggan`) hold every resolution block at once and blend them
by a level of detail ℓ ∈ [0, L − 1] held in their `level_of_detail` layers. ℓ is a pure function
of the number of images shown, n = (generator steps) × (global batch) (`progressive_level`):
each resolution is first stabilised for `stabilise_images`, then the next one fades in over
`fade_images` (α linear 0 → 1), as the official implementation's schedule:

    phase = stabilise + fade,   p = ⌊n / phase⌋,   t = n − p·phase
    ℓ(n) = min(L − 1,  p + clip((t − stabilise) / fade, 0, 1))

The resolution trained is 4·2^⌈ℓ⌉ and α = ℓ − ⌊ℓ⌋ while fading, 1 once stable (`resolution_and_alpha`).
Because ℓ depends only on the step counter (restored with the optimizer), a run resumed mid-fade
continues with the same α. Every train step first sets ℓ in G, D (and the EMA copy), then runs the
loop; `unpack_batch` shows D the real images as G draws them at ℓ (`blend_levels`: average-pooled,
blended, upsampled back). The loss is WGAN-GP (λ = 10) plus the drift term ε·E[D(x)²] (ε = 0.001,
`drift_penalty`) in D's loss. Logs (and so TensorBoard) get `level`, `resolution` and `alpha`.

Example:
>>> g, d = pggan_generator(64, (32, 32, 1)), pggan_discriminator((32, 32, 1))
>>> gan = ProgressiveGAN(g, d, stabilise_images=800_000, fade_images=800_000)
>>> gan.compile(d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.0, beta_2=0.99),
...             g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.0, beta_2=0.99), loss="wasserstein")
>>> float(progressive_level(1_200_000, 800_000, 800_000, 4))   # half-way through fading in 8×8
0.5
"""

from typing import Any, Dict, Tuple

import keras
import tensorflow as tf

from tfgan_app.architectures.pggan import LEVEL_LAYER, START_SIDE, blend_levels
from tfgan_app.distribute import num_workers
from tfgan_app.distribute import replica_context_info as _replica_context_info
from tfgan_app.errors import UsageError
from tfgan_app.gans.wgan import WGANGP


def progressive_level(images_seen, stabilise_images: int, fade_images: int, num_levels: int) -> tf.Tensor:
    """The level of detail ℓ after `images_seen` training images (the module docstring's schedule).

    Args:
      images_seen: n, images shown so far (a number or a scalar tensor).
      stabilise_images: images each resolution trains stable (800k in the paper).
      fade_images: images over which the next resolution fades in (800k in the paper; 0: switch at once).
      num_levels: L, the number of resolutions.

    Returns:
      ℓ, a float32 scalar in [0, L − 1].

    Example:
    >>> [float(progressive_level(n, 10, 10, 3)) for n in (0, 10, 15, 20, 35, 99)]
    [0.0, 0.0, 0.5, 1.0, 1.5, 2.0]
    """
    n = tf.cast(images_seen, tf.float64)
    phase = float(stabilise_images + fade_images)
    p = tf.floor(n / phase)
    t = n - p * phase
    fading = (tf.clip_by_value((t - stabilise_images) / fade_images, 0.0, 1.0) if fade_images
              else tf.zeros_like(t))
    return tf.cast(tf.minimum(p + fading, num_levels - 1.0), tf.float32)


def resolution_and_alpha(level) -> Tuple[tf.Tensor, tf.Tensor]:
    """(the resolution trained at ℓ, 4·2^⌈ℓ⌉; its fade-in α, ℓ − ⌊ℓ⌋ while fading, else 1), as float32 scalars.

    Example:
    >>> [tuple(float(v) for v in resolution_and_alpha(l)) for l in (0.0, 1.25, 2.0)]
    [(4.0, 1.0), (16.0, 0.25), (16.0, 1.0)]
    """
    level = tf.cast(level, tf.float32)
    current = tf.math.ceil(level)
    alpha = tf.where(current > level, level - tf.floor(level), 1.0)
    return START_SIDE * tf.pow(2.0, current), alpha


def drift_penalty(real_logits) -> tf.Tensor:
    """The drift term's per-example D(x)² (multiply by ε = 0.001): keeps the critic's output near 0.

    Args:
      real_logits: D(x), `[B]` or `[B, 1]`.

    Returns:
      `[B]` float32.
    """
    real_logits = tf.cast(real_logits, tf.float32)
    return tf.square(tf.reshape(real_logits, [tf.shape(real_logits)[0], -1])[:, 0])


def _check_count(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise UsageError(f"{name} must be an integer >= {minimum}. Received: {name}={value!r}")
    return value


@keras.saving.register_keras_serializable(package="tfgan_app")
class ProgressiveGAN(WGANGP):
    """Progressive growing: WGAN-GP + drift, with the level of detail driven by the step counter.

    Args:
      generator, discriminator: built by `pggan_generator` / `pggan_discriminator` (with `level_of_detail` layers
        of the same number of levels).
      stabilise_images: images each resolution trains stable before the next fades in (paper: 800k).
      fade_images: images over which each new resolution fades in, α linear 0 → 1 (paper: 800k; 0: no fade).
      drift_weight: ε of the drift term ε·E[D(x)²] in D's loss (0.001).
      gp_weight: λ of the gradient penalty (10).
      d_steps: critic updates per generator update (1 in the paper).
      (other arguments as `GAN`; compile with loss="wasserstein" and Adam(1e-3, β = (0, 0.99)))

    Raises:
      UsageError: networks without `level_of_detail` layers, mismatched levels, or a bad option (named).

    Example:
    >>> gan = ProgressiveGAN(pggan_generator(64, (32, 32, 1)), pggan_discriminator((32, 32, 1)),
    ...                      stabilise_images=9_600, fade_images=9_600)
    >>> gan.compile(d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.0, beta_2=0.99),
    ...             g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.0, beta_2=0.99), loss="wasserstein")
    >>> logs = gan.fit(mnist_batches_32px, epochs=1, steps_per_epoch=300).history   # logs level, resolution, alpha
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, stabilise_images: int = 800_000,
                 fade_images: int = 800_000, drift_weight: float = 0.001, gp_weight: float = 10.0,
                 d_steps: int = 1, **kwargs):
        levels = []
        for network in (generator, discriminator):
            try:
                levels.append(network.get_layer(LEVEL_LAYER).num_levels)
            except ValueError as e:
                raise UsageError(f"ProgressiveGAN needs networks built by pggan_generator / pggan_discriminator "
                                 f"(with a {LEVEL_LAYER!r} layer). Received: {network.name}") from e
        if levels[0] != levels[1]:
            raise UsageError(f"The generator and discriminator must have the same number of levels. "
                             f"Received: generator={levels[0]}, discriminator={levels[1]}")
        super().__init__(generator, discriminator, gp_weight=gp_weight, d_steps=d_steps, **kwargs)
        self.stabilise_images = _check_count("stabilise_images", stabilise_images, 1)
        self.fade_images = _check_count("fade_images", fade_images, 0)
        if isinstance(drift_weight, bool) or not isinstance(drift_weight, (int, float)) or not drift_weight >= 0:
            raise UsageError(f"drift_weight must be a number >= 0. Received: drift_weight={drift_weight!r}")
        self.drift_weight = float(drift_weight)
        self.num_levels = int(levels[0])

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "stabilise_images": self.stabilise_images, "fade_images": self.fade_images,
                "drift_weight": self.drift_weight}

    # --- the level of detail --------------------------------------------------------------------

    def _level_layers(self):
        networks = [self.generator, self.discriminator]
        if self.ema_decay is not None:
            networks.append(self.ema_generator)
        return [network.get_layer(LEVEL_LAYER) for network in networks]

    @property
    def level(self) -> tf.Tensor:
        """ℓ as the networks hold it now (the level of the last train step)."""
        return tf.convert_to_tensor(self.generator.get_layer(LEVEL_LAYER).level)

    def level_at_step(self, step, global_batch_size) -> tf.Tensor:
        """ℓ of the train step with 0-based index `step` (n = step × global batch images shown before it)."""
        images = tf.cast(step, tf.float64) * tf.cast(global_batch_size, tf.float64)
        return progressive_level(images, self.stabilise_images, self.fade_images, self.num_levels)

    def set_level(self, level) -> None:
        """Sets ℓ in every network (G, D and the EMA copy)."""
        for layer in self._level_layers():
            layer.set_level(level)

    # --- hooks ----------------------------------------------------------------------------------

    def unpack_batch(self, data):
        """The real images as the networks see them at the current ℓ (`blend_levels`)."""
        real, condition = super().unpack_batch(data)
        return blend_levels(real, self.level, self.num_levels), condition

    def discriminator_loss(self, real_logits, fake_logits, real, fake, condition) -> tf.Tensor:
        """The WGAN critic loss plus ε·D(x)² (`drift_penalty`), per example."""
        return (super().discriminator_loss(real_logits, fake_logits, real, fake, condition)
                + self.drift_weight * drift_penalty(real_logits))

    def train_step(self, data):
        _, replicas = _replica_context_info()
        batch = tf.shape(tf.nest.flatten(data)[0])[0] * replicas
        self.set_level(self.level_at_step(self.g_optimizer.iterations, batch))
        super().train_step(data)
        return self.metric_results()

    def metric_results(self) -> Dict[str, tf.Tensor]:
        """The loop's metrics plus the current `level`, `resolution` and `alpha` (TensorBoard plots them)."""
        results = super().metric_results()
        level = self.level
        resolution, alpha = resolution_and_alpha(level)
        extra = {"level": level, "resolution": resolution, "alpha": alpha}
        if num_workers(tf.distribute.get_strategy()) > 1:
            extra = {name: tf.reshape(value, [1]) for name, value in extra.items()}
        return {**results, **extra}
