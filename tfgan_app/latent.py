"""Latent vectors: deterministic sampling, interpolation and arithmetic.

`sample_latents(n, latent_dim, seed)` is the one way the library turns a seed
into latents, so `GAN.generate`, the exported `generate` signatures and
`tfgan generate` give the same images for the same seed.
"""

from typing import Optional

import numpy as np
import tensorflow as tf


def sample_latents(num: int, latent_dim: int, seed: Optional[int] = 0) -> tf.Tensor:
    """Returns `[num, latent_dim]` float32 standard-normal latents for `seed`.

    Uses a stateless generator: the same `(num, latent_dim, seed)` always gives
    the same tensor, in eager mode, inside a `tf.function` or a SavedModel.

    Example:
    >>> z = sample_latents(4, 100, seed=7)
    >>> z.shape
    TensorShape([4, 100])
    """
    seed = 0 if seed is None else seed
    seed_pair = tf.stack([tf.cast(seed, tf.int64), tf.constant(0x5EED, tf.int64)])
    return tf.random.stateless_normal(
        tf.stack([tf.cast(num, tf.int32), tf.cast(latent_dim, tf.int32)]), seed=seed_pair
    )


def linear_interpolation(z0: np.ndarray, z1: np.ndarray, steps: int) -> np.ndarray:
    """Returns `[steps, dim]` points on the straight line from `z0` to `z1`."""
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
    return (1.0 - t) * np.asarray(z0, np.float32) + t * np.asarray(z1, np.float32)
