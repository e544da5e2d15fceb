"""StackGAN (Zhang et al. 2017): two-stage text-to-image, stage I trained first, then stage II on it, frozen.

The text-conditioned GAN (`tfgan_app.gans.text_conditioned`) with the two-stage generator of
`tfgan_app.architectures.stackgan` and one matching-aware discriminator per stage. One model, one `fit`:

* **Stage I** for the first `stage1_steps` train steps: G₁(z, ĉ₀) draws `H/2` images; D₁ judges them against the
  real images down-sampled to `H/2` (area averaging), with the caption.
* **Stage II** afterwards: G₂(G₁(z, ĉ₀), ĉ) refines them to `H`; G₁ is frozen (called in inference mode, its
  output gradient-stopped, its variables in no optimizer's update); D₂ judges the full-resolution images.
* Both stages: matching-aware D (a real image with a mismatched caption, the batch's captions rolled by one, is a
  negative, inherited from `TextConditionedGAN`) and G loss = adversarial + `kl_weight`·KL(N(μ, σ²) ‖ N(0, I))
  of the stage's own conditioning augmentation (`kl_to_standard_normal`, the paper's λ = 1).

How the schedule runs in `fit`: each stage has its own pair of optimizers (`d_optimizer`/`g_optimizer` for
stage I, fresh copies `stage2_d_optimizer`/`stage2_g_optimizer` made by `compile` for stage II, so Adam's
moments and bias correction start afresh with stage II as in the paper's second training run). The train
function is traced once per stage; before every step `current_stage()` reads stage I's generator step counter
(a variable: saved in `gan.keras` and in the fault-tolerance backups), so a resumed run continues in the stage
it was in, and runs with `steps_per_execution` switch at the first execution past `stage1_steps`. While a stage
is traced, `stage` tells the hooks which networks to use and `d_optimizer`/`g_optimizer` are that stage's.

`generator` is the composite `[latents, tokens] → stage-II images`: sampling, `generate`, `generator.keras`,
`tfgan export` (the `text` kind), `tfgan generate --captions` and serving all give the stage-II image.

Example:
>>> info, vocabulary = load_captioned("mnist", batch_size=64)
>>> gan = StackGAN(stackgan_generator(32, (28, 28, 1), len(vocabulary) + 2, 8),
...                text_discriminator((28, 28, 1), len(vocabulary) + 2, 8),
...                text_discriminator((14, 14, 1), len(vocabulary) + 2, 8, name="stage1_discriminator"),
...                vocabulary, stage1_steps=2000)
>>> gan.compile(d_optimizer="adam", g_optimizer="adam", loss="non_saturating")
>>> gan.fit(info.dataset.repeat(), epochs=4, steps_per_epoch=1000)   # 2,000 steps of each stage
>>> sevens = gan.generate(8, labels=["a handwritten seven"])          # [8, 28, 28, 1]
"""

import contextlib
from typing import Any, Dict, Sequence, Union

import keras
import numpy as np
import tensorflow as tf

from tfgan_app.architectures.stackgan import STAGE1, STAGE2, low_resolution, stackgan_generator
from tfgan_app.architectures.text import kl_to_standard_normal, text_discriminator
from tfgan_app.data.captions import CLASS_NAMES, caption_vocabulary, captions_for
from tfgan_app.errors import UsageError
from tfgan_app.gans.text_conditioned import TextConditionedGAN

STAGES = (1, 2)


def fresh_optimizer(optimizer: keras.optimizers.Optimizer) -> keras.optimizers.Optimizer:
    """A new, unbuilt optimizer with `optimizer`'s configuration (no state, step counter 0)."""
    return keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))


