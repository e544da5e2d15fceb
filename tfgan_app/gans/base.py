"""The `GAN` class: latent GANs, the family whose generator maps latents z to samples.

`GAN` is the `tfgan_app.gans.adversarial.AdversarialModel` loop (compile, losses,
metrics, D/G steps, EMA, packing, DiffAugment, Improved-GAN techniques) plus what
latents bring: `latent_dim`, training latents from `sample_latents`, and
`generate` with the truncation trick. Latent variants (conditional, WGAN, ACGAN,
InfoGAN, SGAN, unrolled, StyleGAN, text-conditioned, ...) subclass it and
override hooks; image-to-image models have their own family
(`tfgan_app.gans.image_to_image.ImageToImageGAN`).

Hooks of the latent family, besides those of `AdversarialModel`:

| hook | default |
|---|---|
| `generator_inputs(z, condition)` | `z` |
| `fake_samples(z, condition, stream, counter)` | `generator(generator_inputs(z, condition))` |
| `sample_latents(batch_size, stream, counter)` | stateless N(0, I) `[batch_size, latent_dim]` |
| `condition_for_generation(num, labels)` | None (unconditional GANs reject labels) |
| `sample_grid_callback(output_dir, dataset, ...)` | `SampleGrid` of fixed latents |

Example:
>>> gan = GAN(dcgan_generator(64, (28, 28, 1)), dcgan_discriminator((28, 28, 1)))
>>> gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
...             g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), loss="non_saturating")
>>> gan.fit(load_dataset("mnist", batch_size=64).dataset, epochs=1)
>>> images = gan.generate(16, seed=0)   # numpy [16, 28, 28, 1] in [-1, 1]
"""

import sys
from typing import Any, Dict, Optional, Sequence

import keras
import numpy as np
import tensorflow as tf

from tfgan_app.callbacks import SampleGrid
from tfgan_app.errors import UsageError
from tfgan_app.gans.adversarial import AdversarialModel
from tfgan_app.gans.sampling import stream_seed
from tfgan_app.latent import sample_latents


def generate_in_batches(num: int, batch_size: int, progress: bool, call) -> np.ndarray:
    """`call(start, stop)` for consecutive batches of at most `batch_size` of `num` samples, concatenated as
    numpy; with `progress`, a Keras progress bar counts the samples on a terminal (what every `generate`
    shares). Output that is not a terminal (a log file, a pipe) gets no bar: there Keras' bar would append every
    redraw with its escape codes instead of redrawing in place."""
    bar = keras.utils.Progbar(num, unit_name="sample") if progress and sys.stdout.isatty() else None
    outputs = []
    for start in range(0, num, batch_size):
        outputs.append(np.asarray(call(start, min(start + batch_size, num))))
        if bar is not None:
            bar.update(min(start + batch_size, num))
    return np.concatenate(outputs)



