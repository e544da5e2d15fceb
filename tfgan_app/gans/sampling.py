"""Stateless seeds for all the per-step randomness of every GAN variant: one function, `stream_seed`.

Every random draw a training step makes (latents, StyleGAN's mixing latents and
choices, WGAN-GP's interpolation weights, InfoGAN's codes, CycleGAN's image-pool
choices, instance noise) has its own *stream* below and takes its seed from

    stream_seed(base_seed, stream, counter) = [counter, salt]
    salt = (base_seed · MAX_REPLICAS + replica) · NUM_STREAMS + stream

`salt` is an injective function of (base seed, replica, stream) for
0 ≤ replica < MAX_REPLICAS and 0 ≤ stream < NUM_STREAMS, so two different
(replica, stream) pairs never share a seed at the same step counter, and the
counter (an optimizer's `iterations`) makes every step differ. Nothing is
stateful: a run is reproducible and resumes exactly from a restored counter.

Example:
>>> z = tf.random.stateless_normal([8, 64], seed=stream_seed(0, LATENTS_G, gan.g_optimizer.iterations))
"""

import tensorflow as tf

from tfgan_app.distribute import replica_context_info
from tfgan_app.errors import UsageError

MAX_REPLICAS = 1024
NUM_STREAMS = 256

# --- streams ---------------------------------------------------------------------------------------
LATENTS_D = 0  # latents of the fakes of discriminator steps (GAN.sample_latents stream 0)
LATENTS_G = 1  # latents of generator steps (stream 1)
STYLE_MIX_LATENTS = (2, 3)  # StyleGAN's second latents z₂, for D steps / G steps
STYLE_MIX_CHOICE = (4, 5)  # which rows mix, D / G
STYLE_MIX_CROSSOVER = (6, 7)  # crossover level, D / G
GRADIENT_PENALTY_ALPHA = 8
INFOGAN_CODES = 9
POOL_B = (10, 11)  # CycleGAN image pool of domain B: (use a stored image?, which slot)
POOL_A = (12, 13)  # domain A
ENCODER_LATENTS = 14  # Age-cGAN: latents of the encoder's generated pairs
INSTANCE_NOISE = 16  # first of the instance-noise streams: one per discriminator call of a step
INSTANCE_NOISE_STREAMS = NUM_STREAMS - INSTANCE_NOISE


def stream_seed(base_seed: int, stream: int, counter) -> tf.Tensor:
    """A `[2]` int64 seed for `tf.random.stateless_*`, unique to (base seed, stream, counter, replica).

    Args:
      base_seed: the model's seed (`GAN.seed`).
      stream: a Python int in [0, NUM_STREAMS), one of the constants of this module.
      counter: the step counter (an optimizer's `iterations`), a scalar tensor or int.

    Example:
    >>> alpha = tf.random.stateless_uniform([8], seed=stream_seed(gan.seed, GRADIENT_PENALTY_ALPHA, step))
    """
    if not isinstance(stream, int) or not 0 <= stream < NUM_STREAMS:
        raise UsageError(f"Expected a random stream in [0, {NUM_STREAMS}), received stream={stream!r}.")
    replica_id, replicas = replica_context_info()
    if replicas > MAX_REPLICAS:
        raise UsageError(f"Per-step random streams support up to {MAX_REPLICAS} replicas, received {replicas}.")
    salt = ((tf.cast(base_seed, tf.int64) * MAX_REPLICAS + tf.cast(replica_id, tf.int64)) * NUM_STREAMS
            + stream)
    return tf.stack([tf.cast(counter, tf.int64), salt])
