"""StyleGAN-lite generator and discriminator (Karras et al. 2019, 2020), sized for 28x28 / 32x32 on CPU.

The generator is a plain `keras.Model` `z [B, latent_dim] → images [B, H, W, C]`
(the library's generator contract) made of three named parts that `StyleGAN`
also uses separately (for style mixing and the truncation trick):

    z ──► mapping (PixelNorm + MLP) ──► w ──► truncation (w_avg + ψ(w − w_avg)) ──► RepeatVector
      ──► ws [B, levels, w_dim] ──► synthesis ──► image

`synthesis` starts from a learned constant (7x7 for 28x28, 4x4 for 32x32) and
doubles the resolution per level. Each level has modulated/demodulated 3x3
convolutions (StyleGAN2) with per-pixel noise inputs and a 1x1 `to_rgb`; the
RGB outputs are upsampled and summed (the "skip" generator). Level `i` reads
style `ws[:, i]`, so mixing styles means feeding different w per level.

Noise inputs are fresh Gaussian noise in training and a fixed, stored noise
image at inference, so `generate(seed)` and exported models are deterministic.

Example:
>>> g = stylegan_generator(32, (28, 28, 1), filters=32)
>>> g(keras.random.normal((2, 32))).shape
(2, 28, 28, 1)
>>> [l.name for l in g.layers][1:4]
['mapping', 'truncation', 'broadcast_styles']
"""

import math
from typing import Any, Dict, Optional, Sequence

import keras
from keras import layers, ops

from tfgan_app.errors import UsageError
from tfgan_app.layers import OutputGradLeakyReLU


@keras.saving.register_keras_serializable(package="tfgan_app")
class PixelNorm(layers.Layer):
    """Normalises each vector to unit root-mean-square: x / sqrt(mean(x²) + ε) (Karras et al. 2018)."""

    def call(self, x):
        return x * ops.rsqrt(ops.mean(ops.square(x), axis=-1, keepdims=True) + 1e-8)


@keras.saving.register_keras_serializable(package="tfgan_app")
class ConstantInput(layers.Layer):
    """A learned `[side, side, filters]` tensor, repeated for every example of the batch of `reference`."""

    def __init__(self, side: int, filters: int, **kwargs):
        super().__init__(**kwargs)
        self.side, self.filters = int(side), int(filters)

    def build(self, input_shape):
        self.constant = self.add_weight(shape=(1, self.side, self.side, self.filters),
                                        initializer=keras.initializers.RandomNormal(stddev=1.0), name="constant")

    def call(self, reference):
        return ops.repeat(self.constant, ops.shape(reference)[0], axis=0)

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "side": self.side, "filters": self.filters}


@keras.saving.register_keras_serializable(package="tfgan_app")
class ModulatedConv2D(layers.Layer):
    """StyleGAN2 modulated convolution, called on `[x, w]`.

    A per-example style `s = A(w)` (an affine map, bias initialised to 1) scales
    the kernel's input channels: w'_ijk = s_i·w_ijk. With `demodulate`, each
    output channel is divided by its norm σ_j = sqrt(Σ_i,k w'_ijk² + ε), which
    keeps activations at unit variance without instance norm (no "droplets").
    Implemented without grouped convolutions (as StyleGAN2's `fused_modconv=False`):
    scale the input by s, convolve with the shared kernel, multiply the output by 1/σ.
    The kernel uses the equalised learning rate (N(0, 1), scaled by 1/sqrt(fan_in) at run time).

    Args:
      filters: output channels.
      kernel_size: square kernel side.
      demodulate: divide by σ_j (False for the 1x1 `to_rgb` layers).
    """

    def __init__(self, filters: int, kernel_size: int = 3, demodulate: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size, self.demodulate = int(filters), int(kernel_size), bool(demodulate)

    def build(self, input_shape):
        x_shape, w_shape = input_shape
        in_channels = int(x_shape[-1])
        self.affine = layers.Dense(in_channels, bias_initializer="ones", name="affine")
        self.affine.build(w_shape)
        self.kernel = self.add_weight(shape=(self.kernel_size, self.kernel_size, in_channels, self.filters),
                                      initializer=keras.initializers.RandomNormal(stddev=1.0),  # N(0, 1): equalised LR
                                      name="kernel")
        self.bias = self.add_weight(shape=(self.filters,), initializer="zeros", name="bias")
        self.scale = 1.0 / math.sqrt(self.kernel_size * self.kernel_size * in_channels)

    def call(self, inputs):
        x, w = inputs
        style = self.affine(w)  # [B, in]
        kernel = self.kernel * self.scale
        y = ops.conv(x * style[:, None, None, :], kernel, padding="same")
        if self.demodulate:
            energy = ops.matmul(ops.square(style), ops.sum(ops.square(kernel), axis=(0, 1)))  # [B, out]
            y = y * ops.rsqrt(energy + 1e-8)[:, None, None, :]
        return y + self.bias

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0][:-1]) + (self.filters,)

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "demodulate": self.demodulate}


