"""GAN losses against hand computation with NumPy."""

import numpy as np
import pytest
import tensorflow as tf

from tfgan_app import losses
from tfgan_app.errors import UsageError

REAL = np.array([2.0, -0.5, 0.0, 3.0], np.float32)
FAKE = np.array([-1.0, 0.5, 1.5, -2.0], np.float32)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def test_minimax_discriminator_loss_matches_log_sigmoid_formula():
    expected = -np.log(sigmoid(REAL)) - np.log(1.0 - sigmoid(FAKE))
    np.testing.assert_allclose(losses.minimax_discriminator_loss(REAL, FAKE), expected, rtol=1e-5)


def test_one_sided_label_smoothing_uses_cross_entropy_against_target():
    expected = -(0.9 * np.log(sigmoid(REAL)) + 0.1 * np.log(1 - sigmoid(REAL))) - np.log(1.0 - sigmoid(FAKE))
    np.testing.assert_allclose(losses.minimax_discriminator_loss(REAL, FAKE, real_label=0.9), expected, rtol=1e-5)


def test_generator_losses():
    np.testing.assert_allclose(losses.minimax_generator_loss(FAKE), np.log(1.0 - sigmoid(FAKE)), rtol=1e-5)
    np.testing.assert_allclose(losses.non_saturating_generator_loss(FAKE), -np.log(sigmoid(FAKE)), rtol=1e-5)


def test_least_squares():
    np.testing.assert_allclose(losses.least_squares_discriminator_loss(REAL, FAKE),
                               0.5 * (REAL - 1) ** 2 + 0.5 * FAKE ** 2, rtol=1e-6)
    np.testing.assert_allclose(losses.least_squares_generator_loss(FAKE), 0.5 * (FAKE - 1) ** 2, rtol=1e-6)


def test_wasserstein_and_hinge():
    np.testing.assert_allclose(losses.wasserstein_discriminator_loss(REAL, FAKE), FAKE - REAL, rtol=1e-6)
    np.testing.assert_allclose(losses.wasserstein_generator_loss(FAKE), -FAKE, rtol=1e-6)
    np.testing.assert_allclose(losses.hinge_discriminator_loss(REAL, FAKE),
                               np.maximum(0, 1 - REAL) + np.maximum(0, 1 + FAKE), rtol=1e-6)


def test_patch_outputs_are_averaged_per_example():
    patches = np.arange(2 * 3 * 3, dtype=np.float32).reshape(2, 3, 3, 1) / 10.0
    per_example = patches.reshape(2, -1).mean(axis=1)
    np.testing.assert_allclose(losses.wasserstein_generator_loss(patches), -per_example, rtol=1e-6)


def test_gradient_penalty_of_linear_critic_is_known_analytically():
    # D(x) = w·x has gradient w everywhere, so the penalty is (‖w‖ − 1)² for every example.
    w = tf.constant([[3.0], [4.0]])  # ‖w‖ = 5
    critic = lambda x: tf.matmul(x, w)  # noqa: E731
    real = tf.constant([[1.0, 2.0], [0.0, -1.0], [2.0, 2.0]])
    fake = tf.constant([[-1.0, 0.0], [3.0, 1.0], [0.5, 0.5]])
    penalty = losses.gradient_penalty(critic, real, fake, alpha=tf.constant([0.1, 0.5, 0.9]))
    np.testing.assert_allclose(penalty, [16.0, 16.0, 16.0], rtol=1e-5)


def test_gradient_penalty_uses_per_sample_interpolates():
    # D(x) = ½‖x‖² has gradient x̂, so the penalty depends on each example's own alpha.
    critic = lambda x: 0.5 * tf.reduce_sum(tf.square(x), axis=1)  # noqa: E731
    real, fake = tf.constant([[2.0, 0.0], [2.0, 0.0]]), tf.constant([[0.0, 0.0], [0.0, 0.0]])
    penalty = losses.gradient_penalty(critic, real, fake, alpha=tf.constant([0.25, 1.0]))
    np.testing.assert_allclose(penalty, [(0.5 - 1) ** 2, (2.0 - 1) ** 2], rtol=1e-5)


def test_registry_and_unknown_name():
    assert losses.get("hinge").generator is losses.wasserstein_generator_loss
    assert set(losses.LOSSES) >= {"minimax", "non_saturating", "least_squares", "wasserstein", "hinge"}
    with pytest.raises(UsageError, match="Valid losses: .*hinge"):
        losses.get("nonsaturating")
