"""Conditional editing with Age-cGAN (Antipov et al. 2017): re-generate an image under another condition.

Three parts, as in the paper:

1. A conditional generator G(z, y) trained as a conditional GAN (`ConditionalGAN`'s loop, unchanged).
2. An encoder E trained on generated pairs to invert G: `‖z − E(G(z, y))‖²`
   (`tfgan_app.losses.latent_reconstruction_loss`), added to the generator step with G's output held fixed
   (`tf.stop_gradient`), so E learns from G and G's own loss is the conditional GAN's. E's variables are
   updated by the generator optimizer; the loss is reported as the `encoder_mse` metric.
3. Editing (`edit`): for an image x with condition y₀, the latent is optimised from E(x) to preserve identity,
   `z* = argmin_z ‖FR(x) − FR(G(z, y₀))‖²` (`invert`), then the image is re-generated as G(z*, y_target).
   FR is the identity embedding: a face-recognition network in the paper, which also compares the pixel-wise
   reconstruction used here by default (`identity_features=None`); pass any Keras model mapping images to
   features (e.g. a classifier's penultimate layer) to optimise in its space instead. When y₀ is not given it
   is the condition under which G reconstructs E(x) best (`infer_condition`).

On MNIST the condition is the digit: editing keeps a digit's style (slant, stroke width) and changes its class.
The same model trains on faces with a binary attribute as the condition (e.g. `tfds:celeb_a` with
`--set data.label=attributes/Young`), which is the paper's face aging with two age groups.

Example:
>>> gan = AgeCGAN(dcgan_generator(64, (28, 28, 1), 10), dcgan_discriminator((28, 28, 1), 10), num_classes=10)
>>> gan.compile(d_optimizer="adam", g_optimizer="adam")
>>> gan.fit(mnist_batches, epochs=1)
>>> sevens_as_ones = gan.edit(sevens, target_labels=[1] * len(sevens))
"""

from typing import Any, Dict, Optional, Sequence, Tuple

import keras
import numpy as np
import tensorflow as tf

from tfgan_app import losses as gan_losses
from tfgan_app.architectures.dcgan import dcgan_encoder
from tfgan_app.errors import UsageError
from tfgan_app.gans.conditional import ConditionalGAN
from tfgan_app.gans.sampling import ENCODER_LATENTS, stream_seed


def _check_positive(name: str, value, integer: bool = False) -> None:
    kind = (int, np.integer) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or not value > 0:
        raise UsageError(f"{name} must be a positive {'integer' if integer else 'number'}. Received: {name}={value!r}")


