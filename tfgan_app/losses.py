"""GAN objectives as pure functions of discriminator outputs.

Every function takes discriminator logits (the raw, pre-sigmoid output D(x)) and
returns a **per-example** loss of shape `[batch]`. Outputs with more than one
value per example (PatchGAN maps `[B, H, W, 1]`) get the loss element-wise, per
patch, and the per-patch losses are then averaged per example, as in TF-GAN. The batch
loss is the mean of that vector; `GAN.train_step` takes it with
`tf.nn.compute_average_loss` so that under a `tf.distribute` strategy the
loss is averaged over the *global* batch.

Notation (see Goodfellow et al. 2014 and TF-GAN's `losses_impl.py`):
D(x) is the logit, σ the sigmoid, log σ(a) = -softplus(-a) and
log(1 - σ(a)) = -softplus(a).

Example:
>>> real_logits, fake_logits = tf.constant([2.0]), tf.constant([-1.0])
>>> pair = get("non_saturating")
>>> float(pair.discriminator(real_logits, fake_logits)[0])  # softplus(-2) + softplus(-1)
0.4401...
"""

import dataclasses
from typing import Callable, Dict, Union

import keras
import tensorflow as tf

from tfgan_app.errors import UsageError


def per_example_mean(values: tf.Tensor) -> tf.Tensor:
    """Averages every axis but the first: `[B, ...]` → `[B]` (`[B]` stays as it is).

    Losses apply it *after* their element-wise non-linearity: for a PatchGAN's
    `[B, H, W, 1]` logit map the loss of an example is the mean of its per-patch
    losses (TF-GAN `losses_impl.py`, keras.io CycleGAN), never the loss of the mean logit.
    """
    values = tf.convert_to_tensor(values)
    values = tf.cast(values, tf.float32)
    if values.shape.rank == 1:
        return values
    return tf.reduce_mean(tf.reshape(values, [tf.shape(values)[0], -1]), axis=1)


def _logits(values) -> tf.Tensor:
    return tf.cast(tf.convert_to_tensor(values), tf.float32)


# --- minimax / non-saturating (Goodfellow et al. 2014) ----------------------------------------

@keras.saving.register_keras_serializable(package="tfgan_app")
def minimax_discriminator_loss(real_logits, fake_logits, real_label: float = 1.0) -> tf.Tensor:
    """D loss of the original GAN: −log σ(D(x)) − log(1 − σ(D(G(z)))).

    `real_label` < 1 gives one-sided label smoothing (Salimans et al. 2016 use 0.9):
    the real term becomes the cross-entropy against target `real_label`.
    """
    real_logits, fake_logits = _logits(real_logits), _logits(fake_logits)
    real_term = tf.nn.sigmoid_cross_entropy_with_logits(tf.fill(tf.shape(real_logits), real_label), real_logits)
    return per_example_mean(real_term) + per_example_mean(tf.nn.softplus(fake_logits))


@keras.saving.register_keras_serializable(package="tfgan_app")
def minimax_generator_loss(fake_logits) -> tf.Tensor:
    """G loss of the original minimax game: log(1 − σ(D(G(z)))) = −softplus(D(G(z))).

    Saturates (vanishing gradient) when D confidently rejects fakes; prefer the
    non-saturating loss in practice.
    """
    return per_example_mean(-tf.nn.softplus(_logits(fake_logits)))


@keras.saving.register_keras_serializable(package="tfgan_app")
def non_saturating_generator_loss(fake_logits) -> tf.Tensor:
    """G loss of the non-saturating game: −log σ(D(G(z))) = softplus(−D(G(z)))."""
    return per_example_mean(tf.nn.softplus(-_logits(fake_logits)))


# --- least squares (Mao et al. 2017, a=0, b=1, c=1) -------------------------------------------

@keras.saving.register_keras_serializable(package="tfgan_app")
def least_squares_discriminator_loss(real_logits, fake_logits) -> tf.Tensor:
    """LSGAN D loss: ½(D(x) − 1)² + ½D(G(z))² (D outputs are used raw, without sigmoid)."""
    real_logits, fake_logits = _logits(real_logits), _logits(fake_logits)
    return per_example_mean(0.5 * tf.square(real_logits - 1.0)) + per_example_mean(0.5 * tf.square(fake_logits))


@keras.saving.register_keras_serializable(package="tfgan_app")
def least_squares_generator_loss(fake_logits) -> tf.Tensor:
    """LSGAN G loss: ½(D(G(z)) − 1)²."""
    return per_example_mean(0.5 * tf.square(_logits(fake_logits) - 1.0))


