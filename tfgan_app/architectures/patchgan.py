"""PatchGAN discriminator (Isola et al. 2017): one real/fake logit per overlapping image patch.

A stack of 4x4 stride-2 convolutions followed by two stride-1 convolutions maps
an image to a grid of logits, each judging one receptive-field-sized patch
(70x70 for `num_layers=3` at 256x256). It models high-frequency structure and
leaves low-frequency correctness to the L1 (or cycle) loss. The losses in
`tfgan_app.losses` average the grid per example.

Conditional use (pix2pix): pass `condition_shape` and call it on
`[condition, images]`; the two are concatenated along channels.

Example:
>>> d = patchgan_discriminator((28, 28, 1), condition_shape=(28, 28, 1), base_filters=16, num_layers=2)
>>> d([keras.ops.zeros((2, 28, 28, 1)), keras.ops.zeros((2, 28, 28, 1))]).shape
(2, 7, 7, 1)
"""

from typing import Optional, Sequence

import keras
from keras import layers

from tfgan_app.architectures.dcgan import normal_init
from tfgan_app.architectures.unet import normalization
from tfgan_app.errors import UsageError
from tfgan_app.layers import OutputGradLeakyReLU


def patchgan_discriminator(image_shape: Sequence[int], condition_shape: Optional[Sequence[int]] = None,
                           base_filters: int = 64, num_layers: int = 3, norm: str = "batch",
                           name: str = "discriminator") -> keras.Model:
    """Builds `images (or [condition, images]) → patch logits [B, h, w, 1]` (no sigmoid).

    Args:
      image_shape: `(H, W, C)` of the judged images.
      condition_shape: `(H, W, C')` of a conditioning image (pix2pix input), or None.
      base_filters: channels of the first stage, doubled per stage (capped at 8x).
      num_layers: stride-2 stages (3 gives the 70x70 PatchGAN at 256x256, 2 suits 28x28).
      norm: "batch" (pix2pix), "instance" (CycleGAN) or "none".
      name: the model's name.

    Returns:
      The uncompiled `keras.Model`, float32 logits `[B, H / 2**num_layers, W / 2**num_layers, 1]`
      (sides rounded up).

    Raises:
      UsageError: for an `image_shape` that is not `(H, W, C)`, `num_layers` < 1, an unknown `norm`, or a
        `condition_shape` whose height and width differ from the image's.

    Example:
    >>> patchgan_discriminator((32, 32, 3), base_filters=16, num_layers=3).output_shape
    (None, 4, 4, 1)
    """
    if len(image_shape) != 3:
        raise UsageError(f"image_shape must be (height, width, channels), received {tuple(image_shape)}.")
    if num_layers < 1:
        raise UsageError(f"num_layers must be at least 1, received {num_layers}.")
    normalization(norm)
    images = keras.Input(shape=tuple(image_shape), name="images")
    inputs, x = images, images
    if condition_shape is not None:
        if tuple(condition_shape[:2]) != tuple(image_shape[:2]):
            raise UsageError(f"condition_shape {tuple(condition_shape)} must have the height and width of "
                             f"image_shape {tuple(image_shape)}.")
        condition = keras.Input(shape=tuple(condition_shape), name="condition")
        inputs, x = [condition, images], layers.Concatenate()([condition, images])
    for i in range(num_layers + 1):
        stride = 2 if i < num_layers else 1
        x = layers.Conv2D(base_filters * min(2 ** i, 8), 4, strides=stride, padding="same",
                          use_bias=i == 0 or norm == "none", kernel_initializer=normal_init())(x)
        if i > 0 and normalization(norm) is not None:
            x = normalization(norm)(x)
        x = OutputGradLeakyReLU(0.2)(x)
    logits = layers.Conv2D(1, 4, padding="same", kernel_initializer=normal_init(), dtype="float32", name="logits")(x)
    return keras.Model(inputs, logits, name=name)
