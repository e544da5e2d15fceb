"""U-Net image-to-image generator (Ronneberger et al. 2015), as used by pix2pix (Isola et al. 2017).

An encoder of stride-2 convolutions halves the image `depth` times; a decoder of
stride-2 transposed convolutions doubles it back, each stage concatenated with
the encoder output of the same size (skip connections carry the low-level
detail an input→output translation keeps). Following pix2pix: 4x4 kernels,
LeakyReLU(0.2) in the encoder, ReLU in the decoder, no normalisation on the
first encoder stage, dropout 0.5 on the innermost decoder stages, tanh output.
`norm="instance"` gives the CycleGAN variant (instance normalisation).

Example:
>>> g = unet_generator((28, 28, 1), base_filters=16)
>>> g(keras.ops.zeros((2, 28, 28, 1))).shape
(2, 28, 28, 1)
"""

from typing import Optional, Sequence

import keras
from keras import layers

from tfgan_app.architectures.dcgan import normal_init
from tfgan_app.errors import UsageError
from tfgan_app.layers import OutputGradLeakyReLU

NORMS = ("batch", "instance", "none")


def normalization(norm: str):
    """The normalisation layer for `norm` ("batch", "instance" or "none"), or None."""
    if norm not in NORMS:
        raise UsageError(f"norm must be one of {NORMS}, received {norm!r}.")
    if norm == "batch":
        return layers.BatchNormalization()
    if norm == "instance":
        return layers.GroupNormalization(groups=-1)  # one group per channel = instance norm
    return None


def max_depth(image_shape: Sequence[int]) -> int:
    """How many times the image's height and width can both be halved exactly (at most 8)."""
    height, width = int(image_shape[0]), int(image_shape[1])
    depth = 0
    while depth < 8 and height % 2 == 0 and width % 2 == 0 and min(height, width) >= 2:
        height, width, depth = height // 2, width // 2, depth + 1
    return depth


def unet_generator(input_shape: Sequence[int], output_channels: Optional[int] = None, base_filters: int = 64,
                   max_filters: int = 512, depth: Optional[int] = None, dropout: float = 0.5,
                   norm: str = "batch", name: str = "generator") -> keras.Model:
    """Builds a U-Net `images [B, H, W, C_in] → images [B, H, W, C_out]` in [-1, 1].

    Args:
      input_shape: `(H, W, C_in)`; H and W must be divisible by `2**depth`.
      output_channels: `C_out` (default `C_in`).
      base_filters: channels of the first encoder stage; doubled per stage up to `max_filters`.
      max_filters: channel cap of the deeper stages.
      depth: number of down-sampling stages (default: as many as the size allows, at most 8;
        8 for 256x256 as in pix2pix, 2 for 28x28).
      dropout: dropout rate of the three innermost decoder stages (0 disables).
      norm: "batch" (pix2pix), "instance" (CycleGAN) or "none".
      name: the model's name.

    Returns:
      The uncompiled `keras.Model`, float32 images `[B, H, W, C_out]` in [-1, 1] (tanh output).

    Raises:
      UsageError: for an `input_shape` that is not `(H, W, C_in)`, a `depth` outside 1..(how many times H and
        W halve exactly, at most 8), or an unknown `norm`.

    Example:
    >>> unet_generator((32, 32, 1), output_channels=3, base_filters=8, depth=3).output_shape
    (None, 32, 32, 3)
    """
    if len(input_shape) != 3:
        raise UsageError(f"input_shape must be (height, width, channels), received {tuple(input_shape)}.")
    possible = max_depth(input_shape)
    depth = possible if depth is None else int(depth)
    if not 1 <= depth <= possible:
        raise UsageError(f"A U-Net of depth {depth} needs height and width divisible by 2**{depth}; "
                         f"input_shape {tuple(input_shape)} allows depth 1..{possible}.")
    normalization(norm)  # validates before building
    output_channels = int(output_channels or input_shape[-1])
    filters = [min(base_filters * 2 ** i, max_filters) for i in range(depth)]
    inputs = keras.Input(shape=tuple(input_shape), name="images")
    x, skips = inputs, []
    for i, f in enumerate(filters):
        x = layers.Conv2D(f, 4, strides=2, padding="same", use_bias=i == 0 or norm == "none",
                          kernel_initializer=normal_init())(x)
        if i > 0 and normalization(norm) is not None:
            x = normalization(norm)(x)
        x = OutputGradLeakyReLU(0.2)(x)
        skips.append(x)
    for i, (f, skip) in enumerate(zip(reversed(filters[:-1]), reversed(skips[:-1]))):
        x = layers.Conv2DTranspose(f, 4, strides=2, padding="same", use_bias=norm == "none",
                                   kernel_initializer=normal_init())(x)
        if normalization(norm) is not None:
            x = normalization(norm)(x)
        if dropout and i < 3:
            x = layers.Dropout(dropout)(x)
        x = layers.Concatenate()([layers.ReLU()(x), skip])
    x = layers.Conv2DTranspose(output_channels, 4, strides=2, padding="same", kernel_initializer=normal_init())(x)
    outputs = layers.Activation("tanh", dtype="float32", name="translated")(x)
    return keras.Model(inputs, outputs, name=name)
