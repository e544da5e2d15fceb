"""BigGAN-style generator and discriminator (Brock et al. 2019), sized for 16x16 / 28x28 / 32x32 on CPU.

Generator `[z [B, latent_dim], labels [B]] → images [B, H, W, C]` in [-1, 1]:

    labels ──► shared class embedding e (one table for every block)
    z ──► split into stages + 1 chunks z_0, z_1, ... (the hierarchical latent)
    z_0 ──► linear ──► side × side × ch
         ──► up-block 1 (conditional BN on [e, z_1]) ──► self-attention ──► up-block 2 ([e, z_2]) ...
         ──► BN ──► ReLU ──► conv 3×3 ──► tanh

An up-block is BigGAN's residual block: h = conv(ReLU(CBN(up(ReLU(CBN(x)))))) ... precisely
`conv3(ReLU(CBN₂(conv3(up(ReLU(CBN₁(x, c)))), c)))` plus the shortcut `conv1(up(x))`. Conditional batch
norm (`ConditionalBatchNorm`) normalises with batch statistics (moving ones at inference) and then scales
and shifts per example: γ = 1 + W_γ·c, β = W_β·c with c = [e, z_i], linear maps without bias.

Discriminator `[images, labels] → logits [B, 1]`: residual down-blocks (the first without pre-activation),
self-attention after the first, one more block at the lowest resolution, ReLU, global *sum* pooling into
features φ(x), then the projection discriminator (Miyato & Koyama 2018): logit = w·φ(x) + b + ⟨V y, φ(x)⟩
(`ClassProjection`, V a class embedding).

Spectral normalisation (Keras `SpectralNormalization`, as the SNGAN preset) wraps every convolution and
linear map of both networks except G's shared embedding, as in BigGAN. `SelfAttention` is SAGAN's
(Zhang et al. 2019) block, x + γ·o(x), with γ a learned scalar starting at 0.

Example:
>>> g = biggan_generator(48, (28, 28, 1), num_classes=10, base_filters=16)
>>> g([keras.random.normal((2, 48)), keras.ops.array([3, 7])]).shape
(2, 28, 28, 1)
>>> d = biggan_discriminator((28, 28, 1), num_classes=10, base_filters=16)
>>> d([keras.random.normal((2, 28, 28, 1)), keras.ops.array([3, 7])]).shape
(2, 1)
"""

from typing import Any, Dict, Optional, Sequence

import keras
from keras import layers, ops

from tfgan_app.architectures.dcgan import _stages
from tfgan_app.errors import UsageError


def _maybe_sn(layer: layers.Layer, spectral_norm: bool, name: str) -> layers.Layer:
    """`layer` wrapped in Keras `SpectralNormalization` (named `name`) when `spectral_norm`, else `layer`."""
    return layers.SpectralNormalization(layer, name=name) if spectral_norm else layer


def _conv(filters: int, kernel_size: int, spectral_norm: bool, name: str, use_bias: bool = True) -> layers.Layer:
    """A 'same'-padded convolution with BigGAN's orthogonal initialisation, spectrally normalised if asked."""
    inner_name = f"{name}_inner" if spectral_norm else name
    conv = layers.Conv2D(int(filters), kernel_size, padding="same", use_bias=use_bias,
                         kernel_initializer="orthogonal", name=inner_name)
    return _maybe_sn(conv, spectral_norm, name)


def _dense(units: int, spectral_norm: bool, name: str, use_bias: bool = True, dtype=None) -> layers.Layer:
    """A Dense layer with orthogonal initialisation, spectrally normalised if asked."""
    inner_name = f"{name}_inner" if spectral_norm else name
    dense = layers.Dense(int(units), use_bias=use_bias, kernel_initializer="orthogonal", name=inner_name,
                         dtype=dtype)
    return layers.SpectralNormalization(dense, name=name, dtype=dtype) if spectral_norm else dense


