"""StackGAN generators (Zhang et al. 2017): stage I draws a half-resolution image, stage II refines it.

Both stages read the caption as token ids (as `tfgan_app.architectures.text`) and have their own
conditioning augmentation (CA): text embedding φ → [μ, log σ²] (layer `ca_stats`), ĉ = μ + σ ⊙ ε
(`ConditioningAugmentation`), whose KL(N(μ, σ²) ‖ N(0, I)) the GAN adds to G's loss.

* Stage I `[z, tokens] → [H/2, W/2, C]`: [z, ĉ₀] → dense → `H/4` feature map → one ×2 up-sampling.
* Stage II `[stage-I images, tokens] → [H, W, C]`: the low-resolution image is encoded by a 3×3 conv,
  ĉ is replicated spatially and concatenated, a 3×3 conv joins them, `residual_blocks` residual blocks
  refine, and one ×2 up-sampling gives the full resolution (the paper's stage II down-samples 64 → 16 first;
  at 14 × 14 the image is already small, so it stays at its resolution).
* `stackgan_generator` composes them: `[latents, tokens] → stage II(stage I(latents, tokens), tokens)`, the
  nested models named `stage1` and `stage2`. It has the text generator's inputs, so it exports as the
  `text` kind (`tfgan export`, `tfgan generate --captions`, serving) and returns the stage-II image.

The discriminators of both stages are `text_discriminator`s (matching-aware: they read image and caption).

Example:
>>> g = stackgan_generator(32, (28, 28, 1), vocab_size=20, sequence_length=8)
>>> g([keras.random.normal((2, 32)), keras.ops.ones((2, 8), "int32")]).shape
(2, 28, 28, 1)
>>> g.get_layer("stage1").output.shape
(None, 14, 14, 1)
"""

from typing import Sequence, Tuple

import keras
from keras import layers

from tfgan_app.architectures.dcgan import normal_init
from tfgan_app.architectures.text import ConditioningAugmentation, _encode, _start_side
from tfgan_app.layers import OutputGradLeakyReLU

STAGE1, STAGE2 = "stage1", "stage2"  # names of the nested stage models in `stackgan_generator`


def low_resolution(image_shape: Sequence[int]) -> Tuple[int, int, int]:
    """The stage-I image shape `(H/2, W/2, C)` of a full-resolution `image_shape` (side divisible by 4).

    Raises:
      UsageError: `image_shape` is not square with a side divisible by 4. Received: image_shape=(30, 30, 1)
    """
    side = _start_side(image_shape) * 2
    return side, side, int(image_shape[-1])


def _conditioning(tokens, vocab_size: int, embedding_dim: int, cond_dim: int, seed: int, prefix: str):
    """φ → `ca_stats` [μ, log σ²] → ĉ (the CA of one stage)."""
    text = _encode(tokens, vocab_size, embedding_dim, prefix)
    stats = layers.Dense(2 * cond_dim, name="ca_stats")(OutputGradLeakyReLU(0.2)(text))
    return ConditioningAugmentation(seed=seed, name="conditioning_augmentation")(stats)


def stackgan_stage1_generator(latent_dim: int, image_shape: Sequence[int], vocab_size: int, sequence_length: int,
                              embedding_dim: int = 32, cond_dim: int = 16, base_filters: int = 32, seed: int = 0,
                              name: str = STAGE1) -> keras.Model:
    """Builds stage I: `[latents [B, latent_dim], tokens int32 [B, T]] → images [B, H/2, W/2, C]` in [-1, 1].

    Args:
      latent_dim: size of z.
      image_shape: the *full* (stage-II) image shape; stage I draws half its side.
      vocab_size, sequence_length: token ids range and caption length.
      embedding_dim, cond_dim: word-embedding size and size of ĉ.
      base_filters: channels of the up-sampled feature map (the first map has twice as many).
      seed: seed of the CA's ε.
      name: the model's name.

    Returns:
      A `keras.Model` whose layer `ca_stats` outputs [μ, log σ²].

    Example:
    >>> stackgan_stage1_generator(8, (28, 28, 1), 20, 8).output.shape
    (None, 14, 14, 1)
    """
    start = _start_side(image_shape)
    z = keras.Input(shape=(latent_dim,), name="latents")
    tokens = keras.Input(shape=(sequence_length,), dtype="int32", name="tokens")
    condition = _conditioning(tokens, vocab_size, embedding_dim, cond_dim, seed, "text")
    x = layers.Concatenate()([z, condition])
    x = layers.Dense(start * start * base_filters * 2, use_bias=False, kernel_initializer=normal_init())(x)
    x = layers.Reshape((start, start, base_filters * 2))(layers.ReLU()(layers.BatchNormalization()(x)))
    x = layers.Conv2DTranspose(base_filters, 4, strides=2, padding="same", use_bias=False,
                               kernel_initializer=normal_init())(x)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    x = layers.Conv2D(image_shape[-1], 3, padding="same", kernel_initializer=normal_init())(x)
    images = layers.Activation("tanh", dtype="float32", name="images")(x)
    return keras.Model([z, tokens], images, name=name)


