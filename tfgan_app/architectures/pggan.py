"""Progressive-growing generator and discriminator (Karras et al. 2018), as one static graph.

Both networks hold every resolution block (4×4, 8×8, ... up to the image side) at once, as the
official TensorFlow implementation does with its `lod` input. A `LevelOfDetail` layer in each
holds the current level ℓ ∈ [0, L − 1] as a non-trainable weight (L = number of resolutions):
ℓ = r means "resolution 4·2^r, stable" and ℓ = r − 1 + α means "fading in resolution 4·2^r
with weight α". `tfgan_app.gans.progressive.ProgressiveGAN` sets ℓ from the step counter.

Generator: z → PixelNorm → dense 4×4 → 3×3 conv, then per level an upsample and two 3×3
convs, each followed by LeakyReLU(0.2) and pixel norm. Each level k has a `to_rgb_k`
(1×1 conv, tanh). The output blends them (`FadeIn`, `blend_levels`):

    img = to_rgb_0;  for k = 1 .. L−1:  img = lerp(upsample(img), to_rgb_k, clip(ℓ − (k − 1), 0, 1))

so at ℓ = r − 1 + α it is (1 − α)·upsample(to_rgb_{r−1}) + α·to_rgb_r, nearest-upsampled to the
full side (the higher levels' weights are 0). The generator's output always has the full shape.

Discriminator (the mirror): `from_rgb` 1×1 convs, per level two 3×3 convs and a 2×2 average
pool; at level k the block's output is blended with `from_rgb_{k−1}` of the average-pooled image
with the same weight clip(ℓ − (k − 1), 0, 1); minibatch standard deviation (groups of 4, one
extra feature map) before the last 4×4 block; dense head.

Every conv and dense layer uses the equalised learning rate (weights N(0, 1), multiplied at run time by
gain/√fan_in, gain √2; 1 for `to_rgb` and the logits, as in the official code).

Example:
>>> g = pggan_generator(32, (32, 32, 1), filters=16)
>>> g(keras.random.normal((2, 32))).shape
(2, 32, 32, 1)
>>> g.get_layer("level_of_detail").num_levels
4
"""

import math
from typing import Any, Dict, List, Optional, Sequence

import keras
from keras import layers, ops

from tfgan_app.architectures.stylegan import PixelNorm
from tfgan_app.errors import UsageError
from tfgan_app.layers import OutputGradLeakyReLU

LEVEL_LAYER = "level_of_detail"
START_SIDE = 4


@keras.saving.register_keras_serializable(package="tfgan_app")
class EqualizedDense(layers.Layer):
    """A dense layer with the equalised learning rate: `x @ (W·gain/√fan_in) + b`, W ~ N(0, 1).

    Args:
      units: output size.
      gain: the He gain (√2 for layers followed by LeakyReLU; 1 for linear outputs).
      use_bias: add a bias (initialised to 0).

    Example:
    >>> layer = EqualizedDense(8); _ = layer(keras.ops.ones((1, 4)))
    >>> round(layer.scale, 4)  # sqrt(2 / 4)
    0.7071
    """

    def __init__(self, units: int, gain: float = math.sqrt(2.0), use_bias: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.units, self.gain, self.use_bias = int(units), float(gain), bool(use_bias)

    def build(self, input_shape):
        fan_in = int(input_shape[-1])
        self.kernel = self.add_weight(shape=(fan_in, self.units),
                                      initializer=keras.initializers.RandomNormal(stddev=1.0), name="kernel")
        self.bias = (self.add_weight(shape=(self.units,), initializer="zeros", name="bias")
                     if self.use_bias else None)
        self.scale = self.gain / math.sqrt(fan_in)

    def call(self, x):
        y = ops.matmul(x, self.kernel * self.scale)
        return y + self.bias if self.use_bias else y

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "units": self.units, "gain": self.gain, "use_bias": self.use_bias}


