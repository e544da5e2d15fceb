"""Unrolled GAN (Metz, Poole, Pfau & Sohl-Dickstein 2017, "Unrolled generative adversarial networks").

The generator is trained against the discriminator it *would* face after k more
discriminator updates: with θ_D⁰ = θ_D and θ_D^{i+1} = θ_D^i − η ∇ L_D(θ_D^i, θ_G),
the generator minimises L_G(θ_G, θ_D^k), and the gradient flows through the k
simulated updates (second order). A generator that collapses onto one mode is
then penalised for the discriminator's easy response, which keeps mode coverage
high on mixtures of Gaussians. The real discriminator is still updated normally
(the unrolled weights are discarded after the generator step).

The simulated updates use plain gradient descent with step `unroll_learning_rate`
(the paper unrolls its Adam optimizer; SGD keeps the unrolled graph small) on the
variant's own `discriminator_loss`, and run the discriminator functionally with
`keras.Model.stateless_call`. Only `generator_loss` is overridden.

Example:
>>> gan = UnrolledGAN(mlp_generator(16, (2,), output_activation="linear"), mlp_discriminator((2,)),
...                   unroll_steps=5)
"""

from typing import Any, Dict

import keras
import tensorflow as tf

from tfgan_app.errors import UsageError
from tfgan_app.gans.base import GAN


@keras.saving.register_keras_serializable(package="tfgan_app")
class UnrolledGAN(GAN):
    """GAN whose generator loss is taken through `unroll_steps` simulated discriminator updates.

    Args:
      unroll_steps: k (5–10 in the paper).
      unroll_learning_rate: η of the simulated gradient-descent steps.
      (other arguments as `GAN`)

    Raises:
      UsageError: for an `unroll_steps` that is not a positive integer, a non-positive
        `unroll_learning_rate`, or a bad option of `GAN`.

    Example:
    >>> gan = UnrolledGAN(mlp_generator(16, (2,), hidden_units=(32, 32), output_activation="linear"),
    ...                   mlp_discriminator((2,), hidden_units=(32, 32)), unroll_steps=5)
    >>> gan.compile(d_optimizer="adam", g_optimizer="adam")
    >>> history = gan.fit(load_toy("ring8", batch_size=64).dataset.take(10), epochs=1, verbose=0)
    >>> gan.generate(100).shape   # 2-D points
    (100, 2)
    """

    unsupported_techniques = {
        "feature_matching": "it would replace the generator loss taken through the unrolled discriminator, "
                            "which switches unrolling off",
        "instance_noise": "the simulated discriminator steps call the discriminator without noise",
        "diff_augment": "the simulated discriminator steps call the discriminator without augmentation",
        "r1_gamma": "the simulated discriminator steps minimise the discriminator loss without penalties",
    }

    def __init__(self, generator: keras.Model, discriminator: keras.Model, unroll_steps: int = 5,
                 unroll_learning_rate: float = 0.01, **kwargs):
        super().__init__(generator, discriminator, **kwargs)
        if not isinstance(unroll_steps, int) or unroll_steps < 1:
            raise UsageError(f"unroll_steps must be a positive integer (5-10 in the paper), received {unroll_steps!r}.")
        if not unroll_learning_rate > 0:
            raise UsageError(f"unroll_learning_rate must be positive, received {unroll_learning_rate!r}.")
        self.unroll_steps = unroll_steps
        self.unroll_learning_rate = float(unroll_learning_rate)

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "unroll_steps": self.unroll_steps,
                "unroll_learning_rate": self.unroll_learning_rate}

    def unrolled_weights(self, real, fake, condition):
        """θ_D^k as tensors: k gradient steps on `discriminator_loss`, differentiable w.r.t. `fake`."""
        d = self.discriminator
        weights = [tf.convert_to_tensor(v) for v in d.trainable_variables]
        frozen = [tf.convert_to_tensor(v) for v in d.non_trainable_variables]
        real_inputs = self.discriminator_inputs(real, condition)
        fake_inputs = self.discriminator_inputs(fake, condition)
        for _ in range(self.unroll_steps):
            with tf.GradientTape() as tape:
                tape.watch(weights)
                real_logits, _ = d.stateless_call(weights, frozen, real_inputs, training=True)
                fake_logits, _ = d.stateless_call(weights, frozen, fake_inputs, training=True)
                loss = tf.reduce_mean(self.discriminator_loss(real_logits, fake_logits, real, fake, condition))
            grads = tape.gradient(loss, weights)
            weights = [w if g is None else w - self.unroll_learning_rate * g for w, g in zip(weights, grads)]
        return weights, frozen

    def generator_loss(self, fake_logits, fake, real, condition) -> tf.Tensor:
        weights, frozen = self.unrolled_weights(real, fake, condition)
        unrolled_logits, _ = self.discriminator.stateless_call(
            weights, frozen, self.discriminator_inputs(fake, condition), training=True)
        return super().generator_loss(unrolled_logits, fake, real, condition)