@keras.saving.register_keras_serializable(package="tfgan_app")
class AgeCGAN(ConditionalGAN):
    """A conditional GAN with an encoder that inverts its generator, for identity-preserving conditional edits.

    Args:
      generator: conditional `keras.Model` on `[z, labels]`.
      discriminator: conditional `keras.Model` on `[images, labels]`.
      num_classes: number of conditions (digits, age groups, ...).
      encoder: `keras.Model` images → latents `[B, latent_dim]`; default: `dcgan_encoder` with
        `encoder_filters` channels in its first stage.
      encoder_weight: weight of the encoder loss in the generator step (it only moves E's weights).
      encoder_filters: first-stage channels of the default encoder.
      (other arguments as `ConditionalGAN`)

    Raises:
      UsageError: a non-positive weight or filter count, or an encoder that does not map G's images to its
        latents.

    Example:
    >>> gan = AgeCGAN(generator, discriminator, num_classes=10)
    >>> edited = gan.edit(images, target_labels=[3, 3], source_labels=[7, 7])
    """

    networks = ("generator", "discriminator", "encoder")
    extra_metric_names = ("encoder_mse",)

    def __init__(self, generator: keras.Model, discriminator: keras.Model, num_classes: int,
                 encoder: Optional[keras.Model] = None, encoder_weight: float = 1.0, encoder_filters: int = 32,
                 **kwargs):
        _check_positive("encoder_weight", encoder_weight)
        _check_positive("encoder_filters", encoder_filters, integer=True)
        super().__init__(generator, discriminator, num_classes, **kwargs)
        image_shape = tuple(generator.outputs[0].shape[1:])
        self.encoder = encoder if encoder is not None else dcgan_encoder(image_shape, self.latent_dim, encoder_filters)
        if tuple(self.encoder.inputs[0].shape[1:]) != image_shape or self.encoder.outputs[0].shape[-1] != self.latent_dim:
            raise UsageError(f"The encoder must map images {list(image_shape)} to latents [{self.latent_dim}]. "
                             f"Received: encoder inputs {tuple(self.encoder.inputs[0].shape)}, outputs "
                             f"{tuple(self.encoder.outputs[0].shape)}")
        self.encoder_weight = float(encoder_weight)
        self.encoder_filters = int(encoder_filters)

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "encoder_weight": self.encoder_weight, "encoder_filters": self.encoder_filters}

    @property
    def generator_variables(self):
        """G's and E's trainable variables: the generator optimizer trains both (E's loss does not reach G)."""
        return self.generator.trainable_variables + self.encoder.trainable_variables

    def encoder_loss(self, condition) -> tf.Tensor:
        """Per-example `‖z − E(G(z, y))‖²` on fresh latents z and the batch's conditions y; G's output is held fixed."""
        batch = tf.shape(condition)[0]
        z = tf.random.stateless_normal(tf.stack([batch, self.latent_dim]),
                                       seed=stream_seed(self.seed, ENCODER_LATENTS, self.g_optimizer.iterations))
        images = tf.stop_gradient(self.generator(self.generator_inputs(z, condition), training=True))
        return gan_losses.latent_reconstruction_loss(z, self.encoder(images, training=True))

    def generator_loss(self, fake_logits, fake, real, condition) -> tf.Tensor:
        """The conditional GAN's G loss plus `encoder_weight` × the encoder loss (per example)."""
        reconstruction = self.encoder_loss(condition)
        self.extra_trackers["encoder_mse"].update_state(reconstruction)
        return super().generator_loss(fake_logits, fake, real, condition) + self.encoder_weight * reconstruction

    # --- editing ---------------------------------------------------------------------------------

    def _labels(self, labels, num: int, name: str) -> tf.Tensor:
        labels = np.resize(np.asarray(labels, np.int64).reshape([-1]), num)
        if labels.size and (labels.min() < 0 or labels.max() >= self.num_classes):
            raise UsageError(f"{name} must be in [0, {self.num_classes}). Received: {name}={sorted(set(labels))}")
        return tf.constant(labels, tf.int32)

    def identity_loss(self, images: tf.Tensor, reconstructions: tf.Tensor,
                      identity_features: Optional[keras.Model] = None) -> tf.Tensor:
        """`‖FR(x) − FR(G(z, y₀))‖²` per example, averaged over the features: FR is `identity_features` or,
        by default, the pixels (the paper's pixel-wise reconstruction)."""
        if identity_features is not None:
            images, reconstructions = identity_features(images), identity_features(reconstructions)
        batch = tf.shape(images)[0]
        difference = tf.reshape(tf.cast(images, tf.float32) - tf.cast(reconstructions, tf.float32), [batch, -1])
        return tf.reduce_mean(tf.square(difference), axis=1)

    def infer_condition(self, images) -> np.ndarray:
        """For each image, the condition y₀ under which G(E(x), y) is closest to x (pixel-wise): int32 `[N]`."""
        images = tf.convert_to_tensor(images, tf.float32)
        latents = self.encoder(images, training=False)
        losses = [self.identity_loss(images, self.sampling_generator(
            [latents, tf.fill([tf.shape(images)[0]], y)], training=False)) for y in range(self.num_classes)]
        return np.argmin(np.stack([loss.numpy() for loss in losses], axis=1), axis=1).astype(np.int32)

    def invert(self, images, source_labels, steps: int = 100, learning_rate: float = 0.05,
               identity_features: Optional[keras.Model] = None) -> Tuple[np.ndarray, np.ndarray]:
        """Identity-preserving latent optimisation: `z* = argmin_z identity_loss(x, G(z, y₀))` from z₀ = E(x).

        Args:
          images: float images `[N, H, W, C]` in [-1, 1].
          source_labels: their conditions y₀ (cycled to N).
          steps: Adam steps on the latents (0: E(x) itself).
          learning_rate: Adam's learning rate on the latents.
          identity_features: FR, a model from images to identity features (None: the pixels).

        Returns:
          `(latents z* [N, latent_dim], losses [steps + 1, N])`: the identity loss at E(x) and after each step.

        Raises:
          UsageError: a negative step count, a non-positive learning rate or labels out of range.
        """
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
            raise UsageError(f"steps must be an integer >= 0. Received: steps={steps!r}")
        _check_positive("learning_rate", learning_rate)
        images = tf.convert_to_tensor(images, tf.float32)
        labels = self._labels(source_labels, int(images.shape[0]), "source_labels")
        latents = tf.Variable(self.encoder(images, training=False))
        optimizer = keras.optimizers.Adam(learning_rate)
        generator = self.sampling_generator

        def loss_fn():
            return self.identity_loss(images, generator([latents, labels], training=False), identity_features)

        @tf.function
        def step():
            with tf.GradientTape() as tape:
                per_example = loss_fn()
                total = tf.reduce_sum(per_example)  # each latent moves on its own image's loss
            optimizer.apply_gradients([(tape.gradient(total, latents), latents)])
            return per_example

        history = [loss_fn().numpy()]
        for _ in range(int(steps)):
            step()
            history.append(loss_fn().numpy())
        return latents.numpy(), np.stack(history)

    def edit(self, images, target_labels, source_labels=None, steps: int = 100, learning_rate: float = 0.05,
             identity_features: Optional[keras.Model] = None) -> np.ndarray:
        """Re-generates `images` under `target_labels`, keeping their identity: `G(invert(x, y₀), y_target)`.

        Args:
          images: float images `[N, H, W, C]` in [-1, 1].
          target_labels: the new conditions (cycled to N).
          source_labels: the images' conditions y₀ (None: `infer_condition`).
          steps, learning_rate, identity_features: as `invert`.

        Returns:
          The edited images, float32 `[N, H, W, C]` in [-1, 1].

        Raises:
          UsageError: labels out of range or bad optimisation settings.
        """
        images = np.asarray(images, np.float32)
        if images.ndim != 4 or tuple(images.shape[1:]) != tuple(self.generator.outputs[0].shape[1:]):
            raise UsageError(f"Expected images [N, {', '.join(map(str, self.generator.outputs[0].shape[1:]))}]. "
                             f"Received: images of shape {images.shape}")
        source = self.infer_condition(images) if source_labels is None else source_labels
        latents, _ = self.invert(images, source, steps, learning_rate, identity_features)
        target = self._labels(target_labels, len(images), "target_labels")
        return np.asarray(self.sampling_generator([tf.constant(latents), target], training=False), np.float32)
