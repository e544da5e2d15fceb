"""Progressive growing (`tfgan_app.gans.progressive`, `tfgan_app.architectures.pggan`) against Karras et al. 2018.

The level-of-detail schedule (stabilise, then fade α linear 0 → 1, resolution doubling 4 → 8 → ...) against a
phase-by-phase walk of the paper's schedule; the generator's fade-in output and the real images' blend against
the formula; the discriminator ignores detail finer than the current resolution; minibatch standard deviation,
the equalised learning rate, pixel norm and the drift term against numpy; a run killed mid-fade resumes with the
same α and ends bit-identical; the preset trains and its GAN saves and loads.
"""

import math
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from test_distribute import write_images
from test_resume import _Crash, _CrashAt
from tfgan_app import presets, training
from tfgan_app.architectures.pggan import (EqualizedConv2D, EqualizedDense, GroupedMinibatchStdDev, LEVEL_LAYER,
                                           blend_levels, pggan_discriminator, pggan_generator)
from tfgan_app.architectures.stylegan import PixelNorm
from tfgan_app.errors import UsageError
from tfgan_app.gans.progressive import ProgressiveGAN, progressive_level, resolution_and_alpha

SIDE = 16  # 4 -> 8 -> 16: three levels


def tiny_networks(side=SIDE, latent_dim=8):
    keras.utils.set_random_seed(0)
    return (pggan_generator(latent_dim, (side, side, 1), filters=4, max_filters=8),
            pggan_discriminator((side, side, 1), filters=4, max_filters=8))


def paper_schedule(images, stabilise, fade, num_levels):
    """(resolution, α) after `images`, walking the paper's phases: 4×4 stable, then per level fade in, stabilise."""
    phases = [("stable", 4, stabilise)]
    for r in range(1, num_levels):
        phases += [("fade", 4 * 2 ** r, fade), ("stable", 4 * 2 ** r, stabilise)]
    start = 0
    for kind, resolution, length in phases:
        if images < start + length:
            return resolution, ((images - start) / length if kind == "fade" else 1.0)
        start += length
    return 4 * 2 ** (num_levels - 1), 1.0  # the last resolution stays


@pytest.mark.parametrize("images", [0, 99, 100, 101, 150, 299, 300, 399, 400, 550, 700, 850, 999, 10_000])
def test_schedule_resolution_and_alpha_follow_the_papers_phases(images):
    stabilise, fade, levels = 100, 200, 3  # unequal phases: swapping them breaks this
    resolution, alpha = (float(v) for v in resolution_and_alpha(progressive_level(images, stabilise, fade, levels)))
    expected_resolution, expected_alpha = paper_schedule(images, stabilise, fade, levels)
    if expected_alpha == 0.0:  # a fade's first image is the previous resolution, stable
        expected_resolution, expected_alpha = expected_resolution // 2, 1.0
    assert (resolution, alpha) == (expected_resolution, pytest.approx(expected_alpha, abs=1e-6))


def test_resolution_doubles_4_8_16_32_over_the_run():
    seen = [int(resolution_and_alpha(progressive_level(n, 10, 10, 4))[0]) for n in range(0, 100, 5)]
    assert sorted(set(seen)) == [4, 8, 16, 32] and seen == sorted(seen) and seen[-1] == 32


def _nearest_up(x, factor=2):
    return x.repeat(factor, axis=1).repeat(factor, axis=2)