# --- Wasserstein (Arjovsky et al. 2017) -------------------------------------------------------

@keras.saving.register_keras_serializable(package="tfgan_app")
def wasserstein_discriminator_loss(real_logits, fake_logits) -> tf.Tensor:
    """WGAN critic loss: D(G(z)) − D(x) (needs a Lipschitz critic: clipping or a gradient penalty)."""
    return per_example_mean(fake_logits) - per_example_mean(real_logits)


@keras.saving.register_keras_serializable(package="tfgan_app")
def wasserstein_generator_loss(fake_logits) -> tf.Tensor:
    """WGAN generator loss: −D(G(z))."""
    return -per_example_mean(fake_logits)


# --- hinge (Lim & Ye 2017; Miyato et al. 2018) ------------------------------------------------

@keras.saving.register_keras_serializable(package="tfgan_app")
def hinge_discriminator_loss(real_logits, fake_logits) -> tf.Tensor:
    """Hinge D loss: relu(1 − D(x)) + relu(1 + D(G(z)))."""
    real_logits, fake_logits = _logits(real_logits), _logits(fake_logits)
    return per_example_mean(tf.nn.relu(1.0 - real_logits)) + per_example_mean(tf.nn.relu(1.0 + fake_logits))


# --- penalties ---------------------------------------------------------------------------------

def gradient_penalty(critic: Callable[[tf.Tensor], tf.Tensor], real: tf.Tensor, fake: tf.Tensor,
                     alpha: tf.Tensor) -> tf.Tensor:
    """WGAN-GP penalty (Gulrajani et al. 2017): (‖∇x̂ D(x̂)‖₂ − 1)² per example.

    Args:
      critic: maps a batch of inputs to logits, e.g. `lambda x: D(x, training=True)`.
      real, fake: batches of the same shape `[B, ...]`.
      alpha: `[B]` interpolation weights, one per example, usually U(0, 1);
        x̂ = α·x + (1 − α)·G(z).

    Multiply by λ (10 in the paper) and average over the batch.
    """
    real = tf.cast(real, tf.float32)
    fake = tf.cast(fake, tf.float32)
    alpha = tf.reshape(tf.cast(alpha, tf.float32), [-1] + [1] * (real.shape.rank - 1))
    interpolates = alpha * real + (1.0 - alpha) * fake
    with tf.GradientTape() as tape:
        tape.watch(interpolates)
        scores = tf.reduce_sum(per_example_mean(critic(interpolates)))
    grads = tf.reshape(tape.gradient(scores, interpolates), [tf.shape(real)[0], -1])
    norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=1) + 1e-12)
    return tf.square(norms - 1.0)


