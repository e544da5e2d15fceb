"""DCGAN generator and discriminator (Radford et al. 2016).

Follows the paper's guidelines: strided (transposed) convolutions instead of
pooling, batch norm in both networks but not on the generator output nor the
discriminator input, ReLU in G with a tanh output in [-1, 1], LeakyReLU(0.2) in
D, weights initialised from N(0, 0.02). Square images whose side is 4·2^k or
7·2^k (28, 32, 64, 128, ...) are supported; the number of up/down-sampling
stages follows from the size.

Conditional variants (pass `num_classes`) follow Mirza & Osindero 2014: G sees
a learned label embedding concatenated to z; D sees the label embedded as an
extra image channel.
"""

from typing import Optional, Sequence, Tuple

import keras
from keras import layers

from tfgan_app.errors import UsageError
from tfgan_app.layers import OutputGradLeakyReLU



def normal_init() -> keras.initializers.Initializer:
    """A fresh N(0, 0.02) initializer (DCGAN, Radford et al. 2016) for ONE layer.

    Each layer needs its own instance: an unseeded Keras 3 initializer draws its seed once, when it is
    built, so one instance shared by several layers gives every layer of the same shape identical
    weights. A fresh instance takes its seed from Python's `random` (`keras.utils.set_random_seed`).
    """
    return keras.initializers.RandomNormal(stddev=0.02)


def _stages(image_shape: Sequence[int]) -> Tuple[int, int]:
    """Returns (number of 2x stages, starting side) for a square image side."""
    if len(image_shape) != 3:
        raise UsageError(f"image_shape must be (height, width, channels), received {tuple(image_shape)}.")
    height, width, channels = image_shape
    side, stages = height, 0
    while side % 2 == 0 and side > 4:
        side //= 2
        stages += 1
    if height != width or side not in (4, 7) or stages == 0 or channels not in (1, 3):
        raise UsageError(
            f"DCGAN needs square 1- or 3-channel images whose side is 4·2^k or 7·2^k (e.g. 28, 32, 64), "
            f"received image_shape {tuple(image_shape)}. Resize the data with --image_size (e.g. 32 or 64).")
    return stages, side


def _label_input() -> keras.KerasTensor:
    return keras.Input(shape=(), dtype="int32", name="labels")


def dcgan_generator(latent_dim: int, image_shape: Sequence[int], num_classes: Optional[int] = None,
                    base_filters: int = 64, label_embedding_dim: int = 32,
                    name: str = "generator") -> keras.Model:
    """Builds a DCGAN generator `z [B, latent_dim] (, labels [B]) → images [B, H, W, C]` in [-1, 1].

    Args:
      latent_dim: size of z.
      image_shape: `(H, W, C)` of the generated images.
      num_classes: if set, the generator is conditional and takes `[z, labels]`.
      base_filters: channels of the last hidden stage; each earlier stage doubles it.
      label_embedding_dim: size of the label embedding concatenated to z.
      name: the model's name.

    Returns:
      The uncompiled `keras.Model`, float32 images in [-1, 1] (tanh output).

    Raises:
      UsageError: unless `image_shape` is square, 1- or 3-channel, with side 4·2^k or 7·2^k.

    Example:
    >>> g = dcgan_generator(100, (28, 28, 1))
    >>> g(keras.random.normal((2, 100))).shape.as_list()
    [2, 28, 28, 1]
    """
    stages, side = _stages(image_shape)
    z = keras.Input(shape=(latent_dim,), name="latents")
    inputs, x = [z], z
    if num_classes:
        labels = _label_input()
        inputs.append(labels)
        x = layers.Concatenate()([z, layers.Embedding(num_classes, label_embedding_dim)(labels)])
    top = base_filters * 2 ** (stages - 1)
    x = layers.Dense(side * side * top, use_bias=False, kernel_initializer=normal_init())(x)
    x = layers.Reshape((side, side, top))(layers.ReLU()(layers.BatchNormalization()(x)))
    for i in range(stages - 1):
        x = layers.Conv2DTranspose(top // 2 ** (i + 1), 4, strides=2, padding="same", use_bias=False,
                                   kernel_initializer=normal_init())(x)
        x = layers.ReLU()(layers.BatchNormalization()(x))
    x = layers.Conv2DTranspose(image_shape[-1], 4, strides=2, padding="same", kernel_initializer=normal_init())(x)
    images = layers.Activation("tanh", dtype="float32", name="images")(x)
    return keras.Model(inputs if num_classes else z, images, name=name)


