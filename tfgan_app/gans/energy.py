"""Energy-based GANs with an auto-encoder discriminator: EBGAN (Zhao et al. 2017) and BEGAN (Berthelot et al. 2017).

D is an auto-encoder (`tfgan_app.architectures.autoencoder_discriminator`) and the energy
of a sample v is its reconstruction error (`tfgan_app.losses.reconstruction_energy`):
low on data, pushed up on fakes. `AutoEncoderGAN` holds what both share: `discriminate`
returns, per example, `[energy, code...]` (`adversarial_logits` picks the energy, so the
d_real / d_fake metrics are the mean energies of real and fake batches). The compiled
loss pair is not used: each variant's objective replaces it.

* `EBGAN`, with the squared energy D(v) = mean (v − AE(v))²:
      L_D = D(x) + max(0, m − D(G(z)))        (margin m)
      L_G = D(G(z)) + λ_PT·f_PT(S)             (pulling-away term on the codes S of the fakes)
* `BEGAN`, with the L1 energy L(v) = mean |v − AE(v)|:
      L_D = L(x) − k_t·L(G(z_D)),   L_G = L(G(z_G)),
      k_{t+1} = clip(k_t + λ_k(γ·L(x) − L(G(z_G))), 0, 1)   (k_0 = 0; `began_k_update`)
  and logs k_t and the convergence measure M = L(x) + |γ·L(x) − L(G(z_G))| (`convergence_measure`)
  as the metrics `k` and `convergence` (so TensorBoard plots them).

Example:
>>> gan = BEGAN(dcgan_generator(64, (28, 28, 1)), autoencoder_discriminator((28, 28, 1)), gamma=0.5)
>>> gan.compile(d_optimizer=keras.optimizers.Adam(1e-4), g_optimizer=keras.optimizers.Adam(1e-4))
"""

import threading
from typing import Any, Dict

import keras
import tensorflow as tf

from tfgan_app import losses as gan_losses
from tfgan_app.errors import UsageError
from tfgan_app.gans.base import GAN


def began_k_update(k, real_energy, fake_energy, gamma: float, lambda_k: float) -> tf.Tensor:
    """BEGAN's equilibrium control: k_{t+1} = clip(k_t + λ_k(γ·L(x) − L(G(z_G))), 0, 1).

    Args:
      k: k_t.
      real_energy, fake_energy: the batch means L(x) and L(G(z_G)).
      gamma: γ, the diversity ratio E L(G(z)) / E L(x) the control aims at.
      lambda_k: λ_k, the proportional gain (0.001 in the paper).

    Returns:
      k_{t+1}, a float32 scalar in [0, 1].
    """
    balance = gamma * tf.cast(real_energy, tf.float32) - tf.cast(fake_energy, tf.float32)
    return tf.clip_by_value(tf.cast(k, tf.float32) + lambda_k * balance, 0.0, 1.0)


def convergence_measure(real_energy, fake_energy, gamma: float) -> tf.Tensor:
    """BEGAN's global convergence measure M = L(x) + |γ·L(x) − L(G(z_G))| (lower is better)."""
    real_energy = tf.cast(real_energy, tf.float32)
    return real_energy + tf.abs(gamma * real_energy - tf.cast(fake_energy, tf.float32))


