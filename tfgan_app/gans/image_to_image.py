"""The image-to-image family (pix2pix, SRGAN, CycleGAN): `ImageToImageGAN`, translation grids.

`ImageToImageGAN` is the `tfgan_app.gans.adversarial.AdversarialModel` loop for a
generator that maps input images to output images; there are no latents (no
`latent_dim`, `sample_latents` or truncation: these generators are deterministic).
Its hooks:

| hook | image-to-image |
|---|---|
| `unpack_batch((inputs, targets))` | real = targets, condition = inputs |
| `training_fakes(real, inputs, ...)` | `generator(inputs)` |

`translate(images)` runs the generator (the EMA one when `ema_decay` is set).
`generate` exists only to say, as a `UsageError`, that these models translate
(`tfgan generate` dispatches on the exported kind and never calls it).
`TranslationGrid` is the sample callback of these models: it writes rows of
input | output | target from a fixed batch.

Example:
>>> gan = Pix2Pix(unet_generator((28, 28, 1)), patchgan_discriminator((28, 28, 1), (28, 28, 1)))
>>> outputs = gan.translate(edge_images)   # numpy [N, 28, 28, 1] in [-1, 1]
"""

import os
from typing import Any, Dict, Optional

import keras
import numpy as np
import tensorflow as tf

from tfgan_app import images as image_utils
from tfgan_app.callbacks import EpochSummaryWriter
from tfgan_app.errors import UsageError
from tfgan_app.gans.adversarial import AdversarialModel


