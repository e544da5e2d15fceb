"""Latent vectors: deterministic sampling, interpolation, walks and arithmetic, rendered as PNG strips and GIFs.

`sample_latents(n, latent_dim, seed)` is the one way the library turns a seed
into latents, so `GAN.generate`, the exported `generate` signatures and
`tfgan generate` give the same images for the same seed.

Latent tools (all pure numpy on latents; `render` turns latents into images):

| function | what |
|---|---|
| `linear_interpolation(z0, z1, steps)` | straight line |
| `slerp(z0, z1, steps)` | great-circle path (White 2016): keeps the norm typical of Gaussian latents |
| `latent_walk(points, steps, method)` | a path through several latents (optionally a closed loop, for GIFs) |
| `class_walk(num_classes, steps, latent_dim, seed)` | the same latent walk for every class of a conditional generator |
| `vector_arithmetic(a, b, c)` | mean(A) − mean(B) + mean(C) (Radford et al. 2016) |
| `render(generator, latents, labels)` | images from a generator `keras.Model` or any `(latents, labels) → images` callable |
| `save_strip(path, images, cols)` / `save_gif(path, frames)` | PNG strip/grid, animated GIF |

Example:
>>> ends = sample_latents(2, 64, seed=3).numpy()
>>> frames = render(generator, slerp(ends[0], ends[1], 16))
>>> save_strip("walk.png", frames); save_gif("walk.gif", frames)
"""

import os
from typing import Callable, Optional, Sequence, Tuple, Union

import keras
import numpy as np
import tensorflow as tf
from PIL import Image

from tfgan_app.errors import UsageError
from tfgan_app.images import make_grid, save_png, to_uint8

METHODS = ("linear", "slerp")


def sample_latents(num: int, latent_dim: int, seed: Optional[int] = 0) -> tf.Tensor:
    """Returns `[num, latent_dim]` float32 standard-normal latents for `seed`.

    Uses a stateless generator: the same `(num, latent_dim, seed)` always gives
    the same tensor, in eager mode, inside a `tf.function` or a SavedModel.

    Example:
    >>> z = sample_latents(4, 100, seed=7)
    >>> z.shape
    TensorShape([4, 100])
    """
    seed = 0 if seed is None else seed
    seed_pair = tf.stack([tf.cast(seed, tf.int64), tf.constant(0x5EED, tf.int64)])
    return tf.random.stateless_normal(
        tf.stack([tf.cast(num, tf.int32), tf.cast(latent_dim, tf.int32)]), seed=seed_pair
    )


def linear_interpolation(z0: np.ndarray, z1: np.ndarray, steps: int) -> np.ndarray:
    """Returns `[steps, dim]` points on the straight line from `z0` to `z1`."""
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
    return (1.0 - t) * np.asarray(z0, np.float32) + t * np.asarray(z1, np.float32)


def _check_steps(steps: int) -> None:
    if not isinstance(steps, (int, np.integer)) or steps < 2:
        raise UsageError(f"Expected at least 2 interpolation steps, received {steps!r}.")


