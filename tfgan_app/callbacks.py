"""Keras callbacks for GAN training runs."""

import contextlib
import json
import os
import time
from typing import Any, Dict, Iterator, Optional, Sequence

import keras
import numpy as np
import tensorflow as tf

from tfgan_app import images as image_utils
from tfgan_app.data.toy import mixture_means, mixture_std
from tfgan_app.errors import TrainingDivergedError


class EpochSummaryWriter:
    """A TensorBoard event file for summaries that callbacks write at epoch ends (created on first use).

    `recording()` records whatever `tf.summary.record_if` is in force around it: inside `fit`,
    `keras.callbacks.TensorBoard(update_freq=N)` records summaries only on every N-th train batch, which an
    epoch end rarely is, so the events would otherwise be dropped without a word.

    Example:
    >>> summaries = EpochSummaryWriter(os.path.join(log_dir, "samples"))
    >>> with summaries.recording():
    ...     tf.summary.image("samples", grid[None], step=epoch)
    """

    def __init__(self, folder: str):
        self.folder = folder
        self._writer = None

    @contextlib.contextmanager
    def recording(self) -> Iterator[None]:
        """Makes this writer the default, records unconditionally, and flushes when the block ends."""
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.folder)
        with self._writer.as_default(), tf.summary.record_if(True):
            yield
        self._writer.flush()

    def close(self) -> None:
        """Closes the event file (a later `recording()` opens a new one)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None


class ResumableBackup(keras.callbacks.BackupAndRestore):
    """`BackupAndRestore` that backs up every `save_freq` steps *and* every epoch end, and records where.

    The metadata (`training_metadata.json`) says `{"epoch": e, "batches_done": b}`: the state after `b`
    batches of the 0-based epoch `e` (`b = 0` at an epoch boundary), which `tfgan_app.training` needs to
    resume mid-epoch on the very batch where the backup was taken. Keras' own callback records the epoch
    only (and, after a restore, the wrong one until the first epoch ends), and restarts that epoch from its
    first batch. The backup is kept when training ends (`delete_checkpoint=False`): the caller deletes it
    once the run's artifacts are saved.

    Args:
      backup_dir: the folder (created).
      save_freq: back up every this many steps (and at every epoch end), or `"epoch"`: at epoch ends only.
      first_epoch_offset: batches of the first epoch already trained before this `fit` (a resumed partial
        epoch): `batches_done` counts from the epoch's start, and that epoch ends after its remaining
        `steps_per_epoch - first_epoch_offset` batches (the data stream must start at that batch).
      steps_per_epoch: batches per epoch (the `fit` argument), needed with `first_epoch_offset`.

    Raises:
      ValueError: `first_epoch_offset` without `steps_per_epoch`.
    """

    def __init__(self, backup_dir: str, save_freq: Any = "epoch", first_epoch_offset: int = 0,
                 steps_per_epoch: Optional[int] = None):
        super().__init__(backup_dir, save_freq=save_freq, delete_checkpoint=False)
        if first_epoch_offset and not steps_per_epoch:
            raise ValueError(f"A resumed partial epoch needs steps_per_epoch. Received: "
                             f"first_epoch_offset={first_epoch_offset}, steps_per_epoch={steps_per_epoch}")
        self.steps_per_epoch = steps_per_epoch
        self._offset, self._epoch, self._done = first_epoch_offset, 0, 0
        self._partial = self._ended_early = False

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch, self._done, self._partial, self._offset = epoch, self._offset, self._offset > 0, 0

    def on_train_batch_end(self, batch, logs=None):
        self._done += 1
        last_of_epoch = bool(self.steps_per_epoch) and self._done >= self.steps_per_epoch
        if self.save_freq != "epoch" and self._done % self.save_freq == 0 and not last_of_epoch:
            self.write(self._epoch, self._done)  # (the epoch's last batch is backed up by on_epoch_end)
        if self._partial and self._done >= self.steps_per_epoch and not self.model.stop_training:
            # The resumed partial epoch is complete after its remaining batches: end it (fit's batch loop
            # checks stop_training); on_epoch_end lets training go on.
            self.model.stop_training = self._ended_early = True

    def on_epoch_end(self, epoch, logs=None):
        self.write(epoch + 1, 0)
        if self._ended_early:
            self.model.stop_training = self._ended_early = False

    def write(self, epoch: int, batches_done: int) -> None:
        """Saves the weights (both optimizers included) and then the metadata naming this position."""
        os.makedirs(self.backup_dir, exist_ok=True)
        self.model.save_weights(filepath=self._weights_path, overwrite=True)
        temporary = self._training_metadata_path + ".tmp"
        with open(temporary, "w", encoding="utf-8") as f:
            json.dump({"epoch": epoch, "batches_done": batches_done}, f)
        os.replace(temporary, self._training_metadata_path)


class GANTensorBoard(keras.callbacks.TensorBoard):
    """Keras' TensorBoard callback with every epoch's scalars, both learning rates and images/s.

    With `update_freq=N`, Keras records all summaries, its `epoch_*` scalars included, under
    `record_if(step % N == 0)` with the epoch's last step, so an epoch that does not end on a multiple
    of N (1,875 steps at N=100) logged no `epoch_*` scalar at all. Here the epoch-end scalars are recorded
    unconditionally, and they also hold `epoch_d_learning_rate` / `epoch_g_learning_rate` (the current
    values, schedules included) and `epoch_images_per_second` (real training images consumed per second of
    the epoch). `batch_*` scalars are still written every `update_freq` steps.

    Args:
      log_dir: TensorBoard folder (scalars go to its `train/` sub-folder).
      batch_size: global batch size, for images/s.
      update_freq: as in `keras.callbacks.TensorBoard` (`"epoch"`, `"batch"` or N steps).
      initial_step: batches trained before this `fit` (a resumed run), the step of the first `batch_*`.
    """

    def __init__(self, log_dir: str, batch_size: int, update_freq: Any = "epoch", initial_step: int = 0):
        super().__init__(log_dir=log_dir, update_freq=update_freq)
        self.batch_size, self.initial_step = batch_size, initial_step
        self._epoch_start, self._epoch_batches = time.time(), 0

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._global_train_batch = self.initial_step  # a resumed run's batch_* scalars go on where they were

    def on_epoch_begin(self, epoch, logs=None):
        super().on_epoch_begin(epoch, logs)
        self._epoch_start, self._epoch_batches = time.time(), 0

    def on_train_batch_end(self, batch, logs=None):
        super().on_train_batch_end(batch, logs)
        self._epoch_batches += 1

    def on_epoch_end(self, epoch, logs=None):
        with tf.summary.record_if(True):
            super().on_epoch_end(epoch, {**(logs or {}), **self.epoch_extras()})

    def epoch_extras(self) -> Dict[str, float]:
        """The learning rate of each of the GAN's optimizers and the epoch's images/s so far."""
        extras = {}
        for prefix in ("d", "g"):
            optimizer = getattr(self.model, f"{prefix}_optimizer", None)
            if isinstance(optimizer, keras.optimizers.Optimizer):
                extras[f"{prefix}_learning_rate"] = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
        seconds = time.time() - self._epoch_start
        if seconds > 0:
            extras["images_per_second"] = self._epoch_batches * self.batch_size / seconds
        return extras


@keras.saving.register_keras_serializable(package="tfgan_app")
class SampleGrid(keras.callbacks.Callback):
    """Writes a grid of samples from a fixed latent batch after every `every_n_epochs` epochs.

    For 2-D points (toy mixtures) the "grid" is a scatter plot. The same latents are used at every epoch (`gan.generate(num_samples, seed)`),
    so the grids show how the generator's mapping evolves. Each grid is saved as
    `<output_dir>/samples/epoch_0001.png` and, if `log_dir` is set, as a
    TensorBoard image summary named `samples`.

    Args:
      output_dir: run folder; grids go to its `samples/` sub-folder.
      num_samples: images per grid (a square number gives a square grid).
      seed: seed of the fixed latents.
      labels: class labels for conditional GANs (default: 0..num_classes-1 repeated).
      log_dir: TensorBoard log folder, or None.
      every_n_epochs: how often to write.
      mixture: for 2-D toy data, the mixture name (`ring8`, `grid25`) drawn under the scatter plot.
    """

    def __init__(self, output_dir: str, num_samples: int = 64, seed: int = 0,
                 labels: Optional[Sequence[int]] = None, log_dir: Optional[str] = None,
                 every_n_epochs: int = 1, mixture: str = "ring8"):
        super().__init__()
        self.output_dir = output_dir
        self.num_samples = num_samples
        self.seed = seed
        self.labels = labels
        self.log_dir = log_dir
        self.every_n_epochs = every_n_epochs
        self.mixture = mixture
        self._summaries = EpochSummaryWriter(os.path.join(log_dir, "samples")) if log_dir else None

    def get_config(self):
        return {"output_dir": self.output_dir, "num_samples": self.num_samples, "seed": self.seed,
                "labels": self.labels, "log_dir": self.log_dir, "every_n_epochs": self.every_n_epochs, "mixture": self.mixture}

    def write(self, epoch: int) -> str:
        """Generates the grid for `epoch` (1-based) and writes it; returns the PNG path."""
        samples = self.model.generate(self.num_samples, seed=self.seed, labels=self.labels)
        if samples.ndim == 2:  # points of a 2-D toy mixture: a scatter plot over the mixture's modes
            grid = scatter_image(samples, self.mixture)
        else:
            grid = image_utils.make_grid(samples)
        path = image_utils.save_png(os.path.join(self.output_dir, "samples", f"epoch_{epoch:04d}.png"), grid)
        if self._summaries is not None:
            with self._summaries.recording():
                # Step = 0-based epoch index, the step of Keras' epoch_* scalars: the grid after epoch 1 sits at 0.
                tf.summary.image("samples", grid[None], step=epoch - 1)
        return path

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs == 0:
            self.write(epoch + 1)


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Stops training with a clear error when a loss becomes NaN or infinite.

    Checked after every batch; the checkpoints written before the bad batch stay
    untouched, so training can be resumed from the last good one (e.g. with a
    lower learning rate).
    """

    def on_train_batch_end(self, batch, logs=None):
        for key in ("d_loss", "g_loss"):
            value = (logs or {}).get(key)
            if value is not None and not np.isfinite(float(value)):
                self.model.stop_training = True
                raise TrainingDivergedError(
                    f"{key} became {float(value)} at batch {batch}: training diverged and was stopped. The last "
                    "checkpoint written before this batch is intact; resume from it with a lower learning rate, "
                    "a different loss, or mixed precision off.")