@keras.saving.register_keras_serializable(package="tfgan_app")
class NoiseInjection(layers.Layer):
    """Adds per-pixel Gaussian noise times a learned per-channel strength (initialised to 0).

    Training draws fresh noise; inference uses a fixed noise image stored in the
    layer (StyleGAN2-ADA's `noise_mode="const"`), so outputs are deterministic.
    """

    def __init__(self, seed: Optional[int] = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        self.strength = self.add_weight(shape=(int(input_shape[-1]),), initializer="zeros", name="strength")
        self.fixed_noise = self.add_weight(shape=(1, int(input_shape[1]), int(input_shape[2]), 1),
                                           initializer=keras.initializers.RandomNormal(stddev=1.0, seed=self.seed),
                                           trainable=False, name="fixed_noise")

    def call(self, x, training=None):
        if training:
            shape = ops.shape(x)
            noise = keras.random.normal((shape[0], shape[1], shape[2], 1), seed=self.seed_generator)
        else:
            noise = self.fixed_noise
        return x + noise * self.strength

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "seed": self.seed}


@keras.saving.register_keras_serializable(package="tfgan_app")
class Truncation(layers.Layer):
    """The truncation trick: w ↦ w_avg + ψ·(w − w_avg), with w_avg a running mean of mapped latents.

    Called with `psi=1` (the default) it is the identity. `StyleGAN` updates
    `w_avg` during training (`update_average`); ψ < 1 trades variety for quality.
    """

    def build(self, input_shape):
        self.w_avg = self.add_weight(shape=(int(input_shape[-1]),), initializer="zeros", trainable=False,
                                     name="w_avg")

    def call(self, w, psi=1.0):
        if isinstance(psi, (int, float)) and psi == 1.0:
            return w
        return self.w_avg + psi * (w - self.w_avg)

    def update_average(self, w, decay: float) -> None:
        """w_avg ← decay·w_avg + (1 − decay)·mean(w over the batch)."""
        self.w_avg.assign(decay * self.w_avg + (1.0 - decay) * ops.mean(w, axis=0))


@keras.saving.register_keras_serializable(package="tfgan_app")
class SelectStyle(layers.Layer):
    """Picks `ws[:, index]` from per-level styles `[B, levels, w_dim]`."""

    def __init__(self, index: int, **kwargs):
        super().__init__(**kwargs)
        self.index = int(index)

    def call(self, ws):
        return ws[:, self.index]

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "index": self.index}


def _levels(image_shape: Sequence[int]) -> tuple:
    """(start side, number of levels) for a square image whose side is 4·2^k or 7·2^k."""
    if len(image_shape) != 3 or image_shape[0] != image_shape[1] or image_shape[-1] not in (1, 3):
        raise UsageError(f"StyleGAN needs square 1- or 3-channel images, received image_shape {tuple(image_shape)}.")
    side, levels = int(image_shape[0]), 1
    while side % 2 == 0 and side > 7:
        side, levels = side // 2, levels + 1
    if side not in (4, 7):
        raise UsageError(f"StyleGAN needs an image side of 4·2^k or 7·2^k (e.g. 28, 32, 64), received "
                         f"{image_shape[0]}. Resize the data with image_size.")
    return side, levels


def mapping_network(latent_dim: int, w_dim: int, num_layers: int = 4, name: str = "mapping") -> keras.Model:
    """z → w: PixelNorm then `num_layers` Dense + LeakyReLU(0.2) layers (8 in StyleGAN; fewer here)."""
    z = keras.Input(shape=(latent_dim,), name="latents")
    x = PixelNorm()(z)
    for i in range(num_layers):
        x = layers.Dense(w_dim, name=f"dense_{i}")(x)
        x = OutputGradLeakyReLU(0.2)(x)
    return keras.Model(z, x, name=name)


def synthesis_network(image_shape: Sequence[int], w_dim: int, filters: int = 64, max_filters: int = 128,
                      seed: int = 0, name: str = "synthesis") -> keras.Model:
    """ws `[B, levels, w_dim]` → images: constant input, one style level per resolution, skip to_rgb outputs."""
    side, levels = _levels(image_shape)
    ws = keras.Input(shape=(levels, w_dim), name="styles")
    channels = [min(filters * 2 ** (levels - 1 - i), max_filters) for i in range(levels)]
    x = ConstantInput(side, channels[0], name="constant")(ws)
    rgb = None
    for level in range(levels):
        w = SelectStyle(level, name=f"style_{level}")(ws)
        convs = 1 if level == 0 else 2
        if level > 0:
            x = layers.UpSampling2D(interpolation="bilinear")(x)
        for j in range(convs):
            x = ModulatedConv2D(channels[level], 3, name=f"conv_{level}_{j}")([x, w])
            x = NoiseInjection(seed=seed + 10 * level + j, name=f"noise_{level}_{j}")(x)
            x = OutputGradLeakyReLU(0.2)(x)
        level_rgb = ModulatedConv2D(image_shape[-1], 1, demodulate=False, name=f"to_rgb_{level}")([x, w])
        rgb = level_rgb if rgb is None else layers.Add()([layers.UpSampling2D(interpolation="bilinear")(rgb),
                                                          level_rgb])
    images = layers.Activation("tanh", dtype="float32", name="images")(rgb)
    return keras.Model(ws, images, name=name)


