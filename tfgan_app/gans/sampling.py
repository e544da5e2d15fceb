"""Stateless seeds for the per-step randomness of GAN variants (beyond the latents).

The base class draws latents from `(seed, step counter, stream, replica)`; the
variants need more per-step randomness (WGAN-GP's interpolation weights,
InfoGAN's codes). `step_seed` derives it the same way, in a range that never
collides with the latent seeds, so runs stay reproducible, resume exactly and
differ across replicas.
"""

import tensorflow as tf

from tfgan_app.gans.base import _replica_context_info

# Counters (optimizer iterations) stay far below 2**40, so purposes never overlap each other or the latents.
_PURPOSE_STRIDE = 1 << 40
GRADIENT_PENALTY_ALPHA = 1
INFOGAN_CODES = 2


def step_seed(base_seed: int, purpose: int, counter) -> tf.Tensor:
    """A `[2]` int64 seed for `tf.random.stateless_*`, unique to (base seed, purpose, counter, replica)."""
    replica_id, _ = _replica_context_info()
    salt = tf.cast(base_seed, tf.int64) * 1024 + tf.cast(replica_id, tf.int64) * 2
    return tf.stack([tf.cast(counter, tf.int64) + purpose * _PURPOSE_STRIDE, salt])
