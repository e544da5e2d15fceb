"""The adversarial loop, written once: `AdversarialModel`, the common core of every GAN family.

`AdversarialModel` is a `keras.Model` holding a generator and a discriminator. Its
`train_step` runs `d_steps` discriminator updates and then one generator update
(Goodfellow et al. 2014, Algorithm 1), so `fit`, callbacks, `tf.distribute`
strategies and `keras.saving` work as for any Keras model. It owns what every
family shares: `compile` (two optimizers, the `GANLoss` pair), the metrics, the
D/G steps, global-batch loss reduction, EMA of the generator, PacGAN packing,
DiffAugment and the Improved-GAN techniques.

What the generator is fed is the family's business (as TF-GAN separates `GANModel`
from `CycleGANModel`), through one hook, `training_fakes`:

* `tfgan_app.gans.base.GAN`: latent GANs (latent_dim, `sample_latents`, `generate`, truncation);
* `tfgan_app.gans.image_to_image.ImageToImageGAN`: image-to-image GANs (`translate`; pix2pix,
  SRGAN, and CycleGAN, which has its own `train_step`).

Variants override only what differs, through these hooks:

| hook | default |
|---|---|
| `unpack_batch(data)` | images = first element of the batch, condition = None |
| `training_fakes(real, condition, stream, counter)` | the family's: G(latents) or G(input images) |
| `discriminator_inputs(samples, condition)` | `samples` (what D is called with; its input order) |
| `discriminate(images, condition, training)` | `discriminator(discriminator_inputs(perturb(images), condition))` |
| `perturb(samples, training)` | in training, instance noise then DiffAugment when set (what D is shown; auto-encoder Ds reconstruct it) |
| `discriminator_loss(real_logits, fake_logits, real, fake, condition)` | the compiled loss pair's D loss (per example) |
| `discriminator_penalty(real, fake, condition)` | 0 (e.g. gradient penalty, scalar) |
| `adversarial_generator_loss(fake_logits, fake, real, condition)` | the compiled loss pair's G loss (per example) |
| `generator_loss(fake_logits, fake, real, condition)` | `adversarial_generator_loss` (variants add their terms) |
| `after_discriminator_step()` | nothing (e.g. weight clipping) |
| `adversarial_logits(outputs)` | `outputs` (D's real/fake logit, for the d_real/d_fake metrics) |
| `generator_variables` / `discriminator_variables` | each network's trainable variables |
| `extra_metric_names` (class attribute) | `()`; each name gets a Mean in `extra_trackers[name]` |

Quality options every variant takes (a variant that cannot honour one lists it in
`unsupported_techniques`, and asking for it is a `UsageError`):

| option | effect |
|---|---|
| `ema_decay=β`, `ema_start=s` | `ema_generator`, an exponential moving average of G (`tfgan_app.gans.ema`), used by `generate` / `translate` and everything that samples (`sampling_generator`) |
| `pack=m` | PacGAN (Lin et al. 2018): D sees m samples per row, concatenated on the last axis (`tfgan_app.gans.packing`); D must be built for that width |
| `diff_augment="color,translation,cutout"` | DiffAugment (Zhao et al. 2020) of real and fake images before every training D call (`tfgan_app.gans.augment`) |
| `r1_gamma=γ` | R1 penalty (Mescheder et al. 2018): (γ/2)·E‖∇ₓ D(x)‖² on real samples added to the D loss (`tfgan_app.losses.r1_penalty`), through `discriminate`, so packing, conditions, DiffAugment and instance noise apply as in the D loss |
| `feature_matching`, `feature_layer`, `label_smoothing`, `historical_averaging`, `instance_noise`, `instance_noise_decay_steps` | the Improved-GAN techniques (`tfgan_app.gans.improved`, which has the maths and the table of where each applies) |

A variant that overrides `adversarial_generator_loss` defers to the base's when
`feature_matching` is set (feature matching replaces the adversarial term), as
`RelativisticGAN` does.

Losses are reduced over the **global** batch: per-example losses go through
`tf.nn.compute_average_loss`, scalar penalties are divided by the number of
replicas, because Keras optimizers sum gradients across replicas.
"""