def _avg_pool(x, factor=2):
    b, h, w, c = x.shape
    return x.reshape(b, h // factor, factor, w // factor, factor, c).mean(axis=(2, 4))


@pytest.mark.parametrize("level", [0.3, 1.0, 1.6, 2.0])
def test_generator_fades_in_the_new_resolution_by_the_formula(level):
    g, _ = tiny_networks()
    g.get_layer(LEVEL_LAYER).set_level(level)
    rgb = keras.Model(g.input, [g.get_layer(f"tanh_{s}x{s}").output for s in (4, 8, 16)])
    z = np.random.default_rng(0).normal(size=(3, 8)).astype(np.float32)
    rgb4, rgb8, rgb16 = (np.asarray(t) for t in rgb(z))
    alpha = level - math.floor(level) if level != math.floor(level) else 1.0
    if level <= 1.0:  # fading in 8×8 (or 8×8 stable): (1 − α)·up(rgb4) + α·rgb8, then upsampled to 16
        expected = _nearest_up((1 - alpha) * _nearest_up(rgb4) + alpha * rgb8)
    else:  # fading in 16×16: (1 − α)·up(rgb8) + α·rgb16
        expected = (1 - alpha) * _nearest_up(rgb8) + alpha * rgb16
    np.testing.assert_allclose(np.asarray(g(z)), expected, atol=1e-6)


@pytest.mark.parametrize("level", [0.0, 0.25, 1.5, 2.0])
def test_real_images_are_pooled_and_blended_like_the_generator_output(level):
    x = np.random.default_rng(1).uniform(-1, 1, (2, SIDE, SIDE, 1)).astype(np.float32)
    x8, x4 = _avg_pool(x), _avg_pool(x, 4)
    w8, w16 = np.clip(level, 0, 1), np.clip(level - 1, 0, 1)
    at8 = (1 - w8) * _nearest_up(x4) + w8 * x8
    expected = (1 - w16) * _nearest_up(at8) + w16 * x
    np.testing.assert_allclose(np.asarray(blend_levels(x, level, 3)), expected, atol=1e-6)


def test_discriminator_sees_only_the_current_resolution():
    _, d = tiny_networks()
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, (4, SIDE, SIDE, 1)).astype(np.float32)
    detail = rng.normal(size=(4, SIDE, SIDE, 1)).astype(np.float32)
    detail -= _nearest_up(_avg_pool(detail, 4), 4)  # zero mean on every 4×4 block: invisible at 4×4
    layer = d.get_layer(LEVEL_LAYER)
    layer.set_level(0.0)
    np.testing.assert_allclose(np.asarray(d(x + detail)), np.asarray(d(x)), atol=1e-5)
    layer.set_level(0.5)  # fading in 8×8: the detail counts
    assert np.max(np.abs(np.asarray(d(x + detail)) - np.asarray(d(x)))) > 1e-3


def test_minibatch_stddev_matches_numpy_in_groups_of_four():
    x = np.random.default_rng(3).normal(size=(8, 2, 3, 5)).astype(np.float32)
    out = np.asarray(GroupedMinibatchStdDev(4)(x))
    groups = x.reshape(4, 2, 2, 3, 5)  # example i is in group i mod 2 (the official code's reshape)
    per_group = np.sqrt(groups.var(axis=0) + 1e-8).mean(axis=(1, 2, 3))  # [2]
    expected = np.tile(per_group, 4)
    np.testing.assert_allclose(out[..., :5], x)
    np.testing.assert_allclose(out[..., 5], np.broadcast_to(expected[:, None, None], (8, 2, 3)), rtol=1e-5)
    assert abs(per_group[0] - per_group[1]) > 1e-3  # the two groups differ: one batch-wide value would not


def test_equalised_learning_rate_scales_n01_weights_by_he_constant():
    conv, dense = EqualizedConv2D(16, 3), EqualizedDense(32)  # fan_in 3·3·5 = 45 (fan_out would be 144)
    x = np.random.default_rng(4).normal(size=(2, 5, 5, 5)).astype(np.float32)
    y = np.asarray(conv(x))
    assert conv.scale == pytest.approx(math.sqrt(2 / 45))
    kernel = np.asarray(conv.kernel)
    assert 0.9 < kernel.std() < 1.1 and abs(kernel.mean()) < 0.1  # stored as N(0, 1)
    expected = tf.nn.conv2d(x, kernel * math.sqrt(2 / 45), 1, "SAME").numpy() + np.asarray(conv.bias)
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-5)
    v = x[:, 0, 0, :]
    assert dense(v).shape == (2, 32) and dense.scale == pytest.approx(math.sqrt(2 / 5))
    np.testing.assert_allclose(np.asarray(dense(v)), v @ (np.asarray(dense.kernel) * math.sqrt(2 / 5)), rtol=1e-4,
                               atol=1e-5)


def test_pixel_norm_matches_numpy_and_follows_every_generator_conv():
    x = np.random.default_rng(5).normal(size=(2, 3, 3, 6)).astype(np.float32) * 4
    np.testing.assert_allclose(np.asarray(PixelNorm()(x)), x / np.sqrt((x ** 2).mean(axis=-1, keepdims=True) + 1e-8),
                               rtol=1e-5)
    g, _ = tiny_networks()
    convs = [layer for layer in g.layers if isinstance(layer, EqualizedConv2D) and "to_rgb" not in layer.name]
    features = keras.Model(g.input, [g.get_layer(f"to_rgb_{s}x{s}").input for s in (4, 8, 16)])
    for a in features(np.random.default_rng(6).normal(size=(2, 8)).astype(np.float32)):
        np.testing.assert_allclose((np.asarray(a) ** 2).mean(axis=-1), 1.0, rtol=1e-3)  # unit RMS per pixel
    assert len(convs) == 5  # 4×4 conv + two per level above