@keras.saving.register_keras_serializable(package="tfgan_app")
class ConditionalBatchNorm(layers.Layer):
    """Class-conditional batch norm (de Vries et al. 2017; BigGAN's, with γ linear in [embedding, z chunk]).

    Called on `[x [B, H, W, C], condition [B, D]]`:

        out = (x − μ) / √(σ² + ε) · (1 + condition·W_γ) + condition·W_β

    with μ, σ² the batch statistics in training and the moving ones at inference (a `BatchNormalization`
    without its own scale and offset), and W_γ, W_β `[D, C]` linear maps without bias (spectrally normalised
    with `spectral_norm`, as in BigGAN).

    Args:
      spectral_norm: wrap W_γ and W_β in `SpectralNormalization`.
      momentum, epsilon: of the moving statistics and the variance (as `keras.layers.BatchNormalization`).

    Example:
    >>> cbn = ConditionalBatchNorm(spectral_norm=False)
    >>> cbn([keras.random.normal((4, 8, 8, 16)), keras.random.normal((4, 20))], training=True).shape
    (4, 8, 8, 16)
    """

    def __init__(self, spectral_norm: bool = True, momentum: float = 0.99, epsilon: float = 1e-3, **kwargs):
        super().__init__(**kwargs)
        self.spectral_norm = bool(spectral_norm)
        self.momentum, self.epsilon = float(momentum), float(epsilon)
        self.norm = layers.BatchNormalization(center=False, scale=False, momentum=self.momentum,
                                              epsilon=self.epsilon, name="norm")

    def build(self, input_shape):
        x_shape, condition_shape = input_shape
        channels = int(x_shape[-1])
        self.norm.build(x_shape)
        self.gain = _dense(channels, self.spectral_norm, "gain", use_bias=False)
        self.offset = _dense(channels, self.spectral_norm, "offset", use_bias=False)
        self.gain.build(condition_shape)
        self.offset.build(condition_shape)

    def call(self, inputs, training=None):
        x, condition = inputs
        gamma = 1.0 + self.gain(condition, training=training) if self.spectral_norm else 1.0 + self.gain(condition)
        beta = self.offset(condition, training=training) if self.spectral_norm else self.offset(condition)
        normalised = self.norm(x, training=training)
        return (normalised * ops.cast(gamma, x.dtype)[:, None, None, :]
                + ops.cast(beta, x.dtype)[:, None, None, :])

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "spectral_norm": self.spectral_norm, "momentum": self.momentum,
                "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="tfgan_app")
