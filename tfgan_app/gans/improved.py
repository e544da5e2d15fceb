"""Improved-GAN techniques (Salimans et al. 2016; instance noise: Sønderby et al. 2017) for any GAN variant.

`with_techniques(gan_class)` returns `gan_class` with these extra constructor
options (all off by default), implemented purely through the `GAN` hooks, so
they combine with every variant (WGAN-GP, ACGAN, SGAN, unrolled, ...):

| option | effect | hook |
|---|---|---|
| `feature_matching=True` | G minimises ‖E f(x) − E f(G(z))‖² for discriminator features f (the input of its `"logits"` layer, or the output of `feature_layer`), *replacing* the adversarial term of the generator loss (a variant's other terms, e.g. pix2pix's L1 or ACGAN's class loss, stay) | `adversarial_generator_loss` |
| `label_smoothing=0.9` | one-sided: real targets 0.9 in the BCE discriminator loss (minimax / non_saturating only) | `compile` (loss pair) |
| `historical_averaging=w` | adds w·‖θ − mean of past θ‖² to both players' losses | `discriminator_penalty`, `generator_loss` |
| `instance_noise=σ` | adds N(0, σ_t²) to every discriminator input while training, σ_t decaying linearly to 0 over `instance_noise_decay_steps` generator steps (0: constant); stateless, from `sampling.stream_seed` | `discriminate` |

A variant that cannot honour an option lists it, with the reason, in its class
attribute `unsupported_techniques` (e.g. CycleGAN, whose own `train_step` calls
its discriminators directly); asking for it raises a `UsageError`, as do
`feature_layer` without `feature_matching` and `instance_noise_decay_steps`
without `instance_noise`.

Minibatch discrimination is a layer (`tfgan_app.layers.MinibatchDiscrimination`,
`extended_discriminator(minibatch_kernels=...)`), usable in any discriminator.

Example:
>>> ImprovedWGANGP = with_techniques(WGANGP)
>>> gan = ImprovedWGANGP(generator, critic, historical_averaging=1e-3, instance_noise=0.1)
"""

import inspect
import threading
from typing import Any, Dict, Optional, Type

import keras
import tensorflow as tf

from tfgan_app import losses as gan_losses
from tfgan_app.errors import UsageError
from tfgan_app.gans import sampling
from tfgan_app.gans.base import GAN

TECHNIQUE_OPTIONS = ("feature_matching", "feature_layer", "label_smoothing", "historical_averaging",
                     "instance_noise", "instance_noise_decay_steps")


def feature_matching_loss(real_features, fake_features) -> tf.Tensor:
    """‖E f(x) − E f(G(z))‖²: squared L2 distance between the batch means of `[B, ...]` features (a scalar)."""
    real_mean = tf.reduce_mean(tf.reshape(tf.cast(real_features, tf.float32), [tf.shape(real_features)[0], -1]), 0)
    fake_mean = tf.reduce_mean(tf.reshape(tf.cast(fake_features, tf.float32), [tf.shape(fake_features)[0], -1]), 0)
    return tf.reduce_sum(tf.square(real_mean - fake_mean))


