"""PacGAN packing: D sees m samples per row, the loss matches a hand computation, packing beats mode collapse."""


import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_app import presets, training
from tfgan_app.architectures.mlp import mlp_discriminator, mlp_generator
from tfgan_app.errors import UsageError
from tfgan_app.gans import GAN, ConditionalGAN, packed_shape
from tfgan_app.gans.packing import pack


def test_pack_concatenates_m_consecutive_samples_on_the_last_axis():
    points = np.arange(12, dtype=np.float32).reshape(6, 2)
    np.testing.assert_array_equal(pack(points, 3), np.stack([np.concatenate(points[i:i + 3]) for i in (0, 3)]))
    images = np.random.default_rng(0).normal(size=(4, 3, 3, 2)).astype(np.float32)
    expected = np.stack([np.concatenate([images[0], images[1]], -1), np.concatenate([images[2], images[3]], -1)])
    np.testing.assert_array_equal(pack(images, 2), expected)
    assert packed_shape((28, 28, 1), 4) == (28, 28, 4) and packed_shape((2,), 3) == (6,)
    with pytest.raises(tf.errors.InvalidArgumentError, match="multiple of pack=4"):
        pack(points, 4)


class RecordingDense(keras.layers.Dense):
    """Dense layer that records the shape of its inputs."""

    seen = []

    def call(self, inputs):
        RecordingDense.seen.append(tuple(inputs.shape))
        return super().call(inputs)


def linear_gan(m):
    keras.utils.set_random_seed(0)
    generator = mlp_generator(3, (2,), hidden_units=(4,), output_activation="linear")
    x = keras.Input((2 * m,))
    discriminator = keras.Model(x, RecordingDense(1, name="logits")(x))
    gan = GAN(generator, discriminator, pack=m, seed=1)
    gan.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.0), loss="non_saturating")
    return gan


def test_discriminator_sees_m_samples_per_row_and_loss_and_gradient_match_a_hand_computation():
    m, batch = 3, 12
    gan = linear_gan(m)
    real = np.random.default_rng(0).normal(size=(batch, 2)).astype(np.float32)
    fake = np.asarray(gan.generator(gan.sample_latents(batch, 0, 0)))  # the D step's fakes at step 0
    w, b = [v.copy() for v in gan.discriminator.get_weights()]
    RecordingDense.seen.clear()
    logs = gan.train_step(tf.constant(real))
    assert RecordingDense.seen and all(shape[-1] == 2 * m for shape in RecordingDense.seen)
    assert all(shape[0] in (None, batch // m) for shape in RecordingDense.seen)
    # By hand: rows concatenate m samples; NS loss = mean softplus(-D(real rows)) + mean softplus(D(fake rows)).
    real_rows, fake_rows = real.reshape(batch // m, 2 * m), fake.reshape(batch // m, 2 * m)
    real_logits, fake_logits = real_rows @ w + b, fake_rows @ w + b
    loss = np.mean(np.logaddexp(0, -real_logits)) + np.mean(np.logaddexp(0, fake_logits))
    assert float(logs["d_loss"]) == pytest.approx(loss, rel=1e-5)
    sigmoid = lambda t: 1 / (1 + np.exp(-t))  # noqa: E731
    grad_w = (-(sigmoid(-real_logits) * real_rows).mean(0) + (sigmoid(fake_logits) * fake_rows).mean(0))[:, None]
    grad_b = -sigmoid(-real_logits).mean() + sigmoid(fake_logits).mean()
    new_w, new_b = gan.discriminator.get_weights()
    np.testing.assert_allclose(new_w, w - 0.1 * grad_w, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(new_b, b - 0.1 * grad_b, rtol=1e-4, atol=1e-6)


def test_pack_errors():
    g = mlp_generator(3, (2,), hidden_units=(4,), output_activation="linear")
    with pytest.raises(UsageError, match="pack must be a positive integer"):
        GAN(g, mlp_discriminator((2,), hidden_units=(4,)), pack=0)
    cg = mlp_generator(3, (2,), num_classes=2, hidden_units=(4,), output_activation="linear")
    with pytest.raises(UsageError, match="ConditionalGAN cannot apply pack=2"):
        ConditionalGAN(cg, mlp_discriminator((4,), num_classes=2, hidden_units=(4,)), num_classes=2, pack=2)


def test_build_gan_makes_the_discriminator_for_packed_rows():
    preset = presets.load_preset("pacgan_grid25")
    gan = training.build_gan(preset, (2,), None)
    m = preset.gan_options["pack"]
    assert m >= 2 and tuple(gan.discriminator.inputs[0].shape[1:]) == (2 * m,)
    assert preset.batch_size % m == 0


def _ring_samples(rng, num, modes):
    from tfgan_app.data.toy import mixture_means, mixture_std  # pylint: disable=import-outside-toplevel
    means = mixture_means("ring8")
    picked = rng.choice(modes, size=num)
    return (means[picked] + mixture_std("ring8") * rng.standard_normal((num, 2))).astype(np.float32)


def _trained_discriminator_loss(m, steps=300, batch=256):
    """NS discriminator loss after training D alone to separate the ring of 8 from a generator that dropped
    two modes (6 of 8 modes, same shape per mode): the mode-collapse signal D can pass on to G."""
    keras.utils.set_random_seed(0)
    generator = mlp_generator(2, (2,), hidden_units=(4,), output_activation="linear")  # unused: D-only training
    gan = GAN(generator, mlp_discriminator(packed_shape((2,), m), hidden_units=(64, 64)), pack=m)
    gan.compile(d_optimizer=keras.optimizers.Adam(3e-3), g_optimizer=keras.optimizers.Adam(0.0))
    rng = np.random.default_rng(0)
    variables = gan.discriminator.trainable_variables

    @tf.function
    def step(real, fake):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(gan.discriminator_loss(gan.discriminate(real, None), gan.discriminate(fake, None),
                                                         real, fake, None))
        gan.d_optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    losses = [float(step(_ring_samples(rng, batch, np.arange(8)), _ring_samples(rng, batch, np.arange(6))))
              for _ in range(steps)]
    return float(np.mean(losses[-50:]))


def test_packing_amplifies_the_mode_collapse_signal():
    """PacGAN's point (Lin et al. 2018, Thm. 3): for a generator missing 2 of 8 modes the total variation
    to the data is 1/4, but 1 - (6/8)^4 = 0.68 between packs of 4. The best NS discriminator loss,
    log 4 - 2 JS, is 1.195 unpacked and 0.726 with packs of 4 (computed over the mode histogram), so a
    packed D gives G a much stronger mode-collapse signal; the trained losses must show it."""
    unpacked, packed = _trained_discriminator_loss(1), _trained_discriminator_loss(4)
    assert unpacked > 1.15, unpacked  # cannot beat its optimum 1.195 (fresh samples every step)
    assert packed < unpacked - 0.2, (packed, unpacked)