@keras.saving.register_keras_serializable(package="tfgan_app")
class EqualizedConv2D(layers.Layer):
    """A "same"-padded 2-D convolution with the equalised learning rate: kernel W ~ N(0, 1) used as W·gain/√fan_in.

    fan_in = kernel_size² · input channels.

    Args:
      filters: output channels.
      kernel_size: square kernel side.
      gain: the He gain (√2; 1 for `to_rgb`).

    Example:
    >>> layer = EqualizedConv2D(4, 3); _ = layer(keras.ops.ones((1, 8, 8, 2)))
    >>> round(layer.scale, 4)  # sqrt(2 / (3 * 3 * 2))
    0.3333
    """

    def __init__(self, filters: int, kernel_size: int = 3, gain: float = math.sqrt(2.0), **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size, self.gain = int(filters), int(kernel_size), float(gain)

    def build(self, input_shape):
        in_channels = int(input_shape[-1])
        self.kernel = self.add_weight(shape=(self.kernel_size, self.kernel_size, in_channels, self.filters),
                                      initializer=keras.initializers.RandomNormal(stddev=1.0), name="kernel")
        self.bias = self.add_weight(shape=(self.filters,), initializer="zeros", name="bias")
        self.scale = self.gain / math.sqrt(self.kernel_size * self.kernel_size * in_channels)

    def call(self, x):
        return ops.conv(x, self.kernel * self.scale, padding="same") + self.bias

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.filters,)

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size, "gain": self.gain}


@keras.saving.register_keras_serializable(package="tfgan_app")
class GroupedMinibatchStdDev(layers.Layer):
    """Minibatch standard deviation (Karras et al. 2018): one extra feature map of the group's feature spread.

    The batch is split into groups of `group_size` (min(group_size, batch); the batch must be a multiple),
    example i in group i mod (B / group_size) as in the official code. Per group: the standard deviation
    over the group of every feature and pixel, sqrt(var + 1e-8), averaged over H, W, C into one number,
    appended as a constant channel to each member's features.

    Args:
      group_size: examples per group (4 in the paper).

    Example:
    >>> GroupedMinibatchStdDev(4)(keras.ops.ones((8, 4, 4, 3))).shape
    (8, 4, 4, 4)
    """

    def __init__(self, group_size: int = 4, **kwargs):
        super().__init__(**kwargs)
        if isinstance(group_size, bool) or not isinstance(group_size, int) or group_size < 1:
            raise UsageError(f"group_size must be a positive integer. Received: group_size={group_size!r}")
        self.group_size = group_size

    def call(self, x):
        shape = ops.shape(x)
        group = ops.minimum(self.group_size, shape[0])
        y = ops.reshape(x, (group, -1, shape[1], shape[2], shape[3]))  # [G, M, H, W, C]
        y = ops.cast(y, "float32")
        y = y - ops.mean(y, axis=0, keepdims=True)
        y = ops.sqrt(ops.mean(ops.square(y), axis=0) + 1e-8)  # [M, H, W, C]
        y = ops.mean(y, axis=(1, 2, 3))  # [M]
        y = ops.tile(y, (group,))  # example i gets the value of group i mod M
        y = ops.cast(y, x.dtype)[:, None, None, None] * ops.ones_like(x[..., :1])
        return ops.concatenate([x, y], axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (input_shape[-1] + 1,)

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "group_size": self.group_size}


@keras.saving.register_keras_serializable(package="tfgan_app")
class LevelOfDetail(layers.Layer):
    """Holds the current level ℓ ∈ [0, num_levels − 1] (a non-trainable float32 weight `level`).

    Called on any batch `[B, ...]`, it returns ℓ as `[B, 1]`, the input of the network's `FadeIn` layers.
    ℓ starts at `num_levels − 1` (the full resolution): a model built or loaded for sampling is final.

    Args:
      num_levels: L, the number of resolutions (4×4 up to the image side).
    """

    def __init__(self, num_levels: int, **kwargs):
        super().__init__(**kwargs)
        self.num_levels = int(num_levels)

    def build(self, input_shape):
        self.level = self.add_weight(shape=(), initializer=keras.initializers.Constant(self.num_levels - 1.0),
                                     trainable=False, dtype="float32", aggregation="mean", name="level")

    def call(self, x):
        return ops.ones((ops.shape(x)[0], 1), dtype=self.compute_dtype) * ops.cast(self.level, self.compute_dtype)

    def set_level(self, level) -> None:
        """Assigns ℓ (a float, or a float32 tensor inside a train step)."""
        self.level.assign(ops.cast(level, "float32"))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1)

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "num_levels": self.num_levels}


