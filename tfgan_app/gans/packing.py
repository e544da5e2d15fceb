"""PacGAN packing (Lin, Khetan, Fanti & Oh 2018, "PacGAN: the power of two samples in GANs").

With packing degree m the discriminator judges m samples at once: each row of its
input concatenates m independent samples (all real or all fake) on the feature /
channel axis, so a batch of B samples becomes B/m rows of width m·C. A generator
that collapses onto few modes then produces rows of look-alike samples, which the
discriminator spots much more easily than a single collapsed sample.

`GAN(..., pack=m)` packs in `discriminator_inputs`, so every discriminator call of
the training loop (D and G steps, unrolled steps, gradient penalties, feature
matching) sees packed rows; the discriminator must be built for the packed shape
(`packed_shape`). Rows are consecutive samples of the batch: real rows are m draws
of the data, fake rows the outputs of m independent latents.

Example:
>>> d = mlp_discriminator(packed_shape((2,), 4))        # 2-D points, m = 4: D input width 8
>>> gan = GAN(mlp_generator(2, (2,)), d, pack=4)
"""

from typing import Sequence, Tuple

import tensorflow as tf

from tfgan_app.errors import UsageError


def check_pack(pack: int) -> None:
    """Raises UsageError unless `pack` is a positive integer."""
    if isinstance(pack, bool) or not isinstance(pack, int) or pack < 1:
        raise UsageError(f"pack must be a positive integer (1: no packing, 2-4 in PacGAN), received pack={pack!r}.")


def packed_shape(sample_shape: Sequence[int], pack: int) -> Tuple[int, ...]:
    """The discriminator's input shape for samples of `sample_shape` packed by `pack` (last axis × pack).

    Args:
      sample_shape: shape of one sample, e.g. `(28, 28, 1)` or `(2,)`.
      pack: PacGAN packing degree m (1: no packing).

    Returns:
      The shape tuple with its last axis multiplied by `pack`.

    Raises:
      UsageError: unless `pack` is a positive integer.

    Example:
    >>> packed_shape((28, 28, 1), 4)
    (28, 28, 4)
    """
    check_pack(pack)
    shape = tuple(int(d) for d in sample_shape)
    return shape[:-1] + (shape[-1] * pack,)


def pack(samples: tf.Tensor, pack: int) -> tf.Tensor:  # pylint: disable=redefined-outer-name
    """`[B, ..., C]` → `[B/m, ..., m·C]`: row i concatenates samples i·m … i·m + m − 1 on the last axis.

    B must be a multiple of m (checked when the graph runs).
    """
    samples = tf.convert_to_tensor(samples)
    if pack == 1:
        return samples
    shape = tf.shape(samples)
    batch = shape[0]
    tf.debugging.assert_equal(batch % pack, 0, message=f"PacGAN: the batch size must be a multiple of pack={pack}")
    rank = samples.shape.rank
    grouped = tf.reshape(samples, tf.concat([[batch // pack, pack], shape[1:]], 0))  # [B/m, m, ..., C]
    # Move the m axis next to the channels: [B/m, ..., m, C], then merge them.
    perm = [0] + list(range(2, rank)) + [1, rank]
    moved = tf.transpose(grouped, perm)
    out_shape = tf.concat([[batch // pack], shape[1:-1], [shape[-1] * pack]], 0)
    packed = tf.reshape(moved, out_shape)
    static = samples.shape.as_list()
    packed.set_shape([None] + static[1:-1] + [None if static[-1] is None else static[-1] * pack])
    return packed
