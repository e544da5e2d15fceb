"""Context-encoder inpainting (Pathak et al. 2016): masked image → filled image.

The generator F (a U-Net) sees the image with its central hole blanked, (1 − M̂) ⊙ x (the paired dataset
`mnist_inpaint`, `tfgan_app.data.paired.center_mask`), and fills it. Its loss is the joint one of the paper,

    L = λ_rec·‖M̂ ⊙ (x − F((1 − M̂) ⊙ x))‖² + λ_adv·L_adv,   λ_rec = 0.999, λ_adv = 0.001,

with the reconstruction on the hole only (`tfgan_app.losses.hole_reconstruction_loss`, reported as the
`hole_mse` metric). Everything else is pix2pix's: the discriminator (a PatchGAN) judges `[masked input,
output]`, the compiled loss pair is the adversarial term, and the model exports as an image-to-image kind.

Example:
>>> info = load_paired("mnist_inpaint", batch_size=16)
>>> gan = ContextEncoder(unet_generator((28, 28, 1), base_filters=16),
...                      patchgan_discriminator((28, 28, 1), (28, 28, 1), base_filters=16, num_layers=2))
>>> gan.compile(d_optimizer="adam", g_optimizer="adam", loss="non_saturating")
>>> filled = gan.translate(masked_images)
"""

from typing import Any, Dict

import keras
import tensorflow as tf

from tfgan_app import losses as gan_losses
from tfgan_app.data.paired import center_mask
from tfgan_app.errors import UsageError
from tfgan_app.gans.pix2pix import Pix2Pix


@keras.saving.register_keras_serializable(package="tfgan_app")
class ContextEncoder(Pix2Pix):
    """Context encoder: pix2pix's networks and loop with the hole-only reconstruction loss of the paper.

    Args:
      generator: image-in `keras.Model` (e.g. `unet_generator`) taking the masked image.
      discriminator: `keras.Model` on `[masked image, image]` (e.g. `patchgan_discriminator(.., condition_shape)`).
      rec_weight: λ_rec of the hole reconstruction (0.999 in the paper).
      adv_weight: λ_adv of the adversarial term (0.001 in the paper).
      (other arguments as `AdversarialModel`)

    Raises:
      UsageError: for a negative weight.

    Example:
    >>> info = load_paired("mnist_inpaint", batch_size=16)
    >>> gan = ContextEncoder(unet_generator((28, 28, 1), base_filters=8),
    ...                      patchgan_discriminator((28, 28, 1), (28, 28, 1), base_filters=8, num_layers=2))
    >>> gan.compile(d_optimizer="adam", g_optimizer="adam", loss="non_saturating")
    >>> history = gan.fit(info.dataset.take(10), epochs=1, verbose=0)
    >>> "hole_mse" in history.history
    True
    """

    extra_metric_names = ("hole_mse",)

    def __init__(self, generator: keras.Model, discriminator: keras.Model, rec_weight: float = 0.999,
                 adv_weight: float = 0.001, **kwargs):
        kwargs.pop("l1_weight", None)  # pix2pix's term, unused here (0 in the saved config)
        for name, value in (("rec_weight", rec_weight), ("adv_weight", adv_weight)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise UsageError(f"{name} must be a number >= 0. Received: {name}={value!r}")
        super().__init__(generator, discriminator, l1_weight=0.0, **kwargs)
        self.rec_weight = float(rec_weight)
        self.adv_weight = float(adv_weight)

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "rec_weight": self.rec_weight, "adv_weight": self.adv_weight}

    def hole_mask(self, images: tf.Tensor) -> tf.Tensor:
        """M̂ for a batch of images: the central hole the training inputs were blanked on, `[1, H, W, 1]`."""
        return center_mask(images.shape[1], images.shape[2])

    def generator_loss(self, fake_logits, fake, real, condition) -> tf.Tensor:
        """λ_rec·(hole MSE) + λ_adv·(adversarial loss), per example; updates the `hole_mse` metric."""
        hole = gan_losses.hole_reconstruction_loss(real, fake, self.hole_mask(real))
        self.extra_trackers["hole_mse"].update_state(hole)
        adversarial = self.adversarial_generator_loss(fake_logits, fake, real, condition)
        return self.rec_weight * hole + self.adv_weight * adversarial
