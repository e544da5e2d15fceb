"""Text-conditioned GAN (StackGAN stage I, Zhang et al. 2017, small scale): images from captions.

Batches are `(images, tokens)` (`tfgan_app.data.captions.load_captioned`); G and D
both read the caption (`tfgan_app.architectures.text`). Differences from the base
loop, all through hooks:

* `discriminator_loss`: matching-aware (Reed et al. 2016, as StackGAN): real images
  with a *mismatched* caption (the batch's captions rolled by one) count as fake:
  ½·(D-loss(real, fake) + D-loss(real, mismatched)) = real term + ½ fake + ½ mismatched.
* `generator_loss`: adversarial + `kl_weight`·KL(N(μ, σ²) ‖ N(0, I)) of the
  conditioning augmentation (2.0 in StackGAN's code).
* `generate(num, seed, labels=captions)`: captions are strings (cycled to `num`);
  without them the stored `sample_captions` are used.

Example:
>>> info, vocabulary = load_captioned("mnist", batch_size=64)
>>> gan = TextConditionedGAN(text_generator(32, (28, 28, 1), len(vocabulary) + 2, 8),
...                          text_discriminator((28, 28, 1), len(vocabulary) + 2, 8), vocabulary)
>>> gan.compile(d_optimizer="adam", g_optimizer="adam", loss="non_saturating")
>>> gan.fit(info.dataset, epochs=1)
>>> sevens = gan.generate(8, labels=["a handwritten seven"])
"""

from typing import Any, Dict, List, Optional, Sequence

import keras
import numpy as np
import tensorflow as tf

from tfgan_app.architectures.text import kl_to_standard_normal, text_discriminator, text_generator
from tfgan_app.data.captions import CLASS_NAMES, caption_vocabulary, captions_for, make_vectorizer
from tfgan_app.errors import UsageError
from tfgan_app.gans.base import GAN


@keras.saving.register_keras_serializable(package="tfgan_app")
class TextConditionedGAN(GAN):
    """A caption-conditioned GAN: generator `[z, tokens]`, discriminator `[images, tokens]`.

    Args:
      vocabulary: the words of the token ids (as `caption_vocabulary`; id 0 is padding, 1 unknown).
      kl_weight: weight of the conditioning-augmentation KL term. StackGAN's 2.0 suits its rich
        pretrained text embeddings; on 10-class captions it makes carrying the class through c cost
        more than the adversarial gain (caption accuracy 0.16 vs 0.49 with 0.05 after 2,000 steps),
        so the preset uses 0.05.
      sample_captions: captions `generate` uses when given none (e.g. one per class).
      (other arguments as `GAN`)

    Raises:
      UsageError: unless the generator takes `[z, tokens]` and the discriminator `[images, tokens]`, for a
        negative `kl_weight`, or a bad option of `GAN`.

    Example:
    >>> info, vocabulary = load_captioned("mnist", batch_size=64)
    >>> gan = TextConditionedGAN(text_generator(32, (28, 28, 1), len(vocabulary) + 2, 8, base_filters=8),
    ...                          text_discriminator((28, 28, 1), len(vocabulary) + 2, 8, base_filters=8),
    ...                          vocabulary, kl_weight=0.05)
    >>> gan.compile(d_optimizer="adam", g_optimizer="adam", loss="non_saturating")
    >>> history = gan.fit(info.dataset.take(10), epochs=1, verbose=0)
    >>> gan.generate(2, labels=["a handwritten seven"]).shape
    (2, 28, 28, 1)
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, vocabulary: Sequence[str],
                 kl_weight: float = 2.0, sample_captions: Optional[Sequence[str]] = None, **kwargs):
        if len(generator.inputs) != 2 or len(discriminator.inputs) != 2:
            raise UsageError("TextConditionedGAN needs a generator on [z, tokens] and a discriminator on "
                             "[images, tokens] (text_generator / text_discriminator).")
        if kl_weight < 0:
            raise UsageError(f"kl_weight must be >= 0, received {kl_weight}.")
        super().__init__(generator, discriminator, **kwargs)
        self.vocabulary = [str(word) for word in vocabulary]
        self.kl_weight = float(kl_weight)
        self.sample_captions = list(sample_captions or [])
        self.sequence_length = int(generator.inputs[1].shape[1])
        self.vectorizer = make_vectorizer(self.vocabulary, self.sequence_length)
        self.ca_stats = self.conditioning_stats_model(generator)

    @staticmethod
    def conditioning_stats_model(generator: keras.Model) -> keras.Model:
        """`tokens → [μ, log σ²]` of the generator's conditioning augmentation (its layer `ca_stats`).

        Variants whose generator nests its CA (StackGAN's stages) override it."""
        return keras.Model(generator.inputs[1], generator.get_layer("ca_stats").output)

    @classmethod
    def from_preset(cls, preset, info) -> "TextConditionedGAN":
        """Builds the (uncompiled) model of a preset whose dataset is `captions:NAME` (e.g. `captions:mnist`).

        The vocabulary and the sample captions (one per class) come from the caption set NAME.
        """
        name = preset.dataset.split(":", 1)[-1]
        vocabulary = caption_vocabulary(name)
        sample_captions = captions_for(name, range(len(CLASS_NAMES[name])))
        sequence_length = int(info.dataset.element_spec[1].shape[1])
        vocab_size = len(vocabulary) + 2
        generator = text_generator(preset.latent_dim, info.image_shape, vocab_size, sequence_length,
                                   **preset.generator_options)
        discriminator = text_discriminator(info.image_shape, vocab_size, sequence_length,
                                           **preset.discriminator_options)
        return cls(generator, discriminator, vocabulary, sample_captions=sample_captions, seed=preset.seed,
                   **preset.gan_options)

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "vocabulary": self.vocabulary, "kl_weight": self.kl_weight,
                "sample_captions": self.sample_captions}

    def encode(self, captions: Sequence[str]) -> tf.Tensor:
        """Token ids int32 `[N, sequence_length]` of caption strings."""
        return tf.cast(self.vectorizer(tf.constant(list(captions))), tf.int32)

    # --- hooks ----------------------------------------------------------------------------------

    def unpack_batch(self, data):
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            raise UsageError("TextConditionedGAN trains on (images, tokens) batches; use "
                             "tfgan_app.data.captions.load_captioned.")
        return data[0], tf.cast(data[1], tf.int32)

    def generator_inputs(self, z, condition):
        return [z, condition]

    def discriminator_inputs(self, samples, condition):
        return [samples, condition]

    def discriminator_loss(self, real_logits, fake_logits, real, fake, condition) -> tf.Tensor:
        mismatched = self.discriminate(real, tf.roll(condition, shift=1, axis=0), training=True)
        return 0.5 * (self.loss_pair.discriminator(real_logits, fake_logits)
                      + self.loss_pair.discriminator(real_logits, mismatched))

    def generator_loss(self, fake_logits, fake, real, condition) -> tf.Tensor:
        kl = kl_to_standard_normal(self.ca_stats(condition, training=True))
        return self.adversarial_generator_loss(fake_logits, fake, real, condition) + self.kl_weight * kl

    def condition_for_generation(self, num: int, labels: Optional[Sequence[str]]):
        """Token ids of `labels` (caption strings, cycled to `num`), or of `sample_captions`."""
        captions: List[str] = list(labels) if labels is not None else self.sample_captions
        if not captions or not all(isinstance(c, str) for c in captions):
            raise UsageError("TextConditionedGAN.generate needs captions: labels=['a handwritten seven', ...] "
                             f"(strings), received {labels!r}.")
        return self.encode(np.resize(np.asarray(captions, dtype=object), num).tolist())