def test_drift_term_is_added_to_the_wgan_critic_loss():
    g, d = tiny_networks()
    gan = ProgressiveGAN(g, d, stabilise_images=8, fade_images=8, drift_weight=0.001)
    gan.compile(d_optimizer="adam", g_optimizer="adam", loss="wasserstein")
    real, fake = tf.constant([[3.0], [-2.0]]), tf.constant([[1.0], [0.5]])
    np.testing.assert_allclose(gan.discriminator_loss(real, fake, None, None, None).numpy(),
                               [1.0 - 3.0 + 0.001 * 9.0, 0.5 + 2.0 + 0.001 * 4.0], rtol=1e-6)


@pytest.mark.parametrize("make, message", [
    (lambda g, d: ProgressiveGAN(g, d, drift_weight=-1.0), "drift_weight=-1.0"),
    (lambda g, d: ProgressiveGAN(g, d, stabilise_images=0), "stabilise_images=0"),
    (lambda g, d: ProgressiveGAN(g, pggan_discriminator((8, 8, 1), filters=4)), "generator=3, discriminator=2"),
    (lambda g, d: pggan_generator(8, (28, 28, 1)), r"image_shape=\(28, 28, 1\)"),
])
def test_bad_options_are_usage_errors(make, message):
    g, d = tiny_networks()
    with pytest.raises(UsageError, match=message):
        make(g, d)


# --- the preset: trains, resumes mid-fade, saves and loads -------------------------------------------

STABILISE, FADE, BATCH = 32, 64, 8  # 8×8 images: 4×4 for steps 0-3, 8×8 fades in over steps 4-11


class _Levels(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.levels = []

    def on_train_batch_end(self, batch, logs=None):
        self.levels.append((float(logs["level"]), float(logs["alpha"]), float(logs["resolution"])))




def _preset(folder):
    images = write_images(folder / "images", num=40, size=8)
    return presets.apply_overrides(presets.load_preset("pggan_mnist"), [
        f'dataset="{images}"', "image_size=8", "latent_dim=8", f"batch_size={BATCH}", "epochs=3",
        "steps_per_epoch=null", "generator_options.filters=4", "generator_options.max_filters=8",
        "discriminator_options.filters=4", "discriminator_options.max_filters=8",
        f"gan_options.stabilise_images={STABILISE}", f"gan_options.fade_images={FADE}"])


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("uninterrupted")
    levels = _Levels()
    training.train(_preset(folder), str(folder / "run"), verbose=0, backup_every_steps=2,
                   extra_callbacks=[levels])
    return folder / "run", levels.levels


def test_preset_trains_through_the_schedule(uninterrupted):
    _, levels = uninterrupted
    expected = [float(progressive_level(step * BATCH, STABILISE, FADE, 2)) for step in range(15)]
    np.testing.assert_allclose([level for level, _, _ in levels], expected, atol=1e-6)
    assert [r for _, _, r in levels] == [4.0] * 5 + [8.0] * 10 and levels[7][1] == pytest.approx(0.375)


def test_killed_mid_fade_resumes_with_the_same_alpha_and_ends_bit_identical(tmp_path, uninterrupted):
    preset, run = _preset(tmp_path), str(tmp_path / "run")
    with pytest.raises(_Crash):  # killed after step 8 (1-based); its last backup was after step 7
        training.train(preset, run, verbose=0, backup_every_steps=2, extra_callbacks=[_CrashAt(8)])
    levels = _Levels()
    training.train(preset, run, verbose=0, backup_every_steps=2, extra_callbacks=[levels])
    reference_run, reference = uninterrupted
    assert 0 < levels.levels[0][1] < 1  # resumed mid-fade ...
    assert levels.levels == reference[-len(levels.levels):]  # ... with the same level, α and resolution per step
    a, b = (keras.saving.load_model(os.path.join(r, "gan.keras")) for r in (reference_run, run))
    for x, y in zip(a.weights + a.d_optimizer.variables, b.weights + b.d_optimizer.variables):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y), err_msg=x.path)


def test_saved_gan_loads_with_its_options_and_level(uninterrupted):
    run, _ = uninterrupted
    gan = keras.saving.load_model(os.path.join(run, "gan.keras"))
    assert type(gan) is ProgressiveGAN
    assert (gan.stabilise_images, gan.fade_images, gan.drift_weight, gan.num_levels) == (STABILISE, FADE, 0.001, 2)
    assert float(gan.level) == 1.0  # the schedule ended at full resolution
    generator = keras.saving.load_model(os.path.join(run, "generator.keras"))
    z = np.random.default_rng(7).normal(size=(4, 8)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(generator(z)), np.asarray(gan.generator(z)), atol=1e-6)
    assert generator.get_layer(LEVEL_LAYER).level.numpy() == 1.0 and generator.output.shape[1:] == (8, 8, 1)