def fade_weight(level, index: int):
    """The weight of level `index`'s new path: clip(ℓ − (index − 1), 0, 1) (α while it fades in, 1 once stable)."""
    return ops.clip(level - (index - 1.0), 0.0, 1.0)


@keras.saving.register_keras_serializable(package="tfgan_app")
class FadeIn(layers.Layer):
    """Blends `[low, high, level]` as low + (high − low)·clip(ℓ − (index − 1), 0, 1) (`fade_weight`).

    `low` is the path of the resolution below (G: upsampled `to_rgb_{k−1}`; D: `from_rgb_{k−1}` of the pooled
    image), `high` that of the new block k. ℓ is `[B, 1]` from `LevelOfDetail`.

    Args:
      index: k, the level of the new block (1 .. L − 1).
    """

    def __init__(self, index: int, **kwargs):
        super().__init__(**kwargs)
        self.index = int(index)

    def call(self, inputs):
        low, high, level = inputs
        weight = ops.reshape(fade_weight(ops.cast(level, low.dtype), self.index), (-1, 1, 1, 1))
        return low + (high - low) * weight

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[1])

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "index": self.index}


def blend_levels(images, level, num_levels: int):
    """Real images `[B, S, S, C]` as the networks see them at level ℓ (`S = 4·2^(L−1)`).

    The image is average-pooled to every resolution 4·2^k, blended from the lowest up exactly as the
    generator blends its `to_rgb` outputs (`FadeIn`), then nearest-upsampled back to S×S.

    Args:
      images: `[B, S, S, C]` float images.
      level: ℓ, a scalar in [0, num_levels − 1].
      num_levels: L.

    Returns:
      `[B, S, S, C]`, equal to `images` at ℓ = L − 1.
    """
    images = ops.convert_to_tensor(images)
    level = ops.cast(level, images.dtype)
    pyramid = [images]
    for _ in range(num_levels - 1):
        pyramid.append(ops.average_pool(pyramid[-1], 2, 2))
    pyramid = pyramid[::-1]  # 4×4 first
    out = pyramid[0]
    for index in range(1, num_levels):
        out = ops.repeat(ops.repeat(out, 2, axis=1), 2, axis=2)
        out = out + (pyramid[index] - out) * fade_weight(level, index)
    return out


def _num_levels(image_shape: Sequence[int]) -> int:
    """L for a square image whose side is 4·2^(L−1); raises UsageError otherwise."""
    if len(image_shape) != 3 or image_shape[0] != image_shape[1] or image_shape[-1] not in (1, 3):
        raise UsageError(f"Progressive growing needs square 1- or 3-channel images. "
                         f"Received: image_shape={tuple(image_shape)}")
    side, levels = int(image_shape[0]), 1
    while side > START_SIDE and side % 2 == 0:
        side, levels = side // 2, levels + 1
    if side != START_SIDE or levels < 2:
        raise UsageError(f"Progressive growing needs an image side of 4·2^k with k ≥ 1 (8, 16, 32, 64, ...); "
                         f"resize the data with image_size (e.g. --set image_size=32). "
                         f"Received: image_shape={tuple(image_shape)}")
    return levels


def _channels(levels: int, filters: int, max_filters: int) -> List[int]:
    """Channels per level, 4×4 first: `filters` at the top, doubled per coarser level, capped."""
    if filters < 1 or max_filters < 1:
        raise UsageError(f"filters and max_filters must be positive. Received: filters={filters}, "
                         f"max_filters={max_filters}")
    return [min(filters * 2 ** (levels - 1 - k), max_filters) for k in range(levels)]


def _act(x):
    return OutputGradLeakyReLU(0.2)(x)


