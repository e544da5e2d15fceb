"""StyleGAN-lite (Karras et al. 2019, 2020): style mixing, truncation trick and R1 penalty.

The generator comes from `tfgan_app.architectures.stylegan.stylegan_generator`
(mapping → truncation → synthesis). `StyleGAN` trains it with the base class's
loop and adds:

* **style mixing regularisation**: with probability `style_mixing_prob` a
  training image takes its coarse styles (levels `< c`) from w₁ = f(z₁) and its
  fine styles from w₂ = f(z₂), with the crossover c uniform in [1, levels), so
  the network cannot assume neighbouring levels share a style.
* **w_avg tracking**: an exponential moving average of mapped latents (decay
  `w_avg_decay`), stored in the generator's `truncation` layer.
* **truncation trick** in `generate(num, seed, truncation_psi=ψ)`:
  w ↦ w_avg + ψ(w − w_avg); ψ < 1 gives more typical, less varied images.
* **R1 penalty** (Mescheder et al. 2018): (γ/2)·E‖∇ₓD(x)‖² on real images, the
  base class's `r1_gamma` option (every GAN takes it; 0 disables it).

`mix_styles(z_coarse, z_fine, crossover)` renders images from two latents.

Example:
>>> g = stylegan_generator(32, (28, 28, 1), filters=16)
>>> gan = StyleGAN(g, stylegan_discriminator((28, 28, 1)), r1_gamma=1.0)
>>> gan.compile(d_optimizer="adam", g_optimizer="adam", loss="non_saturating")
>>> gan.fit(load_dataset("mnist", batch_size=32).dataset, epochs=1)
>>> typical = gan.generate(16, seed=0, truncation_psi=0.7)
>>> mixed = gan.mix_styles(sample_latents(4, 32, 1), sample_latents(4, 32, 2), crossover=1)
"""

from typing import Any, Dict, Optional, Sequence

import keras
import numpy as np
import tensorflow as tf

from tfgan_app.errors import UsageError
from tfgan_app.gans import sampling
from tfgan_app.gans.base import GAN, check_truncation, generate_in_batches
from tfgan_app.latent import sample_latents
from tfgan_app.losses import r1_penalty  # noqa: F401  (re-exported: it lived here)