class SelfAttention(layers.Layer):
    """SAGAN self-attention (Zhang et al. 2019) over the H·W positions: x + γ·o(x), γ learned, starting at 0.

    With 1×1 convolutions θ, φ (C/8 channels), g (C/2) and o (back to C), and N = H·W:

        A = softmax_j(θ(x)_i · φ(x)_j)   [B, N, N]      o(x) = conv_o(A · g(x))

    so at initialisation (γ = 0) the block is the identity and the network learns how much non-local
    evidence to mix in. BigGAN also max-pools φ and g by 2; at these sizes that is left out.

    Args:
      spectral_norm: wrap the four 1×1 convolutions in `SpectralNormalization`.

    Example:
    >>> SelfAttention()(keras.random.normal((2, 7, 7, 32))).shape
    (2, 7, 7, 32)
    """

    def __init__(self, spectral_norm: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.spectral_norm = bool(spectral_norm)

    def build(self, input_shape):
        channels = int(input_shape[-1])
        key_channels, value_channels = max(1, channels // 8), max(1, channels // 2)
        self.theta = _conv(key_channels, 1, self.spectral_norm, "theta", use_bias=False)
        self.phi = _conv(key_channels, 1, self.spectral_norm, "phi", use_bias=False)
        self.values = _conv(value_channels, 1, self.spectral_norm, "g", use_bias=False)
        self.out = _conv(channels, 1, self.spectral_norm, "o", use_bias=False)
        for conv in (self.theta, self.phi, self.values):
            conv.build(input_shape)
        self.out.build(tuple(input_shape[:-1]) + (value_channels,))
        self.gamma = self.add_weight(shape=(), initializer="zeros", name="gamma")

    def _call_conv(self, conv, x, training):
        return conv(x, training=training) if self.spectral_norm else conv(x)

    def call(self, x, training=None):
        # Static sizes where known, so converters (TFLite) see the channel counts of the 1x1 convolutions.
        height = x.shape[1] if x.shape[1] is not None else ops.shape(x)[1]
        width = x.shape[2] if x.shape[2] is not None else ops.shape(x)[2]
        key_channels, value_channels = max(1, int(x.shape[-1]) // 8), max(1, int(x.shape[-1]) // 2)
        theta = ops.reshape(self._call_conv(self.theta, x, training), (-1, height * width, key_channels))
        phi = ops.reshape(self._call_conv(self.phi, x, training), (-1, height * width, key_channels))
        values = ops.reshape(self._call_conv(self.values, x, training), (-1, height * width, value_channels))
        attention = ops.softmax(ops.matmul(theta, ops.transpose(phi, (0, 2, 1))), axis=-1)  # [B, N, N]
        mixed = ops.reshape(ops.matmul(attention, values), (-1, height, width, value_channels))
        return x + ops.cast(self.gamma, x.dtype) * self._call_conv(self.out, mixed, training)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "spectral_norm": self.spectral_norm}


@keras.saving.register_keras_serializable(package="tfgan_app")
class ClassProjection(layers.Layer):
    """The projection discriminator's class term (Miyato & Koyama 2018): ⟨V y, φ(x)⟩ per example.

    Called on `[features φ(x) [B, C], labels [B]]`; returns `[B, 1]`. V `[num_classes, C]` is the class
    embedding (a bias-free linear map of the one-hot label, so that Keras `SpectralNormalization` can wrap
    it as BigGAN's spectrally normalised embedding).

    Args:
      num_classes: K, labels in [0, K).
      spectral_norm: spectrally normalise V.

    Example:
    >>> ClassProjection(10)([keras.random.normal((2, 64)), keras.ops.array([1, 9])]).shape
    (2, 1)
    """

    def __init__(self, num_classes: int, spectral_norm: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.num_classes, self.spectral_norm = int(num_classes), bool(spectral_norm)

    def build(self, input_shape):
        features_shape, _ = input_shape
        self.embedding = _dense(int(features_shape[-1]), self.spectral_norm, "class_embedding", use_bias=False)
        self.embedding.build((None, self.num_classes))

    def call(self, inputs, training=None):
        features, labels = inputs
        one_hot = ops.one_hot(ops.cast(labels, "int32"), self.num_classes, dtype=features.dtype)
        embedded = self.embedding(one_hot, training=training) if self.spectral_norm else self.embedding(one_hot)
        return ops.sum(ops.cast(embedded, features.dtype) * features, axis=-1, keepdims=True)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], 1)

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "num_classes": self.num_classes, "spectral_norm": self.spectral_norm}


@keras.saving.register_keras_serializable(package="tfgan_app")
class HierarchicalLatent(layers.Layer):
    """Splits z into `num_chunks` equal chunks; returns `[z_0, [e, z_1], ..., [e, z_{n−1}]]` (BigGAN's skip-z).

    Called on `[z [B, latent_dim], shared embedding e [B, E]]`: z_0 feeds the first linear layer, each later
    chunk, joined to the shared class embedding, conditions one block's batch norms.

    Args:
      num_chunks: number of chunks (blocks + 1); `latent_dim` must be a multiple of it.
    """

    def __init__(self, num_chunks: int, **kwargs):
        super().__init__(**kwargs)
        self.num_chunks = int(num_chunks)

    def call(self, inputs):
        z, embedding = inputs
        size = int(z.shape[-1]) // self.num_chunks
        chunks = [z[:, i * size:(i + 1) * size] for i in range(self.num_chunks)]
        embedding = ops.cast(embedding, z.dtype)
        return [chunks[0]] + [ops.concatenate([embedding, chunk], axis=-1) for chunk in chunks[1:]]

    def compute_output_shape(self, input_shape):
        z_shape, e_shape = input_shape
        size = int(z_shape[-1]) // self.num_chunks
        return [(z_shape[0], size)] + [(z_shape[0], int(e_shape[-1]) + size)] * (self.num_chunks - 1)

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "num_chunks": self.num_chunks}


