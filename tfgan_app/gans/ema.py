"""An exponential moving average (EMA) of the generator (Karras et al. 2018; Yazıcı et al. 2019).

`GAN(..., ema_decay=β, ema_start=s)` keeps `gan.ema_generator`, a copy of the
generator whose weights follow, after every generator update t,

    θ̄_t = θ_t                          for t ≤ s   (warm-up: the copy tracks G, as BigGAN's `ema_start`)
    θ̄_t = β·θ̄_{t−1} + (1 − β)·θ_t      for t > s

over **all** the generator's weights, BatchNormalization moving statistics included
(as BigGAN-PyTorch, StudioGAN and keras.io's GAN-ADA do). `gan.generate`, the sample
grids, evaluation, `generator.keras` and everything exported from it use the average.

Why not Keras' `Optimizer(use_ema=True)`: it averages only the variables the
optimizer updates, so BN moving statistics stay those of the raw generator and do
not match the averaged weights (the averaged generator then normalises with the
wrong statistics); and `fit` only finalises `model.optimizer`, which a GAN does not
have. A separate copy also keeps the raw generator training untouched (the
optimizer's EMA swaps the average *into* the trained variables when finalised).

Under a `tf.distribute` strategy the update runs in a cross-replica `merge_call`
and `extended.update`, as Keras 2's optimizers applied their updates. Keras keeps
BatchNormalization moving statistics per replica (each replica's own statistics);
the EMA blends their mean over the replicas, so every replica's copy of the
averaged generator holds the same weights.

Example:
>>> gan = GAN(generator, discriminator, ema_decay=0.999, ema_start=1000)
>>> gan.ema_generator          # the averaged generator (a keras.Model, trainable=False)
"""

from typing import Optional, Sequence

import keras
import tensorflow as tf

from tfgan_app.errors import UsageError


def check_ema_options(ema_decay: Optional[float], ema_start: int) -> None:
    """Raises UsageError unless `ema_decay` is None or in (0, 1) and `ema_start` a non-negative int."""
    if ema_decay is not None and (isinstance(ema_decay, bool) or not 0.0 < float(ema_decay) < 1.0):
        raise UsageError(f"ema_decay must be in (0, 1) (e.g. 0.999), or null for no EMA generator; "
                         f"received ema_decay={ema_decay!r}.")
    if isinstance(ema_start, bool) or not isinstance(ema_start, int) or ema_start < 0:
        raise UsageError(f"ema_start must be a non-negative integer (generator steps), received {ema_start!r}.")
    if ema_decay is None and ema_start:
        raise UsageError(f"ema_start={ema_start} only applies with ema_decay set (e.g. ema_decay=0.999).")


def averaged_copy(generator: keras.Model) -> keras.Model:
    """A non-trainable clone of `generator` with the same weights (the start of the average)."""
    copy = keras.models.clone_model(generator)
    copy.set_weights(generator.get_weights())
    copy.trainable = False
    return copy


def decay_at(step, ema_decay: float, ema_start: int) -> tf.Tensor:
    """β_t of the update after generator step `step` (1-based): 0 (copy) while step ≤ ema_start, else β."""
    step = tf.cast(step, tf.int64)
    return tf.where(step > ema_start, tf.constant(ema_decay, tf.float32), tf.constant(0.0, tf.float32))


def update_average(average: keras.Model, model: keras.Model, decay) -> None:
    """θ̄ ← decay·θ̄ + (1 − decay)·θ for every weight of `model` (BN moving statistics included).

    Works in a replica context (inside `train_step` under any strategy: default, `MirroredStrategy`,
    `MultiWorkerMirroredStrategy`) and outside any strategy.

    Under a strategy with more than one replica the update runs in a cross-replica `merge_call`, as
    Keras 2's optimizers applied their updates: the BatchNormalization moving statistics (which Keras keeps
    per replica, each from its own part of the batch) are first averaged over the replicas with
    `extended.reduce_to(MEAN, value, ema_variable)`, the EMA variable as the destination, and
    then every replica's copy of the EMA variable is blended with `extended.update`. Naming the destination
    matters: `ReplicaContext.all_reduce` sends a plain tensor to `tensor.device`, which is empty inside a
    `MultiWorkerMirroredStrategy` step (one local replica per worker), and raised
    `ValueError: destinations can not be empty`.

    Raises:
      UsageError: if `average` is not a clone of `model` (a different number of weights).
    """
    targets = [v.value if isinstance(v, keras.Variable) else v for v in average.weights]
    values = [tf.convert_to_tensor(v) for v in model.weights]
    if len(targets) != len(values):
        raise UsageError(f"The averaged generator has {len(targets)} weights but the generator {len(values)}; "
                         "the EMA copy must be a clone of the generator.")
    # Trainable weights are identical on every replica; BN moving statistics are not (see above).
    moving = [i for i, v in enumerate(model.weights) if not v.trainable]

    def blend(target, value, decay):
        decay = tf.cast(decay, target.dtype)
        return target.assign(decay * target + (1.0 - decay) * tf.cast(value, target.dtype))

    def apply(strategy, decay, values):
        values = list(values)
        if moving and strategy.num_replicas_in_sync > 1:
            for i in moving:  # one reduce_to each: batch_reduce_to would do the same, with a warning
                values[i] = strategy.extended.reduce_to(tf.distribute.ReduceOp.MEAN, values[i], targets[i])
        for target, value in zip(targets, values):
            strategy.extended.update(target, blend, args=(value, decay), group=False)

    context = tf.distribute.get_replica_context()
    if context is not None and context.num_replicas_in_sync > 1:
        context.merge_call(apply, args=(decay, values))
    else:
        tf.__internal__.distribute.interim.maybe_merge_call(apply, tf.distribute.get_strategy(), decay, values)


def standing_statistics(generator: keras.Model, latents: Sequence[tf.Tensor]) -> None:
    """Re-estimates every BatchNormalization layer's moving statistics of `generator` from `latents`.

    BigGAN's "standing statistics": the generator runs in training mode on each latent batch and each
    BN layer's moving mean / variance become the plain average of the batch statistics (momentum
    k / (k + 1) at batch k), replacing whatever they held. An alternative to averaging the moving
    statistics along with the weights (what `update_average` does).

    Args:
      generator: the generator (e.g. `gan.ema_generator`); a one-input latent generator.
      latents: latent batches, e.g. `[sample_latents(256, latent_dim, seed) for seed in range(16)]`.
    """
    layers = [layer for layer in generator._flatten_layers()  # pylint: disable=protected-access
              if isinstance(layer, keras.layers.BatchNormalization)]
    saved = [(layer, layer.momentum, layer.trainable) for layer in layers]
    try:
        for layer in layers:
            layer.trainable = True  # a non-trainable BN runs in inference mode even with training=True
        for k, z in enumerate(latents):
            for layer in layers:
                layer.momentum = k / (k + 1.0)
            generator(z, training=True)
    finally:
        for layer, momentum, trainable in saved:
            layer.momentum, layer.trainable = momentum, trainable
