"""CycleGAN (Zhu et al. 2017): unpaired translation between two image domains A and B.

Four networks: generators G: A → B and F: B → A, discriminators D_B (real B vs
G(a)) and D_A (real A vs F(b)). The generators minimise

    adversarial(D_B(G(a))) + adversarial(D_A(F(b)))
    + λ_cyc·(‖F(G(a)) − a‖₁ + ‖G(F(b)) − b‖₁)          cycle consistency
    + λ_id·(‖G(b) − b‖₁ + ‖F(a) − a‖₁)                  identity (keeps colours)

with the LSGAN objective (`loss="least_squares"`, the paper's choice) and
λ_cyc = 10, λ_id = 0.5·λ_cyc. Discriminators see fakes drawn from an `ImagePool`
of 50 past generator outputs (Shrivastava et al. 2017), which damps oscillation.

Why `train_step` is overridden: the base class's loop is one generator against
one discriminator on one fake per real. CycleGAN is two coupled games whose
generator loss needs both generators at once (the cycle terms), so it has its
own step. It reuses the base's pieces: `_average` (global-batch means), `_apply`
(loss-scaled updates), the compiled `GANLoss` pair, the `d_loss`/`g_loss`/
`d_real`/`d_fake` metrics (of the B side), and adds `cycle` and `identity`.
One optimizer updates both generators (G and F), one both discriminators, as
in the reference implementation (`itertools.chain` of the parameters).

Batches are `(a, b)` of unpaired images (`tfgan_app.data.unpaired.load_unpaired`).

Example:
>>> info = load_unpaired("mnist_recolored", batch_size=8)
>>> gan = CycleGAN.from_shapes((28, 28, 3), (28, 28, 3), base_filters=8)
>>> gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
...             g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), loss="least_squares")
>>> gan.fit(info.dataset, epochs=1)
>>> b_images = gan.translate(a_images)                      # A → B
>>> a_images = gan.translate(b_images, direction="b_to_a")  # B → A
"""

import inspect
from typing import Any, Dict, Optional, Sequence

import keras
import numpy as np
import tensorflow as tf

from tfgan_app.architectures.patchgan import patchgan_discriminator
from tfgan_app.architectures.unet import unet_generator
from tfgan_app.errors import UsageError
from tfgan_app.gans import sampling
from tfgan_app.gans.adversarial import AdversarialModel
from tfgan_app.gans.sampling import stream_seed
from tfgan_app.gans.image_to_image import (ImageToImageGAN, TranslationGrid, check_builder, l1_distance, pair_shapes,
                                           translate_images)

from tfgan_app.names import DIRECTIONS  # noqa: E402  (TF-free, for the CLI flags)


def _parameter_names(function) -> set:
    """Names of the named (not *args / **kwargs) parameters of `function`."""
    return {name for name, p in inspect.signature(function).parameters.items()
            if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)}


def _check_option_names(field: str, options: Dict[str, Any], valid: set) -> None:
    """Raises UsageError naming the preset options CycleGAN has no parameter for (instead of a TypeError later)."""
    unknown = sorted(set(options) - valid)
    if unknown:
        raise UsageError(f"Unknown CycleGAN {field} {', '.join(map(repr, unknown))}. "
                         f"Valid options: {', '.join(sorted(valid))}.")