def _check(num_classes: Optional[int], attention_block: int, stages: int, role: str) -> None:
    if not num_classes:
        raise UsageError(f"The BigGAN {role} is class-conditional; set conditional=true on a labelled dataset. "
                         f"Received: num_classes={num_classes!r}")
    if isinstance(attention_block, bool) or not isinstance(attention_block, int) \
            or not 0 <= attention_block <= stages:
        raise UsageError(f"attention_block must be 0 (none) or a block number in [1, {stages}]. "
                         f"Received: attention_block={attention_block!r}")


def biggan_generator(latent_dim: int, image_shape: Sequence[int], num_classes: Optional[int] = None,
                     base_filters: int = 32, embedding_dim: int = 32, attention_block: int = 1,
                     spectral_norm: bool = True, name: str = "generator") -> keras.Model:
    """Builds a BigGAN-style generator `[z, labels] → images` (see the module docstring).

    Args:
      latent_dim: size of z; a multiple of (up-blocks + 1), e.g. 60 = 3 × 20 for 28×28 (7 → 14 → 28).
      image_shape: `(H, W, C)`, a side of 4·2^k or 7·2^k as DCGAN's.
      num_classes: number of labels (required: the model is class-conditional).
      base_filters: channels of the last block; each earlier one doubles them.
      embedding_dim: size of the shared class embedding.
      attention_block: self-attention after this up-block (1: after the first; 0: none).
      spectral_norm: spectrally normalise every convolution and linear map (not the shared embedding).

    Returns:
      A `keras.Model` with inputs `latents [B, latent_dim]`, `labels [B]` (int32) and float32 images.

    Raises:
      UsageError: without `num_classes`, for a latent_dim that does not split evenly, or a bad attention_block.

    Example:
    >>> g = biggan_generator(60, (28, 28, 1), num_classes=10)
    """
    stages, side = _stages(image_shape)
    _check(num_classes, attention_block, stages, "generator")
    if latent_dim % (stages + 1):
        raise UsageError(f"latent_dim must be a multiple of {stages + 1} (one chunk for the first layer and one per "
                         f"up-block of a {image_shape[0]}x{image_shape[1]} generator). Received: "
                         f"latent_dim={latent_dim}")
    z = keras.Input(shape=(latent_dim,), name="latents")
    labels = keras.Input(shape=(), dtype="int32", name="labels")
    shared = layers.Embedding(int(num_classes), int(embedding_dim), name="shared_embedding")(labels)
    chunks = HierarchicalLatent(stages + 1, name="hierarchical_latent")([z, shared])
    channels = int(base_filters) * 2 ** stages
    x = _dense(side * side * channels, spectral_norm, "linear")(chunks[0])
    x = layers.Reshape((side, side, channels))(x)
    for block in range(1, stages + 1):
        out_channels = int(base_filters) * 2 ** (stages - block)
        condition = chunks[block]
        h = ConditionalBatchNorm(spectral_norm, name=f"block{block}_cbn1")([x, condition])
        h = layers.UpSampling2D(2, name=f"block{block}_up")(layers.ReLU()(h))
        h = _conv(out_channels, 3, spectral_norm, f"block{block}_conv1")(h)
        h = ConditionalBatchNorm(spectral_norm, name=f"block{block}_cbn2")([h, condition])
        h = _conv(out_channels, 3, spectral_norm, f"block{block}_conv2")(layers.ReLU()(h))
        shortcut = _conv(out_channels, 1, spectral_norm, f"block{block}_shortcut")(
            layers.UpSampling2D(2, name=f"block{block}_shortcut_up")(x))
        x = layers.Add(name=f"block{block}_out")([h, shortcut])
        if block == attention_block:
            x = SelfAttention(spectral_norm, name="attention")(x)
    x = layers.ReLU()(layers.BatchNormalization(name="output_bn")(x))
    x = _conv(image_shape[-1], 3, spectral_norm, "output_conv")(x)
    images = layers.Activation("tanh", dtype="float32", name="images")(x)
    return keras.Model([z, labels], images, name=name)


