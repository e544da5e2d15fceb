"""PatchGAN logit maps: every loss is applied per patch, then averaged per example (issue #13 item 1).

References are NumPy float64 per-patch computations (TF-GAN `losses_impl.py`, keras.io CycleGAN:
loss per patch, then mean). The maps have patches that disagree in sign, so averaging the logits
first (the old behaviour) gives visibly different numbers.
"""

import keras
import numpy as np
import pytest

from tfgan_app import losses
from tfgan_app.gans.base import GAN
from tfgan_app.gans.relativistic import relativistic_average_losses

rng = np.random.default_rng(0)
REAL = rng.normal(0.5, 2.0, size=(3, 4, 4, 1)).astype(np.float32)
FAKE = rng.normal(-0.5, 2.0, size=(3, 4, 4, 1)).astype(np.float32)


def softplus(x):
    return np.logaddexp(0.0, x)


def patch_mean(values):
    """Per-example mean of a per-patch loss map `[B, H, W, 1]` → `[B]`."""
    return values.reshape(values.shape[0], -1).mean(axis=1)


R, F = REAL.astype(np.float64), FAKE.astype(np.float64)
D_CASES = {
    "minimax": patch_mean(softplus(-R)) + patch_mean(softplus(F)),
    "non_saturating": patch_mean(softplus(-R)) + patch_mean(softplus(F)),
    "least_squares": patch_mean(0.5 * (R - 1) ** 2) + patch_mean(0.5 * F ** 2),
    "wasserstein": patch_mean(F) - patch_mean(R),
    "hinge": patch_mean(np.maximum(0, 1 - R)) + patch_mean(np.maximum(0, 1 + F)),
}
G_CASES = {
    "minimax": patch_mean(-softplus(F)),
    "non_saturating": patch_mean(softplus(-F)),
    "least_squares": patch_mean(0.5 * (F - 1) ** 2),
    "wasserstein": patch_mean(-F),
    "hinge": patch_mean(-F),
}


@pytest.mark.parametrize("name", sorted(D_CASES))
def test_discriminator_losses_are_per_patch_then_per_example_mean(name):
    np.testing.assert_allclose(losses.get(name).discriminator(REAL, FAKE), D_CASES[name], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(G_CASES))
def test_generator_losses_are_per_patch_then_per_example_mean(name):
    np.testing.assert_allclose(losses.get(name).generator(FAKE), G_CASES[name], rtol=1e-5, atol=1e-6)


def test_label_smoothing_is_per_patch():
    expected = patch_mean(-(0.9 * np.log(1 / (1 + np.exp(-R))) + 0.1 * np.log(1 - 1 / (1 + np.exp(-R))))) \
        + patch_mean(softplus(F))
    np.testing.assert_allclose(losses.minimax_discriminator_loss(REAL, FAKE, real_label=0.9), expected, rtol=1e-5)


def test_disagreeing_patches_do_not_cancel():
    # Two patches at ±4: the mean logit is 0 (softplus 0.69), the mean per-patch loss is ~2.01.
    logits = np.array([[[[4.0]], [[-4.0]]]], np.float32)  # [1, 2, 1, 1]
    np.testing.assert_allclose(losses.non_saturating_generator_loss(logits), [np.mean(softplus(-logits))], rtol=1e-6)
    assert float(losses.non_saturating_generator_loss(logits)[0]) > 2.0


def test_relativistic_average_losses_per_patch():
    d, g = relativistic_average_losses(REAL, FAKE)
    real_rel, fake_rel = R - F.mean(), F - R.mean()
    np.testing.assert_allclose(d, patch_mean(softplus(-real_rel)) + patch_mean(softplus(fake_rel)), rtol=1e-5)
    np.testing.assert_allclose(g, patch_mean(softplus(-fake_rel)) + patch_mean(softplus(real_rel)), rtol=1e-5)


def test_batch_loss_is_the_global_batch_mean_of_per_example_patch_losses():
    # GAN._average divides the sum of per-example losses by the global batch (one replica here).
    gan = GAN(keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)]),
              keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]))
    per_example = losses.least_squares_discriminator_loss(REAL, FAKE)
    np.testing.assert_allclose(float(gan._average(per_example)), D_CASES["least_squares"].mean(), rtol=1e-5)
