"""Improved-GAN techniques (Salimans et al. 2016; instance noise: Sønderby et al. 2017): the maths.

Every GAN variant takes these as constructor options (all off by default), like
`ema_decay`, `pack` and `diff_augment`; `tfgan_app.gans.base.GAN` validates them
(`check_options`) and applies them in its loop through the functions below:

| option | effect | where the base applies it |
|---|---|---|
| `feature_matching=True` | G minimises ‖E f(x) − E f(G(z))‖² for discriminator features f (the input of its `"logits"` layer, or the output of `feature_layer`), *replacing* the adversarial term of the generator loss (a variant's other terms, e.g. pix2pix's L1 or ACGAN's class loss, stay) | `adversarial_generator_loss` |
| `label_smoothing=0.9` | one-sided: real targets 0.9 in the BCE discriminator loss (minimax / non_saturating only) | `compile` (`smoothed_loss_pair`) |
| `historical_averaging=w` | adds w·‖θ − mean of past θ‖² to both players' losses | `discriminator_step`, `generator_step` |
| `instance_noise=σ` | adds N(0, σ_t²) to every discriminator input while training, σ_t decaying linearly to 0 over `instance_noise_decay_steps` generator steps (0: constant); stateless, from `sampling.stream_seed` | `discriminate` |

A variant that cannot honour an option lists it, with the reason, in its class
attribute `unsupported_techniques` (e.g. CycleGAN, whose own `train_step` calls
its discriminators directly); asking for it raises a `UsageError`, as do
`feature_layer` without `feature_matching` and `instance_noise_decay_steps`
without `instance_noise`.

Minibatch discrimination is a layer (`tfgan_app.layers.MinibatchDiscrimination`,
`extended_discriminator(minibatch_kernels=...)`), usable in any discriminator.

Files saved before these were options store the class as `Improved<Name>`
(e.g. `tfgan_app>ImprovedWGANGP`); `tfgan_app.gans` registers those names as
aliases of the plain classes, so such a `gan.keras` loads with its options set.

Example:
>>> gan = WGANGP(generator, critic, historical_averaging=1e-3, instance_noise=0.1)
"""

from typing import Optional, Tuple

import keras
import tensorflow as tf

from tfgan_app import losses as gan_losses
from tfgan_app.errors import UsageError

TECHNIQUE_OPTIONS = ("feature_matching", "feature_layer", "label_smoothing", "historical_averaging",
                     "instance_noise", "instance_noise_decay_steps")


def check_options(feature_matching: bool, feature_layer: Optional[str], label_smoothing: Optional[float],
                  historical_averaging: float, instance_noise: float, instance_noise_decay_steps: int) -> None:
    """Raises UsageError for technique options that are out of range or depend on an unset option."""
    if feature_layer is not None and not feature_matching:
        raise UsageError(f"feature_layer={feature_layer!r} only applies with feature_matching=True.")
    if instance_noise_decay_steps and not instance_noise:
        raise UsageError(f"instance_noise_decay_steps={instance_noise_decay_steps!r} only applies with "
                         "instance_noise > 0.")
    if label_smoothing is not None and not 0.0 < label_smoothing <= 1.0:
        raise UsageError(f"label_smoothing is the real target in (0, 1] (0.9 in the paper), "
                         f"received {label_smoothing!r}.")
    if historical_averaging < 0 or instance_noise < 0 or instance_noise_decay_steps < 0:
        raise UsageError("historical_averaging, instance_noise and instance_noise_decay_steps must be >= 0, "
                         f"received {historical_averaging!r}, {instance_noise!r}, {instance_noise_decay_steps!r}.")


# --- feature matching ---


def feature_matching_loss(real_features, fake_features) -> tf.Tensor:
    """‖E f(x) − E f(G(z))‖²: squared L2 distance between the batch means of `[B, ...]` features (a scalar)."""
    real_mean = tf.reduce_mean(tf.reshape(tf.cast(real_features, tf.float32), [tf.shape(real_features)[0], -1]), 0)
    fake_mean = tf.reduce_mean(tf.reshape(tf.cast(fake_features, tf.float32), [tf.shape(fake_features)[0], -1]), 0)
    return tf.reduce_sum(tf.square(real_mean - fake_mean))


def feature_model(discriminator: keras.Model, feature_layer: Optional[str] = None) -> keras.Model:
    """The discriminator cut at its features: the output of `feature_layer`, else the input of `"logits"`.

    Raises UsageError (listing the layer names) when the layer does not exist.
    """
    try:
        features = (discriminator.get_layer(feature_layer).output if feature_layer
                    else discriminator.get_layer("logits").input)
    except ValueError as e:
        raise UsageError(f"feature_matching needs discriminator features: {e} Set feature_layer to one of "
                         "the layer names above.") from e
    return keras.Model(discriminator.inputs, features, name="discriminator_features")


# --- one-sided label smoothing ---


def smoothed_loss_pair(pair: gan_losses.GANLoss, real_label: float) -> gan_losses.GANLoss:
    """`pair` with real targets `real_label` in its BCE discriminator loss; UsageError for any other loss."""
    if pair.discriminator is not gan_losses.minimax_discriminator_loss:
        raise UsageError(f"label_smoothing applies to the BCE discriminator loss (minimax or "
                         f"non_saturating), not to {pair.name!r}.")
    return gan_losses.GANLoss(
        f"{pair.name}_smoothed",
        lambda real_logits, fake_logits: gan_losses.minimax_discriminator_loss(
            real_logits, fake_logits, real_label=real_label),
        pair.generator)


# --- historical averaging ---

History = Tuple[list, keras.Variable]


def history_variables(owner: keras.Model, network: keras.Model, prefix: str) -> History:
    """Creates `owner`'s running mean of `network`'s trainable variables (starting at their values) and count.

    They are `owner`'s own (non-trainable) weights, named `{prefix}_average_{i}` and
    `{prefix}_average_count`, so they are saved and restored with it.
    """
    averages = [owner.add_weight(shape=v.shape, initializer="zeros", trainable=False, name=f"{prefix}_average_{i}")
                for i, v in enumerate(network.trainable_variables)]
    for average, variable in zip(averages, network.trainable_variables):
        average.assign(variable)
    count = owner.add_weight(shape=(), initializer="ones", trainable=False, name=f"{prefix}_average_count")
    return averages, count


def historical_penalty(network: keras.Model, history: History) -> tf.Tensor:
    """Σ‖θ − θ̄‖² with θ̄ the mean of the parameters seen so far (unweighted), then adds θ to the mean.

    Example: θ = 3 after θ = 1, 1 (mean 1): the penalty is (3 − 1)² = 4 and the mean becomes 5/3.
    """
    averages, count = history
    penalty = tf.add_n([tf.reduce_sum(tf.square(tf.convert_to_tensor(v) - tf.convert_to_tensor(a)))
                        for v, a in zip(network.trainable_variables, averages)])
    with tf.control_dependencies([penalty]):
        new_count = count + 1.0
        for v, a in zip(network.trainable_variables, averages):
            a.assign(a + (tf.stop_gradient(tf.convert_to_tensor(v)) - a) / new_count)
        count.assign(new_count)
    return penalty


# --- instance noise ---


def instance_noise_sigma(sigma: float, step, decay_steps: int) -> tf.Tensor:
    """σ_t = σ·max(0, 1 − t / decay_steps) at generator step t (σ when `decay_steps` is 0)."""
    sigma = tf.constant(sigma)
    if decay_steps:
        sigma = sigma * tf.maximum(0.0, 1.0 - tf.cast(step, tf.float32) / decay_steps)
    return sigma
