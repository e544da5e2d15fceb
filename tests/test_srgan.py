"""SRGAN: sub-pixel upsampling, content loss by hand, PSNR/SSIM report, a short run that beats bicubic."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_app.architectures.dcgan import dcgan_discriminator
from tfgan_app.architectures.srgan import PixelShuffle, srgan_generator
from tfgan_app.data.paired import load_paired
from tfgan_app.errors import MissingResourceError, UsageError
from tfgan_app.gans.image_to_image import save_translation_grid
from tfgan_app.gans.srgan import SRGAN, content_feature_extractor, super_resolution_report
from tfgan_app.presets import load_preset

LOW, HIGH = (14, 14, 1), (28, 28, 1)


def tiny_srgan(feature_extractor=None, **kwargs):
    gan = SRGAN(srgan_generator(LOW, scale=2, filters=16, num_blocks=2), dcgan_discriminator(HIGH, base_filters=8),
                feature_extractor=feature_extractor, **kwargs)
    gan.compile(d_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5),
                g_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5), loss="non_saturating")
    return gan


def test_pixel_shuffle_rearranges_channels_into_blocks():
    x = np.arange(2 * 3 * 3 * 8, dtype=np.float32).reshape(2, 3, 3, 8)  # r = 2, C = 2
    expected = x.reshape(2, 3, 3, 2, 2, 2).transpose(0, 1, 3, 2, 4, 5).reshape(2, 6, 6, 2)
    np.testing.assert_array_equal(PixelShuffle(2)(x), expected)


@pytest.mark.parametrize("scale,low", [(2, (14, 14, 1)), (4, (7, 7, 1)), (4, (8, 6, 3))])
def test_generator_upsamples_by_the_scale(scale, low):
    g = srgan_generator(low, scale=scale, filters=4, num_blocks=1)
    out = g(tf.random.normal((2,) + low))
    assert out.shape == (2, low[0] * scale, low[1] * scale, low[2])
    assert sum(isinstance(layer, PixelShuffle) for layer in g.layers) == scale.bit_length() - 1
    with pytest.raises(UsageError, match="power of two"):
        srgan_generator(low, scale=3)


def test_content_loss_is_weighted_pixel_and_feature_mse():
    images = keras.Input(HIGH)
    features = keras.layers.AveragePooling2D(4)(images)  # a fixed, known extractor φ
    gan = tiny_srgan(feature_extractor=keras.Model(images, features), pixel_weight=2.0, perceptual_weight=3.0,
                     adversarial_weight=0.5)
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (2,) + HIGH).astype(np.float32)
    fake = rng.uniform(-1, 1, (2,) + HIGH).astype(np.float32)
    pool = lambda x: x.reshape(2, 7, 4, 7, 4, 1).mean(axis=(2, 4))  # noqa: E731
    mse = lambda a, b: ((a - b) ** 2).reshape(2, -1).mean(1)  # noqa: E731
    content = 2.0 * mse(fake, real) + 3.0 * mse(pool(fake), pool(real))
    np.testing.assert_allclose(gan.content_loss(fake, real), content, rtol=1e-5)
    logits = np.array([[0.3], [-2.0]], np.float32)
    np.testing.assert_allclose(gan.generator_loss(logits, fake, real, None),
                               content + 0.5 * np.log1p(np.exp(-logits[:, 0])), rtol=1e-5)


def test_default_extractor_is_the_offline_mnist_cnn_and_is_differentiable():
    extractor = content_feature_extractor("mnist")
    assert not extractor.trainable_weights
    images = tf.Variable(tf.random.uniform((2,) + HIGH, -1, 1))
    with tf.GradientTape() as tape:
        features = extractor(images)
        total = tf.reduce_sum(features)
    assert features.shape.rank == 4  # a spatial feature map, like VGG's conv features
    assert float(tf.reduce_sum(tf.abs(tape.gradient(total, images)))) > 0
    with pytest.raises(MissingResourceError):
        content_feature_extractor("/nonexistent/model.keras")
    with pytest.raises(UsageError):
        content_feature_extractor("alexnet")


def test_report_psnr_matches_the_formula():
    rng = np.random.default_rng(1)
    high = rng.uniform(-1, 1, (3,) + HIGH).astype(np.float32)
    low = tf.image.resize(high, LOW[:2], method="area").numpy()
    identity_like = keras.Sequential([keras.Input(LOW), keras.layers.UpSampling2D(2)])
    report = super_resolution_report(identity_like, low, high)
    nearest = np.repeat(np.repeat(low, 2, axis=1), 2, axis=2)
    expected = np.mean(10 * np.log10(4.0 / ((nearest - high) ** 2).reshape(3, -1).mean(1)))
    np.testing.assert_allclose(report["psnr"], expected, rtol=1e-4)
    assert set(report) == {"psnr", "ssim", "bicubic_psnr", "bicubic_ssim"}
    perfect = super_resolution_report(identity_like, low, nearest)
    assert perfect["psnr"] > 100 and perfect["ssim"] == pytest.approx(1.0, abs=1e-4)


def test_training_beats_bicubic_on_held_out_images(tmp_path):
    keras.utils.set_random_seed(0)
    gan = tiny_srgan()
    low, high = next(iter(load_paired("mnist_lowres", 128, split="test", shuffle=False).dataset))
    history = gan.fit(load_paired("mnist_lowres", 16, seed=0).dataset, epochs=1, steps_per_epoch=250, verbose=0)
    assert np.isfinite(history.history["content"][0])
    report = super_resolution_report(gan.generator, low, high)
    assert report["psnr"] > report["bicubic_psnr"] + 2.0, report
    assert report["ssim"] > report["bicubic_ssim"], report
    path = save_translation_grid(str(tmp_path / "srgan.png"), low[:4], gan.translate(low[:4]), high[:4])
    assert os.path.getsize(path) > 0

    gan.save(tmp_path / "srgan.keras")
    restored = keras.saving.load_model(tmp_path / "srgan.keras")
    assert isinstance(restored, SRGAN) and restored.feature_extractor is None
    np.testing.assert_allclose(restored.translate(low[:4]), gan.translate(low[:4]), atol=1e-5)


def test_preset_builds_a_2x_model_with_the_mnist_perceptual_loss():
    preset = load_preset("srgan_mnist_x2")
    info = load_paired(preset.dataset.split(":", 1)[1], 2, split="test")
    gan = SRGAN.from_preset(preset, info)
    low, high = next(iter(info.dataset))
    assert gan.translate(low).shape == high.shape
    assert gan.content_model is not None and gan.perceptual_weight == 0.01