def stackgan_stage2_generator(image_shape: Sequence[int], vocab_size: int, sequence_length: int,
                              embedding_dim: int = 32, cond_dim: int = 16, filters: int = 32,
                              residual_blocks: int = 2, seed: int = 1, name: str = STAGE2) -> keras.Model:
    """Builds stage II: `[stage-I images [B, H/2, W/2, C], tokens int32 [B, T]] → images [B, H, W, C]`.

    Args:
      image_shape: the full image shape (the output).
      vocab_size, sequence_length, embedding_dim, cond_dim: as stage I (stage II has its own text encoder and CA).
      filters: channels of the residual blocks.
      residual_blocks: number of residual blocks (conv-BN-ReLU-conv-BN + skip).
      seed: seed of the CA's ε.
      name: the model's name.

    Returns:
      A `keras.Model` whose layer `ca_stats` outputs [μ, log σ²].

    Example:
    >>> stackgan_stage2_generator((28, 28, 1), 20, 8).output.shape
    (None, 28, 28, 1)
    """
    low_shape = low_resolution(image_shape)
    side = low_shape[0]
    low = keras.Input(shape=low_shape, name="low_resolution_images")
    tokens = keras.Input(shape=(sequence_length,), dtype="int32", name="tokens")
    condition = _conditioning(tokens, vocab_size, embedding_dim, cond_dim, seed, "stage2_text")
    features = layers.ReLU()(layers.Conv2D(filters, 3, padding="same", kernel_initializer=normal_init())(low))
    text_map = layers.Reshape((side, side, cond_dim))(layers.RepeatVector(side * side)(condition))
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer=normal_init())(
        layers.Concatenate()([features, text_map]))
    x = layers.ReLU()(layers.BatchNormalization()(x))
    for _ in range(residual_blocks):
        y = layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer=normal_init())(x)
        y = layers.ReLU()(layers.BatchNormalization()(y))
        y = layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer=normal_init())(y)
        x = layers.ReLU()(layers.Add()([x, layers.BatchNormalization()(y)]))
    x = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False,
                               kernel_initializer=normal_init())(x)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    x = layers.Conv2D(image_shape[-1], 3, padding="same", kernel_initializer=normal_init())(x)
    images = layers.Activation("tanh", dtype="float32", name="images")(x)
    return keras.Model([low, tokens], images, name=name)


def stackgan_generator(latent_dim: int, image_shape: Sequence[int], vocab_size: int, sequence_length: int,
                       embedding_dim: int = 32, cond_dim: int = 16, base_filters: int = 32,
                       stage2_filters: int = 32, residual_blocks: int = 2, seed: int = 0,
                       name: str = "generator") -> keras.Model:
    """Builds the two-stage generator `[latents, tokens] → stage II(stage I(latents, tokens), tokens)`.

    Args:
      latent_dim, image_shape, vocab_size, sequence_length, embedding_dim, cond_dim: as the stages.
      base_filters: stage I's `base_filters`.
      stage2_filters, residual_blocks: stage II's `filters` and `residual_blocks`.
      seed: seed of stage I's ε (stage II's is `seed + 1`).
      name: the model's name.

    Returns:
      A `keras.Model` with inputs `latents`, `tokens` (the text generator's) and the stage-II images as output;
      the stages are its layers `stage1` and `stage2`.

    Example:
    >>> g = stackgan_generator(8, (28, 28, 1), 20, 8, base_filters=8, stage2_filters=8, residual_blocks=1)
    >>> [layer.name for layer in g.layers[2:]]
    ['stage1', 'stage2']
    """
    stage1 = stackgan_stage1_generator(latent_dim, image_shape, vocab_size, sequence_length, embedding_dim,
                                       cond_dim, base_filters, seed)
    stage2 = stackgan_stage2_generator(image_shape, vocab_size, sequence_length, embedding_dim, cond_dim,
                                       stage2_filters, residual_blocks, seed + 1)
    z = keras.Input(shape=(latent_dim,), name="latents")
    tokens = keras.Input(shape=(sequence_length,), dtype="int32", name="tokens")
    return keras.Model([z, tokens], stage2([stage1([z, tokens]), tokens]), name=name)
