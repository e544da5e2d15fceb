"""SRGAN generator (Ledig et al. 2017): residual blocks and sub-pixel (depth-to-space) upsampling.

    low-res → conv9 + PReLU ─┬─► B x [conv3-BN-PReLU-conv3-BN + skip] → conv3-BN ─(+)─►
                             └──────────────────────────────────────────────────┘
            ─► log2(scale) x [conv3 (4·filters) → PixelShuffle(2) → PReLU] → conv9 → tanh → high-res

Sub-pixel convolution (Shi et al. 2016): a convolution makes r² times the
channels, `PixelShuffle` (`tf.nn.depth_to_space`) rearranges them into an r-times
larger image; it avoids the checkerboard artefacts of transposed convolutions.
The discriminator of this library's SRGAN is `dcgan_discriminator` (strided
convolutions, BN, LeakyReLU, a dense logit), the same family as the paper's.

Example:
>>> g = srgan_generator((14, 14, 1), scale=2, filters=16, num_blocks=2)
>>> g(keras.ops.zeros((2, 14, 14, 1))).shape
(2, 28, 28, 1)
"""

from typing import Any, Dict, Sequence

import keras
import tensorflow as tf
from keras import layers

from tfgan_app.errors import UsageError


@keras.saving.register_keras_serializable(package="tfgan_app")
class PixelShuffle(layers.Layer):
    """Depth-to-space: `[B, H, W, r²·C] → [B, r·H, r·W, C]` (TFLite op DEPTH_TO_SPACE)."""

    def __init__(self, block_size: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.block_size = int(block_size)

    def call(self, x):
        return tf.nn.depth_to_space(x, self.block_size)

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        r = self.block_size
        return (b, None if h is None else h * r, None if w is None else w * r, c // (r * r))

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "block_size": self.block_size}


def srgan_generator(input_shape: Sequence[int], scale: int = 4, filters: int = 64, num_blocks: int = 16,
                    output_channels: int = None, name: str = "generator") -> keras.Model:
    """Builds `low-res [B, h, w, C] → high-res [B, scale·h, scale·w, C]` in [-1, 1].

    Args:
      input_shape: `(h, w, C)` of the low-resolution input.
      scale: upsampling factor, a power of two (4 in the paper).
      filters: channels of the residual trunk (64 in the paper).
      num_blocks: residual blocks (16 in the paper).
      output_channels: channels of the output (default: the input's).
      name: the model's name.

    Returns:
      The uncompiled `keras.Model`, float32 high-resolution images in [-1, 1] (tanh output).

    Raises:
      UsageError: if `scale` is not a power of two >= 2 or `input_shape` is not `(h, w, C)`.

    Example:
    >>> srgan_generator((7, 7, 1), scale=4, filters=8, num_blocks=1).output_shape
    (None, 28, 28, 1)
    """
    if scale < 2 or scale & (scale - 1):
        raise UsageError(f"scale must be a power of two >= 2, received {scale}.")
    if len(input_shape) != 3:
        raise UsageError(f"input_shape must be (height, width, channels), received {tuple(input_shape)}.")
    inputs = keras.Input(shape=tuple(input_shape), name="low_res")
    x = layers.PReLU(shared_axes=[1, 2])(layers.Conv2D(filters, 9, padding="same")(inputs))
    trunk = x
    for _ in range(num_blocks):
        y = layers.BatchNormalization()(layers.Conv2D(filters, 3, padding="same")(x))
        y = layers.PReLU(shared_axes=[1, 2])(y)
        y = layers.BatchNormalization()(layers.Conv2D(filters, 3, padding="same")(y))
        x = layers.Add()([x, y])
    x = layers.Add()([trunk, layers.BatchNormalization()(layers.Conv2D(filters, 3, padding="same")(x))])
    for _ in range(scale.bit_length() - 1):
        x = PixelShuffle(2)(layers.Conv2D(filters * 4, 3, padding="same")(x))
        x = layers.PReLU(shared_axes=[1, 2])(x)
    # A near-zero last layer starts the output at mid-grey, away from tanh saturation.
    x = layers.Conv2D(int(output_channels or input_shape[-1]), 9, padding="same",
                      kernel_initializer=keras.initializers.RandomNormal(stddev=1e-3))(x)
    outputs = layers.Activation("tanh", dtype="float32", name="high_res")(x)
    return keras.Model(inputs, outputs, name=name)