@keras.saving.register_keras_serializable(package="tfgan_app")
class GAN(AdversarialModel):
    """An unconditional latent GAN trained with `fit`.

    Args:
      generator: `keras.Model` mapping latents `[B, latent_dim]` to samples.
      discriminator: `keras.Model` mapping samples to logits `[B, 1]` (or `[B, ...]`).
      latent_dim: size of z; inferred from the generator's first input if omitted.
      (d_steps, seed, ema_decay, pack, diff_augment and the Improved-GAN options: see
      `AdversarialModel`; each D step draws fresh latents for the same real batch.)

    Raises:
      UsageError: if `latent_dim` differs from the generator's latent input size, or for a bad option of
        `AdversarialModel`.

    Example:
    >>> gan = GAN(dcgan_generator(64, (28, 28, 1), base_filters=16), dcgan_discriminator((28, 28, 1), base_filters=16))
    >>> gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
    ...             g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), loss="non_saturating")
    >>> history = gan.fit(load_dataset("mnist", batch_size=64).dataset.take(10), epochs=1, verbose=0)
    >>> gan.generate(16, seed=0).shape
    (16, 28, 28, 1)
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, latent_dim: Optional[int] = None,
                 **kwargs):
        inferred = generator.inputs[0].shape[-1] if generator.inputs else None
        if latent_dim is not None and inferred is not None and latent_dim != inferred:
            raise UsageError(f"latent_dim={latent_dim} does not match the generator's latent input size "
                             f"{inferred}; omit latent_dim or rebuild the generator with latent_dim={latent_dim}.")
        super().__init__(generator, discriminator, **kwargs)
        self.latent_dim = int(latent_dim or inferred)

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "latent_dim": self.latent_dim}

    def sample_grid_callback(self, output_dir: str, dataset, seed: int = 0,
                             log_dir: Optional[str] = None, **options) -> keras.callbacks.Callback:
        """The callback that writes this model's sample grids during `tfgan train` (fixed latents).

        `options` go to `SampleGrid` (e.g. `num_samples`, `mixture` for 2-D toy data).
        """
        return SampleGrid(output_dir, seed=seed, log_dir=log_dir, **options)

    # --- sampling -------------------------------------------------------------------------------

    def generate(self, num: int, seed: Optional[int] = 0, labels: Optional[Sequence[int]] = None,
                 batch_size: int = 256, truncation: float = 1.0, progress: bool = False) -> np.ndarray:
        """Returns `num` samples as a numpy array (images in [-1, 1]) from `sample_latents(num, latent_dim, seed)`.

        Samples come from `sampling_generator` (the EMA generator when enabled). `truncation` is ψ of the
        truncation trick for N(0, I) latents: z is replaced by ψ·z (the mean latent is 0), so ψ = 0 gives
        the mean latent's sample and ψ = 1 the plain one; codes and labels are not truncated.
        With `progress`, a Keras progress bar counts the samples as the batches are generated.
        """
        truncation = check_truncation(truncation)
        z = sample_latents(num, self.latent_dim, seed) * truncation
        condition = self.condition_for_generation(num, labels)
        generator = self.sampling_generator
        return generate_in_batches(
            num, batch_size, progress,
            lambda start, stop: generator(self.generator_inputs(
                z[start:stop], None if condition is None else condition[start:stop]), training=False))

    def condition_for_generation(self, num: int, labels: Optional[Sequence[int]]):
        """What `generate` passes as condition; unconditional GANs reject labels."""
        if labels is not None:
            raise UsageError(f"{type(self).__name__} is unconditional and takes no labels.")
        return None

    # --- hooks ----------------------------------------------------------------------------------

    def generator_inputs(self, z: tf.Tensor, condition):
        return z

    def sample_latents(self, batch_size, stream: int, counter) -> tf.Tensor:
        """Training latents `[batch_size, latent_dim]` for a stream (0: D steps, 1: G steps) and step counter.

        A stateless function of (seed, counter, stream, replica id) through
        `tfgan_app.gans.sampling.stream_seed`: reproducible, resumable, and different
        on every replica and for every stream (see that module for the stream numbers).
        """
        seed = stream_seed(self.seed, stream, counter)
        return tf.random.stateless_normal(tf.stack([batch_size, self.latent_dim]), seed=seed)

    def fake_samples(self, z: tf.Tensor, condition, stream: int, counter, training: bool = True) -> tf.Tensor:
        """The generator's samples for training latents `z` (stream 0: D steps, 1: G steps)."""
        return self.generator(self.generator_inputs(z, condition), training=training)

    def training_fakes(self, real: tf.Tensor, condition, stream: int, counter) -> tf.Tensor:
        """`fake_samples` of fresh training latents, one per real example (stream 0: D steps, 1: G steps)."""
        z = self.sample_latents(tf.shape(real)[0], stream, counter)
        return self.fake_samples(z, condition, stream, counter)


def check_truncation(truncation: float) -> float:
    """Returns ψ as a float; raises UsageError unless it is a number in [0, 1]."""
    if isinstance(truncation, bool) or not isinstance(truncation, (int, float, np.floating, np.integer)) \
            or not 0.0 <= float(truncation) <= 1.0:
        raise UsageError(f"truncation (psi) must be a number in [0, 1] (1: no truncation, 0: the mean latent), "
                         f"received truncation={truncation!r}.")
    return float(truncation)
