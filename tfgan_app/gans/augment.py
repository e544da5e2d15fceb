"""DiffAugment (Zhao, Liu, Lin, Zhu & Han 2020, "Differentiable augmentation for data-efficient GAN training").

The same random, differentiable augmentations are applied to real and fake images
before every discriminator call of training (D steps and G steps), so D cannot
memorise a small training set and G still receives gradients through them. The
three policies follow mit-han-lab/data-efficient-gans (`DiffAugment_tf.py`), per
sample:

| policy | transform |
|---|---|
| `color` | brightness + U(−0.5, 0.5); saturation × U(0, 2) around the per-pixel channel mean; contrast × U(0.5, 1.5) around the image mean |
| `translation` | shift by up to ±H/8, ±W/8 pixels, zero-filled (images are in [−1, 1], so 0 is mid-grey as in the reference) |
| `cutout` | a zeroed square of side H/2 × W/2 at a random centre |

Randomness is stateless (`tf.random.stateless_*` from a `[2]` seed), so training
stays reproducible and resumable.

Example:
>>> augmented = diff_augment(images, ("color", "translation", "cutout"), seed=tf.constant([0, 1]))
"""

from typing import Optional, Sequence, Tuple, Union

import tensorflow as tf

from tfgan_app.errors import UsageError

POLICIES = ("color", "translation", "cutout")
# Random stream of `tfgan_app.gans.sampling.stream_seed` for the augmentations (free in that module's table).
STREAM = 14


def parse_policy(policy: Optional[Union[str, Sequence[str]]]) -> Tuple[str, ...]:
    """`"color,translation"` (or a list) → a tuple of policy names; None / "" → ()."""
    if policy is None:
        return ()
    names = [p.strip() for p in (policy.split(",") if isinstance(policy, str) else policy) if p.strip()]
    unknown = [p for p in names if p not in POLICIES]
    if unknown:
        raise UsageError(f"Unknown DiffAugment policy {unknown}; expected a comma-separated subset of "
                         f"{','.join(POLICIES)}, received diff_augment={policy!r}.")
    return tuple(names)


def _uniform(shape, seed, index, low=0.0, high=1.0, dtype=tf.float32):
    return tf.random.stateless_uniform(shape, tf.random.experimental.stateless_fold_in(seed, index), low, high,
                                       dtype=dtype)


def color(x: tf.Tensor, seed) -> tf.Tensor:
    batch = tf.shape(x)[0]
    x = x + (_uniform([batch, 1, 1, 1], seed, 0) - 0.5)
    mean = tf.reduce_mean(x, axis=3, keepdims=True)
    x = (x - mean) * (_uniform([batch, 1, 1, 1], seed, 1) * 2.0) + mean
    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    return (x - mean) * (_uniform([batch, 1, 1, 1], seed, 2) + 0.5) + mean


def translation(x: tf.Tensor, seed, ratio: float = 0.125) -> tf.Tensor:
    """Shifts each image by an integer offset in [−ratio·H, ratio·H] (and W), zero-filled."""
    batch, height, width = tf.shape(x)[0], tf.shape(x)[1], tf.shape(x)[2]
    shift_h = tf.cast(tf.cast(height, tf.float32) * ratio + 0.5, tf.int32)
    shift_w = tf.cast(tf.cast(width, tf.float32) * ratio + 0.5, tf.int32)
    dy = _uniform([batch, 1, 1], seed, 3, dtype=tf.int32, low=-shift_h, high=shift_h + 1)
    dx = _uniform([batch, 1, 1], seed, 4, dtype=tf.int32, low=-shift_w, high=shift_w + 1)
    rows = tf.range(height)[None, :, None] - dy  # source row of each output pixel
    cols = tf.range(width)[None, None, :] - dx
    valid = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
    rows = tf.clip_by_value(rows, 0, height - 1)
    cols = tf.clip_by_value(cols, 0, width - 1)
    indices = tf.stack([tf.broadcast_to(tf.range(batch)[:, None, None], tf.shape(rows + cols)),
                        tf.broadcast_to(rows, tf.shape(rows + cols)), tf.broadcast_to(cols, tf.shape(rows + cols))],
                       axis=-1)
    shifted = tf.gather_nd(x, indices)  # differentiable w.r.t. x
    return shifted * tf.cast(valid, x.dtype)[..., None]


def cutout(x: tf.Tensor, seed, ratio: float = 0.5) -> tf.Tensor:
    """Zeroes a (ratio·H) × (ratio·W) square at a random centre of each image."""
    batch, height, width = tf.shape(x)[0], tf.shape(x)[1], tf.shape(x)[2]
    size_h = tf.cast(tf.cast(height, tf.float32) * ratio + 0.5, tf.int32)
    size_w = tf.cast(tf.cast(width, tf.float32) * ratio + 0.5, tf.int32)
    cy = _uniform([batch, 1, 1], seed, 5, dtype=tf.int32, low=0, high=height + (1 - size_h % 2))
    cx = _uniform([batch, 1, 1], seed, 6, dtype=tf.int32, low=0, high=width + (1 - size_w % 2))
    rows = tf.range(height)[None, :, None] - cy + size_h // 2
    cols = tf.range(width)[None, None, :] - cx + size_w // 2
    inside = (rows >= 0) & (rows < size_h) & (cols >= 0) & (cols < size_w)
    return x * (1.0 - tf.cast(inside, x.dtype))[..., None]


_FUNCTIONS = {"color": color, "translation": translation, "cutout": cutout}


def diff_augment(x: tf.Tensor, policy: Sequence[str], seed) -> tf.Tensor:
    """Applies the `policy` transforms in order to NHWC images `x` (differentiable w.r.t. `x`).

    Args:
      x: `[B, H, W, C]` images.
      policy: names from `POLICIES`.
      seed: `[2]` int seed of `tf.random.stateless_*`.
    """
    if x.shape.rank != 4:
        raise UsageError(f"DiffAugment needs [B, H, W, C] images, received a tensor of shape {x.shape}.")
    for index, name in enumerate(policy):
        x = _FUNCTIONS[name](x, tf.random.experimental.stateless_fold_in(seed, index))
    return x
