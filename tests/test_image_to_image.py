"""pix2pix and CycleGAN: paired/unpaired data, U-Net/PatchGAN shapes, losses by hand, short training runs."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfgan_app.architectures.patchgan import patchgan_discriminator
from tfgan_app.architectures.unet import unet_generator
from tfgan_app.data.paired import load_paired, sobel_edges
from tfgan_app.data.unpaired import load_unpaired, recolor
from tfgan_app.errors import MissingResourceError, UsageError
from tfgan_app.gans.cyclegan import CycleGAN, ImagePool
from tfgan_app.gans.image_to_image import l1_distance, save_translation_grid
from tfgan_app.gans.pix2pix import Pix2Pix
from tfgan_app.presets import load_preset

SHAPE = (28, 28, 1)


def softplus(x):
    return np.log1p(np.exp(x))


def tiny_pix2pix(l1_weight=100.0, lr=2e-3):
    gan = Pix2Pix(unet_generator(SHAPE, base_filters=8),
                  patchgan_discriminator(SHAPE, condition_shape=SHAPE, base_filters=8, num_layers=2),
                  l1_weight=l1_weight)
    gan.compile(d_optimizer=keras.optimizers.Adam(lr, beta_1=0.5), g_optimizer=keras.optimizers.Adam(lr, beta_1=0.5))
    return gan


def scale_model(factor, shape, name):
    """A keras.Model x ↦ factor·x (a known translator for hand computations)."""
    images = keras.Input(shape=shape)
    return keras.Model(images, keras.layers.Rescaling(factor)(images), name=name)


def mean_model(shape, name):
    """A 'discriminator' whose per-example logit is the image mean."""
    images = keras.Input(shape=shape)
    return keras.Model(images, keras.layers.GlobalAveragePooling2D()(images), name=name)


# --- data ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,input_shape", [("mnist_edges", (28, 28, 1)), ("mnist_lowres", (14, 14, 1)),
                                              ("fashion_lowres_x4", (7, 7, 1))])
def test_paired_datasets_yield_input_target_batches(name, input_shape):
    info = load_paired(name, batch_size=4, split="test", shuffle=False)
    inputs, targets = next(iter(info.dataset))
    assert inputs.shape == (4,) + input_shape and targets.shape == (4, 28, 28, 1)
    assert info.image_shape == (28, 28, 1) and info.num_examples == 10000
    assert -1.0 <= float(tf.reduce_min(inputs)) and float(tf.reduce_max(inputs)) <= 1.0
    if "lowres" in name:  # area down-sampling = the mean of each block
        factor = 28 // input_shape[0]
        blocks = tf.reshape(targets, (4, input_shape[0], factor, input_shape[1], factor, 1))
        np.testing.assert_allclose(inputs, tf.reduce_mean(blocks, axis=(2, 4)), atol=1e-5)


def test_sobel_edges_mark_a_step_and_leave_flat_images_blank():
    flat = -tf.ones((1, 8, 8, 1))
    np.testing.assert_allclose(sobel_edges(flat), -np.ones((1, 8, 8, 1)))
    step = np.full((1, 8, 8, 1), -1.0, np.float32)
    step[:, :, 4:] = 1.0
    edges = sobel_edges(tf.constant(step))[0, :, :, 0].numpy()
    np.testing.assert_allclose(edges[:, 3:5], 1.0, atol=1e-5)  # the two columns beside the step
    np.testing.assert_allclose(edges[:, [0, 1, 6, 7]], -1.0, atol=1e-5)


def test_paired_folder_splits_side_by_side_images(tmp_path):
    os.makedirs(tmp_path / "train")
    for i in range(3):
        pair = np.concatenate([np.full((8, 8, 3), 200, np.uint8), np.full((8, 8, 3), 10 * i, np.uint8)], axis=1)
        Image.fromarray(pair).save(tmp_path / "train" / f"{i}.png")
    info = load_paired(f"folder:{tmp_path}", batch_size=3, shuffle=False)
    inputs, targets = next(iter(info.dataset))
    np.testing.assert_allclose(targets, 200 / 127.5 - 1.0, atol=1e-6)  # left half: target (facades layout)
    np.testing.assert_allclose(inputs[:, 0, 0, 0], np.arange(3) * 10 / 127.5 - 1.0, atol=1e-6)
    with pytest.raises(MissingResourceError, match="test"):
        load_paired(f"folder:{tmp_path}", batch_size=1, split="test")


def test_bad_paired_and_unpaired_names_raise_usage_errors():
    with pytest.raises(UsageError, match="mnist_edges"):
        load_paired("mnist_blur", batch_size=4)
    with pytest.raises(UsageError, match="mnist_fashion"):
        load_unpaired("horses", batch_size=4)
    with pytest.raises(UsageError, match="batch_size"):
        load_paired("mnist_edges", batch_size=0)


def test_recolor_maps_gray_levels_linearly_between_two_colours():
    gray = np.array([0, 255, 51], np.uint8).reshape(1, 3, 1, 1)
    rgb = recolor(gray, foreground=(255, 100, 0), background=(0, 0, 100))
    np.testing.assert_array_equal(rgb[0, :, 0], [[0, 0, 100], [255, 100, 0], [51, 20, 80]])


@pytest.mark.parametrize("name,channels", [("mnist_fashion", 1), ("mnist_recolored", 3)])
def test_unpaired_datasets_yield_two_domains(name, channels):
    info = load_unpaired(name, batch_size=4, split="test", seed=0)
    a, b = next(iter(info.dataset))
    assert a.shape == b.shape == (4, 28, 28, channels)
    assert info.image_shape == (28, 28, channels)
    if name == "mnist_recolored":  # domain B backgrounds are navy, domain A's black
        np.testing.assert_allclose(b[:, 0, 0], [[-1.0, -1.0, 128 / 127.5 - 1.0]] * 4, atol=1e-5)
        np.testing.assert_allclose(a[:, 0, 0], -1.0)


def test_unpaired_folder_reads_train_a_and_train_b(tmp_path):
    for suffix, level in (("A", 0), ("B", 255)):
        os.makedirs(tmp_path / f"train{suffix}")
        for i in range(2):
            Image.fromarray(np.full((6, 6, 3), level, np.uint8)).save(tmp_path / f"train{suffix}" / f"{i}.png")
    a, b = next(iter(load_unpaired(f"folder:{tmp_path}", batch_size=2).dataset))
    np.testing.assert_allclose(a, -1.0)
    np.testing.assert_allclose(b, 1.0)


# --- architectures --------------------------------------------------------------------------------

@pytest.mark.parametrize("shape,depth", [((28, 28, 1), 2), ((32, 32, 3), 5), ((16, 16, 3), 4)])
def test_unet_keeps_the_image_size_and_output_range(shape, depth):
    g = unet_generator(shape, output_channels=3, base_filters=4)
    out = g(tf.random.normal((2,) + shape) * 5)
    assert out.shape == (2, shape[0], shape[1], 3)
    assert float(tf.reduce_max(tf.abs(out))) <= 1.0
    assert sum(isinstance(layer, keras.layers.Conv2D) and not isinstance(layer, keras.layers.Conv2DTranspose)
               for layer in g.layers) == depth
    with pytest.raises(UsageError, match="depth"):
        unet_generator(shape, depth=depth + 1)


def test_unet_skip_connections_carry_the_input():
    """Changing one input pixel changes the output there even at depth 1 (through the skip path)."""
    g = unet_generator((8, 8, 1), base_filters=4, depth=1, dropout=0.0, norm="none")
    x = np.zeros((1, 8, 8, 1), np.float32)
    y = x.copy()
    y[0, 0, 0, 0] = 1.0
    assert not np.allclose(g(x), g(y))


def test_patchgan_gives_a_grid_of_logits():
    d = patchgan_discriminator((32, 32, 3), condition_shape=(32, 32, 1), base_filters=4, num_layers=3)
    logits = d([tf.zeros((2, 32, 32, 1)), tf.zeros((2, 32, 32, 3))])
    assert logits.shape == (2, 4, 4, 1)
    with pytest.raises(UsageError):
        patchgan_discriminator((32, 32, 3), condition_shape=(16, 16, 1))


# --- pix2pix -------------------------------------------------------------------------------------

def test_pix2pix_generator_loss_is_adversarial_plus_weighted_l1():
    gan = tiny_pix2pix(l1_weight=7.0)
    logits = np.array([[[[0.5], [-1.0]]], [[[2.0], [0.0]]]], np.float32)  # [2, 1, 2, 1] patch maps
    real = np.random.default_rng(0).uniform(-1, 1, (2, 4, 4, 1)).astype(np.float32)
    fake = np.random.default_rng(1).uniform(-1, 1, (2, 4, 4, 1)).astype(np.float32)
    # the adversarial loss per patch, then the mean per example
    expected = softplus(-logits).reshape(2, -1).mean(1) + 7.0 * np.abs(real - fake).reshape(2, -1).mean(1)
    np.testing.assert_allclose(gan.generator_loss(logits, fake, real, None), expected, rtol=1e-5)
    np.testing.assert_allclose(l1_distance(real, fake), np.abs(real - fake).reshape(2, -1).mean(1), rtol=1e-6)


def test_pix2pix_discriminator_sees_input_and_output_pairs():
    gan = tiny_pix2pix()
    inputs, targets = tf.zeros((2,) + SHAPE), tf.ones((2,) + SHAPE)
    real, condition = gan.unpack_batch((inputs, targets))
    assert real is targets and condition is inputs
    np.testing.assert_allclose(gan.training_fakes(targets, inputs, 0, 0), gan.generator(inputs, training=True))
    # Its own family: nothing latent to switch off.
    assert not any(hasattr(gan, name) for name in ("latent_dim", "sample_latents", "generator_inputs"))
    np.testing.assert_allclose(gan.discriminate(targets, inputs, training=False),
                               gan.discriminator([inputs, targets], training=False))
    with pytest.raises(UsageError, match="translate"):
        gan.generate(4)


def test_pix2pix_training_lowers_l1_to_held_out_targets_and_writes_grids(tmp_path):
    keras.utils.set_random_seed(0)
    gan = tiny_pix2pix()
    edges, digits = next(iter(load_paired("mnist_edges", 64, split="test", shuffle=False).dataset))
    before = float(np.mean(l1_distance(digits, gan.translate(edges))))
    train = load_paired("mnist_edges", 16, seed=0).dataset
    callback = gan.sample_grid_callback(str(tmp_path), train, num_samples=4)
    history = gan.fit(train, epochs=2, steps_per_epoch=30, verbose=0, callbacks=[callback])
    after = float(np.mean(l1_distance(digits, gan.translate(edges))))
    assert after < 0.5 * before and after < 0.3, (before, after)
    assert np.isfinite(history.history["l1"][-1]) and np.isfinite(history.history["d_loss"][-1])
    assert sorted(os.listdir(tmp_path / "samples")) == ["epoch_0001.png", "epoch_0002.png"]
    path = save_translation_grid(str(tmp_path / "pix2pix.png"), edges[:4], gan.translate(edges[:4]), digits[:4])
    with Image.open(path) as grid:
        assert grid.size == (3 * 30 + 2, 4 * 30 + 2)  # 3 columns (input, output, target), 4 rows, 2px padding

    gan.save(tmp_path / "pix2pix.keras")
    restored = keras.saving.load_model(tmp_path / "pix2pix.keras")
    assert isinstance(restored, Pix2Pix) and restored.l1_weight == gan.l1_weight
    np.testing.assert_allclose(restored.translate(edges[:4]), gan.translate(edges[:4]), atol=1e-6)


# --- CycleGAN ------------------------------------------------------------------------------------

def known_cyclegan(identity_weight=5.0):
    """G = 0.5·x, F = 3·x, discriminators = image mean (every term has a closed form)."""
    gan = CycleGAN(scale_model(0.5, SHAPE, "g"), mean_model(SHAPE, "d_b"), scale_model(3.0, SHAPE, "f"),
                   mean_model(SHAPE, "d_a"), identity_weight=identity_weight)
    gan.compile(d_optimizer="adam", g_optimizer="adam", loss="least_squares")
    return gan


def test_cycle_identity_and_adversarial_terms_match_hand_computation():
    gan = known_cyclegan()
    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, (3,) + SHAPE).astype(np.float32)
    b = rng.uniform(-1, 1, (3,) + SHAPE).astype(np.float32)
    per_example = lambda x: np.abs(x).reshape(3, -1).mean(1)  # noqa: E731
    terms = gan.cycle_losses(tf.constant(a), tf.constant(b), training=False)
    # F(G(a)) = 1.5a, G(F(b)) = 1.5b  →  ‖0.5a‖₁ + ‖0.5b‖₁
    np.testing.assert_allclose(terms["cycle"], per_example(0.5 * a) + per_example(0.5 * b), rtol=1e-5)
    # G(b) = 0.5b, F(a) = 3a  →  ‖0.5b‖₁ + ‖2a‖₁
    np.testing.assert_allclose(terms["identity"], per_example(0.5 * b) + per_example(2.0 * a), rtol=1e-5)
    # LSGAN generator terms ½(D(G(a)) − 1)² + ½(D(F(b)) − 1)² with D = image mean
    mean = lambda x: x.reshape(3, -1).mean(1)  # noqa: E731
    expected = 0.5 * (mean(0.5 * a) - 1) ** 2 + 0.5 * (mean(3.0 * b) - 1) ** 2
    np.testing.assert_allclose(terms["adversarial"], expected, rtol=1e-5)
    assert float(tf.reduce_max(known_cyclegan(identity_weight=0.0).cycle_losses(a, b)["identity"])) == 0.0


def test_identity_loss_needs_equal_channels():
    g = unet_generator((8, 8, 1), output_channels=3, base_filters=2)
    f = unet_generator((8, 8, 3), output_channels=1, base_filters=2)
    d_b, d_a = mean_model((8, 8, 3), "d_b"), mean_model((8, 8, 1), "d_a")
    with pytest.raises(UsageError, match="identity"):
        CycleGAN(g, d_b, f, d_a, identity_weight=5.0)
    assert CycleGAN(g, d_b, f, d_a, identity_weight=0.0).identity_weight == 0.0


def test_image_pool_fills_then_swaps_with_stored_images():
    pool = ImagePool(4)
    batches = [np.full((2, 2, 2, 1), float(i), np.float32) for i in range(6)]
    for i in range(2):  # filling: the new images come back and are stored
        np.testing.assert_array_equal(pool.query(tf.constant(batches[i]), tf.constant([i, 0])), batches[i])
    assert int(pool.count.numpy()) == 4
    np.testing.assert_array_equal(np.sort(pool.images.numpy()[:, 0, 0, 0]), [0, 0, 1, 1])
    returned = [pool.query(tf.constant(batches[i]), tf.constant([i, 0])).numpy()[:, 0, 0, 0] for i in range(2, 6)]
    returned = np.concatenate(returned)
    # Every returned image is either the new one or an older one; some are older (p = 1/2 each, fixed seeds).
    new_values = np.repeat(np.arange(2, 6), 2)
    assert np.all(returned <= new_values) and np.any(returned < new_values)
    assert int(pool.count.numpy()) == 4
    disabled = ImagePool(0)
    np.testing.assert_array_equal(disabled.query(tf.constant(batches[3]), tf.constant([0, 0])), batches[3])


def test_cyclegan_training_lowers_cycle_error_and_writes_a_grid(tmp_path):
    keras.utils.set_random_seed(0)
    shape = (28, 28, 3)
    gan = CycleGAN.from_shapes(shape, shape, base_filters=4, num_layers=2, pool_size=8)
    gan.compile(d_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5),
                g_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5), loss="least_squares")
    a, b = next(iter(load_unpaired("mnist_recolored", 32, split="test", shuffle=False).dataset))
    before = float(np.mean(gan.cycle_losses(a, b, training=False)["cycle"]))
    history = gan.fit(load_unpaired("mnist_recolored", 4, seed=0).dataset, epochs=1, steps_per_epoch=40, verbose=0)
    after = float(np.mean(gan.cycle_losses(a, b, training=False)["cycle"]))
    assert after < 0.5 * before, (before, after)
    for key in ("d_loss", "g_loss", "cycle", "identity", "d_real", "d_fake"):
        assert np.isfinite(history.history[key][0])
    assert int(gan.g_optimizer.iterations) == int(gan.d_optimizer.iterations) == 40
    assert int(gan.pool_a.count.numpy()) == 8
    translated = gan.translate(a[:4])
    assert translated.shape == (4,) + shape
    assert gan.translate(b[:4], direction="b_to_a").shape == (4,) + shape
    path = save_translation_grid(str(tmp_path / "cyclegan.png"), a[:4], translated)
    assert os.path.getsize(path) > 0

    gan.save(tmp_path / "cyclegan.keras")
    restored = keras.saving.load_model(tmp_path / "cyclegan.keras")
    assert isinstance(restored, CycleGAN)
    np.testing.assert_allclose(restored.translate(b[:2], direction="b_to_a"),
                               gan.translate(b[:2], direction="b_to_a"), atol=1e-5)
    assert int(restored.g_optimizer.iterations) == 40


# --- presets -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,cls,loader", [("pix2pix_mnist_edges", Pix2Pix, load_paired),
                                             ("cyclegan_mnist_recolored", CycleGAN, load_unpaired),
                                             ("cyclegan_mnist_fashion", CycleGAN, load_unpaired)])
def test_presets_build_models_that_fit_their_data(name, cls, loader):
    preset = load_preset(name)
    assert preset.gan in ("pix2pix", "cyclegan")
    spec = preset.dataset.split(":", 1)[1]
    info = loader(spec, 2, split="test")
    gan = cls.from_preset(preset, info)
    gan.compile(d_optimizer="adam", g_optimizer="adam", loss=preset.loss)
    inputs, outputs = next(iter(info.dataset))
    assert gan.translate(inputs).shape == outputs.shape
    assert gan.discriminator.inputs[-1].shape[1:] == outputs.shape[1:]


def test_from_preset_rejects_architectures_it_cannot_build():
    preset = load_preset("pix2pix_mnist_edges")
    preset.generator = "dcgan"
    with pytest.raises(UsageError, match="unet"):
        Pix2Pix.from_preset(preset, load_paired("mnist_edges", 2, split="test"))
