"""A custom GANLoss survives save/load, or saving refuses clearly (issue #13 item 5).

Before, `compile_from_config` found no loss name for a custom pair and recompiled
with the default `non_saturating`, silently.
"""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_app import losses
from tfgan_app.architectures.mlp import mlp_discriminator, mlp_generator
from tfgan_app.errors import UsageError
from tfgan_app.gans import GAN


@keras.saving.register_keras_serializable(package="test_loss_saving")
def scaled_hinge_discriminator_loss(real_logits, fake_logits):
    return 2.0 * losses.hinge_discriminator_loss(real_logits, fake_logits)


@keras.saving.register_keras_serializable(package="test_loss_saving")
def cubic_generator_loss(fake_logits):
    return losses.per_example_mean(-tf.cast(fake_logits, tf.float32) ** 3)


def tiny_gan(cls=GAN, **options):
    keras.utils.set_random_seed(0)
    return cls(mlp_generator(4, (2,), hidden_units=(8,), output_activation="linear"),
               mlp_discriminator((2,), hidden_units=(8,)), **options)


def test_registered_custom_loss_is_restored_by_load_model(tmp_path):
    gan = tiny_gan()
    gan.compile(loss=losses.GANLoss("scaled_hinge_cubic", scaled_hinge_discriminator_loss, cubic_generator_loss))
    gan.save(tmp_path / "gan.keras")
    restored = keras.saving.load_model(tmp_path / "gan.keras")
    assert restored.loss_pair.name == "scaled_hinge_cubic"
    assert restored.loss_pair.discriminator is scaled_hinge_discriminator_loss
    assert restored.loss_pair.generator is cubic_generator_loss
    logits = tf.constant([[0.5], [-2.0]])
    np.testing.assert_allclose(restored.loss_pair.generator(logits), [-0.125, 8.0], rtol=1e-6)


def test_built_in_losses_round_trip_by_name(tmp_path):
    gan = tiny_gan()
    gan.compile(loss="least_squares")
    gan.save(tmp_path / "gan.keras")
    assert keras.saving.load_model(tmp_path / "gan.keras").loss_pair is losses.LOSSES["least_squares"]


def test_unregistered_custom_loss_refuses_to_save(tmp_path):
    gan = tiny_gan()
    gan.compile(loss=losses.GANLoss("mine", losses.hinge_discriminator_loss, lambda fake: -fake[:, 0]))
    with pytest.raises(UsageError, match="custom loss 'mine': its generator function '.*<lambda>' is not registered"):
        gan.save(tmp_path / "gan.keras")
    assert not os.path.exists(tmp_path / "gan.keras")


def test_label_smoothing_survives_save_and_load(tmp_path):
    gan = tiny_gan(GAN, label_smoothing=0.9)
    gan.compile(loss="minimax")
    gan.save(tmp_path / "gan.keras")
    restored = keras.saving.load_model(tmp_path / "gan.keras")
    real, fake = tf.constant([[2.0]]), tf.constant([[-1.0]])
    np.testing.assert_allclose(restored.loss_pair.discriminator(real, fake), gan.loss_pair.discriminator(real, fake))
    assert restored.loss_pair.generator is losses.minimax_generator_loss
    assert os.path.getsize(tmp_path / "gan.keras") > 0
