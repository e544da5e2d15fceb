"""InfoGAN (Chen et al. 2016, "InfoGAN: Interpretable representation learning by information maximizing
generative adversarial nets").

The generator's input holds latent codes c besides the noise: a categorical code
(K categories) and continuous codes U(−1, 1). A Q head sharing the
discriminator's body predicts c from G(z, c); both networks minimise
−λ·L_I, the variational lower bound of the mutual information I(c; G(z, c)):

    D/Q loss = adversarial D loss + λ·L_Q
    G loss   = adversarial G loss + λ·L_Q
    L_Q      = CE(Q_cat(G(z, c)), c_cat) + ½‖Q_cont(G(z, c)) − c_cont‖²

(the continuous codes use a unit-variance Gaussian Q, the official code's
`fix_std=True`; ½‖·‖² is its negative log-likelihood up to a constant).

Layout: the generator starts with a `LatentCodes` layer (`infogan_generator`),
so its input is a plain standard-normal z whose last K + C entries encode the
codes; exported generators and `GAN.generate(seed=...)` sample codes correctly
with no special case. The discriminator outputs `[B, 1 + K + C]`: adversarial
logit, K categorical logits, C continuous means
(`extended_discriminator(extra_outputs=K + C)`).

During training the codes of a step are drawn once per batch and handed to the
hooks as the `condition`. `generate(n, seed, labels=[...])` fixes the
categorical code (e.g. one digit per row once it has learned digit identity).

Example:
>>> g = infogan_generator(74, (28, 28, 1), num_categories=10, num_continuous=2)
>>> d = extended_discriminator((28, 28, 1), extra_outputs=12)
>>> gan = InfoGAN(g, d)
>>> gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
...             g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5))
"""

from typing import Any, Dict, Optional, Sequence

import keras
import numpy as np
import tensorflow as tf

from tfgan_app.errors import UsageError
from tfgan_app.gans.acgan import check_output_width, class_cross_entropy, split_heads
from tfgan_app.gans.base import GAN
from tfgan_app.gans.sampling import INFOGAN_CODES, stream_seed
from tfgan_app.architectures.variants import Q_NETWORK_LAYERS
from tfgan_app.layers import LatentCodes

# A categorical entry this large always wins the argmax against standard-normal entries in practice.
_FORCED_CATEGORY_VALUE = 8.0


def _latent_codes_layer(generator: keras.Model) -> LatentCodes:
    found = [layer for layer in generator.layers if isinstance(layer, LatentCodes)]
    if len(found) != 1:
        raise UsageError("InfoGAN needs a generator that starts with one LatentCodes layer; build it with the "
                         f"\"infogan\" generator architecture (found {len(found)} LatentCodes layers).")
    return found[0]


