"""StyleGAN-lite: layer maths by hand, R1 penalty, truncation trick, style mixing, a short training run."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_app.architectures.stylegan import (ModulatedConv2D, NoiseInjection, Truncation, stylegan_discriminator,
                                              stylegan_generator)
from tfgan_app.data import load_dataset
from tfgan_app.errors import UsageError
from tfgan_app.gans.stylegan import StyleGAN, r1_penalty
from tfgan_app.images import save_grid
from tfgan_app.latent import sample_latents
from tfgan_app.presets import load_preset

LATENT = 16


def tiny_stylegan(shape=(28, 28, 1), **kwargs):
    gan = StyleGAN(stylegan_generator(LATENT, shape, filters=8, max_filters=16, mapping_layers=2),
                   stylegan_discriminator(shape, filters=8, max_filters=16), **kwargs)
    gan.compile(d_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.0, beta_2=0.99),
                g_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.0, beta_2=0.99), loss="non_saturating")
    return gan


@pytest.mark.parametrize("shape,levels", [((28, 28, 1), 3), ((32, 32, 3), 4), ((16, 16, 1), 3)])
def test_generator_and_discriminator_shapes(shape, levels):
    g = stylegan_generator(LATENT, shape, filters=4, max_filters=8, mapping_layers=1)
    d = stylegan_discriminator(shape, filters=4, max_filters=8)
    images = g(tf.random.normal((3, LATENT)))
    assert images.shape == (3,) + shape and float(tf.reduce_max(tf.abs(images))) <= 1.0
    assert d(images).shape == (3, 1)
    assert g.get_layer("synthesis").inputs[0].shape[1:] == (levels, LATENT)
    assert [layer.name for layer in g.layers] == ["latents", "mapping", "truncation", "broadcast_styles",
                                                  "synthesis"]
    with pytest.raises(UsageError, match="4·2\\^k"):
        stylegan_generator(LATENT, (20, 20, 1))


def test_modulated_convolution_matches_per_example_kernels():
    """y_b = conv(x_b, w'_b) / σ_b with w'_ijk = s_i·w_ijk and σ_bj = sqrt(Σ_ik w'_ijk²)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 5, 5, 3)).astype(np.float32)
    w = rng.normal(size=(2, 4)).astype(np.float32)
    layer = ModulatedConv2D(6, 3)
    y = layer([x, w]).numpy()
    styles = layer.affine(w).numpy()
    kernel = layer.kernel.numpy() * layer.scale
    for b in range(2):
        modulated = kernel * styles[b][None, None, :, None]
        modulated /= np.sqrt(np.sum(modulated ** 2, axis=(0, 1, 2), keepdims=True) + 1e-8)
        expected = tf.nn.conv2d(x[b:b + 1], modulated, 1, "SAME").numpy()[0] + layer.bias.numpy()
        np.testing.assert_allclose(y[b], expected, rtol=1e-4, atol=1e-5)
    undemodulated = ModulatedConv2D(6, 1, demodulate=False)
    y = undemodulated([x, w]).numpy()
    style = undemodulated.affine(w).numpy()[0]
    kernel = undemodulated.kernel.numpy() * undemodulated.scale * style[None, None, :, None]
    np.testing.assert_allclose(y[0], tf.nn.conv2d(x[:1], kernel, 1, "SAME").numpy()[0], rtol=1e-4, atol=1e-5)


def test_noise_is_random_in_training_and_fixed_at_inference():
    layer = NoiseInjection(seed=1)
    x = tf.zeros((2, 4, 4, 3))
    layer.build(x.shape)
    layer.strength.assign([1.0, 2.0, 0.0])
    inference = layer(x, training=False).numpy()
    np.testing.assert_array_equal(inference, layer(x, training=False).numpy())
    np.testing.assert_allclose(inference[..., 1], 2.0 * inference[..., 0])  # one noise image, scaled per channel
    assert not np.allclose(layer(x, training=True).numpy(), layer(x, training=True).numpy())


def test_truncation_moves_styles_towards_the_average():
    layer = Truncation()
    w = tf.constant([[2.0, -4.0]])
    layer.build(w.shape)
    layer.w_avg.assign([1.0, 1.0])
    np.testing.assert_allclose(layer(w, psi=0.5), [[1.5, -1.5]])
    assert layer(w) is w
    layer.update_average(tf.constant([[3.0, 3.0], [5.0, 5.0]]), decay=0.75)
    np.testing.assert_allclose(layer.w_avg.numpy(), [0.75 * 1 + 0.25 * 4] * 2)


def test_r1_penalty_of_a_linear_discriminator_is_its_squared_weight_norm():
    d = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(1)])
    weights = d.layers[-1].kernel.numpy()
    real = tf.random.normal((3, 4, 4, 1))
    np.testing.assert_allclose(r1_penalty(d, real), [np.sum(weights ** 2)] * 3, rtol=1e-5)
    gan = tiny_stylegan(shape=(16, 16, 1), r1_gamma=10.0)
    disc = gan.discriminator
    images = tf.random.normal((2, 16, 16, 1))
    with tf.GradientTape() as tape:
        tape.watch(images)
        total = tf.reduce_sum(disc(images, training=True))
    expected = 5.0 * np.mean(np.sum(tape.gradient(total, images).numpy().reshape(2, -1) ** 2, axis=1))
    np.testing.assert_allclose(gan.discriminator_penalty(images, None, None), expected, rtol=1e-4)
    assert float(tiny_stylegan(shape=(16, 16, 1)).discriminator_penalty(images, None, None)) == 0.0