@keras.saving.register_keras_serializable(package="tfgan_app")
class StackGAN(TextConditionedGAN):
    """StackGAN: stage I for `stage1_steps` steps, then stage II with stage I frozen (module docstring).

    Args:
      generator: `stackgan_generator` (`[latents, tokens] → images`, nested models `stage1` and `stage2`).
      discriminator: stage II's `text_discriminator` on full-resolution `[images, tokens]`.
      stage1_discriminator: stage I's `text_discriminator` on `[H/2 images, tokens]`.
      vocabulary: the caption words (as `TextConditionedGAN`).
      stage1_steps: train steps of stage I; every later step trains stage II.
      kl_weight: λ of both stages' CA KL term (paper: 1).
      (other arguments as `TextConditionedGAN`)

    Raises:
      UsageError: the generator has no `stage1`/`stage2` models, a discriminator does not take its stage's
        image shape, or `stage1_steps` is not a positive integer.

    Example:
    >>> gan = StackGAN(generator, d2, d1, vocabulary, stage1_steps=2000, kl_weight=1.0)
    >>> gan.stage   # 1 until the 2,000th step, then 2
    1
    """

    networks = ("generator", "discriminator", "stage1_discriminator")
    unsupported_techniques = {
        "ema_decay": "the generator's average would mix the stages' schedules; sample the trained generator",
        "feature_matching": "feature matching reads one discriminator, and StackGAN has one per stage",
        "historical_averaging": "the historical average covers one discriminator, and StackGAN has one per stage",
    }

    def __init__(self, generator: keras.Model, discriminator: keras.Model, stage1_discriminator: keras.Model,
                 vocabulary: Sequence[str], stage1_steps: int = 1000, kl_weight: float = 1.0, **kwargs):
        layer_names = {layer.name for layer in generator.layers}
        if not {STAGE1, STAGE2} <= layer_names:
            raise UsageError(f"StackGAN needs the two-stage generator of stackgan_generator (nested models "
                             f"'{STAGE1}' and '{STAGE2}'). Received: generator with layers {sorted(layer_names)}")
        if isinstance(stage1_steps, bool) or not isinstance(stage1_steps, (int, np.integer)) or stage1_steps < 1:
            raise UsageError(f"stage1_steps must be a positive integer (train steps of stage I). "
                             f"Received: stage1_steps={stage1_steps!r}")
        for network, stage in ((stage1_discriminator, STAGE1), (discriminator, STAGE2)):
            expected = tuple(generator.get_layer(stage).outputs[0].shape[1:])
            if tuple(network.inputs[0].shape[1:]) != expected:
                raise UsageError(f"The {stage} discriminator must judge {stage} images of shape {expected}. "
                                 f"Received: {stage} discriminator input shape={tuple(network.inputs[0].shape[1:])}")
        object.__setattr__(self, "_stage", None)
        super().__init__(generator, discriminator, vocabulary, kl_weight=kl_weight, **kwargs)
        self.stage1_discriminator = stage1_discriminator
        self.stage1_steps = int(stage1_steps)
        self.stage2_ca_stats = TextConditionedGAN.conditioning_stats_model(generator.get_layer(STAGE2))
        self.low_resolution_shape = tuple(generator.get_layer(STAGE1).outputs[0].shape[1:])

    @staticmethod
    def conditioning_stats_model(generator: keras.Model) -> keras.Model:
        """Stage I's `tokens → [μ, log σ²]` (stage II's is `stage2_ca_stats`)."""
        return TextConditionedGAN.conditioning_stats_model(generator.get_layer(STAGE1))

    @classmethod
    def from_preset(cls, preset, info) -> "StackGAN":
        """Builds the (uncompiled) model of a preset on `captions:NAME`: `stackgan_generator` with the preset's
        generator options, and one `text_discriminator` per stage with its discriminator options."""
        name = preset.dataset.split(":", 1)[-1]
        vocabulary = caption_vocabulary(name)
        sequence_length = int(info.dataset.element_spec[1].shape[1])
        vocab_size = len(vocabulary) + 2
        generator = stackgan_generator(preset.latent_dim, info.image_shape, vocab_size, sequence_length,
                                       **preset.generator_options)
        discriminator = text_discriminator(info.image_shape, vocab_size, sequence_length,
                                           **preset.discriminator_options)
        stage1_discriminator = text_discriminator(low_resolution(info.image_shape), vocab_size, sequence_length,
                                                  name="stage1_discriminator", **preset.discriminator_options)
        return cls(generator, discriminator, stage1_discriminator, vocabulary,
                   sample_captions=captions_for(name, range(len(CLASS_NAMES[name]))), seed=preset.seed,
                   **preset.gan_options)

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "stage1_steps": self.stage1_steps}

    # --- the stages -----------------------------------------------------------------------------

    @property
    def stage1_generator(self) -> keras.Model:
        """G₁: `[latents, tokens] → H/2 images`."""
        return self.generator.get_layer(STAGE1)

    @property
    def stage2_generator(self) -> keras.Model:
        """G₂: `[stage-I images, tokens] → images`."""
        return self.generator.get_layer(STAGE2)

    def current_stage(self) -> int:
        """The stage the next train step trains: 1 while stage I's generator has taken fewer than `stage1_steps`
        steps, else 2 (read eagerly from the optimizer's step counter)."""
        optimizer = getattr(self, "g_optimizer", None)
        steps = 0 if optimizer is None else int(keras.ops.convert_to_numpy(optimizer.iterations))
        return 1 if steps < self.stage1_steps else 2

    @property
    def stage(self) -> int:
        """The stage being traced or trained (inside `in_stage`), else `current_stage()`."""
        return self._stage if self._stage is not None else self.current_stage()

    @contextlib.contextmanager
    def in_stage(self, stage: int):
        """Within the block the hooks use `stage`'s networks and `d_optimizer`/`g_optimizer` are its optimizers.

        Raises:
          UsageError: `stage` is not 1 or 2.
        """
        if stage not in STAGES:
            raise UsageError(f"StackGAN has stages 1 and 2. Received: stage={stage!r}")
        previous = self.__dict__.get("d_optimizer"), self.__dict__.get("g_optimizer"), self._stage
        object.__setattr__(self, "_stage", stage)
        if stage == 2:
            object.__setattr__(self, "d_optimizer", self.stage2_d_optimizer)
            object.__setattr__(self, "g_optimizer", self.stage2_g_optimizer)
        try:
            yield self
        finally:
            if stage == 2:
                object.__setattr__(self, "d_optimizer", previous[0])
                object.__setattr__(self, "g_optimizer", previous[1])
            object.__setattr__(self, "_stage", previous[2])

    def compile(self, d_optimizer: Union[str, keras.optimizers.Optimizer] = "adam",
                g_optimizer: Union[str, keras.optimizers.Optimizer] = "adam", loss="non_saturating",
                **kwargs) -> None:
        """As `AdversarialModel.compile`, for stage I; stage II gets fresh copies of both optimizers
        (`stage2_d_optimizer`, `stage2_g_optimizer`), built now so that saving and backups keep their state."""
        with self.in_stage(1):
            super().compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer, loss=loss, **kwargs)
        self.stage2_d_optimizer = self._maybe_loss_scale(fresh_optimizer(self.d_optimizer), "stage2_d")
        self.stage2_g_optimizer = self._maybe_loss_scale(fresh_optimizer(self.g_optimizer), "stage2_g")
        with self.in_stage(2):
            self.stage2_d_optimizer.build(self.discriminator_variables)
            self.stage2_g_optimizer.build(self.generator_variables)

    def make_train_function(self, force: bool = False):
        """Keras' train function, traced once per stage; each call runs the stage `current_stage()` names."""
        if self.train_function is not None and not force:
            return self.train_function
        staged = {}
        for stage in STAGES:
            super().make_train_function(force=True)
            staged[stage] = self.train_function

        def train_function(iterator):
            stage = self.current_stage()
            with self.in_stage(stage):  # traced (first call) with this stage's networks and optimizers
                return staged[stage](iterator)

        self.train_function = train_function
        return train_function

    def train_step(self, data):
        if self._stage is None:  # called eagerly, outside `fit`'s staged train function
            with self.in_stage(self.current_stage()):
                return super().train_step(data)
        return super().train_step(data)

    # --- hooks ----------------------------------------------------------------------------------

    @property
    def generator_variables(self):
        """The trained stage's generator variables (stage I's are in no update during stage II)."""
        return (self.stage1_generator if self.stage == 1 else self.stage2_generator).trainable_variables

    @property
    def discriminator_variables(self):
        return (self.stage1_discriminator if self.stage == 1 else self.discriminator).trainable_variables

    def unpack_batch(self, data):
        """`(images, tokens)`; in stage I the images are down-sampled to stage I's resolution (area averaging)."""
        images, tokens = super().unpack_batch(data)
        if self.stage == 1:
            images = tf.image.resize(images, self.low_resolution_shape[:2], method="area")
        return images, tokens

    def fake_samples(self, z, condition, stream: int, counter, training: bool = True):
        """Stage I: G₁(z, tokens). Stage II: G₂(G₁(z, tokens), tokens), G₁ frozen (inference mode, no gradient)."""
        if self.stage == 1:
            return self.stage1_generator([z, condition], training=training)
        low = tf.stop_gradient(self.stage1_generator([z, condition], training=False))
        return self.stage2_generator([low, condition], training=training)

    def discriminate(self, samples, condition, training: bool = True):
        network = self.stage1_discriminator if self.stage == 1 else self.discriminator
        return network(self.discriminator_inputs(self.perturb(samples, training), condition), training=training)

    def conditioning_kl(self, condition) -> tf.Tensor:
        """Per-example KL(N(μ, σ²) ‖ N(0, I)) of the trained stage's conditioning augmentation."""
        stats = (self.ca_stats if self.stage == 1 else self.stage2_ca_stats)(condition, training=True)
        return kl_to_standard_normal(stats)

    def generator_loss(self, fake_logits, fake, real, condition) -> tf.Tensor:
        return (self.adversarial_generator_loss(fake_logits, fake, real, condition)
                + self.kl_weight * self.conditioning_kl(condition))