def l1_distance(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    """Per-example mean absolute difference ‖a − b‖₁ / (number of values): `[B, ...]` → `[B]`."""
    diff = tf.abs(tf.cast(a, tf.float32) - tf.cast(b, tf.float32))
    return tf.reduce_mean(tf.reshape(diff, [tf.shape(diff)[0], -1]), axis=1)


def translate_images(generator: keras.Model, images, batch_size: int = 256) -> np.ndarray:
    """Runs an image-in generator over `images` in batches (inference mode); returns numpy."""
    images = np.asarray(images, np.float32)
    expected = tuple(generator.inputs[0].shape[1:])
    if images.ndim != 4 or any(e is not None and e != s for e, s in zip(expected, images.shape[1:])):
        raise UsageError(f"{generator.name} translates images of shape [N, {', '.join(map(str, expected))}], "
                         f"received {images.shape}.")
    outputs = [np.asarray(generator(images[i:i + batch_size], training=False))
               for i in range(0, len(images), batch_size)]
    return np.concatenate(outputs) if outputs else np.zeros((0,) + tuple(generator.outputs[0].shape[1:]), np.float32)


def translation_rows(inputs, outputs, targets=None) -> np.ndarray:
    """Interleaves images into grid cells: input, output(, target) per example, all resized to the output size.

    Inputs of another size (super-resolution) are upsampled with nearest neighbours so
    their pixels stay visible; cells are converted to the outputs' channels (gray ↔ RGB).
    """
    outputs = np.asarray(outputs, np.float32)
    height, width, channels = outputs.shape[1:]
    columns = [inputs, outputs] + ([] if targets is None else [targets])
    cells = []
    for column in columns:
        column = tf.convert_to_tensor(np.asarray(column, np.float32))
        if tuple(column.shape[1:3]) != (height, width):
            column = tf.image.resize(column, (height, width), method="nearest")
        if column.shape[-1] == 1 and channels == 3:
            column = tf.image.grayscale_to_rgb(column)
        elif column.shape[-1] == 3 and channels == 1:
            column = tf.image.rgb_to_grayscale(column)
        cells.append(np.asarray(column))
    return np.stack(cells, axis=1).reshape((-1, height, width, channels))


def save_translation_grid(path: str, inputs, outputs, targets=None) -> str:
    """Writes a PNG grid with one row per example: input | output (| target); returns the path."""
    return image_utils.save_grid(path, translation_rows(inputs, outputs, targets), cols=2 if targets is None else 3)


@keras.saving.register_keras_serializable(package="tfgan_app")
class ImageToImageGAN(AdversarialModel):
    """An adversarial model on `(input_image, target_image)` batches whose generator maps input images to outputs.

    Args:
      generator: image-in `keras.Model` `[B, H, W, C] → [B, H', W', C']`.
      discriminator: `keras.Model` judging output images (with the inputs, if a variant says so in
        `discriminator_inputs`).
      (d_steps, seed, ema_decay, pack, diff_augment and the Improved-GAN options: see `AdversarialModel`.)

    Example (`Pix2Pix`, `ContextEncoder`, `SRGAN` and `CycleGAN` are the concrete variants):
    >>> info = load_paired("mnist_edges", batch_size=16)
    >>> gan = Pix2Pix(unet_generator((28, 28, 1), base_filters=8),
    ...               patchgan_discriminator((28, 28, 1), (28, 28, 1), base_filters=8, num_layers=2))
    >>> gan.compile(d_optimizer="adam", g_optimizer="adam", loss="non_saturating")
    >>> history = gan.fit(info.dataset.take(10), epochs=1, verbose=0)
    >>> gan.translate(np.zeros((3, 28, 28, 1), np.float32)).shape
    (3, 28, 28, 1)
    """

    @classmethod
    def from_config(cls, config: Dict[str, Any], custom_objects=None):
        config = dict(config)
        # Files saved while these models were latent GANs carry latent_dim (= the input channels); unused.
        config.pop("latent_dim", None)
        return super().from_config(config, custom_objects)

    def unpack_batch(self, data):
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            raise UsageError(f"{type(self).__name__} trains on (input_images, target_images) batches; use a "
                             "paired dataset (tfgan_app.data.paired.load_paired).")
        return data[1], data[0]

    def training_fakes(self, real, condition, stream: int, counter):
        """`generator(inputs)` (deterministic: the same for D and G steps)."""
        return self.generator(condition, training=True)

    def translate(self, images, batch_size: int = 256) -> np.ndarray:
        """Returns the generator's outputs for `images` (numpy, [-1, 1])."""
        return translate_images(self.sampling_generator, images, batch_size)

    def generate(self, *args, **kwargs) -> np.ndarray:
        """Raises UsageError: an image-to-image model samples nothing from latents (use `translate`)."""
        raise UsageError(f"{type(self).__name__} translates input images and samples nothing from latents; "
                         "call gan.translate(images) instead of generate().")

    def sample_grid_callback(self, output_dir: str, dataset, seed: int = 0, log_dir: Optional[str] = None,
                             num_samples: int = 16) -> keras.callbacks.Callback:
        """The run's sample callback: a `TranslationGrid` on the first `num_samples` pairs of `dataset`."""
        inputs, targets = next(iter(dataset.unbatch().batch(num_samples).take(1)))
        return TranslationGrid(output_dir, np.asarray(inputs), np.asarray(targets), log_dir=log_dir)


class TranslationGrid(keras.callbacks.Callback):
    """Writes `samples/epoch_NNNN.png` after each epoch: rows of input | output | target for fixed pairs.

    Works with any model that has `translate(images)` (pix2pix, SRGAN, CycleGAN).

    Args:
      output_dir: run folder; grids go to its `samples/` sub-folder.
      inputs, targets: the fixed example batch (`targets` may be None, e.g. unpaired data).
      log_dir: TensorBoard log folder for an image summary, or None.
    """

    def __init__(self, output_dir: str, inputs, targets=None, log_dir: Optional[str] = None):
        super().__init__()
        self.output_dir = output_dir
        self.inputs = np.asarray(inputs, np.float32)
        self.targets = None if targets is None else np.asarray(targets, np.float32)
        self.log_dir = log_dir
        self._summaries = EpochSummaryWriter(os.path.join(log_dir, "samples")) if log_dir else None

    def write(self, epoch: int) -> str:
        """Translates the fixed inputs and writes the grid for `epoch` (1-based); returns the PNG path."""
        outputs = self.model.translate(self.inputs)
        path = os.path.join(self.output_dir, "samples", f"epoch_{epoch:04d}.png")
        save_translation_grid(path, self.inputs, outputs, self.targets)
        if self._summaries is not None:
            grid = image_utils.make_grid(translation_rows(self.inputs, outputs, self.targets),
                                         cols=2 if self.targets is None else 3)
            with self._summaries.recording():
                tf.summary.image("translations", grid[None], step=epoch)
        return path

    def on_epoch_end(self, epoch, logs=None):
        self.write(epoch + 1)


def pair_shapes(info) -> tuple:
    """`(input_shape, target_shape)` of a `DatasetInfo` of `(input, target)` batches (also unpaired `(a, b)`)."""
    spec = info.dataset.element_spec
    if not isinstance(spec, tuple) or len(spec) != 2:
        raise UsageError("Image-to-image models need a dataset of (input_images, target_images) batches, e.g. "
                         "--dataset=paired:mnist_edges or --dataset=unpaired:mnist_fashion.")
    return tuple(int(d) for d in spec[0].shape[1:]), tuple(int(d) for d in spec[1].shape[1:])


def check_builder(kind: str, name: str, valid: tuple) -> None:
    """Raises UsageError if a preset names an architecture the model cannot use."""
    if name not in valid:
        raise UsageError(f"This GAN type builds its {kind} itself and supports {kind}={' or '.join(valid)}, "
                         f"received {name!r}.")