def test_style_mixing_takes_coarse_and_fine_levels_from_two_latents():
    gan = tiny_stylegan()
    z1, z2 = sample_latents(4, LATENT, 1), sample_latents(4, LATENT, 2)
    np.testing.assert_allclose(gan.mix_styles(z1, z2, crossover=gan.num_levels), gan.synthesis(gan.styles(z1)),
                               atol=1e-6)
    np.testing.assert_allclose(gan.mix_styles(z1, z2, crossover=0), gan.synthesis(gan.styles(z2)), atol=1e-6)
    mixed = gan.mix_styles(z1, z2, crossover=1)
    assert mixed.shape == (4, 28, 28, 1)
    assert not np.allclose(mixed, gan.mix_styles(z1, z1, crossover=1))
    assert not np.allclose(mixed, gan.mix_styles(z2, z2, crossover=1))
    # Training styles: with probability 1 every row mixes, taking level 0 from w1 and the last level from w2.
    gan.style_mixing_prob = 1.0
    ws = gan.mixed_styles(z1, stream=0, counter=tf.constant(0, tf.int64)).numpy()
    w1 = gan.mapping(z1).numpy()
    np.testing.assert_allclose(ws[:, 0], w1, rtol=1e-6)
    assert not np.allclose(ws[:, -1], w1)
    with pytest.raises(UsageError):
        gan.mix_styles(z1, z2, crossover=9)


def test_training_updates_w_avg_and_truncation_lowers_sample_variance(tmp_path):
    keras.utils.set_random_seed(0)
    gan = tiny_stylegan(r1_gamma=1.0)
    history = gan.fit(load_dataset("mnist", 16, split="test", seed=0).dataset, epochs=1, steps_per_epoch=20,
                      verbose=0)
    for key in ("d_loss", "g_loss"):
        assert np.isfinite(history.history[key][0])
    w_avg = gan.truncation.w_avg.numpy()
    assert np.linalg.norm(w_avg) > 0  # moved from its zero initialisation by the generator steps

    variances = [float(np.mean(np.var(gan.generate(64, seed=3, truncation_psi=psi), axis=0)))
                 for psi in (1.0, 0.5, 0.0)]
    assert variances[0] > variances[1] > variances[2]
    assert variances[2] < 1e-8  # ψ = 0: every sample is the image of w_avg
    np.testing.assert_allclose(gan.generate(8, seed=3), gan.generator(sample_latents(8, LATENT, 3)), atol=1e-5)
    path = save_grid(str(tmp_path / "stylegan.png"), gan.generate(16, seed=0, truncation_psi=0.7))
    mixing = save_grid(str(tmp_path / "mixing.png"),
                       gan.mix_styles(sample_latents(4, LATENT, 1), sample_latents(4, LATENT, 2), crossover=1))
    assert os.path.getsize(path) > 0 and os.path.getsize(mixing) > 0

    gan.save(tmp_path / "stylegan.keras")
    restored = keras.saving.load_model(tmp_path / "stylegan.keras")
    assert isinstance(restored, StyleGAN) and restored.r1_gamma == 1.0
    np.testing.assert_allclose(restored.truncation.w_avg.numpy(), w_avg)
    np.testing.assert_allclose(restored.generate(4, seed=5, truncation_psi=0.7),
                               gan.generate(4, seed=5, truncation_psi=0.7), atol=1e-5)


def test_stylegan_rejects_other_generators_and_bad_options():
    from tfgan_app.architectures import dcgan_discriminator, dcgan_generator
    with pytest.raises(UsageError, match="stylegan_generator"):
        StyleGAN(dcgan_generator(8, (28, 28, 1), base_filters=4), dcgan_discriminator((28, 28, 1), base_filters=4))
    g, d = stylegan_generator(8, (16, 16, 1), filters=4), stylegan_discriminator((16, 16, 1), filters=4)
    with pytest.raises(UsageError, match="style_mixing_prob"):
        StyleGAN(g, d, style_mixing_prob=1.5)


def test_preset_options_build_the_networks():
    preset = load_preset("stylegan_mnist")
    g = stylegan_generator(preset.latent_dim, (28, 28, 1), **preset.generator_options)
    d = stylegan_discriminator((28, 28, 1), **preset.discriminator_options)
    gan = StyleGAN(g, d, latent_dim=preset.latent_dim, **preset.gan_options)
    assert gan.generate(2).shape == (2, 28, 28, 1) and gan.r1_gamma == preset.gan_options["r1_gamma"]


def test_weights_the_equalised_learning_rate_scales_start_as_standard_normals():
    """The equalised learning rate keeps weights N(0, 1) and scales them by 1/sqrt(fan_in) at run time (Karras et
    al.); Keras' "random_normal" has std 0.05, which made every update 20x larger relative to the weights. The
    constant input and the fixed noise are N(0, 1) too (StyleGAN2's code)."""
    from tfgan_app.architectures.stylegan import ConstantInput  # pylint: disable=import-outside-toplevel
    keras.utils.set_random_seed(0)
    conv = ModulatedConv2D(32)
    conv.build(((None, 8, 8, 32), (None, 16)))
    constant = ConstantInput(4, 64)
    constant.build((None, 16))
    noise = NoiseInjection(seed=0)
    noise.build((None, 16, 16, 8))
    for name, weight in (("kernel", conv.kernel), ("constant", constant.constant), ("fixed noise", noise.fixed_noise)):
        assert 0.85 < float(np.std(np.asarray(weight))) < 1.15, name