def _check_number(name: str, value, low: float, high: float = float("inf")) -> float:
    """Returns `value` as a float; raises UsageError unless it is a number in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise UsageError(f"{name} must be a number in [{low}, {high}]. Received: {name}={value!r}")
    return float(value)


class AutoEncoderGAN(GAN):
    """A latent GAN whose discriminator is an auto-encoder `images → [reconstructions, codes]`.

    `discriminate` returns `[B, 1 + code_dim]`: the energy (`reconstruction_energy` with
    `energy_power`) of what D was shown (after instance noise / DiffAugment), then the code.
    Subclasses define the objective through `discriminator_loss` / `adversarial_generator_loss`.
    """

    energy_power = 1
    unsupported_techniques = {
        "feature_matching": "its discriminator outputs a reconstruction and a code, not features before a logit",
        "label_smoothing": "it has no BCE loss to smooth (the energy objective replaces the compiled loss)",
    }

    def discriminate(self, samples: tf.Tensor, condition, training: bool = True) -> tf.Tensor:
        shown = self.perturb(samples, training)
        reconstructions, codes = self.discriminator(self.discriminator_inputs(shown, condition), training=training)
        energy = gan_losses.reconstruction_energy(shown, reconstructions, self.energy_power)
        codes = tf.reshape(tf.cast(codes, tf.float32), [tf.shape(codes)[0], -1])
        return tf.concat([energy[:, None], codes], axis=1)

    def adversarial_logits(self, outputs: tf.Tensor) -> tf.Tensor:
        """The energy column of `discriminate`'s outputs, `[B]`."""
        return outputs[:, 0]

    @staticmethod
    def codes(outputs: tf.Tensor) -> tf.Tensor:
        """The code columns of `discriminate`'s outputs, `[B, code_dim]`."""
        return outputs[:, 1:]


@keras.saving.register_keras_serializable(package="tfgan_app")
class EBGAN(AutoEncoderGAN):
    """EBGAN: margin loss on the squared reconstruction energy, plus the pulling-away term for G.

    Args:
      margin: m; D only pushes a fake's energy up while it is below m.
      pt_weight: λ_PT of the pulling-away term (0.1 in the paper; 0 disables it).
      (other arguments as `GAN`; the compiled loss pair is not used)

    Raises:
      UsageError: for a `margin` that is not a positive number, a negative `pt_weight`, or a bad option of
        `GAN`.

    Example:
    >>> gan = EBGAN(dcgan_generator(64, (28, 28, 1), base_filters=16),
    ...             autoencoder_discriminator((28, 28, 1), base_filters=16, activation="leaky_relu"), margin=10.0)
    >>> gan.compile(d_optimizer="adam", g_optimizer="adam")   # the compiled loss pair is not used
    >>> history = gan.fit(load_dataset("mnist", batch_size=64).dataset.take(10), epochs=1, verbose=0)
    >>> gan.generate(8).shape
    (8, 28, 28, 1)
    """

    energy_power = 2
    extra_metric_names = ("pulling_away",)

    def __init__(self, generator: keras.Model, discriminator: keras.Model, margin: float = 1.0,
                 pt_weight: float = 0.1, **kwargs):
        super().__init__(generator, discriminator, **kwargs)
        self.margin = _check_number("margin", margin, 0.0)
        self.pt_weight = _check_number("pt_weight", pt_weight, 0.0)
        if not self.margin > 0:
            raise UsageError(f"margin must be positive. Received: margin={margin!r}")

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "margin": self.margin, "pt_weight": self.pt_weight}

    def discriminator_loss(self, real_logits, fake_logits, real, fake, condition) -> tf.Tensor:
        """D(x) + max(0, m − D(G(z))) per example."""
        return self.adversarial_logits(real_logits) + tf.nn.relu(self.margin - self.adversarial_logits(fake_logits))

    def adversarial_generator_loss(self, fake_logits, fake, real, condition) -> tf.Tensor:
        """D(G(z)) + λ_PT·f_PT(codes of the batch) per example; updates the `pulling_away` metric."""
        pulling_away = gan_losses.pulling_away_term(self.codes(fake_logits))
        self.extra_trackers["pulling_away"].update_state(pulling_away)
        return self.adversarial_logits(fake_logits) + self.pt_weight * pulling_away


