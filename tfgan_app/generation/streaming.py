"""Generating many images in bounded memory: latents, labels and captions drawn one batch at a time.

`generate_images(source, N, seed)` draws all N latents at once and returns all N images: fine for a grid,
but 10^7 images need ~31 GB for 28x28x1 float32 images alone. `stream_images` yields the same images
batch by batch, so memory stays bounded by one batch whatever N is:

* latents: `latent_slice(start, count, D, seed)` is exactly rows `[start, start + count)` of
  `sample_latents(N, D, seed)` (same Philox stream, counter moved to the slice), so a streamed run and
  `generate_images` / `GAN.generate` give the same images for the same seed;
* labels and captions cycle exactly as `resolve_labels` / `resolve_captions` cycle them.

`write_image_files` writes each batch as PNGs as it goes, shows a `keras.utils.Progbar` and returns the
images/s.

Example:
>>> with open_generator("export/dcgan_mnist/1/tflite/generator_int8.tflite") as source:
...     summary = write_image_files(source, 1_000_000, "out", seed=0)
>>> summary.images_per_second
"""

import dataclasses
import os
import sys
import time
from typing import Callable, Iterator, Optional, Sequence, Tuple

import keras
import numpy as np
import tensorflow as tf
from tensorflow.python.ops import gen_stateless_random_ops_v2

from tfgan_app.errors import UsageError
from tfgan_app.artifacts.generators import Generator, resolve_captions, resolve_labels
from tfgan_app.images import save_png
from tfgan_app.latent import sample_latents

from tfgan_app.names import DEFAULT_BATCH_SIZE  # noqa: E402  (TF-free, for the CLI flags)
# `sample_latents` seeds its stateless normal with (seed, 0x5EED) and `alg="auto_select"` (Philox on CPU).
_SEED_TAG = 0x5EED
_AUTO_SELECT = 3
# Philox yields 4 floats per counter step, so element i of the flat [N * D] draw comes from counter + i // 4.
_FLOATS_PER_COUNTER = 4


