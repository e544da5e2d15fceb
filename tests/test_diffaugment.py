"""DiffAugment: each transform does what the reference does, gradients flow, and the GAN option applies it."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_app.architectures.mlp import mlp_discriminator, mlp_generator
from tfgan_app.errors import UsageError
from tfgan_app.gans import GAN, UnrolledGAN
from tfgan_app.gans import augment

SEED = tf.constant([3, 4], tf.int64)


def images(n=8, size=8, channels=3):
    return tf.constant(np.random.default_rng(0).uniform(-1, 1, (n, size, size, channels)).astype(np.float32))


def test_translation_shifts_whole_images_with_zero_fill():
    x = images()
    y = augment.translation(x, SEED).numpy()
    x = x.numpy()
    shifts = []
    for xi, yi in zip(x, y):
        match = [(dy, dx) for dy in range(-1, 2) for dx in range(-1, 2)  # H/8 = 1 pixel for 8x8 images
                 if np.allclose(yi, np.roll(np.roll(xi, dy, 0), dx, 1)
                                * _valid(dy, dx, xi.shape)[..., None])]
        assert match, "each output is its input shifted by at most H/8, zero-filled"
        shifts.append(match[0])
    assert len(set(shifts)) > 1  # per-sample offsets


def _valid(dy, dx, shape):
    mask = np.ones(shape[:2], np.float32)
    if dy > 0:
        mask[:dy] = 0
    if dy < 0:
        mask[dy:] = 0
    if dx > 0:
        mask[:, :dx] = 0
    if dx < 0:
        mask[:, dx:] = 0
    return mask


def test_cutout_zeroes_one_half_size_square_per_image():
    x = tf.ones([16, 8, 8, 1])
    y = augment.cutout(x, SEED).numpy()[..., 0]
    for yi in y:
        rows, cols = np.where(yi == 0)
        assert len(rows) > 0 and rows.max() - rows.min() < 4 and cols.max() - cols.min() < 4  # clipped at borders
        assert len(rows) == (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)  # a rectangle
    assert (y == 0).sum(axis=(1, 2)).max() == 16  # a full 4x4 square when not clipped


def test_color_ranges_per_sample():
    x = tf.zeros([64, 4, 4, 3])
    y = augment.color(x, SEED).numpy()
    brightness = y[:, 0, 0, 0]  # saturation/contrast leave a constant image at its brightness
    assert np.all(np.abs(brightness) <= 0.5) and brightness.std() > 0.1
    np.testing.assert_allclose(y, np.broadcast_to(brightness[:, None, None, None], y.shape), atol=1e-6)


def test_gradients_flow_through_every_policy():
    x = images()
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = augment.diff_augment(x, augment.POLICIES, SEED)
        loss = tf.reduce_sum(y * y)
    grad = tape.gradient(loss, x).numpy()
    assert np.isfinite(grad).all() and np.abs(grad).sum() > 0
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(augment.diff_augment(x, ("translation", "cutout"), SEED))
    grad = tape.gradient(loss, x).numpy()
    assert set(np.unique(grad)) <= {0.0, 1.0} and (grad == 0).any() and (grad == 1).any()  # moved or cut out


def test_policy_parsing_and_errors():
    assert augment.parse_policy("color, cutout") == ("color", "cutout") and augment.parse_policy(None) == ()
    with pytest.raises(UsageError, match="Unknown DiffAugment policy"):
        augment.parse_policy("color,flip")
    g = mlp_generator(4, (8, 8, 1), hidden_units=(8,))
    with pytest.raises(UsageError, match="UnrolledGAN cannot apply diff_augment"):
        UnrolledGAN(g, mlp_discriminator((8, 8, 1), hidden_units=(8,)), diff_augment="color")


def test_gan_option_augments_real_and_fake_differently_in_training_only():
    keras.utils.set_random_seed(0)
    gan = GAN(mlp_generator(4, (8, 8, 1), hidden_units=(8,)), mlp_discriminator((8, 8, 1), hidden_units=(8,)),
              diff_augment="translation,cutout")
    gan.compile()
    seen = []
    original = gan.discriminator.call

    def spy(inputs, *args, **kwargs):
        seen.append(inputs)
        return original(inputs, *args, **kwargs)

    gan.discriminator.call = spy
    x = tf.ones([4, 8, 8, 1])
    gan._augment_calls.count = 0  # pylint: disable=protected-access
    gan.discriminate(x, None, training=True)
    gan.discriminate(x, None, training=True)
    gan.discriminate(x, None, training=False)
    first, second, evaluation = (np.asarray(s) for s in seen[-3:])
    assert (first == 0).any() and not np.array_equal(first, second)  # each call its own draw
    np.testing.assert_array_equal(evaluation, np.ones([4, 8, 8, 1]))  # not augmented outside training
    logs = gan.train_step(tf.ones([4, 8, 8, 1]))
    assert np.isfinite(float(logs["d_loss"])) and np.isfinite(float(logs["g_loss"]))


def test_diff_augment_needs_image_samples():
    with pytest.raises(UsageError, match="diff_augment augments images"):
        GAN(mlp_generator(4, (2,), hidden_units=(8,), output_activation="linear"),
            mlp_discriminator((2,), hidden_units=(8,)), diff_augment="color")