@keras.saving.register_keras_serializable(package="tfgan_app")
class ImagePool(keras.layers.Layer):
    """A buffer of past generated images (Shrivastava et al. 2017; CycleGAN uses 50).

    `query(images, seed, slot_seed)` returns a batch for the discriminator: while the pool is
    filling, the new images themselves (and they are stored); once full, each
    image is, with probability ½, swapped for a random stored one (which it
    replaces in the pool), else returned as is. Randomness is stateless in
    `seed` (which images are swapped) and `slot_seed` (which stored ones they swap
    with; by default folded in from `seed`), int `[2]` tensors, so training stays
    reproducible. `pool_size=0` disables the pool. The pool is per replica (its
    state is not synchronised).

    Example:
    >>> pool = ImagePool(50)
    >>> fakes_for_d = pool.query(fakes, seed=tf.constant([step, 0]))
    """

    def __init__(self, pool_size: int = 50, **kwargs):
        super().__init__(**kwargs)
        if pool_size < 0:
            raise UsageError(f"pool_size must be >= 0, received {pool_size}.")
        self.pool_size = int(pool_size)

    def build(self, input_shape):
        self.images = self.add_weight(shape=(max(self.pool_size, 1),) + tuple(input_shape[1:]),
                                      initializer="zeros", trainable=False, name="images")
        self.count = self.add_weight(shape=(), initializer="zeros", dtype="int32", trainable=False, name="count")

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "pool_size": self.pool_size}

    def call(self, images):
        return images

    def query(self, images: tf.Tensor, seed: tf.Tensor, slot_seed: Optional[tf.Tensor] = None) -> tf.Tensor:
        """Returns the discriminator's batch for `images` and updates the pool (see the class docstring)."""
        if not self.built:
            self.build(images.shape)
        if self.pool_size == 0:
            return images
        images = tf.stop_gradient(tf.cast(images, self.images.dtype))
        batch = tf.shape(images)[0]
        count = tf.convert_to_tensor(self.count)

        def fill():
            n = tf.minimum(batch, self.pool_size - count)
            slots = (count + tf.range(n))[:, None]
            self.images.assign(tf.tensor_scatter_nd_update(self.images, slots, images[:n]))
            self.count.assign(count + n)
            return images

        def swap():
            seed_pair = tf.cast(seed, tf.int64)
            slot_pair = (tf.random.experimental.stateless_fold_in(seed_pair, 1) if slot_seed is None
                         else tf.cast(slot_seed, tf.int64))
            use_stored = tf.random.stateless_uniform([batch], seed_pair) < 0.5
            slots = tf.random.stateless_uniform([batch], slot_pair, 0, self.pool_size, dtype=tf.int32)
            stored = tf.gather(self.images, slots)
            chosen = tf.where(tf.reshape(use_stored, [-1, 1, 1, 1]), stored, images)
            replaced = tf.boolean_mask(slots, use_stored)[:, None]
            self.images.assign(tf.tensor_scatter_nd_update(self.images, replaced,
                                                           tf.boolean_mask(images, use_stored)))
            return chosen

        return tf.cond(count < self.pool_size, fill, swap)