def latent_slice(start: int, count: int, latent_dim: int, seed: int = 0) -> np.ndarray:
    """Rows `[start, start + count)` of `sample_latents(N, latent_dim, seed)` (any N >= start + count),
    drawn without drawing the rows before them.

    Example:
    >>> np.array_equal(latent_slice(5, 3, 64, seed=1), sample_latents(8, 64, seed=1).numpy()[5:])
    True
    """
    if start < 0 or count < 0:
        raise UsageError(f"Expected start >= 0 and count >= 0, received start={start}, count={count}.")
    if start == 0:
        return sample_latents(count, latent_dim, seed).numpy()
    seed_pair = tf.constant([0 if seed is None else int(seed), _SEED_TAG], tf.int64)
    key, counter = gen_stateless_random_ops_v2.stateless_random_get_key_counter(seed_pair)
    first = start * latent_dim
    skip = first % _FLOATS_PER_COUNTER
    low, high = (int(c) for c in counter.numpy().view(np.uint64))
    low += (first - skip) // _FLOATS_PER_COUNTER
    moved = np.array([low % 2 ** 64, (high + low // 2 ** 64) % 2 ** 64], np.uint64)
    flat = gen_stateless_random_ops_v2.stateless_random_normal_v2(
        [skip + count * latent_dim], key, tf.constant(moved, counter.dtype), _AUTO_SELECT)
    return flat.numpy()[skip:].reshape(count, latent_dim)


def _cycle(values: Optional[np.ndarray], start: int, stop: int) -> Optional[np.ndarray]:
    """Items `[start, stop)` of `values` repeated forever (`np.resize` semantics)."""
    return None if values is None else values[np.arange(start, stop) % len(values)]


def stream_images(source: Generator, num_images: int, seed: int = 0,
                  labels: Optional[Sequence[int]] = None, captions: Optional[Sequence[str]] = None,
                  batch_size: int = DEFAULT_BATCH_SIZE,
                  truncation: float = 1.0) -> Iterator[Tuple[int, np.ndarray]]:
    """The images `generate_images(source, num_images, seed, labels, captions, truncation)` returns, one batch at
    a time, in order: memory stays bounded by one batch whatever `num_images` is.

    Args:
        source: an open latent or text `Generator`.
        num_images: how many images in all.
        seed, labels, captions, truncation: as `generate_images`.
        batch_size: images per batch (the last may be smaller).

    Returns:
        An iterator of `(start, images)`: the index of the batch's first image and float32 images in [-1, 1].

    Raises:
        UsageError: a non-positive count or batch size, ψ outside [0, 1], or labels / captions the generator does
            not take (checked before the first batch).

    Example:
    >>> with open_generator("export/dcgan_mnist") as source:
    ...     [start for start, _ in stream_images(source, 600, batch_size=256)]
    [0, 256, 512]
    """
    for name, value in (("num_images", num_images), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise UsageError(f"Expected a positive integer {name}, received {name}={value!r}.")
    # One period of the label / caption cycle (`resolve_*` validate them and raise on misuse).
    label_period = len(labels) if labels else (source.num_classes or 1)
    label_cycle = resolve_labels(source, label_period, labels)
    caption_cycle = resolve_captions(source, len(captions) if captions else 1, captions)
    if isinstance(truncation, bool) or not 0.0 <= float(truncation) <= 1.0:
        raise UsageError(f"Expected truncation (psi) in [0, 1] (1: none, 0: the mean latent), received {truncation!r}.")
    for start in range(0, num_images, batch_size):
        stop = min(start + batch_size, num_images)
        latents = latent_slice(start, stop - start, source.latent_dim, seed) * np.float32(truncation)
        yield start, source(latents, _cycle(label_cycle, start, stop), _cycle(caption_cycle, start, stop))


@dataclasses.dataclass
class StreamSummary:
    """What `write_image_files` wrote."""

    num_images: int
    output_dir: str
    seconds: float

    @property
    def images_per_second(self) -> float:
        return self.num_images / self.seconds if self.seconds > 0 else float("inf")


def image_file_name(index: int, num_images: int) -> str:
    """`image_0000.png`, ...: zero-padded to at least 4 digits and to the digits of `num_images - 1`, so
    names sort in generation order."""
    return f"image_{index:0{max(4, len(str(num_images - 1)))}d}.png"


def write_image_files(source: Generator, num_images: int, output_dir: str, seed: int = 0,
                      labels: Optional[Sequence[int]] = None, captions: Optional[Sequence[str]] = None,
                      batch_size: int = DEFAULT_BATCH_SIZE, progress: bool = True,
                      on_batch: Optional[Callable[[int, np.ndarray], None]] = None,
                      truncation: float = 1.0) -> StreamSummary:
    """Generates `num_images` images batch by batch (`stream_images`) and writes each as
    `output_dir/image_NNNN.png` (`image_file_name`) before drawing the next batch.

    Args:
        source: an open `Generator`.
        num_images: how many images.
        output_dir: folder of the PNGs (created).
        seed, labels, captions: as in `generate_images`.
        batch_size: images generated per call; memory is bounded by one batch.
        progress: show a `keras.utils.Progbar` (redrawn on a terminal; every 10 s and at the end otherwise).
        on_batch: called with `(start, images)` after each batch is written (e.g. to keep them for a grid).
        truncation: ψ of the truncation trick, latents ψ·z (as `generate_images`).

    Returns:
        A `StreamSummary` with the wall time and images/s (generation and PNG writing).

    Raises:
        UsageError: as `stream_images`, or a generator whose outputs are not images.

    Example:
    >>> with open_generator("export/dcgan_mnist/1/tflite/generator_int8.tflite") as source:
    ...     write_image_files(source, 1000, "out", seed=0).num_images
    1000
    """
    # On a terminal the bar redraws in place; in a log file it appends, so update it rarely there.
    interactive = sys.stdout.isatty()
    bar = keras.utils.Progbar(num_images, unit_name="image", verbose=1 if progress else 0,
                              interval=0.05 if interactive else 10.0)
    os.makedirs(output_dir, exist_ok=True)
    begin = time.perf_counter()
    written = 0
    for start, images in stream_images(source, num_images, seed, labels, captions, batch_size, truncation):
        if images.ndim != 4:
            raise UsageError(f"The {source.form} generator outputs arrays of shape {images.shape[1:]}, not images "
                             "[H, W, C] (e.g. 2-D points of a toy mixture), so there is nothing to write as PNG.")
        for offset, image in enumerate(images):
            save_png(os.path.join(output_dir, image_file_name(start + offset, num_images)), image)
        if on_batch is not None:
            on_batch(start, images)
        written = start + len(images)
        bar.update(written)
    return StreamSummary(written, output_dir, time.perf_counter() - begin)
