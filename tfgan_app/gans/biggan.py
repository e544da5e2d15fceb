"""BigGAN-style class-conditional GAN (Brock et al. 2019, "Large scale GAN training for high fidelity natural
image synthesis"), small.

The networks carry most of BigGAN (`tfgan_app.architectures.biggan`): a shared class embedding and a
hierarchical latent feeding conditional batch norm, residual blocks, self-attention, a projection
discriminator and spectral normalisation in both. The loop is `ConditionalGAN`'s (G is fed the labels of
the real batch); what this class adds is BigGAN's orthogonal regularisation of G, through the
`generator_loss` hook:

    L_G = hinge G loss + β·Σ_W ‖WᵀW ⊙ (1 − I)‖²_F       (`tfgan_app.losses.orthogonal_penalty`, β = 1e-4)

over G's kernels (every trainable weight of rank ≥ 2 but the shared class embedding, as BigGAN-PyTorch's
`utils.ortho` blacklists `G.shared`). The penalty is logged as the metric `orthogonal`.

The rest is configuration (`models/biggan_mnist.json`): hinge loss, `d_steps: 2`, Adam β = (0, 0.999), an
EMA generator (`ema_decay`). Truncation at sampling is the project's ψ mechanism (`GAN.generate(truncation=ψ)`,
`tfgan generate --truncation`, the exported `generate_truncated` signatures): every chunk of z is scaled by ψ.
The paper instead resamples the entries of z whose magnitude exceeds a threshold; ψ-scaling is used here
because the SavedModel and TFLite exports compute it in-graph for every latent model, so Python, the
export and the server give the same image for the same (seed, label, ψ).

Example:
>>> g = biggan_generator(60, (28, 28, 1), num_classes=10)
>>> d = biggan_discriminator((28, 28, 1), num_classes=10)
>>> gan = BigGAN(g, d, num_classes=10, orthogonal_weight=1e-4, d_steps=2, ema_decay=0.999)
>>> gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.0, beta_2=0.999),
...             g_optimizer=keras.optimizers.Adam(5e-5, beta_1=0.0, beta_2=0.999), loss="hinge")
"""

from typing import Any, Dict, List

import keras
import tensorflow as tf

from tfgan_app import losses as gan_losses
from tfgan_app.errors import UsageError
from tfgan_app.gans.conditional import ConditionalGAN


@keras.saving.register_keras_serializable(package="tfgan_app")
class BigGAN(ConditionalGAN):
    """A class-conditional GAN with BigGAN's orthogonal regularisation of the generator.

    Args:
      generator: `[z, labels] → images` (e.g. `biggan_generator`).
      discriminator: `[images, labels] → logits` (e.g. `biggan_discriminator`, a projection discriminator).
      num_classes: number of labels.
      orthogonal_weight: β of the orthogonal penalty added to G's loss (1e-4 in the paper; 0 disables it).
      (other arguments as `ConditionalGAN` / `GAN`: d_steps, ema_decay, ...)

    Raises:
      UsageError: for a negative or non-numeric orthogonal_weight.

    Example:
    >>> gan = BigGAN(biggan_generator(60, (28, 28, 1), num_classes=10),
    ...              biggan_discriminator((28, 28, 1), num_classes=10), num_classes=10, d_steps=2)
    >>> gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.0, beta_2=0.999),
    ...             g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.0, beta_2=0.999), loss="hinge")
    >>> gan.fit(mnist_batches, epochs=1, steps_per_epoch=100).history["orthogonal"][-1] > 0
    True
    """

    extra_metric_names = ("orthogonal",)

    def __init__(self, generator: keras.Model, discriminator: keras.Model, num_classes: int,
                 orthogonal_weight: float = 1e-4, **kwargs):
        if isinstance(orthogonal_weight, bool) or not isinstance(orthogonal_weight, (int, float)) \
                or not orthogonal_weight >= 0:
            raise UsageError(f"orthogonal_weight must be a number >= 0 (0 disables the penalty). "
                             f"Received: orthogonal_weight={orthogonal_weight!r}")
        super().__init__(generator, discriminator, num_classes, **kwargs)
        self.orthogonal_weight = float(orthogonal_weight)

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "orthogonal_weight": self.orthogonal_weight}

    def orthogonal_weights(self) -> List[tf.Variable]:
        """G's kernels the penalty applies to: trainable weights of rank ≥ 2, less embeddings (`embeddings`)."""
        return [v for v in self.generator.trainable_variables
                if len(v.shape) >= 2 and v.name.split("/")[-1].split(":")[0] != "embeddings"]

    def generator_loss(self, fake_logits, fake, real, condition) -> tf.Tensor:
        """The adversarial term per example plus the orthogonal penalty (a scalar counted once per batch)."""
        penalty = gan_losses.orthogonal_penalty(self.orthogonal_weights(), self.orthogonal_weight)
        self.extra_trackers["orthogonal"].update_state(penalty)
        return self.adversarial_generator_loss(fake_logits, fake, real, condition) + penalty