@keras.saving.register_keras_serializable(package="tfgan_app")
class CycleGAN(ImageToImageGAN):
    """CycleGAN with generators G (A→B, `generator`), F (B→A, `generator_b_to_a`) and discriminators D_B, D_A.

    Args:
      generator: G, images of A → images of B.
      discriminator: D_B, judges domain-B images.
      generator_b_to_a: F, images of B → images of A.
      discriminator_a: D_A, judges domain-A images.
      cycle_weight: λ_cyc (10 in the paper).
      identity_weight: λ_id (0.5·λ_cyc = 5 in the paper; 0 disables, and must be 0 when A and B
        have different channel counts).
      pool_size: size of each domain's fake-image pool (50; 0 disables).
      (other arguments as `AdversarialModel`)

    Raises:
      UsageError: for a negative `cycle_weight` or `identity_weight`, an identity loss between domains with
        different channel counts, `d_steps` other than 1, or a bad option of `AdversarialModel`.

    Example:
    >>> info = load_unpaired("mnist_recolored", batch_size=8)
    >>> gan = CycleGAN.from_shapes((28, 28, 3), (28, 28, 3), base_filters=8, pool_size=10)
    >>> gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
    ...             g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), loss="least_squares")
    >>> history = gan.fit(info.dataset.take(10), epochs=1, verbose=0)
    >>> gan.translate(np.zeros((2, 28, 28, 3), np.float32)).shape   # A → B, in [-1, 1]
    (2, 28, 28, 3)
    """

    networks = ImageToImageGAN.networks + ("generator_b_to_a", "discriminator_a")
    extra_metric_names = ("cycle", "identity")
    unsupported_techniques = {
        option: "CycleGAN's own train_step calls its two discriminators directly and has its own generator loss"
        for option in ("feature_matching", "historical_averaging", "instance_noise", "ema_decay", "pack",
                       "diff_augment", "r1_gamma")}

    def __init__(self, generator: keras.Model, discriminator: keras.Model, generator_b_to_a: keras.Model,
                 discriminator_a: keras.Model, cycle_weight: float = 10.0, identity_weight: float = 5.0,
                 pool_size: int = 50, **kwargs):
        if cycle_weight < 0 or identity_weight < 0:
            raise UsageError(f"cycle_weight and identity_weight must be >= 0, received {cycle_weight}, "
                             f"{identity_weight}.")
        shape_a, shape_b = tuple(generator.inputs[0].shape[1:]), tuple(generator.outputs[0].shape[1:])
        if identity_weight and shape_a[-1] != shape_b[-1]:
            raise UsageError(f"The identity loss needs domains with equal channels, received A {shape_a} and "
                             f"B {shape_b}; set identity_weight=0.")
        if kwargs.get("d_steps", 1) != 1:
            raise UsageError(f"CycleGAN makes one discriminator update per generator update; d_steps must be 1, "
                             f"received {kwargs['d_steps']!r}.")
        super().__init__(generator, discriminator, **kwargs)
        self.generator_b_to_a = generator_b_to_a
        self.discriminator_a = discriminator_a
        self.cycle_weight = float(cycle_weight)
        self.identity_weight = float(identity_weight)
        self.pool_size = int(pool_size)
        self.pool_a = ImagePool(pool_size, name="pool_a")
        self.pool_b = ImagePool(pool_size, name="pool_b")
        self.pool_a.build((None,) + shape_a)
        self.pool_b.build((None,) + shape_b)

    @classmethod
    def from_shapes(cls, shape_a: Sequence[int], shape_b: Sequence[int], base_filters: int = 64,
              num_layers: int = 3, depth: Optional[int] = None, **kwargs) -> "CycleGAN":
        """Builds CycleGAN with instance-normalised U-Net generators and PatchGAN discriminators.

        `kwargs` go to the constructor (e.g. `cycle_weight`, `pool_size`, `seed`).
        """
        def translator(src, dst, name):
            return unet_generator(src, dst[-1], base_filters=base_filters, depth=depth, dropout=0.0,
                                  norm="instance", name=name)

        def critic(shape, name):
            return patchgan_discriminator(shape, base_filters=base_filters, num_layers=num_layers,
                                          norm="instance", name=name)

        return cls(translator(shape_a, shape_b, "generator_a_to_b"), critic(shape_b, "discriminator_b"),
                   translator(shape_b, shape_a, "generator_b_to_a"), critic(shape_a, "discriminator_a"), **kwargs)

    @classmethod
    def from_preset(cls, preset, info) -> "CycleGAN":
        """Builds the (uncompiled) model of a preset for an unpaired `DatasetInfo`.

        `generator_options` and `discriminator_options` are merged into the `from_shapes` arguments
        (`base_filters`, `depth` / `num_layers`); `gan_options` go to the constructor.
        """
        check_builder("generator", preset.generator, ("unet",))
        check_builder("discriminator", preset.discriminator, ("patchgan",))
        shape_a, shape_b = pair_shapes(info)
        options = {**preset.discriminator_options, **preset.generator_options}
        _check_option_names("generator_options / discriminator_options", options,
                            _parameter_names(cls.from_shapes) - {"shape_a", "shape_b"})
        _check_option_names("gan_options", preset.gan_options,
                            (_parameter_names(cls.__init__) | _parameter_names(AdversarialModel.__init__))
                            - {"self", "generator", "discriminator", "generator_b_to_a", "discriminator_a", "seed"})
        return cls.from_shapes(shape_a, shape_b, seed=preset.seed, **options, **preset.gan_options)

    def get_config(self) -> Dict[str, Any]:
        return {
            **super().get_config(),
            "cycle_weight": self.cycle_weight,
            "identity_weight": self.identity_weight,
            "pool_size": self.pool_size,
        }

    @property
    def generator_variables(self):
        """Trainable variables of both generators (updated together by `g_optimizer`)."""
        return self.generator.trainable_variables + self.generator_b_to_a.trainable_variables

    @property
    def discriminator_variables(self):
        """Trainable variables of both discriminators (updated together by `d_optimizer`)."""
        return self.discriminator.trainable_variables + self.discriminator_a.trainable_variables

    # --- translation ----------------------------------------------------------------------------

    def translate(self, images, direction: str = "a_to_b", batch_size: int = 256) -> np.ndarray:
        """Translates `images` with G (`"a_to_b"`) or F (`"b_to_a"`); numpy in [-1, 1]."""
        if direction not in DIRECTIONS:
            raise UsageError(f"direction must be one of {DIRECTIONS}, received {direction!r}.")
        generator = self.generator if direction == "a_to_b" else self.generator_b_to_a
        return translate_images(generator, images, batch_size)

    def generate(self, *args, **kwargs) -> np.ndarray:
        """Raises UsageError: CycleGAN samples nothing from latents (use `translate`)."""
        raise UsageError("CycleGAN translates images between domains and samples nothing from latents; call "
                         "gan.translate(images, direction='a_to_b' or 'b_to_a') instead of generate().")

    def sample_grid_callback(self, output_dir: str, dataset, seed: int = 0, log_dir: Optional[str] = None,
                             num_samples: int = 16) -> keras.callbacks.Callback:
        """A `TranslationGrid` of A → B for the first `num_samples` domain-A images of `dataset`."""
        a, _ = next(iter(dataset.unbatch().batch(num_samples).take(1)))
        return TranslationGrid(output_dir, np.asarray(a), None, log_dir=log_dir)

    # --- training -------------------------------------------------------------------------------

    def unpack_batch(self, data):
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            raise UsageError("CycleGAN trains on (domain_a, domain_b) batches; use an unpaired dataset "
                             "(tfgan_app.data.unpaired.load_unpaired).")
        return data[0], data[1]

    def cycle_losses(self, a: tf.Tensor, b: tf.Tensor, training: bool = True) -> Dict[str, tf.Tensor]:
        """Per-example generator-side terms for a batch: fakes, `adversarial`, `cycle`, `identity` ([B] each)."""
        fake_b = self.generator(a, training=training)
        fake_a = self.generator_b_to_a(b, training=training)
        cycle = (l1_distance(self.generator_b_to_a(fake_b, training=training), a)
                 + l1_distance(self.generator(fake_a, training=training), b))
        if self.identity_weight:
            identity = (l1_distance(self.generator(b, training=training), b)
                        + l1_distance(self.generator_b_to_a(a, training=training), a))
        else:
            identity = tf.zeros_like(cycle)
        adversarial = (self.loss_pair.generator(self.discriminator(fake_b, training=training))
                       + self.loss_pair.generator(self.discriminator_a(fake_a, training=training)))
        return {"fake_a": fake_a, "fake_b": fake_b, "adversarial": adversarial, "cycle": cycle,
                "identity": identity}

    def train_step(self, data):
        if self.loss_pair is None:
            raise UsageError("Call gan.compile(d_optimizer=..., g_optimizer=..., loss='least_squares') before fit().")
        a, b = self.unpack_batch(data)
        with tf.GradientTape() as tape:
            terms = self.cycle_losses(a, b)
            g_loss = self._average(terms["adversarial"] + self.cycle_weight * terms["cycle"]
                                   + self.identity_weight * terms["identity"])
        self._apply(self.g_optimizer, g_loss, tape, self.generator_variables)

        step = self.d_optimizer.iterations
        pooled_b = self.pool_b.query(terms["fake_b"], *(stream_seed(self.seed, s, step) for s in sampling.POOL_B))
        pooled_a = self.pool_a.query(terms["fake_a"], *(stream_seed(self.seed, s, step) for s in sampling.POOL_A))
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(b, training=True)
            fake_logits = self.discriminator(pooled_b, training=True)
            d_loss = (self._average(self.loss_pair.discriminator(real_logits, fake_logits))
                      + self._average(self.loss_pair.discriminator(self.discriminator_a(a, training=True),
                                                                   self.discriminator_a(pooled_a, training=True))))
        self._apply(self.d_optimizer, d_loss, tape, self.discriminator_variables)

        self.update_adversarial_metrics(d_loss, g_loss, real_logits, fake_logits)
        self.extra_trackers["cycle"].update_state(terms["cycle"])
        self.extra_trackers["identity"].update_state(terms["identity"])
        return self.metric_results()