class ImprovedTechniques:
    """Mixin adding the techniques of the module docstring; use `with_techniques` to combine it with a class."""

    def __init__(self, *args, feature_matching: bool = False, feature_layer: Optional[str] = None,
                 label_smoothing: Optional[float] = None, historical_averaging: float = 0.0,
                 instance_noise: float = 0.0, instance_noise_decay_steps: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        requested = {"feature_matching": bool(feature_matching), "label_smoothing": label_smoothing is not None,
                     "historical_averaging": bool(historical_averaging), "instance_noise": bool(instance_noise)}
        for option, reason in getattr(self, "unsupported_techniques", {}).items():
            if requested.get(option):
                raise UsageError(f"{type(self).__name__} cannot apply {option}: {reason}. Remove {option}.")
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
        self.feature_matching = bool(feature_matching)
        self.feature_layer = feature_layer
        self.label_smoothing = label_smoothing
        self.historical_averaging = float(historical_averaging)
        self.instance_noise = float(instance_noise)
        self.instance_noise_decay_steps = int(instance_noise_decay_steps)
        if self.feature_matching:
            self._feature_model = self._build_feature_model()
        if self.historical_averaging:
            self._d_history = self._history_variables(self.discriminator, "d")
            self._g_history = self._history_variables(self.generator, "g")
        # Counts this step's noisy discriminator calls, per replica thread: each call draws from its own stream.
        object.__setattr__(self, "_noise_calls", threading.local())

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "feature_matching": self.feature_matching,
                "feature_layer": self.feature_layer, "label_smoothing": self.label_smoothing,
                "historical_averaging": self.historical_averaging, "instance_noise": self.instance_noise,
                "instance_noise_decay_steps": self.instance_noise_decay_steps}

    # --- feature matching ---

    def _build_feature_model(self) -> keras.Model:
        d = self.discriminator
        try:
            features = d.get_layer(self.feature_layer).output if self.feature_layer else d.get_layer("logits").input
        except ValueError as e:
            raise UsageError(f"feature_matching needs discriminator features: {e} Set feature_layer to one of "
                             "the layer names above.") from e
        return keras.Model(d.inputs, features, name="discriminator_features")

    def _features(self, samples, condition):
        return self._feature_model(self.discriminator_inputs(samples, condition), training=True)

    # --- historical averaging ---

    def _history_variables(self, model: keras.Model, prefix: str):
        averages = [self.add_weight(shape=v.shape, initializer="zeros", trainable=False, name=f"{prefix}_average_{i}")
                    for i, v in enumerate(model.trainable_variables)]
        for average, variable in zip(averages, model.trainable_variables):
            average.assign(variable)
        count = self.add_weight(shape=(), initializer="ones", trainable=False, name=f"{prefix}_average_count")
        return averages, count

    def _historical_penalty(self, model: keras.Model, history) -> tf.Tensor:
        """w·Σ‖θ − θ̄‖² with θ̄ the mean of the parameters seen so far, then adds θ to the mean."""
        averages, count = history
        penalty = tf.add_n([tf.reduce_sum(tf.square(tf.convert_to_tensor(v) - tf.convert_to_tensor(a)))
                            for v, a in zip(model.trainable_variables, averages)])
        with tf.control_dependencies([penalty]):
            new_count = count + 1.0
            for v, a in zip(model.trainable_variables, averages):
                a.assign(a + (tf.stop_gradient(tf.convert_to_tensor(v)) - a) / new_count)
            count.assign(new_count)
        return self.historical_averaging * penalty

    # --- hooks ---

    def compile(self, *args, **kwargs) -> None:
        super().compile(*args, **kwargs)
        if self.label_smoothing is not None:
            pair = self.loss_pair
            if pair.discriminator is not gan_losses.minimax_discriminator_loss:
                raise UsageError(f"label_smoothing applies to the BCE discriminator loss (minimax or "
                                 f"non_saturating), not to {pair.name!r}.")
            smoothing = self.label_smoothing
            self.loss_pair = gan_losses.GANLoss(
                f"{pair.name}_smoothed",
                lambda real_logits, fake_logits: gan_losses.minimax_discriminator_loss(
                    real_logits, fake_logits, real_label=smoothing),
                pair.generator)

    def train_step(self, data):
        self._noise_calls.count = 0
        return super().train_step(data)

    def discriminate(self, samples, condition, training: bool = True):
        if training and self.instance_noise:
            sigma = tf.constant(self.instance_noise)
            step = self.g_optimizer.iterations  # one generator update per train step
            if self.instance_noise_decay_steps:
                progress = tf.cast(step, tf.float32) / self.instance_noise_decay_steps
                sigma = sigma * tf.maximum(0.0, 1.0 - progress)
            call = getattr(self._noise_calls, "count", 0)
            self._noise_calls.count = call + 1
            stream = sampling.INSTANCE_NOISE + call % sampling.INSTANCE_NOISE_STREAMS
            noise = tf.random.stateless_normal(tf.shape(samples), seed=sampling.stream_seed(self.seed, stream, step))
            samples = samples + tf.cast(sigma, samples.dtype) * tf.cast(noise, samples.dtype)
        return super().discriminate(samples, condition, training=training)

    def discriminator_penalty(self, real, fake, condition) -> tf.Tensor:
        penalty = super().discriminator_penalty(real, fake, condition)
        if self.historical_averaging:
            penalty = penalty + self._historical_penalty(self.discriminator, self._d_history)
        return penalty

    def adversarial_generator_loss(self, fake_logits, fake, real, condition) -> tf.Tensor:
        if self.feature_matching:
            matching = feature_matching_loss(self._features(real, condition), self._features(fake, condition))
            return tf.fill(tf.shape(fake)[:1], matching)  # a batch-level scalar, as a per-example vector
        return super().adversarial_generator_loss(fake_logits, fake, real, condition)

    def generator_loss(self, fake_logits, fake, real, condition) -> tf.Tensor:
        loss = super().generator_loss(fake_logits, fake, real, condition)
        if self.historical_averaging:
            loss = loss + self._historical_penalty(self.generator, self._g_history)
        return loss


_COMBINED: Dict[type, type] = {}


def with_techniques(gan_class: Type[GAN]) -> Type[GAN]:
    """Returns `gan_class` combined with `ImprovedTechniques` (cached; registered for `keras.saving`).

    The combined class's `__init__` signature lists `gan_class`'s arguments plus
    the technique options, so `tfgan_app.training.build_gan` still sees e.g. `num_classes`.
    """
    if issubclass(gan_class, ImprovedTechniques):
        return gan_class
    if gan_class not in _COMBINED:
        name = f"Improved{gan_class.__name__}"
        combined = type(name, (ImprovedTechniques, gan_class), {
            "__doc__": f"{gan_class.__name__} with the Improved-GAN technique options of `ImprovedTechniques`.",
            "__module__": __name__,
        })
        base_params = [p for p in inspect.signature(gan_class.__init__).parameters.values()
                       if p.kind != inspect.Parameter.VAR_KEYWORD]
        own = inspect.signature(ImprovedTechniques.__init__).parameters
        technique_params = [own[name] for name in TECHNIQUE_OPTIONS]
        var_keyword = inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD)

        def __init__(self, *args, **kwargs):
            ImprovedTechniques.__init__(self, *args, **kwargs)

        __init__.__signature__ = inspect.Signature(base_params + technique_params + [var_keyword])
        combined.__init__ = __init__
        _COMBINED[gan_class] = keras.saving.register_keras_serializable(package="tfgan_app")(combined)
    return _COMBINED[gan_class]