import threading
from typing import Any, Dict, Optional, Tuple, Union

import keras
import numpy as np
import tensorflow as tf

from tfgan_app import losses as gan_losses
from tfgan_app.distribute import num_workers
from tfgan_app.distribute import replica_context_info as _replica_context_info
from tfgan_app.errors import UsageError
from tfgan_app.gans import augment as diff_augmentation
from tfgan_app.gans import ema as ema_lib
from tfgan_app.gans import improved
from tfgan_app.gans import packing
from tfgan_app.gans import sampling
from tfgan_app.gans.sampling import stream_seed


class AdversarialModel(keras.Model):
    """A generator and a discriminator trained against each other with `fit` (the loop of the module docstring).

    Args:
      generator: `keras.Model` producing samples (from latents or input images: the family's business).
      discriminator: `keras.Model` mapping samples to logits `[B, 1]` (or `[B, ...]`).
      d_steps: discriminator updates per generator update (k in Algorithm 1). Each
        uses the same real batch with fresh fakes, as in keras.io's WGAN-GP.
      seed: base seed of the training randomness (latents, noise, augmentation, pools): a
        stateless function of (seed, optimizer step, stream, replica; `tfgan_app.gans.sampling`),
        so training is reproducible, resumes exactly after a restore, and differs per replica.
      ema_decay: β of an exponential moving average of the generator (`ema_generator`), or None.
      ema_start: generator steps during which the average just copies G (warm-up).
      pack: PacGAN packing degree m (1: off); the discriminator takes m samples per row.
      diff_augment: DiffAugment policy ("color,translation,cutout" or a subset), or None.
      feature_matching: replace G's adversarial term by feature matching on D's features.
      feature_layer: name of D's layer whose output are the features (default: the input of `"logits"`).
      label_smoothing: one-sided label smoothing, the real target of the BCE D loss (0.9 in the paper), or None.
      historical_averaging: weight w of the historical-averaging penalty of both players (0: off).
      instance_noise: σ of Gaussian noise added to D's inputs while training (0: off).
      instance_noise_decay_steps: generator steps over which σ decays linearly to 0 (0: constant).
      r1_gamma: γ of the R1 penalty (γ/2)·E‖∇D(x)‖² on real samples (0: off).

    Raises:
      UsageError: for `d_steps` < 1, a bad `ema_decay` / `ema_start`, `pack` or `r1_gamma` (< 0), an unknown
        `diff_augment` policy, an option the variant lists in `unsupported_techniques`, bad Improved-GAN
        options (e.g. `feature_layer` without `feature_matching`, `label_smoothing` outside (0, 1]), `pack` > 1
        on a variant whose discriminator sees more than the samples, or `diff_augment` on non-image samples.

    Example (a variant overrides hooks; `GAN` is the unconditional one):
    >>> gan = GAN(dcgan_generator(64, (28, 28, 1), base_filters=16),
    ...           dcgan_discriminator((28, 28, 1), base_filters=16), d_steps=2, ema_decay=0.999)
    >>> isinstance(gan, AdversarialModel), gan.d_steps
    (True, 2)
    """

    # Attributes holding the model's networks, serialised in the config (CycleGAN adds its second pair).
    networks: Tuple[str, ...] = ("generator", "discriminator")

    # Names of extra per-step metrics a variant reports (e.g. pix2pix's "l1"); `compile` creates a
    # `keras.metrics.Mean` for each in `self.extra_trackers[name]`.
    extra_metric_names: Tuple[str, ...] = ()

    # Quality options (`ema_decay`, `pack`, `diff_augment` and the `tfgan_app.gans.improved` techniques) this
    # variant cannot honour, with the reason; asking for one is a UsageError.
    unsupported_techniques: Dict[str, str] = {}

    def __init__(self, generator: keras.Model, discriminator: keras.Model,
                 d_steps: int = 1, seed: int = 0,
                 ema_decay: Optional[float] = None, ema_start: int = 0, pack: int = 1,
                 diff_augment: Optional[str] = None, r1_gamma: float = 0.0, feature_matching: bool = False,
                 feature_layer: Optional[str] = None, label_smoothing: Optional[float] = None,
                 historical_averaging: float = 0.0, instance_noise: float = 0.0,
                 instance_noise_decay_steps: int = 0, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(d_steps, (int, np.integer)) or d_steps < 1:
            raise UsageError(f"d_steps must be a positive integer, received {d_steps!r}.")
        self.generator = generator
        self.discriminator = discriminator
        self.d_steps = int(d_steps)
        self.seed = int(seed)
        self.loss_pair = None
        ema_lib.check_ema_options(ema_decay, ema_start)
        packing.check_pack(pack)
        self.diff_augment = diff_augmentation.parse_policy(diff_augment)
        if isinstance(r1_gamma, bool) or not isinstance(r1_gamma, (int, float)) or not r1_gamma >= 0:
            raise UsageError(f"r1_gamma must be a number >= 0 (0 disables the R1 penalty), received {r1_gamma!r}.")
        requested = {"ema_decay": ema_decay is not None, "pack": pack > 1, "diff_augment": bool(self.diff_augment),
                     "r1_gamma": bool(r1_gamma),
                     "feature_matching": bool(feature_matching), "label_smoothing": label_smoothing is not None,
                     "historical_averaging": bool(historical_averaging), "instance_noise": bool(instance_noise)}
        for option, reason in self.unsupported_techniques.items():
            if requested.get(option):
                raise UsageError(f"{type(self).__name__} cannot apply {option}: {reason}. Remove {option}.")
        improved.check_options(feature_matching, feature_layer, label_smoothing, historical_averaging,
                               instance_noise, instance_noise_decay_steps)
        if pack > 1 and (type(self).discriminator_inputs is not AdversarialModel.discriminator_inputs
                         or type(self).adversarial_logits is not AdversarialModel.adversarial_logits):
            raise UsageError(f"{type(self).__name__} cannot apply pack={pack}: its discriminator sees labels or "
                             "inputs besides the samples, or has per-sample heads, which packed rows would mix. "
                             "Use pack with an unconditional variant (gan, wgan, wgan_gp, relativistic, unrolled, "
                             "...).")
        if self.diff_augment and len(generator.outputs[0].shape) != 4:
            raise UsageError(f"diff_augment augments images [B, H, W, C]; this generator outputs shape "
                             f"{tuple(generator.outputs[0].shape)}. Remove diff_augment.")
        self.ema_decay = None if ema_decay is None else float(ema_decay)
        self.ema_start = int(ema_start)
        self.pack = int(pack)
        self.r1_gamma = float(r1_gamma)
        # Counts this step's augmented discriminator calls, per replica thread: each gets its own seed.
        object.__setattr__(self, "_augment_calls", threading.local())
        if self.ema_decay is not None:
            self.ema_generator = ema_lib.averaged_copy(generator)
        self.built = True  # generator and discriminator are built Keras models
        self.feature_matching = bool(feature_matching)
        self.feature_layer = feature_layer
        self.label_smoothing = label_smoothing
        self.historical_averaging = float(historical_averaging)
        self.instance_noise = float(instance_noise)
        self.instance_noise_decay_steps = int(instance_noise_decay_steps)
        if self.feature_matching:
            self._feature_model = improved.feature_model(discriminator, feature_layer)
        if self.historical_averaging:
            self._d_history = improved.history_variables(self, discriminator, "d")
            self._g_history = improved.history_variables(self, generator, "g")
        # Counts this step's noisy discriminator calls, per replica thread: each call draws from its own stream.
        object.__setattr__(self, "_noise_calls", threading.local())

    # --- configuration and saving ---------------------------------------------------------------

    def get_config(self) -> Dict[str, Any]:
        return {
            **super().get_config(),
            **{key: keras.saving.serialize_keras_object(getattr(self, key)) for key in self.networks},
            "d_steps": self.d_steps,
            "seed": self.seed,
            "ema_decay": self.ema_decay,
            "ema_start": self.ema_start,
            "pack": self.pack,
            "diff_augment": ",".join(self.diff_augment) or None,
            "r1_gamma": self.r1_gamma,
            "feature_matching": self.feature_matching,
            "feature_layer": self.feature_layer,
            "label_smoothing": self.label_smoothing,
            "historical_averaging": self.historical_averaging,
            "instance_noise": self.instance_noise,
            "instance_noise_decay_steps": self.instance_noise_decay_steps,
        }

    @classmethod
    def from_config(cls, config: Dict[str, Any], custom_objects=None):
        config = dict(config)
        for key in cls.networks:
            config[key] = keras.saving.deserialize_keras_object(config[key], custom_objects=custom_objects)
        return cls(**config)

    def compile(self, d_optimizer: Union[str, keras.optimizers.Optimizer] = "adam",
                g_optimizer: Union[str, keras.optimizers.Optimizer] = "adam",
                loss: Union[str, gan_losses.GANLoss] = "non_saturating", **kwargs) -> None:
        """Configures training.

        Args:
          d_optimizer, g_optimizer: optimizers (instances, names or configs) of D and G.
          loss: a name from `tfgan_app.losses.LOSSES` or a `GANLoss` pair.
          **kwargs: passed to `keras.Model.compile` (e.g. `steps_per_execution`, `jit_compile`).
        """
        if "optimizer" in kwargs:
            raise UsageError("GAN.compile takes d_optimizer= and g_optimizer= (one per network), not optimizer=.")
        super().compile(optimizer=None, **kwargs)
        self.d_optimizer = self._maybe_loss_scale(keras.optimizers.get(d_optimizer), "d")
        self.g_optimizer = self._maybe_loss_scale(keras.optimizers.get(g_optimizer), "g")
        pair = gan_losses.get(loss)
        self.loss_pair = (pair if self.label_smoothing is None
                          else improved.smoothed_loss_pair(pair, self.label_smoothing))
        self._gan_compile_config = {
            "d_optimizer": keras.saving.serialize_keras_object(self.d_optimizer),
            "g_optimizer": keras.saving.serialize_keras_object(self.g_optimizer),
            "loss": pair,  # as given, without label smoothing (an option of the model, saved in its config)
        }
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.real_logit_tracker = keras.metrics.Mean(name="d_real")
        self.fake_logit_tracker = keras.metrics.Mean(name="d_fake")
        self.extra_trackers = {name: keras.metrics.Mean(name=name) for name in self.extra_metric_names}
        # Create the optimizer state now (inside the caller's strategy scope), so that
        # keras.saving and BackupAndRestore restore it instead of silently skipping it.
        self.d_optimizer.build(self.discriminator_variables)
        self.g_optimizer.build(self.generator_variables)

    @staticmethod
    def _maybe_loss_scale(optimizer: keras.optimizers.Optimizer, prefix: str) -> keras.optimizers.Optimizer:
        """Wraps the optimizer in a LossScaleOptimizer under the `mixed_float16` policy."""
        if (keras.config.dtype_policy().name == "mixed_float16"
                and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer)):
            return keras.optimizers.LossScaleOptimizer(optimizer, name=f"{prefix}_loss_scale_optimizer")
        return optimizer

    def get_compile_config(self) -> Optional[Dict[str, Any]]:
        """The compile arguments to save; raises UsageError for a custom loss that cannot be saved."""
        config = getattr(self, "_gan_compile_config", None)
        if config is None:
            return None
        return {**config, "loss": gan_losses.serialize(config["loss"])}

    def save(self, filepath, *args, **kwargs):
        """`keras.Model.save`, after checking the compile config can be saved (else nothing is written)."""
        self.get_compile_config()  # raises UsageError for a custom loss of unregistered functions
        return super().save(filepath, *args, **kwargs)

    def compile_from_config(self, config: Dict[str, Any]) -> None:
        """Recompiles after `keras.saving.load_model` (compile builds the optimizers, so their state loads)."""
        config = dict(config)
        for key in ("d_optimizer", "g_optimizer"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        if config.get("loss") is None:  # files saved before custom losses were saved
            config.pop("loss", None)
        else:
            config["loss"] = gan_losses.deserialize(config["loss"])
        self.compile(**config)

    @property
    def metrics(self):
        if self.loss_pair is None:
            return []
        return [self.d_loss_tracker, self.g_loss_tracker, self.real_logit_tracker, self.fake_logit_tracker,
                *self.extra_trackers.values()]

    @property
    def generator_variables(self):
        """Variables `g_optimizer` updates (override when G is several networks, e.g. CycleGAN)."""
        return self.generator.trainable_variables

    @property
    def discriminator_variables(self):
        """Variables `d_optimizer` updates."""
        return self.discriminator.trainable_variables

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Skips Keras's symbolic build in `fit`: a GAN is built when constructed.

        Keras's version reduces a data batch across replicas first, which fails under
        `MultiWorkerMirroredStrategy` for `(images, labels)` batches (keras-team/keras#20585).
        """

    # --- sampling -------------------------------------------------------------------------------

    @property
    def sampling_generator(self) -> keras.Model:
        """The generator to sample from: `ema_generator` when `ema_decay` is set, else `generator`."""
        return self.ema_generator if self.ema_decay is not None else self.generator

    def update_ema(self) -> None:
        """Blends the generator into `ema_generator` after a generator step (see `tfgan_app.gans.ema`)."""
        if self.ema_decay is not None:
            ema_lib.update_average(self.ema_generator, self.generator,
                                   ema_lib.decay_at(self.g_optimizer.iterations, self.ema_decay, self.ema_start))

    def call(self, inputs, training: bool = False):
        """Runs the generator on `inputs` (what the family's generator takes)."""
        return self.generator(inputs, training=training)

    # --- hooks ----------------------------------------------------------------------------------

    def unpack_batch(self, data):
        """Splits a dataset element into `(real, condition)`."""
        if isinstance(data, (tuple, list)):
            return data[0], None
        return data, None

    def discriminator_inputs(self, samples: tf.Tensor, condition):
        """What the discriminator model is called with for `samples` and their condition.

        The one place a variant states its discriminator's input order; `discriminate`,
        unrolled steps and feature matching all go through it. Default: `samples`
        (conditional GANs: `[samples, labels]`; pix2pix: `[input image, samples]`).
        """
        return packing.pack(samples, self.pack) if self.pack > 1 else samples

    def discriminate(self, samples: tf.Tensor, condition, training: bool = True) -> tf.Tensor:
        """D's outputs for `samples`; in training, after instance noise and DiffAugment when those are set."""
        samples = self.perturb(samples, training)
        return self.discriminator(self.discriminator_inputs(samples, condition), training=training)

    def perturb(self, samples: tf.Tensor, training: bool = True) -> tf.Tensor:
        """The samples D is shown: in training, with instance noise and DiffAugment when those are set.

        Auto-encoder discriminators (`tfgan_app.gans.energy`) compare their reconstruction with these.
        """
        if training and self.instance_noise:
            samples = self.add_instance_noise(samples)
        if training and self.diff_augment:
            samples = self.augment(samples)
        return samples

    def augment(self, samples: tf.Tensor) -> tf.Tensor:
        """DiffAugment of a batch for one training D call (a fresh stateless seed per call of the step)."""
        calls = self._augment_calls
        call = getattr(calls, "count", 0)
        calls.count = call + 1
        seed = tf.random.experimental.stateless_fold_in(
            stream_seed(self.seed, diff_augmentation.STREAM, self.g_optimizer.iterations), call)
        return diff_augmentation.diff_augment(samples, self.diff_augment, seed)

    def add_instance_noise(self, samples: tf.Tensor) -> tf.Tensor:
        """`samples` + N(0, σ_t²) for one training D call (its own stateless stream per call of the step)."""
        step = self.g_optimizer.iterations  # one generator update per train step
        sigma = improved.instance_noise_sigma(self.instance_noise, step, self.instance_noise_decay_steps)
        call = getattr(self._noise_calls, "count", 0)
        self._noise_calls.count = call + 1
        stream = sampling.INSTANCE_NOISE + call % sampling.INSTANCE_NOISE_STREAMS
        noise = tf.random.stateless_normal(tf.shape(samples), seed=stream_seed(self.seed, stream, step))
        return samples + tf.cast(sigma, samples.dtype) * tf.cast(noise, samples.dtype)

    def historical_penalty(self, player: str) -> tf.Tensor:
        """w·Σ‖θ − θ̄‖² of `player` ("d" or "g") when `historical_averaging` is set, else 0 (updates θ̄)."""
        if not self.historical_averaging:
            return tf.constant(0.0)
        network, history = ((self.discriminator, self._d_history) if player == "d"
                            else (self.generator, self._g_history))
        return self.historical_averaging * improved.historical_penalty(network, history)

    def discriminator_loss(self, real_logits, fake_logits, real, fake, condition) -> tf.Tensor:
        """Per-example discriminator loss."""
        return self.loss_pair.discriminator(real_logits, fake_logits)

    def discriminator_penalty(self, real, fake, condition) -> tf.Tensor:
        """Scalar penalty added to the D loss of the local batch: the R1 term when `r1_gamma` is set, else 0.

        Variants add theirs (e.g. WGAN-GP's gradient penalty) to `super()`'s.
        """
        if not self.r1_gamma:
            return tf.constant(0.0)
        critic = lambda x: self.adversarial_logits(self.discriminate(x, condition, training=True))  # noqa: E731
        return 0.5 * self.r1_gamma * tf.reduce_mean(gan_losses.r1_penalty(critic, real))

    def adversarial_generator_loss(self, fake_logits, fake, real, condition) -> tf.Tensor:
        """Per-example adversarial term of the generator loss; feature matching replaces it when set."""
        if self.feature_matching:
            matching = improved.feature_matching_loss(self._features(real, condition), self._features(fake, condition))
            return tf.fill(tf.shape(fake)[:1], matching)  # a batch-level scalar, as a per-example vector
        return self.loss_pair.generator(self.adversarial_logits(fake_logits))

    def _features(self, samples, condition):
        """D's features of `samples` (feature matching)."""
        return self._feature_model(self.discriminator_inputs(samples, condition), training=True)

    def generator_loss(self, fake_logits, fake, real, condition) -> tf.Tensor:
        """Per-example generator loss: the adversarial term plus a variant's own terms (none here)."""
        return self.adversarial_generator_loss(fake_logits, fake, real, condition)

    def adversarial_logits(self, outputs: tf.Tensor) -> tf.Tensor:
        """The real/fake logit among the discriminator's outputs (variants with extra heads select it)."""
        return outputs

    def after_discriminator_step(self) -> None:
        """Called after each discriminator update (e.g. WGAN weight clipping)."""

    # --- the adversarial loop -------------------------------------------------------------------

    def _average(self, per_example: tf.Tensor) -> tf.Tensor:
        """Mean over the global batch of a per-example loss."""
        _, replicas = _replica_context_info()
        per_example = tf.cast(per_example, tf.float32)
        return tf.nn.compute_average_loss(per_example, global_batch_size=tf.shape(per_example)[0] * replicas)

    def _scale_scalar(self, value: tf.Tensor) -> tf.Tensor:
        """A scalar computed on the local batch, scaled so that summing over replicas averages it."""
        _, replicas = _replica_context_info()
        return tf.cast(value, tf.float32) / tf.cast(replicas, tf.float32)

    def _apply(self, optimizer, loss, tape, variables) -> None:
        with tape:  # record the loss scaling (LossScaleOptimizer under mixed_float16) on the tape
            scaled_loss = optimizer.scale_loss(loss)
        grads = tape.gradient(scaled_loss, variables)
        optimizer.apply_gradients(zip(grads, variables))

    def training_fakes(self, real: tf.Tensor, condition, stream: int, counter) -> tf.Tensor:
        """The generator's training samples for a real batch (stream 0: D steps, 1: G steps; see the families)."""
        raise NotImplementedError(f"{type(self).__name__} must define training_fakes (see GAN, ImageToImageGAN).")

    def discriminator_step(self, real, condition):
        """One D update; returns (global D loss contribution, real logits, fake logits)."""
        counter = self.d_optimizer.iterations
        fake = self.training_fakes(real, condition, 0, counter)
        variables = self.discriminator_variables
        with tf.GradientTape() as tape:
            real_logits = self.discriminate(real, condition, training=True)
            fake_logits = self.discriminate(fake, condition, training=True)
            loss = (self._average(self.discriminator_loss(real_logits, fake_logits, real, fake, condition))
                    + self._scale_scalar(self.discriminator_penalty(real, fake, condition)
                                         + self.historical_penalty("d")))
        self._apply(self.d_optimizer, loss, tape, variables)
        self.after_discriminator_step()
        return loss, real_logits, fake_logits

    def generator_step(self, real, condition):
        """One G update; returns the global G loss contribution."""
        counter = self.g_optimizer.iterations
        variables = self.generator_variables
        with tf.GradientTape() as tape:
            fake = self.training_fakes(real, condition, 1, counter)
            fake_logits = self.discriminate(fake, condition, training=True)
            loss = self._average(self.generator_loss(fake_logits, fake, real, condition)
                                 + self.historical_penalty("g"))
        self._apply(self.g_optimizer, loss, tape, variables)
        return loss

    def train_step(self, data):
        if self.loss_pair is None:
            raise UsageError("Call gan.compile(d_optimizer=..., g_optimizer=..., loss=...) before fit().")
        real, condition = self.unpack_batch(data)
        self._augment_calls.count = 0
        self._noise_calls.count = 0
        for _ in range(self.d_steps):
            d_loss, real_logits, fake_logits = self.discriminator_step(real, condition)
        g_loss = self.generator_step(real, condition)
        self.update_ema()
        self.update_adversarial_metrics(d_loss, g_loss, real_logits, fake_logits)
        return self.metric_results()

    def update_adversarial_metrics(self, d_loss, g_loss, real_logits, fake_logits) -> None:
        """Updates the d_loss, g_loss, d_real and d_fake metrics from one step's global loss contributions."""
        _, replicas = _replica_context_info()
        # Each replica's loss is its share of the global mean: times replicas = this replica's mean;
        # the Mean metrics then average the replicas, giving the global value.
        self.d_loss_tracker.update_state(d_loss * replicas)
        self.g_loss_tracker.update_state(g_loss * replicas)
        self.real_logit_tracker.update_state(tf.reduce_mean(tf.cast(self.adversarial_logits(real_logits), tf.float32)))
        self.fake_logit_tracker.update_state(tf.reduce_mean(tf.cast(self.adversarial_logits(fake_logits), tf.float32)))

    def metric_results(self) -> Dict[str, tf.Tensor]:
        """What a train step returns: every metric's current value.

        Under multi-worker training Keras averages step outputs along axis 0
        (keras-team/keras#20585), so each value gets that axis there.
        """
        results = {m.name: m.result() for m in self.metrics}
        if num_workers(tf.distribute.get_strategy()) > 1:
            results = {name: tf.reshape(value, [1]) for name, value in results.items()}
        return results
