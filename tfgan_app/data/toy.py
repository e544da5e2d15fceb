"""2-D mixtures of Gaussians for mode-collapse experiments (VEEGAN / PacGAN / unrolled-GAN protocol).

| name | modes | σ |
|---|---|---|
| `ring8` | 8 means evenly spaced on a circle of radius 2 | 0.02 |
| `grid25` | 25 means at {−4, −2, 0, 2, 4}² | 0.05 |

Every mode has the same weight. `load_toy` returns a `DatasetInfo` whose batches
are `(points float32 [B, 2], mode index int32 [B])` (points are not rescaled to
[−1, 1]: use a linear generator output), image_shape `(2,)`.

Example:
>>> info = load_toy("ring8", batch_size=256, seed=0)
>>> points, modes = next(iter(info.dataset))
>>> mixture_means("grid25").shape
(25, 2)
"""

from typing import Optional, Tuple

import numpy as np
import tensorflow as tf

from tfgan_app.data.info import DatasetInfo
from tfgan_app.errors import UsageError

TOY_DATASETS = ("ring8", "grid25")
_SPLIT_SEED_OFFSET = {"train": 0, "test": 1_000_003}


def mixture_means(name: str) -> np.ndarray:
    """The `[modes, 2]` float32 means of the mixture `name`."""
    if name == "ring8":
        angles = 2.0 * np.pi * np.arange(8) / 8
        return (2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype(np.float32)
    if name == "grid25":
        axis = np.arange(-4.0, 4.1, 2.0)
        return np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1).reshape(-1, 2).astype(np.float32)
    raise UsageError(f"Unknown toy dataset {name!r}. Valid names: {', '.join(TOY_DATASETS)}.")


def mixture_std(name: str) -> float:
    """The per-coordinate standard deviation σ of each mode of `name`."""
    mixture_means(name)  # validates the name
    return 0.02 if name == "ring8" else 0.05


def sample_mixture(name: str, num: int, seed: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Draws `num` points: `(points float32 [num, 2], mode indices int64 [num])`, modes uniform."""
    means = mixture_means(name)
    rng = np.random.default_rng(seed)
    modes = rng.integers(0, len(means), size=num)
    points = means[modes] + mixture_std(name) * rng.standard_normal((num, 2)).astype(np.float32)
    return points.astype(np.float32), modes


def load_toy(name: str, batch_size: int, split: str = "train", seed: Optional[int] = None,
             num_examples: int = 100_000) -> DatasetInfo:
    """A fixed sample of `num_examples` points of mixture `name` as shuffled batches.

    Args:
      name: `ring8` or `grid25`.
      batch_size: points per batch (batches are full).
      split: `train` or `test` (disjoint draws for the same seed).
      seed: seed of the draw and of the shuffling.
      num_examples: size of the drawn sample (one epoch).
    """
    if split not in _SPLIT_SEED_OFFSET:
        raise UsageError(f"Unknown split {split!r} for toy data; expected 'train' or 'test'.")
    if not isinstance(batch_size, int) or batch_size <= 0 or not isinstance(num_examples, int) or \
            num_examples < batch_size:
        raise UsageError(f"batch_size must be a positive integer <= num_examples, received batch_size={batch_size!r},"
                         f" num_examples={num_examples!r}.")
    points, modes = sample_mixture(name, num_examples, None if seed is None else seed + _SPLIT_SEED_OFFSET[split])
    dataset = (tf.data.Dataset.from_tensor_slices((points, modes.astype(np.int32)))
               .shuffle(num_examples, seed=seed, reshuffle_each_iteration=True)
               .batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE))
    return DatasetInfo(dataset, (2,), len(mixture_means(name)), num_examples, batch_size)