def r1_penalty(discriminator_fn: Callable[[tf.Tensor], tf.Tensor], real: tf.Tensor) -> tf.Tensor:
    """R1 term (Mescheder et al. 2018): ‖∇ₓ D(x)‖² per real example.

    The zero-centred gradient penalty on real data, γ/2 · E‖∇ₓD(x)‖²; it makes the
    discriminator flat on the data manifold, which lets non-saturating GAN training
    converge (the paper's Theorem 4.1) instead of oscillating around the data.

    Args:
      discriminator_fn: maps a batch of inputs to logits, e.g. `lambda x: D(x, training=True)`.
      real: real inputs `[B, ...]`.

    Multiply by γ/2 and average over the batch.
    """
    real = tf.cast(real, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(real)
        logits = tf.reduce_sum(tf.cast(discriminator_fn(real), tf.float32))
    grads = tf.reshape(tape.gradient(logits, real), [tf.shape(real)[0], -1])
    return tf.reduce_sum(tf.square(grads), axis=1)


# --- auto-encoder energies (EBGAN: Zhao et al. 2017; BEGAN: Berthelot et al. 2017) -------------

def reconstruction_energy(images: tf.Tensor, reconstructions: tf.Tensor, power: int = 1) -> tf.Tensor:
    """Energy of an auto-encoder discriminator: mean |v − D(v)|^p over the pixels of each example, `[B]`.

    BEGAN's L(v) is the pixel-wise L1 energy (p = 1); EBGAN's D(x) = ‖Dec(Enc(x)) − x‖² is the squared
    one (p = 2), taken here as a per-pixel mean so that its margin does not depend on the image size.

    Args:
      images: the discriminator's inputs `[B, ...]`.
      reconstructions: its auto-encoder outputs, same shape.
      power: 1 (L1) or 2 (squared L2).

    Returns:
      The per-example energy `[B]` (float32).

    Raises:
      UsageError: for a power other than 1 or 2.
    """
    if power not in (1, 2):
        raise UsageError(f"power must be 1 (L1, BEGAN) or 2 (squared L2, EBGAN). Received: power={power!r}")
    difference = tf.cast(images, tf.float32) - tf.cast(reconstructions, tf.float32)
    return per_example_mean(tf.abs(difference) if power == 1 else tf.square(difference))


def pulling_away_term(codes: tf.Tensor) -> tf.Tensor:
    """EBGAN's pulling-away term f_PT = 1/(N(N−1)) Σ_{i≠j} (S_iᵀS_j / (‖S_i‖‖S_j‖))² (a scalar).

    The mean squared cosine similarity between the codes of different examples of a batch: it is
    low when the generated batch spreads over orthogonal directions of the encoder's code space,
    which discourages mode collapse.

    Args:
      codes: the encoder codes S of a generated batch, `[N, ...]` with N ≥ 2 (flattened per example).

    Returns:
      f_PT, a float32 scalar in [0, 1].
    """
    codes = tf.cast(tf.convert_to_tensor(codes), tf.float32)
    codes = tf.reshape(codes, [tf.shape(codes)[0], -1])
    unit = tf.math.l2_normalize(codes, axis=1)
    cosines = tf.matmul(unit, unit, transpose_b=True)  # [N, N], ones on the diagonal
    n = tf.cast(tf.shape(codes)[0], tf.float32)
    off_diagonal = tf.reduce_sum(tf.square(cosines)) - tf.reduce_sum(tf.square(tf.linalg.diag_part(cosines)))
    return off_diagonal / (n * (n - 1.0))


# --- context-encoder inpainting (Pathak et al. 2016) -------------------------------------------

def hole_reconstruction_loss(targets: tf.Tensor, outputs: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
    """‖M̂ ⊙ (x − F((1 − M̂) ⊙ x))‖² per example, averaged over the hole's values: `[B]`.

    Only the hole counts: what the generator does outside the mask (where the input already shows
    the image) does not change the loss.

    Args:
      targets: the full images x `[B, H, W, C]`.
      outputs: the generator's fills F(masked x), same shape.
      mask: M̂, 1 in the hole and 0 elsewhere, broadcastable to the images (e.g. `[1, H, W, 1]`).

    Returns:
      The per-example mean squared error over the hole (float32 `[B]`).
    """
    mask = tf.broadcast_to(tf.cast(mask, tf.float32), tf.shape(targets))
    squared = tf.square(tf.cast(targets, tf.float32) - tf.cast(outputs, tf.float32)) * mask
    batch = tf.shape(squared)[0]
    hole = tf.reduce_sum(tf.reshape(mask, [batch, -1]), axis=1)
    return tf.reduce_sum(tf.reshape(squared, [batch, -1]), axis=1) / tf.maximum(hole, 1.0)


def latent_reconstruction_loss(latents: tf.Tensor, encoded: tf.Tensor) -> tf.Tensor:
    """‖z − E(G(z, y))‖² per example, averaged over the latent dimensions: `[B]` (Age-cGAN's encoder loss).

    Args:
      latents: the latents z `[B, D]` the generator was given.
      encoded: the encoder's estimate E(G(z, y)) of them, same shape.

    Returns:
      The per-example mean squared error (float32 `[B]`).

    Example:
    >>> latent_reconstruction_loss(tf.zeros([2, 4]), tf.ones([2, 4])).numpy()
    array([1., 1.], dtype=float32)
    """
    return tf.reduce_mean(tf.square(tf.cast(latents, tf.float32) - tf.cast(encoded, tf.float32)), axis=-1)


# --- BigGAN orthogonal regularisation (Brock et al. 2019) ---------------------------------------

def orthogonal_penalty(weights, beta: float = 1e-4) -> tf.Tensor:
    """BigGAN's orthogonal regularisation β·Σ_W ‖WᵀW ⊙ (1 − I)‖²_F over a list of weights (a scalar).

    Each weight is flattened to a matrix W `[fan_in, units]` (a Dense kernel as it is, a conv kernel
    `[kh, kw, in, out]` as `[kh·kw·in, out]`), so WᵀW `[units, units]` holds the dot products of its
    filters. Only the off-diagonal products count: filters are pushed towards orthogonality without
    constraining their norms (which spectral normalisation handles), unlike ‖WᵀW − I‖²_F.

    Args:
      weights: a list of kernels (tensors or variables) of rank ≥ 2.
      beta: β, the penalty's weight (1e-4 in the paper).

    Returns:
      The float32 penalty, summed over the weights (0 for an empty list).

    Raises:
      UsageError: for a weight of rank < 2, or a negative beta.

    Example:
    >>> float(orthogonal_penalty([tf.constant([[1.0, 1.0], [0.0, 1.0]])], beta=1.0))  # 2·(1·1)²
    2.0
    """
    if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not beta >= 0:
        raise UsageError(f"beta must be a number >= 0. Received: beta={beta!r}")
    total = tf.constant(0.0)
    for weight in weights:
        weight = tf.cast(tf.convert_to_tensor(weight), tf.float32)
        if weight.shape.rank is None or weight.shape.rank < 2:
            raise UsageError(f"orthogonal_penalty takes kernels of rank >= 2. Received: a weight of shape "
                             f"{tuple(weight.shape)}")
        matrix = tf.reshape(weight, [-1, weight.shape[-1]])
        gram = tf.matmul(matrix, matrix, transpose_a=True)
        off_diagonal = gram * (1.0 - tf.eye(tf.shape(gram)[0]))
        total += tf.reduce_sum(tf.square(off_diagonal))
    return float(beta) * total


# --- registry ----------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class GANLoss:
    """A (discriminator, generator) loss pair; both return per-example losses.

    `discriminator(real_logits, fake_logits)` and `generator(fake_logits)`.

    A GAN compiled with a custom pair saves it by the Keras registered names of its
    two functions, so they must be module-level functions decorated with
    `@keras.saving.register_keras_serializable()` (imported again before `load_model`);
    saving a pair of unregistered functions (e.g. lambdas) raises a `UsageError`.

    Example:
    >>> @keras.saving.register_keras_serializable(package="my_losses")
    ... def softplus_g(fake_logits):
    ...     return losses.per_example_mean(tf.nn.softplus(-fake_logits))
    >>> pair = GANLoss("my_loss", losses.minimax_discriminator_loss, softplus_g)
    """

    name: str
    discriminator: Callable[..., tf.Tensor]
    generator: Callable[..., tf.Tensor]


LOSSES: Dict[str, GANLoss] = {
    pair.name: pair for pair in (
        GANLoss("minimax", minimax_discriminator_loss, minimax_generator_loss),
        GANLoss("non_saturating", minimax_discriminator_loss, non_saturating_generator_loss),
        GANLoss("least_squares", least_squares_discriminator_loss, least_squares_generator_loss),
        GANLoss("wasserstein", wasserstein_discriminator_loss, wasserstein_generator_loss),
        GANLoss("hinge", hinge_discriminator_loss, wasserstein_generator_loss),
    )
}


def get(identifier: Union[str, GANLoss]) -> GANLoss:
    """Returns the `GANLoss` named `identifier` (or `identifier` itself if it already is one)."""
    if isinstance(identifier, GANLoss):
        return identifier
    if identifier not in LOSSES:
        raise UsageError(f"Unknown GAN loss {identifier!r}. Valid losses: {', '.join(sorted(LOSSES))}.")
    return LOSSES[identifier]


def _registered_name(function: Callable, pair: GANLoss, role: str) -> str:
    name = keras.saving.get_registered_name(function)
    if keras.saving.get_registered_object(name) is not function:
        raise UsageError(
            f"Cannot save a GAN compiled with the custom loss {pair.name!r}: its {role} function "
            f"{getattr(function, '__qualname__', function)!r} is not registered with Keras, so loading could not "
            "find it again. Define it at module level, decorate it with "
            "@keras.saving.register_keras_serializable(), and import it before keras.saving.load_model.")
    return name


def serialize(pair: GANLoss) -> Union[str, Dict[str, str]]:
    """The saved form of a loss pair: its name if built in, else the registered names of its functions.

    Raises:
      UsageError: a function of a custom pair is not registered with `keras.saving`.
    """
    if LOSSES.get(pair.name) is pair:
        return pair.name
    return {"name": pair.name, "discriminator": _registered_name(pair.discriminator, pair, "discriminator"),
            "generator": _registered_name(pair.generator, pair, "generator")}


def deserialize(config: Union[str, Dict[str, str]]) -> GANLoss:
    """Inverse of `serialize`; the registering module of a custom pair must have been imported."""
    if isinstance(config, str):
        return get(config)
    functions = {}
    for role in ("discriminator", "generator"):
        functions[role] = keras.saving.get_registered_object(config[role])
        if functions[role] is None:
            raise UsageError(f"The saved GAN uses the custom loss {config['name']!r}, whose {role} function "
                             f"{config[role]!r} is not registered in this process; import the module that "
                             "registers it (@keras.saving.register_keras_serializable) before loading.")
    return GANLoss(config["name"], functions["discriminator"], functions["generator"])
