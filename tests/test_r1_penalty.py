"""R1 penalty (Mescheder et al. 2018) as an option of every GAN: maths by hand, wired into the D step, refused where
it cannot apply."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_app import presets, training
from tfgan_app.architectures.mlp import mlp_generator
from tfgan_app.errors import UsageError
from tfgan_app.gans import GAN, ConditionalGAN
from tfgan_app.gans.unrolled import UnrolledGAN


def linear_gan(pack=1, **options):
    keras.utils.set_random_seed(0)
    generator = mlp_generator(3, (2,), hidden_units=(4,), output_activation="linear")
    x = keras.Input((2 * pack,))
    discriminator = keras.Model(x, keras.layers.Dense(1, name="logits")(x))
    gan = GAN(generator, discriminator, pack=pack, seed=1, **options)
    gan.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.0), loss="non_saturating")
    return gan


@pytest.mark.parametrize("pack", [1, 2])
def test_penalty_of_a_linear_discriminator_is_half_gamma_times_the_mean_squared_weight_norm_per_sample(pack):
    gan = linear_gan(pack=pack, r1_gamma=4.0)
    w = gan.discriminator.get_weights()[0][:, 0]
    real = tf.constant(np.random.default_rng(0).normal(size=(6, 2)), tf.float32)
    # ∇ₓD for the sample in slot k of a packed row is w[2k:2k+2]; the penalty averages ‖·‖² over the samples.
    per_sample = np.mean([np.sum(w[2 * k:2 * k + 2] ** 2) for k in range(pack)])
    np.testing.assert_allclose(gan.discriminator_penalty(real, None, None), 0.5 * 4.0 * per_sample, rtol=1e-5)
    assert float(linear_gan(pack=pack).discriminator_penalty(real, None, None)) == 0.0


def test_the_d_step_adds_the_penalty_to_its_loss_and_its_gradient():
    real = tf.constant(np.random.default_rng(1).normal(size=(8, 2)), tf.float32)
    plain, penalised = linear_gan(), linear_gan(r1_gamma=2.0)
    w0, b0 = [v.copy() for v in penalised.discriminator.get_weights()]
    plain_logs, penalised_logs = plain.train_step(real), penalised.train_step(real)
    penalty = 0.5 * 2.0 * np.sum(w0 ** 2)
    np.testing.assert_allclose(float(penalised_logs["d_loss"]) - float(plain_logs["d_loss"]), penalty, rtol=1e-4)
    # SGD(0.1): the penalty's gradient γ·w moves the kernel by a further −0.1·γ·w; the bias is untouched by it.
    w_plain, b_plain = plain.discriminator.get_weights()
    w_pen, b_pen = penalised.discriminator.get_weights()
    np.testing.assert_allclose(w_pen - w_plain, -0.1 * 2.0 * w0, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(b_pen, b_plain, atol=1e-7)


def test_conditional_gan_penalises_the_gradient_with_respect_to_the_images_given_their_labels():
    keras.utils.set_random_seed(0)
    generator = mlp_generator(3, (2,), hidden_units=(4,), output_activation="linear", num_classes=3)
    x, y = keras.Input((2,)), keras.Input((), dtype="int32")
    embedded = keras.layers.Embedding(3, 2)(y)
    discriminator = keras.Model([x, y], keras.layers.Dense(1)(keras.layers.Concatenate()([x, embedded])))
    gan = ConditionalGAN(generator, discriminator, num_classes=3, r1_gamma=1.0)
    w = discriminator.layers[-1].get_weights()[0][:2, 0]  # the kernel rows of the image features
    real = tf.constant([[0.5, -1.0], [2.0, 0.0]], tf.float32)
    labels = tf.constant([0, 2])
    np.testing.assert_allclose(gan.discriminator_penalty(real, None, labels), 0.5 * np.sum(w ** 2), rtol=1e-5)


def test_r1_gamma_round_trips_in_the_config():
    gan = linear_gan(r1_gamma=3.0)
    assert gan.get_config()["r1_gamma"] == 3.0
    assert GAN.from_config(gan.get_config()).r1_gamma == 3.0


@pytest.mark.parametrize("bad", [-1.0, True, "1"])
def test_a_bad_r1_gamma_is_a_usage_error(bad):
    with pytest.raises(UsageError, match="r1_gamma must be a number >= 0"):
        linear_gan(r1_gamma=bad)


def test_unrolled_gan_refuses_r1_gamma_its_simulated_steps_would_ignore():
    generator = mlp_generator(3, (2,), hidden_units=(4,), output_activation="linear")
    x = keras.Input((2,))
    with pytest.raises(UsageError, match="cannot apply r1_gamma"):
        UnrolledGAN(generator, keras.Model(x, keras.layers.Dense(1)(x)), r1_gamma=1.0)


def test_a_preset_takes_r1_gamma_in_gan_options():
    preset = presets.apply_overrides(presets.load_preset("gan_mlp_mnist"), ["gan_options.r1_gamma=0.5"])
    gan = training.build_gan(preset, (28, 28, 1), None)
    assert gan.r1_gamma == 0.5
