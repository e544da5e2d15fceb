"""The fast training settings compute the same losses as the plain float32 path.

The speed knobs measured in `benchmarks/train_step_speed.py` may only change
how fast a step runs, never what it computes:

* `steps_per_execution=N` runs N train steps per `tf.function` call; the ops and
  their order are unchanged, so losses and weights must match bit for bit.
* `jit_compile=True` (XLA) fuses ops and reorders float32 sums; results match to
  float32 round-off amplified by a few Adam steps (relative 2e-3).
* `mixed_precision=mixed_bfloat16` (a preset field, `--set` on the CLI) computes
  activations in bfloat16, whose 8-bit significand has a relative rounding error of
  2^-9 ≈ 0.2 %. Losses are reduced in float32 (`GAN._average` casts), so after two
  steps they stay within 5e-3 (≈ 2 bf16 ulps) of float32; mean logits are near 0,
  so they get an absolute tolerance of 5e-3 instead.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_app import training
from tfgan_app.architectures import dcgan_discriminator, dcgan_generator
from tfgan_app.gans import GAN
from tfgan_app.presets import Preset, apply_overrides

SHAPE = (28, 28, 1)
METRICS = ("d_loss", "g_loss", "d_real", "d_fake")


@pytest.fixture(autouse=True)
def float32_policy():
    """`training.train` sets the global dtype policy; put it back for the other tests."""
    yield
    keras.mixed_precision.set_global_policy("float32")


def images(n=64, seed=0):
    return np.tanh(np.random.default_rng(seed).normal(size=(n,) + SHAPE)).astype(np.float32)


def adam():
    return keras.optimizers.Adam(2e-4, beta_1=0.5)


class DeterministicLatentGAN(GAN):
    """Latents from a fixed formula of (stream, step): XLA compiles stateless RNG ops to a different
    algorithm than TensorFlow's kernels, so random latents would differ between the two paths."""

    def sample_latents(self, batch_size, stream, counter):
        grid = tf.reshape(tf.range(batch_size * self.latent_dim), [batch_size, self.latent_dim])
        return tf.sin(tf.cast(grid, tf.float32) * 0.37 + tf.cast(counter * 2 + stream, tf.float32))


def fit_tiny(epochs=2, steps_per_epoch=4, optimizer=adam, gan_class=GAN, **compile_args):
    """Trains a seeded tiny DCGAN on fixed data; returns (history, trainable weights)."""
    keras.utils.set_random_seed(0)
    gan = gan_class(dcgan_generator(8, SHAPE, base_filters=8), dcgan_discriminator(SHAPE, base_filters=8), seed=0)
    gan.compile(d_optimizer=optimizer(), g_optimizer=optimizer(), **compile_args)
    data = tf.data.Dataset.from_tensor_slices(images()).batch(8)
    history = gan.fit(data, epochs=epochs, steps_per_epoch=steps_per_epoch, verbose=0, shuffle=False).history
    return history, [np.array(v) for v in gan.trainable_variables]


def test_steps_per_execution_computes_identical_losses_and_weights():
    plain_history, plain_weights = fit_tiny(steps_per_execution=1)
    fast_history, fast_weights = fit_tiny(steps_per_execution=4)
    for key in METRICS:
        np.testing.assert_array_equal(fast_history[key], plain_history[key], err_msg=key)
    for fast, plain in zip(fast_weights, plain_weights):
        np.testing.assert_array_equal(fast, plain)
    # The two epochs differ, so equal histories mean the same steps ran in the same order.
    assert plain_history["d_loss"][0] != plain_history["d_loss"][1]


def test_jit_compile_matches_plain_losses():
    # SGD, not Adam: Adam's first steps move each weight by ±lr whatever the gradient's size, so XLA's
    # different float rounding of near-zero gradients would flip whole updates and hide real mismatches.
    sgd = lambda: keras.optimizers.SGD(0.05)  # noqa: E731
    options = dict(epochs=2, steps_per_epoch=2, optimizer=sgd, gan_class=DeterministicLatentGAN)
    plain_history, _ = fit_tiny(jit_compile=False, **options)
    xla_history, _ = fit_tiny(jit_compile=True, **options)
    for key in ("d_loss", "g_loss"):
        np.testing.assert_allclose(xla_history[key], plain_history[key], rtol=1e-3, err_msg=key)
    for key in ("d_real", "d_fake"):
        np.testing.assert_allclose(xla_history[key], plain_history[key], atol=5e-3, err_msg=key)


def tiny_preset(*overrides):
    """A 2-step MNIST run of a small DCGAN, with CLI-style `--set` overrides."""
    base = Preset(name="tiny", dataset="mnist", latent_dim=8, batch_size=16, epochs=1, steps_per_epoch=2,
                  generator_options={"base_filters": 8}, discriminator_options={"base_filters": 8})
    return apply_overrides(base, list(overrides))


def test_mixed_bfloat16_preset_matches_float32_within_bfloat16_precision(tmp_path):
    plain = training.train(tiny_preset(), str(tmp_path / "fp32"), verbose=0)
    fast = training.train(tiny_preset("mixed_precision=mixed_bfloat16"), str(tmp_path / "bf16"), verbose=0)
    # The override really switched the arithmetic: bf16 compute, float32 weights and outputs.
    conv = next(l for l in fast.gan.generator.layers if isinstance(l, keras.layers.Conv2DTranspose))
    assert conv.compute_dtype == "bfloat16" and conv.kernel.dtype == "float32"
    assert fast.gan.generator.output.dtype == "float32"
    assert any(fast.history[k] != plain.history[k] for k in METRICS)
    for key in ("d_loss", "g_loss"):
        np.testing.assert_allclose(fast.history[key], plain.history[key], rtol=5e-3, err_msg=key)
    for key in ("d_real", "d_fake"):
        np.testing.assert_allclose(fast.history[key], plain.history[key], atol=5e-3, err_msg=key)