def _down_block(x, out_channels: int, downsample: bool, preactivation: bool, spectral_norm: bool, name: str):
    """BigGAN's D block: [ReLU] conv3 ReLU conv3 [avg-pool] + shortcut (1×1 conv, pooled; pre-pooled if first)."""
    h = layers.ReLU()(x) if preactivation else x
    h = _conv(out_channels, 3, spectral_norm, f"{name}_conv1")(h)
    h = _conv(out_channels, 3, spectral_norm, f"{name}_conv2")(layers.ReLU()(h))
    if downsample:
        h = layers.AveragePooling2D(2, name=f"{name}_pool")(h)
    shortcut = x
    if downsample and not preactivation:  # the first block pools before its shortcut conv
        shortcut = layers.AveragePooling2D(2, name=f"{name}_shortcut_pool")(shortcut)
    if downsample or int(x.shape[-1]) != out_channels:
        shortcut = _conv(out_channels, 1, spectral_norm, f"{name}_shortcut")(shortcut)
    if downsample and preactivation:
        shortcut = layers.AveragePooling2D(2, name=f"{name}_shortcut_pool")(shortcut)
    return layers.Add(name=f"{name}_out")([h, shortcut])


def biggan_discriminator(image_shape: Sequence[int], num_classes: Optional[int] = None, base_filters: int = 32,
                         attention_block: int = 1, spectral_norm: bool = True,
                         name: str = "discriminator") -> keras.Model:
    """Builds a BigGAN-style projection discriminator `[images, labels] → logits [B, 1]` (module docstring).

    Args:
      image_shape: `(H, W, C)`, a side of 4·2^k or 7·2^k.
      num_classes: number of labels (required: the projection needs them).
      base_filters: channels of the first block; each later down-block doubles them.
      attention_block: self-attention after this down-block (1: after the first; 0: none).
      spectral_norm: spectrally normalise every convolution, the linear head and the class embedding.

    Returns:
      A `keras.Model` with inputs `images`, `labels [B]` (int32) and float32 logits `[B, 1]`.

    Raises:
      UsageError: without `num_classes`, or for a bad attention_block.

    Example:
    >>> d = biggan_discriminator((28, 28, 1), num_classes=10)
    """
    stages, _ = _stages(image_shape)
    _check(num_classes, attention_block, stages, "discriminator")
    images = keras.Input(shape=tuple(image_shape), name="images")
    labels = keras.Input(shape=(), dtype="int32", name="labels")
    x = images
    for block in range(1, stages + 1):
        x = _down_block(x, int(base_filters) * 2 ** (block - 1), True, block > 1, spectral_norm, f"block{block}")
        if block == attention_block:
            x = SelfAttention(spectral_norm, name="attention")(x)
    x = _down_block(x, int(x.shape[-1]), False, True, spectral_norm, f"block{stages + 1}")
    # BigGAN's global sum pooling: the spatial mean times the number of positions.
    features = layers.Rescaling(float(x.shape[1] * x.shape[2]), name="sum_pool")(
        layers.GlobalAveragePooling2D(name="pool")(layers.ReLU()(x)))
    linear = _dense(1, spectral_norm, "linear", dtype="float32")(features)
    projection = ClassProjection(int(num_classes), spectral_norm, dtype="float32", name="projection")(
        [features, labels])
    logits = layers.Add(dtype="float32", name="logits")([linear, projection])
    return keras.Model([images, labels], logits, name=name)