@keras.saving.register_keras_serializable(package="tfgan_app")
class BEGAN(AutoEncoderGAN):
    """BEGAN: L1 auto-encoder energies balanced by the proportional control k_t (see the module docstring).

    Args:
      gamma: γ, the diversity ratio in (0, 1] (0.5 common; lower: sharper, less diverse).
      lambda_k: λ_k, the gain of the k_t update (0.001 in the paper).
      initial_k: k_0 (0 in the paper).
      (other arguments as `GAN`; the compiled loss pair is not used)

    k_t is a non-trainable weight of the model (`k`), so it is saved and resumed with it; the
    update uses the global-batch means of L(x) (last D step) and L(G(z_G)) (the G step).

    Raises:
      UsageError: for a `gamma` outside (0, 1], a negative `lambda_k`, an `initial_k` outside [0, 1], or a bad
        option of `GAN` (the checks run after `GAN.__init__`).

    Example:
    >>> gan = BEGAN(dcgan_generator(64, (28, 28, 1), base_filters=16),
    ...             autoencoder_discriminator((28, 28, 1), base_filters=16), gamma=0.5)
    >>> gan.compile(d_optimizer=keras.optimizers.Adam(1e-4), g_optimizer=keras.optimizers.Adam(1e-4))
    >>> history = gan.fit(load_dataset("mnist", batch_size=64).dataset.take(10), epochs=1, verbose=0)
    >>> 0.0 <= float(gan.k) <= 1.0   # k_t, saved with the model
    True
    """

    energy_power = 1
    extra_metric_names = ("k", "convergence")

    def __init__(self, generator: keras.Model, discriminator: keras.Model, gamma: float = 0.5,
                 lambda_k: float = 0.001, initial_k: float = 0.0, **kwargs):
        super().__init__(generator, discriminator, **kwargs)
        self.gamma = _check_number("gamma", gamma, 0.0, 1.0)
        self.lambda_k = _check_number("lambda_k", lambda_k, 0.0)
        self.initial_k = _check_number("initial_k", initial_k, 0.0, 1.0)
        self.k = self.add_weight(shape=(), initializer=keras.initializers.Constant(self.initial_k),
                                 trainable=False, aggregation="mean", name="k")
        object.__setattr__(self, "_energies", threading.local())  # this step's L(x), L(G(z_G)), per replica

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "gamma": self.gamma, "lambda_k": self.lambda_k, "initial_k": self.initial_k}

    def discriminator_loss(self, real_logits, fake_logits, real, fake, condition) -> tf.Tensor:
        """L(x) − k_t·L(G(z_D)) per example (records the batch mean of L(x) for the k_t update)."""
        real_energy = self.adversarial_logits(real_logits)
        self._energies.real = tf.reduce_mean(tf.stop_gradient(real_energy))
        return real_energy - tf.stop_gradient(tf.convert_to_tensor(self.k)) * self.adversarial_logits(fake_logits)

    def adversarial_generator_loss(self, fake_logits, fake, real, condition) -> tf.Tensor:
        """L(G(z_G)) per example (records its batch mean for the k_t update)."""
        fake_energy = self.adversarial_logits(fake_logits)
        self._energies.fake = tf.reduce_mean(tf.stop_gradient(fake_energy))
        return fake_energy

    def train_step(self, data):
        super().train_step(data)
        self.update_equilibrium(self._energies.real, self._energies.fake)
        return self.metric_results()

    def update_equilibrium(self, real_energy, fake_energy) -> None:
        """k_t ← `began_k_update` of the global means; updates the `k` and `convergence` metrics."""
        context = tf.distribute.get_replica_context()
        if context is not None and context.num_replicas_in_sync > 1:
            real_energy, fake_energy = context.all_reduce("MEAN", [real_energy, fake_energy])
        self.extra_trackers["convergence"].update_state(convergence_measure(real_energy, fake_energy, self.gamma))
        self.k.assign(began_k_update(self.k, real_energy, fake_energy, self.gamma, self.lambda_k))
        self.extra_trackers["k"].update_state(tf.convert_to_tensor(self.k))