def slerp(z0: np.ndarray, z1: np.ndarray, steps: int) -> np.ndarray:
    """Returns `[steps, dim]` points of the spherical interpolation from `z0` to `z1` (White 2016).

    slerp(t) = sin((1−t)Ω)/sin Ω · z0 + sin(tΩ)/sin Ω · z1, Ω the angle between
    z0 and z1. Falls back to the straight line when they are (anti)parallel.
    """
    _check_steps(steps)
    z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    t = np.linspace(0.0, 1.0, steps)[:, None]
    cos_omega = np.dot(z0, z1) / max(np.linalg.norm(z0) * np.linalg.norm(z1), 1e-12)
    omega = np.arccos(np.clip(cos_omega, -1.0, 1.0))
    if np.sin(omega) < 1e-6:
        return linear_interpolation(z0, z1, steps)
    path = (np.sin((1.0 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)
    return path.astype(np.float32)


def interpolate(z0: np.ndarray, z1: np.ndarray, steps: int, method: str = "slerp") -> np.ndarray:
    """`linear_interpolation` or `slerp` by name."""
    if method not in METHODS:
        raise UsageError(f"Unknown interpolation method {method!r}; expected one of {METHODS}.")
    _check_steps(steps)
    return slerp(z0, z1, steps) if method == "slerp" else linear_interpolation(z0, z1, steps)


def latent_walk(points: np.ndarray, steps_per_segment: int, method: str = "slerp",
                closed: bool = False) -> np.ndarray:
    """A path through `points` `[K, dim]`: `steps_per_segment` points per segment, shared ends counted once.

    `closed=True` returns to the first point (and omits the repeated end), so the
    frames loop seamlessly as a GIF. Returns `[(K − 1)·(steps − 1) + 1, dim]`
    points (or `K·(steps − 1)` when closed).
    """
    points = np.asarray(points, np.float32)
    if points.ndim != 2 or len(points) < 2:
        raise UsageError(f"latent_walk needs at least 2 points [K, dim], received shape {points.shape}.")
    stops = np.concatenate([points, points[:1]]) if closed else points
    segments = [interpolate(a, b, steps_per_segment, method)[:-1] for a, b in zip(stops[:-1], stops[1:])]
    path = np.concatenate(segments)
    return path if closed else np.concatenate([path, stops[-1:]])


def class_walk(num_classes: int, steps: int, latent_dim: int, seed: int = 0,
               method: str = "slerp") -> Tuple[np.ndarray, np.ndarray]:
    """Latents and labels of a class-conditional walk: one row per class, the same latent path in every row.

    The path runs between the two latents `sample_latents(2, latent_dim, seed)`.
    Returns `(latents [num_classes·steps, latent_dim], labels int32 [num_classes·steps])`
    in row-major order, ready for `render` and `save_strip(..., cols=steps)`.
    """
    if not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise UsageError(f"num_classes must be a positive integer, received {num_classes!r}.")
    ends = sample_latents(2, latent_dim, seed).numpy()
    path = interpolate(ends[0], ends[1], steps, method)
    return np.tile(path, (num_classes, 1)), np.repeat(np.arange(num_classes, dtype=np.int32), steps)


def vector_arithmetic(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """mean(A) − mean(B) + mean(C) of latent sets `[n_i, dim]` (e.g. smiling woman − woman + man)."""
    sets = [np.asarray(x, np.float32).reshape(-1, np.shape(x)[-1]) for x in (a, b, c)]
    if len({s.shape[1] for s in sets}) != 1 or min(len(s) for s in sets) == 0:
        raise UsageError(f"vector_arithmetic needs three non-empty latent sets of the same dimension, received "
                         f"shapes {[s.shape for s in sets]}.")
    return sets[0].mean(axis=0) - sets[1].mean(axis=0) + sets[2].mean(axis=0)


Generator = Union[keras.Model, Callable[[np.ndarray, Optional[np.ndarray]], np.ndarray]]


def render(generator: Generator, latents: np.ndarray, labels: Optional[Sequence[int]] = None,
           batch_size: int = 256) -> np.ndarray:
    """Images in [-1, 1] for `latents` `[N, dim]` (and labels `[N]` for a conditional generator).

    `generator` is a generator `keras.Model` (one input, or `[z, labels]`) or any
    callable `(latents, labels) -> images`, e.g. an opened
    `tfgan_app.artifacts.generators.Generator`.
    """
    latents = np.asarray(latents, np.float32)
    if not isinstance(generator, keras.Model):
        return np.asarray(generator(latents, None if labels is None else np.asarray(labels, np.int32)))
    conditional = len(generator.inputs) == 2
    if conditional and labels is None:
        raise UsageError("This generator is conditional: pass one label per latent.")
    if not conditional and labels is not None:
        raise UsageError("This generator is unconditional and takes no labels.")
    outputs = []
    for start in range(0, len(latents), batch_size):
        z = latents[start:start + batch_size]
        inputs = [z, np.asarray(labels[start:start + batch_size], np.int32)] if conditional else z
        outputs.append(np.asarray(generator(inputs, training=False)))
    return np.concatenate(outputs)


def save_strip(path: str, images, cols: Optional[int] = None) -> str:
    """Writes images as one PNG row (or a grid of `cols` columns, e.g. one row per class); returns the path."""
    images = np.asarray(images)
    return save_png(path, make_grid(images, cols=cols or len(images)))


def save_gif(path: str, frames, duration_ms: int = 80, loop: bool = True) -> str:
    """Writes `[N, H, W, C]` frames (uint8, or float in [-1, 1]) as an animated GIF; returns the path.

    Each frame is shown `duration_ms` milliseconds; `loop=True` repeats forever.
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or len(frames) == 0 or frames.shape[-1] not in (1, 3):
        raise UsageError(f"save_gif expects frames [N, H, W, 1 or 3] with N > 0, received shape {frames.shape}.")
    if frames.dtype != np.uint8:
        frames = to_uint8(frames)
    pictures = [Image.fromarray(f[..., 0] if f.shape[-1] == 1 else f) for f in frames]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    options = {"loop": 0} if loop else {}
    pictures[0].save(path, format="GIF", save_all=True, append_images=pictures[1:], duration=duration_ms,
                     **options)
    return path