def _down_stages(x, stages: int, base_filters: int, dropout: float = 0.0):
    """The DCGAN discriminator's stride-2 stages (conv 4x4, batch norm after the first, LeakyReLU 0.2, optional
    dropout), shared with `dcgan_encoder`."""
    for i in range(stages):
        x = layers.Conv2D(base_filters * 2 ** i, 4, strides=2, padding="same", use_bias=i == 0,
                          kernel_initializer=normal_init())(x)
        if i > 0:
            x = layers.BatchNormalization()(x)
        x = OutputGradLeakyReLU(0.2)(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
    return x


def dcgan_discriminator(image_shape: Sequence[int], num_classes: Optional[int] = None,
                        base_filters: int = 64, dropout: float = 0.0,
                        name: str = "discriminator") -> keras.Model:
    """Builds a DCGAN discriminator `images (, labels) → logits [B, 1]` (no sigmoid).

    Args:
      image_shape: `(H, W, C)` of the input images.
      num_classes: if set, the discriminator is conditional and takes `[images, labels]`.
      base_filters: channels of the first stage; each later stage doubles it.
      dropout: dropout rate after each stage (0 disables it).
      name: the model's name.

    Returns:
      The uncompiled `keras.Model`, float32 logits `[B, 1]`.

    Raises:
      UsageError: unless `image_shape` is square, 1- or 3-channel, with side 4·2^k or 7·2^k.

    Example:
    >>> d = dcgan_discriminator((28, 28, 1), num_classes=10, base_filters=16)
    >>> d([keras.ops.zeros((2, 28, 28, 1)), keras.ops.zeros((2,), dtype="int32")]).shape.as_list()
    [2, 1]
    """
    stages, _ = _stages(image_shape)
    height, width, _ = image_shape
    images = keras.Input(shape=tuple(image_shape), name="images")
    inputs, x = [images], images
    if num_classes:
        labels = _label_input()
        inputs.append(labels)
        label_map = layers.Reshape((height, width, 1))(layers.Embedding(num_classes, height * width)(labels))
        x = layers.Concatenate()([images, label_map])
    x = _down_stages(x, stages, base_filters, dropout)
    logits = layers.Dense(1, kernel_initializer=normal_init(), dtype="float32", name="logits")(layers.Flatten()(x))
    return keras.Model(inputs if num_classes else images, logits, name=name)


def dcgan_encoder(image_shape: Sequence[int], latent_dim: int, base_filters: int = 32,
                  name: str = "encoder") -> keras.Model:
    """Builds an encoder `images → latents [B, latent_dim]`: the DCGAN discriminator's stages, then a linear
    layer to the latent space (Age-cGAN's E, which inverts a conditional generator).

    Args:
      image_shape: `(H, W, C)` of the input images.
      latent_dim: size of the latent vectors the encoder predicts.
      base_filters: channels of the first stage; each later stage doubles it.
      name: the model's name.

    Returns:
      A `keras.Model` from float images in [-1, 1] to float32 latents.

    Example:
    >>> dcgan_encoder((28, 28, 1), 64).output_shape
    (None, 64)
    """
    stages, _ = _stages(image_shape)
    images = keras.Input(shape=tuple(image_shape), name="images")
    x = _down_stages(images, stages, base_filters)
    latents = layers.Dense(int(latent_dim), dtype="float32", name="latents")(layers.Flatten()(x))
    return keras.Model(images, latents, name=name)