@keras.saving.register_keras_serializable(package="tfgan_app")
class InfoGAN(GAN):
    """InfoGAN; the code sizes are read from the generator's `LatentCodes` layer.

    Args:
      info_weight: λ (1 in the paper for MNIST).
      q_optimizer: which optimizer trains the Q network's own layers. "discriminator" (the paper's
        official code): D/Q minimise adversarial + λ·L_Q with `d_optimizer`. "generator" (as in
        InfoGAN-PyTorch): the Q layers (`Q_NETWORK_LAYERS`, built by `extra_hidden_units > 0`) move to
        `g_optimizer` and learn from the generator step's λ·L_Q only; the discriminator step is purely
        adversarial, so the shared body serves the real/fake game alone.
      (other arguments as `GAN`)

    Raises:
      UsageError: for a generator without a `LatentCodes` layer, a discriminator whose output is not
        `[B, 1 + num_codes]`, a `q_optimizer` other than "discriminator" or "generator", "generator" without
        the Q network's own layers (`extra_hidden_units > 0`), or a bad option of `GAN`.

    Example:
    >>> g = infogan_generator(74, (28, 28, 1), num_categories=10, num_continuous=2, base_filters=16)
    >>> d = extended_discriminator((28, 28, 1), extra_outputs=12, extra_hidden_units=32, base_filters=16)
    >>> gan = InfoGAN(g, d, q_optimizer="generator")
    >>> gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
    ...             g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5))
    >>> history = gan.fit(load_dataset("mnist", batch_size=64).dataset.take(10), epochs=1, verbose=0)
    >>> gan.generate(4).shape
    (4, 28, 28, 1)
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, info_weight: float = 1.0,
                 q_optimizer: str = "discriminator", **kwargs):
        super().__init__(generator, discriminator, **kwargs)
        self.codes = _latent_codes_layer(generator)
        check_output_width(discriminator, 1 + self.codes.num_codes,
                           f'discriminator "extended" with extra_outputs={self.codes.num_codes}')
        self.info_weight = float(info_weight)
        if q_optimizer not in ("discriminator", "generator"):
            raise UsageError(f"q_optimizer must be 'discriminator' or 'generator', received {q_optimizer!r}.")
        self.q_optimizer = q_optimizer
        names = {layer.name for layer in discriminator.layers}
        if q_optimizer == "generator" and not set(Q_NETWORK_LAYERS) <= names:
            raise UsageError("q_optimizer='generator' needs a Q network with its own layers: build the "
                             "discriminator with extra_hidden_units > 0.")
        self._q_variable_ids = {id(v) for name in Q_NETWORK_LAYERS if name in names
                                for v in discriminator.get_layer(name).trainable_variables}

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "info_weight": self.info_weight, "q_optimizer": self.q_optimizer}

    @property
    def q_variables(self) -> list:
        """Trainable variables of the Q network's own layers (empty when Q is a linear head on D's features)."""
        return [v for v in self.discriminator.trainable_variables if id(v) in self._q_variable_ids]

    @property
    def generator_variables(self):
        extra = self.q_variables if self.q_optimizer == "generator" else []
        return self.generator.trainable_variables + extra

    @property
    def discriminator_variables(self):
        if self.q_optimizer == "discriminator":
            return self.discriminator.trainable_variables
        return [v for v in self.discriminator.trainable_variables if id(v) not in self._q_variable_ids]

    @property
    def num_categories(self) -> int:
        return self.codes.num_categories

    def unpack_batch(self, data):
        """Real images, and this step's codes in normal form `[B, K + C]` as the condition."""
        real, _ = super().unpack_batch(data)
        seed = stream_seed(self.seed, INFOGAN_CODES, self.g_optimizer.iterations)
        return real, tf.random.stateless_normal(tf.stack([tf.shape(real)[0], self.codes.num_codes]), seed=seed)

    def generator_inputs(self, z, condition):
        """Writes the codes into z: a `[B, K + C]` float condition replaces all code entries, an int `[B]`
        condition (from `generate(labels=...)`) only the categorical ones."""
        if condition is None:
            return z
        noise_dim = self.latent_dim - self.codes.num_codes
        if condition.dtype.is_integer:
            forced = _FORCED_CATEGORY_VALUE * tf.one_hot(condition, self.num_categories, dtype=z.dtype)
            return tf.concat([z[:, :noise_dim], forced, z[:, noise_dim + self.num_categories:]], axis=1)
        return tf.concat([z[:, :noise_dim], tf.cast(condition, z.dtype)], axis=1)

    def condition_for_generation(self, num: int, labels: Optional[Sequence[int]]):
        """None (codes from the seed), or `labels` (cycled to `num`) as categorical codes."""
        if labels is None:
            return None
        labels = np.resize(np.asarray(labels), num)
        if labels.min() < 0 or labels.max() >= self.num_categories:
            raise UsageError(f"InfoGAN categorical codes must be in [0, {self.num_categories}), "
                             f"received {sorted(set(labels.tolist()))}.")
        return tf.constant(labels, tf.int32)

    def info_loss(self, outputs, codes) -> tf.Tensor:
        """Per-example L_Q of discriminator outputs on generated samples against their codes (normal form)."""
        _, heads = split_heads(outputs)
        categories, continuous = self.codes.codes_from_latents(codes)
        predicted_continuous = heads[:, self.num_categories:]
        gaussian_nll = 0.5 * tf.reduce_sum(tf.square(continuous - predicted_continuous), axis=1)
        return class_cross_entropy(categories, heads[:, :self.num_categories]) + gaussian_nll

    def adversarial_logits(self, outputs) -> tf.Tensor:
        """The real/fake logits `[B, 1]` (column 0) of the discriminator outputs."""
        return split_heads(outputs)[0]

    def discriminator_loss(self, real_logits, fake_logits, real, fake, condition) -> tf.Tensor:
        adversarial = self.loss_pair.discriminator(self.adversarial_logits(real_logits),
                                                   self.adversarial_logits(fake_logits))
        if self.q_optimizer == "generator":
            return adversarial
        return adversarial + self.info_weight * self.info_loss(fake_logits, condition)

    def generator_loss(self, fake_logits, fake, real, condition) -> tf.Tensor:
        adversarial = self.adversarial_generator_loss(fake_logits, fake, real, condition)
        return adversarial + self.info_weight * self.info_loss(fake_logits, condition)

    def predict_codes(self, samples) -> np.ndarray:
        """The Q head's categorical code (argmax) for samples `[N, ...]`, as int numpy `[N]`."""
        _, heads = split_heads(self.discriminator(samples, training=False))
        return np.asarray(tf.argmax(heads[:, :self.num_categories], axis=1))