def stylegan_generator(latent_dim: int, image_shape: Sequence[int], num_classes: Optional[int] = None,
                       w_dim: Optional[int] = None, mapping_layers: int = 4, filters: int = 64,
                       max_filters: int = 128, seed: int = 0, name: str = "generator") -> keras.Model:
    """Builds the StyleGAN-lite generator `z [B, latent_dim] → images [B, H, W, C]` in [-1, 1].

    Args:
      latent_dim: size of z.
      image_shape: `(H, W, C)`, square with side 4·2^k or 7·2^k (28, 32, 64, ...).
      num_classes: must be None (StyleGAN-lite is unconditional).
      w_dim: size of w (default `latent_dim`).
      mapping_layers: depth of the mapping MLP (8 in the paper; 4 is plenty at 28x28).
      filters: channels of the last (highest-resolution) level, doubled per coarser level.
      max_filters: channel cap of the coarse levels.
      seed: seed of the fixed inference noise images.
      name: the model's name.

    Returns:
      The uncompiled `keras.Model` (sub-models `mapping` and `synthesis`, a `truncation` layer), float32
      images in [-1, 1].

    Raises:
      UsageError: for a conditional request, or an `image_shape` that is not square, 1- or 3-channel, with
        side 4·2^k or 7·2^k.

    Example:
    >>> stylegan_generator(32, (28, 28, 1), filters=8, max_filters=16).output_shape
    (None, 28, 28, 1)
    """
    if num_classes:
        raise UsageError("stylegan_generator is unconditional; set conditional=false in the preset.")
    w_dim = int(w_dim or latent_dim)
    _, levels = _levels(image_shape)
    z = keras.Input(shape=(latent_dim,), name="latents")
    w = mapping_network(latent_dim, w_dim, mapping_layers)(z)
    w = Truncation(name="truncation")(w)
    ws = layers.RepeatVector(levels, name="broadcast_styles")(w)
    images = synthesis_network(image_shape, w_dim, filters, max_filters, seed)(ws)
    return keras.Model(z, images, name=name)


@keras.saving.register_keras_serializable(package="tfgan_app")
class MinibatchStdDev(layers.Layer):
    """Appends the batch's mean feature standard deviation as one extra channel (Karras et al. 2018).

    Lets the discriminator see sample variety, which discourages mode collapse.
    """

    def call(self, x):
        std = ops.sqrt(ops.var(x, axis=0) + 1e-8)  # [H, W, C]
        value = ops.mean(std)
        shape = ops.shape(x)
        return ops.concatenate([x, ops.ones((shape[0], shape[1], shape[2], 1), dtype=x.dtype) * value], axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (input_shape[-1] + 1,)


def stylegan_discriminator(image_shape: Sequence[int], num_classes: Optional[int] = None, filters: int = 32,
                           max_filters: int = 128, name: str = "discriminator") -> keras.Model:
    """Builds a small StyleGAN-style discriminator `images → logits [B, 1]`: no normalisation (R1-friendly).

    Stride-2 3x3 convolutions with LeakyReLU(0.2) down to the generator's start
    resolution, a minibatch standard-deviation channel, then a dense head.

    Args:
      image_shape: `(H, W, C)`, square with side 4·2^k or 7·2^k (28, 32, 64, ...).
      num_classes: must be None (unconditional).
      filters: channels of the first (highest-resolution) stage, doubled per stage.
      max_filters: channel cap of the coarse stages.
      name: the model's name.

    Returns:
      The uncompiled `keras.Model`, float32 logits `[B, 1]` (no sigmoid).

    Raises:
      UsageError: for a conditional request, or an `image_shape` that is not square, 1- or 3-channel, with
        side 4·2^k or 7·2^k.

    Example:
    >>> stylegan_discriminator((28, 28, 1), filters=8, max_filters=16).output_shape
    (None, 1)
    """
    if num_classes:
        raise UsageError("stylegan_discriminator is unconditional; set conditional=false in the preset.")
    _, levels = _levels(image_shape)
    images = keras.Input(shape=tuple(image_shape), name="images")
    x = OutputGradLeakyReLU(0.2)(layers.Conv2D(filters, 1)(images))
    for i in range(levels - 1):
        x = layers.Conv2D(min(filters * 2 ** (i + 1), max_filters), 3, strides=2, padding="same")(x)
        x = OutputGradLeakyReLU(0.2)(x)
    top = min(filters * 2 ** (levels - 1), max_filters)
    x = MinibatchStdDev()(x)
    x = OutputGradLeakyReLU(0.2)(layers.Conv2D(top, 3, padding="same")(x))
    x = OutputGradLeakyReLU(0.2)(layers.Dense(top)(layers.Flatten()(x)))
    logits = layers.Dense(1, dtype="float32", name="logits")(x)
    return keras.Model(images, logits, name=name)
