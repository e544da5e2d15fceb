"""Auto-encoder discriminator of the energy-based GANs (EBGAN: Zhao et al. 2017; BEGAN: Berthelot et al. 2017).

Instead of a logit, D reconstructs its input: the energy of a sample is its reconstruction
error (`tfgan_app.losses.reconstruction_energy`), low on data and high elsewhere. The
encoder is the DCGAN discriminator's strided convolutions (no batch norm, as BEGAN),
down to a code of `code_dim` values; the decoder mirrors it with transposed
convolutions. The model returns `[reconstructions, codes]`: EBGAN's pulling-away term
is computed on the codes.
"""

from typing import Optional, Sequence

import keras
from keras import layers

from tfgan_app.architectures.dcgan import _stages, normal_init
from tfgan_app.errors import UsageError

ACTIVATIONS = ("elu", "leaky_relu")


def _activation(name: str) -> layers.Layer:
    return layers.ELU() if name == "elu" else layers.LeakyReLU(0.2)


def autoencoder_discriminator(image_shape: Sequence[int], num_classes: Optional[int] = None,
                              base_filters: int = 32, code_dim: int = 64, activation: str = "elu",
                              name: str = "discriminator") -> keras.Model:
    """Builds an auto-encoder discriminator `images [B, H, W, C] → [reconstructions [B, H, W, C], codes [B, code_dim]]`.

    Args:
      image_shape: `(H, W, C)` of the input images (DCGAN sizes: side 4·2^k or 7·2^k).
      num_classes: must be None (the energy-based GANs here are unconditional).
      base_filters: channels of the first encoder stage; each later stage doubles it.
      code_dim: size of the code (the bottleneck; BEGAN's h, 64 in the paper).
      activation: "elu" (BEGAN) or "leaky_relu" (EBGAN's DCGAN-style networks).

    Returns:
      The uncompiled `keras.Model`, both outputs float32 (reconstructions are linear, not squashed).

    Raises:
      UsageError: for a conditional request, a bad size or an unknown activation.

    Example:
    >>> d = autoencoder_discriminator((28, 28, 1), base_filters=16, code_dim=8)
    >>> [tuple(shape) for shape in d.output_shape]
    [(None, 28, 28, 1), (None, 8)]
    """
    if num_classes:
        raise UsageError(f"The auto-encoder discriminator is unconditional. Received: num_classes={num_classes!r}")
    if activation not in ACTIVATIONS:
        raise UsageError(f"activation must be one of {', '.join(ACTIVATIONS)}. Received: activation={activation!r}")
    if not isinstance(code_dim, int) or code_dim < 1:
        raise UsageError(f"code_dim must be a positive integer. Received: code_dim={code_dim!r}")
    stages, side = _stages(image_shape)
    images = keras.Input(shape=tuple(image_shape), name="images")
    x = images
    for i in range(stages):
        x = layers.Conv2D(base_filters * 2 ** i, 4, strides=2, padding="same", kernel_initializer=normal_init())(x)
        x = _activation(activation)(x)
    codes = layers.Dense(code_dim, kernel_initializer=normal_init(), dtype="float32", name="codes")(
        layers.Flatten()(x))
    top = base_filters * 2 ** (stages - 1)
    x = layers.Dense(side * side * top, kernel_initializer=normal_init())(codes)
    x = _activation(activation)(layers.Reshape((side, side, top))(x))
    for i in range(stages - 1):
        x = layers.Conv2DTranspose(top // 2 ** (i + 1), 4, strides=2, padding="same",
                                   kernel_initializer=normal_init())(x)
        x = _activation(activation)(x)
    reconstructions = layers.Conv2DTranspose(image_shape[-1], 4, strides=2, padding="same", dtype="float32",
                                             kernel_initializer=normal_init(), name="reconstructions")(x)
    return keras.Model(images, [reconstructions, codes], name=name)
