"""Fully connected generator and discriminator, as in the original GAN paper (Goodfellow et al. 2014).

Small and fast: useful for MNIST-sized images, 1-D/2-D toy distributions and tests.
"""

from typing import Optional, Sequence

import keras
from keras import layers

from tfgan_app.layers import OutputGradLeakyReLU


def _with_labels(x, num_classes: Optional[int], embedding_dim: int):
    if not num_classes:
        return [x], x
    labels = keras.Input(shape=(), dtype="int32", name="labels")
    return [x, labels], layers.Concatenate()([layers.Flatten()(x), layers.Embedding(num_classes, embedding_dim)(labels)])


def mlp_generator(latent_dim: int, image_shape: Sequence[int], num_classes: Optional[int] = None,
                  hidden_units: Sequence[int] = (256, 512), output_activation: str = "tanh",
                  batch_norm: bool = False, name: str = "generator") -> keras.Model:
    """Builds `z (, labels) → [B, *image_shape]` with ReLU hidden layers.

    `image_shape` may be any shape, e.g. `(28, 28, 1)` for images or `(2,)` for
    points of a 2-D toy distribution (then use `output_activation="linear"`).
    `batch_norm=True` makes each hidden layer Dense (no bias) → BatchNorm → ReLU, as
    PacGAN's 2-D generator.

    Args:
      latent_dim: size of z.
      image_shape: shape of one output sample (any rank).
      num_classes: if set, the generator is conditional and takes `[z, labels]` (a 16-d label embedding
        is concatenated to z).
      hidden_units: sizes of the ReLU hidden layers.
      output_activation: activation of the output, "tanh" for images in [-1, 1], "linear" for toy points.
      batch_norm: Dense (no bias) → BatchNorm → ReLU hidden layers instead of Dense + ReLU.
      name: the model's name.

    Returns:
      The uncompiled `keras.Model`, float32 output `[B, *image_shape]`.

    Example:
    >>> mlp_generator(2, (2,), hidden_units=(32, 32), output_activation="linear").output_shape
    (None, 2)
    """
    z = keras.Input(shape=(latent_dim,), name="latents")
    inputs, x = _with_labels(z, num_classes, 16)
    for units in hidden_units:
        if batch_norm:
            x = layers.ReLU()(layers.BatchNormalization()(layers.Dense(units, use_bias=False)(x)))
        else:
            x = layers.Dense(units, activation="relu")(x)
    size = 1
    for dim in image_shape:
        size *= int(dim)
    x = layers.Dense(size)(x)
    x = layers.Activation(output_activation, dtype="float32")(layers.Reshape(tuple(image_shape))(x))
    return keras.Model(inputs if num_classes else z, x, name=name)


def mlp_discriminator(image_shape: Sequence[int], num_classes: Optional[int] = None,
                      hidden_units: Sequence[int] = (512, 256), name: str = "discriminator") -> keras.Model:
    """Builds `x (, labels) → logits [B, 1]` with LeakyReLU(0.2) hidden layers.

    Args:
      image_shape: shape of one input sample (any rank; it is flattened).
      num_classes: if set, the discriminator is conditional and takes `[x, labels]`.
      hidden_units: sizes of the hidden layers.
      name: the model's name.

    Returns:
      The uncompiled `keras.Model`, float32 logits `[B, 1]` (no sigmoid).

    Example:
    >>> mlp_discriminator((28, 28, 1), hidden_units=(64,)).output_shape
    (None, 1)
    """
    images = keras.Input(shape=tuple(image_shape), name="images")
    inputs, x = _with_labels(images, num_classes, 16)
    x = layers.Flatten()(x)
    for units in hidden_units:
        x = OutputGradLeakyReLU(0.2)(layers.Dense(units)(x))
    logits = layers.Dense(1, dtype="float32", name="logits")(x)
    return keras.Model(inputs if num_classes else images, logits, name=name)