@keras.saving.register_keras_serializable(package="tfgan_app")
class StyleGAN(GAN):
    """StyleGAN-lite training and sampling (see the module docstring).

    Args:
      generator: built by `stylegan_generator` (needs its `mapping`, `truncation`, `synthesis` parts).
      discriminator: images → logits (e.g. `stylegan_discriminator`).
      style_mixing_prob: probability that a training image mixes two latents (0.9 in the paper).
      r1_gamma: γ of the R1 penalty (an option of every GAN; 10 in the paper at high resolution; 0 disables).
      w_avg_decay: decay of the running mean of w used by the truncation trick.
      (other arguments as `GAN`)

    Raises:
      UsageError: for a generator without `mapping`, `truncation` and `synthesis` parts, a `style_mixing_prob`
        outside [0, 1], a `w_avg_decay` outside [0, 1), or a bad option of `GAN`.

    Example:
    >>> g = stylegan_generator(32, (28, 28, 1), filters=8, max_filters=16)
    >>> gan = StyleGAN(g, stylegan_discriminator((28, 28, 1), filters=8, max_filters=16), r1_gamma=1.0)
    >>> gan.compile(d_optimizer="adam", g_optimizer="adam", loss="non_saturating")
    >>> history = gan.fit(load_dataset("mnist", batch_size=32).dataset.take(10), epochs=1, verbose=0)
    >>> gan.generate(4, seed=0, truncation_psi=0.7).shape
    (4, 28, 28, 1)
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, style_mixing_prob: float = 0.9,
                 w_avg_decay: float = 0.995, **kwargs):
        names = {layer.name for layer in generator.layers}
        if not {"mapping", "truncation", "synthesis"} <= names:
            raise UsageError("StyleGAN needs a generator built by stylegan_generator (with mapping, truncation "
                             f"and synthesis parts); received one with layers {sorted(names)}.")
        if not 0.0 <= style_mixing_prob <= 1.0:
            raise UsageError(f"style_mixing_prob must be in [0, 1], received {style_mixing_prob}.")
        if not 0.0 <= w_avg_decay < 1.0:
            raise UsageError(f"w_avg_decay must be in [0, 1), received {w_avg_decay}.")
        super().__init__(generator, discriminator, **kwargs)
        self.style_mixing_prob = float(style_mixing_prob)
        self.w_avg_decay = float(w_avg_decay)
        self.mapping = generator.get_layer("mapping")
        self.truncation = generator.get_layer("truncation")
        self.synthesis = generator.get_layer("synthesis")
        self.num_levels = int(self.synthesis.inputs[0].shape[1])

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "style_mixing_prob": self.style_mixing_prob, "w_avg_decay": self.w_avg_decay}

    # --- sampling -------------------------------------------------------------------------------

    def styles(self, z: tf.Tensor, truncation_psi: float = 1.0) -> tf.Tensor:
        """Per-level styles `[B, levels, w_dim]` of latents z, truncated with ψ (from `sampling_generator`)."""
        sampler = self.sampling_generator  # the EMA generator's parts when ema_decay is set
        w = sampler.get_layer("truncation")(sampler.get_layer("mapping")(z, training=False), psi=truncation_psi)
        return tf.repeat(w[:, None], self.num_levels, axis=1)

    def generate(self, num: int, seed: Optional[int] = 0, labels: Optional[Sequence[int]] = None,
                 batch_size: int = 256, truncation_psi: float = 1.0, truncation: float = 1.0,
                 progress: bool = False) -> np.ndarray:
        """`num` images from `sample_latents(num, latent_dim, seed)`, with the truncation trick for ψ < 1.

        `truncation` (the name every GAN's `generate` takes) is the same ψ: w is pulled towards the
        tracked average w (StyleGAN's truncation, in W rather than Z); give one of the two.
        """
        if truncation != 1.0:
            if truncation_psi != 1.0:
                raise UsageError("Give truncation or truncation_psi (the same ψ), not both.")
            truncation_psi = check_truncation(truncation)
        self.condition_for_generation(num, labels)
        z = sample_latents(num, self.latent_dim, seed)
        synthesis = self.sampling_generator.get_layer("synthesis")
        return generate_in_batches(num, batch_size, progress, lambda start, stop: synthesis(
            self.styles(z[start:stop], truncation_psi), training=False))

    def mix_styles(self, z_coarse, z_fine, crossover: int, truncation_psi: float = 1.0) -> np.ndarray:
        """Images whose levels `< crossover` use the styles of `z_coarse` and the rest those of `z_fine`."""
        if not 0 <= crossover <= self.num_levels:
            raise UsageError(f"crossover must be in [0, {self.num_levels}], received {crossover}.")
        coarse, fine = self.styles(z_coarse, truncation_psi), self.styles(z_fine, truncation_psi)
        ws = tf.concat([coarse[:, :crossover], fine[:, crossover:]], axis=1)
        return np.asarray(self.sampling_generator.get_layer("synthesis")(ws, training=False))

    # --- training -------------------------------------------------------------------------------

    def mixed_styles(self, z: tf.Tensor, stream: int, counter, training: bool = True) -> tf.Tensor:
        """Training styles of latents z: w = f(z) per level, mixed with w₂ = f(z₂) for a random share of rows."""
        batch = tf.shape(z)[0]
        w = self.mapping(z, training=training)
        if stream == 1:  # generator steps track the average w for the truncation trick
            self.truncation.update_average(w, self.w_avg_decay)
        ws = tf.repeat(w[:, None], self.num_levels, axis=1)
        if not self.style_mixing_prob or self.num_levels < 2:
            return ws
        w2 = self.mapping(self.sample_latents(batch, sampling.STYLE_MIX_LATENTS[stream], counter), training=training)
        choice_seed = sampling.stream_seed(self.seed, sampling.STYLE_MIX_CHOICE[stream], counter)
        mix = tf.random.stateless_uniform([batch], choice_seed) < self.style_mixing_prob
        crossover = tf.random.stateless_uniform(
            [batch], sampling.stream_seed(self.seed, sampling.STYLE_MIX_CROSSOVER[stream], counter), 1,
            self.num_levels, dtype=tf.int32)
        crossover = tf.where(mix, crossover, self.num_levels)
        use_first = tf.range(self.num_levels)[None, :] < crossover[:, None]  # [B, levels]
        return tf.where(use_first[:, :, None], ws, tf.repeat(w2[:, None], self.num_levels, axis=1))

    def fake_samples(self, z: tf.Tensor, condition, stream: int, counter, training: bool = True) -> tf.Tensor:
        """Training fakes: synthesis of style-mixed styles."""
        return self.synthesis(self.mixed_styles(z, stream, counter, training=training), training=training)