def pggan_generator(latent_dim: int, image_shape: Sequence[int], num_classes: Optional[int] = None,
                    filters: int = 32, max_filters: int = 128, name: str = "generator") -> keras.Model:
    """Builds the progressive generator `z [B, latent_dim] → images [B, S, S, C]` in [-1, 1] (module docstring).

    Args:
      latent_dim: size of z.
      image_shape: `(S, S, C)` with S = 4·2^k (8, 16, 32, ...).
      num_classes: must be None (unconditional).
      filters: channels of the highest-resolution block, doubled per coarser level.
      max_filters: cap of the coarse levels' channels (512 in the paper).

    Returns:
      A `keras.Model` with a `level_of_detail` layer (ℓ starts at the full resolution).

    Raises:
      UsageError: a conditional preset, or an image side that is not 4·2^k.

    Example:
    >>> pggan_generator(64, (32, 32, 1)).output_shape
    (None, 32, 32, 1)
    """
    if num_classes:
        raise UsageError("pggan_generator is unconditional; set conditional=false in the preset.")
    levels = _num_levels(image_shape)
    channels = _channels(levels, filters, max_filters)
    z = keras.Input(shape=(latent_dim,), name="latents")
    level = LevelOfDetail(levels, name=LEVEL_LAYER)(z)
    x = EqualizedDense(START_SIDE * START_SIDE * channels[0], gain=math.sqrt(2.0) / 4, name="dense_4x4")(PixelNorm()(z))
    x = layers.Reshape((START_SIDE, START_SIDE, channels[0]))(x)
    x = PixelNorm()(_act(x))
    x = PixelNorm()(_act(EqualizedConv2D(channels[0], 3, name="conv_4x4")(x)))
    image = None
    for k in range(levels):
        side = START_SIDE * 2 ** k
        if k > 0:
            x = layers.UpSampling2D(interpolation="nearest")(x)
            for j in range(2):
                x = PixelNorm()(_act(EqualizedConv2D(channels[k], 3, name=f"conv_{side}x{side}_{j}")(x)))
        rgb = layers.Activation("tanh", name=f"tanh_{side}x{side}")(
            EqualizedConv2D(image_shape[-1], 1, gain=1.0, name=f"to_rgb_{side}x{side}")(x))
        if image is None:
            image = rgb
        else:
            image = FadeIn(k, name=f"fade_in_{side}x{side}")(
                [layers.UpSampling2D(interpolation="nearest")(image), rgb, level])
    images = layers.Activation("linear", dtype="float32", name="images")(image)
    return keras.Model(z, images, name=name)


def pggan_discriminator(image_shape: Sequence[int], num_classes: Optional[int] = None, filters: int = 32,
                        max_filters: int = 128, group_size: int = 4, name: str = "discriminator") -> keras.Model:
    """Builds the progressive discriminator `images [B, S, S, C] → logits [B, 1]` (module docstring).

    Args:
      image_shape: `(S, S, C)` with S = 4·2^k.
      num_classes: must be None (unconditional).
      filters: channels of the highest-resolution block, doubled per coarser level.
      max_filters: cap of the coarse levels' channels.
      group_size: group of the minibatch standard deviation (4 in the paper; batches must be multiples).

    Returns:
      A `keras.Model` with a `level_of_detail` layer.

    Raises:
      UsageError: a conditional preset, or an image side that is not 4·2^k.

    Example:
    >>> pggan_discriminator((32, 32, 1)).output_shape
    (None, 1)
    """
    if num_classes:
        raise UsageError("pggan_discriminator is unconditional; set conditional=false in the preset.")
    levels = _num_levels(image_shape)
    channels = _channels(levels, filters, max_filters)
    images = keras.Input(shape=tuple(image_shape), name="images")
    level = LevelOfDetail(levels, name=LEVEL_LAYER)(images)

    def from_rgb(img, k):
        side = START_SIDE * 2 ** k
        return _act(EqualizedConv2D(channels[k], 1, name=f"from_rgb_{side}x{side}")(img))

    img = images
    x = from_rgb(img, levels - 1)
    for k in range(levels - 1, 0, -1):
        side = START_SIDE * 2 ** k
        x = _act(EqualizedConv2D(channels[k], 3, name=f"conv_{side}x{side}_0")(x))
        x = _act(EqualizedConv2D(channels[k - 1], 3, name=f"conv_{side}x{side}_1")(x))
        x = layers.AveragePooling2D(2)(x)
        img = layers.AveragePooling2D(2)(img)
        x = FadeIn(k, name=f"fade_in_{side}x{side}")([from_rgb(img, k - 1), x, level])
    x = GroupedMinibatchStdDev(group_size, name="minibatch_stddev")(x)
    x = _act(EqualizedConv2D(channels[0], 3, name="conv_4x4")(x))
    x = _act(EqualizedDense(channels[0], name="dense_4x4")(layers.Flatten()(x)))
    logits = EqualizedDense(1, gain=1.0, dtype="float32", name="logits")(x)
    return keras.Model(images, logits, name=name)