def scatter_image(samples, mixture: str, size: int = 256) -> np.ndarray:
    """A `[size, size, 3]` uint8 picture of 2-D samples (white) over the mixture's 3σ discs (red).

    The view spans the mixture's means plus a margin (so samples far off the
    modes fall outside it); y points up. For sample grids of toy runs.
    """
    samples = np.asarray(samples, np.float64).reshape(len(samples), -1)
    means, std = mixture_means(mixture), mixture_std(mixture)
    half = np.abs(means).max() * 1.25 + 0.5
    to_pixel = lambda xy: np.round((np.asarray(xy) + half) / (2 * half) * (size - 1)).astype(int)  # noqa: E731
    image = np.zeros((size, size, 3), np.uint8)
    grid = (np.stack(np.meshgrid(np.arange(size), np.arange(size), indexing="xy"), -1) / (size - 1)) * 2 * half - half
    for mean in means:
        inside = np.linalg.norm(grid - mean, axis=-1) <= max(3 * std, 2 * half / size)
        image[::-1][inside] = (160, 0, 0)
    pixels = to_pixel(samples[:, :2])
    keep = np.all((pixels >= 0) & (pixels < size), axis=1)
    image[size - 1 - pixels[keep, 1], pixels[keep, 0]] = 255
    return image
