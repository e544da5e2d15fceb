"""pix2pix (Isola et al. 2017): a conditional GAN on `(input, target)` image pairs.

The generator (a U-Net) maps an input image x to G(x); the discriminator (a
PatchGAN) sees the pair `[x, y]` and judges every patch real or fake. The
generator minimises the adversarial loss plus λ·‖y − G(x)‖₁ (λ = 100 in the
paper): L1 gets the low frequencies right, the PatchGAN the sharp detail.

All of the adversarial loop is the base class's; pix2pix only states what
differs (hooks): the batch is a pair, D is conditioned on the input, and the
generator loss has the L1 term. The L1 term is reported as the `l1` metric.

Example:
>>> info = load_paired("mnist_edges", batch_size=16)
>>> gan = Pix2Pix(unet_generator((28, 28, 1), base_filters=16),
...               patchgan_discriminator((28, 28, 1), (28, 28, 1), base_filters=16, num_layers=2))
>>> gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
...             g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), loss="non_saturating")
>>> gan.fit(info.dataset, epochs=1)
>>> digits = gan.translate(edge_images)
"""

from typing import Any, Dict

import keras
import tensorflow as tf

from tfgan_app.architectures.patchgan import patchgan_discriminator
from tfgan_app.architectures.unet import unet_generator
from tfgan_app.errors import UsageError
from tfgan_app.gans.image_to_image import ImageToImageGAN, check_builder, l1_distance, pair_shapes


@keras.saving.register_keras_serializable(package="tfgan_app")
class Pix2Pix(ImageToImageGAN):
    """pix2pix: generator `input image → output image`, discriminator `[input, image] → patch logits`.

    Args:
      generator: image-in `keras.Model` (e.g. `unet_generator`).
      discriminator: `keras.Model` on `[condition, images]` (e.g. `patchgan_discriminator(.., condition_shape)`).
      l1_weight: λ of the L1 reconstruction term (100 in the paper).
      (other arguments as `AdversarialModel`)

    Raises:
      UsageError: for a discriminator that does not take `[condition, images]`, a negative `l1_weight`, or a
        bad option of `AdversarialModel`.

    Example:
    >>> info = load_paired("mnist_edges", batch_size=16)
    >>> gan = Pix2Pix(unet_generator((28, 28, 1), base_filters=8),
    ...               patchgan_discriminator((28, 28, 1), (28, 28, 1), base_filters=8, num_layers=2), l1_weight=100.0)
    >>> gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
    ...             g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), loss="non_saturating")
    >>> history = gan.fit(info.dataset.take(10), epochs=1, verbose=0)
    >>> gan.translate(np.zeros((2, 28, 28, 1), np.float32)).shape
    (2, 28, 28, 1)
    """

    extra_metric_names = ("l1",)

    def __init__(self, generator: keras.Model, discriminator: keras.Model, l1_weight: float = 100.0, **kwargs):
        if len(discriminator.inputs) != 2:
            raise UsageError("Pix2Pix needs a discriminator on [condition, images]; build it with "
                             "patchgan_discriminator(image_shape, condition_shape=input_shape).")
        if l1_weight < 0:
            raise UsageError(f"l1_weight must be >= 0, received {l1_weight}.")
        super().__init__(generator, discriminator, **kwargs)
        self.l1_weight = float(l1_weight)

    @classmethod
    def from_preset(cls, preset, info) -> "Pix2Pix":
        """Builds the (uncompiled) model of a preset for a paired `DatasetInfo`."""
        check_builder("generator", preset.generator, ("unet",))
        check_builder("discriminator", preset.discriminator, ("patchgan",))
        input_shape, target_shape = pair_shapes(info)
        generator = unet_generator(input_shape, output_channels=target_shape[-1], **preset.generator_options)
        discriminator = patchgan_discriminator(target_shape, condition_shape=input_shape,
                                               **preset.discriminator_options)
        return cls(generator, discriminator, seed=preset.seed, **preset.gan_options)

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "l1_weight": self.l1_weight}

    def discriminator_inputs(self, samples, condition):
        return [condition, samples]

    def generator_loss(self, fake_logits, fake, real, condition) -> tf.Tensor:
        """Adversarial loss + λ·L1(target, output), per example; updates the `l1` metric."""
        l1 = l1_distance(real, fake)
        self.extra_trackers["l1"].update_state(l1)
        return self.adversarial_generator_loss(fake_logits, fake, real, condition) + self.l1_weight * l1
