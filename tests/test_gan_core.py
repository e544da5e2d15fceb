"""The GAN base class: train_step updates, d_steps, saving, generation, conditional GAN."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_app import ConditionalGAN, GAN
from tfgan_app.architectures import dcgan_discriminator, dcgan_generator, mlp_discriminator, mlp_generator
from tfgan_app.errors import UsageError
from tfgan_app.latent import sample_latents

SHAPE = (28, 28, 1)


def tiny_images(n=32, seed=0):
    rng = np.random.default_rng(seed)
    return np.tanh(rng.normal(size=(n,) + SHAPE)).astype(np.float32)


def tiny_gan(d_steps=1, cls=GAN, num_classes=None, **kwargs):
    generator = dcgan_generator(8, SHAPE, num_classes=num_classes, base_filters=4)
    discriminator = dcgan_discriminator(SHAPE, num_classes=num_classes, base_filters=4)
    extra = {"num_classes": num_classes} if num_classes else {}
    gan = cls(generator, discriminator, d_steps=d_steps, **extra, **kwargs)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3))
    return gan


def snapshot(model):
    return [np.array(v) for v in model.trainable_variables]


def changed(before, model):
    return any(not np.allclose(b, np.array(a)) for b, a in zip(before, model.trainable_variables))


@pytest.mark.parametrize("d_steps", [1, 3])
def test_train_step_updates_both_networks_with_k_discriminator_steps(d_steps):
    gan = tiny_gan(d_steps=d_steps)
    g_before, d_before = snapshot(gan.generator), snapshot(gan.discriminator)
    history = gan.fit(tf.data.Dataset.from_tensor_slices(tiny_images()).batch(8), epochs=1, verbose=0)
    assert changed(g_before, gan.generator) and changed(d_before, gan.discriminator)
    assert int(gan.d_optimizer.iterations) == 4 * d_steps
    assert int(gan.g_optimizer.iterations) == 4
    for key in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert np.isfinite(history.history[key][0])


def test_generator_step_does_not_touch_discriminator_and_vice_versa():
    gan = tiny_gan()
    real = tf.constant(tiny_images(8))
    d_before = snapshot(gan.discriminator)
    gan.generator_step(real, None)
    assert not changed(d_before, gan.discriminator)
    g_before = snapshot(gan.generator)
    gan.discriminator_step(real, None)
    # BatchNorm moving statistics are not trainable; trainable generator weights must stay put.
    assert not changed(g_before, gan.generator)


def test_reported_losses_match_the_loss_formula():
    # With a learning rate of 0, one step leaves the weights as they were, so the reported D loss must
    # equal the non-saturating D loss recomputed by hand from the same latents.
    generator, discriminator = mlp_generator(4, (3,), output_activation="linear"), mlp_discriminator((3,))
    gan = GAN(generator, discriminator, seed=5)
    gan.compile(d_optimizer=keras.optimizers.SGD(0.0), g_optimizer=keras.optimizers.SGD(0.0))
    real = np.random.default_rng(1).normal(size=(6, 3)).astype(np.float32)
    logs = gan.train_on_batch(real, return_dict=True)
    z = gan.sample_latents(6, 0, 0)
    r, f = discriminator(real).numpy()[:, 0], discriminator(generator(z)).numpy()[:, 0]
    expected = np.mean(np.log1p(np.exp(-r)) + np.log1p(np.exp(f)))
    np.testing.assert_allclose(logs["d_loss"], expected, rtol=1e-4)


def test_save_load_and_continue_training(tmp_path):
    gan = tiny_gan(d_steps=2)
    data = tf.data.Dataset.from_tensor_slices(tiny_images()).batch(8)
    gan.fit(data, epochs=1, verbose=0)
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    restored = keras.saving.load_model(path)
    assert isinstance(restored, GAN) and restored.d_steps == 2
    np.testing.assert_allclose(restored.generate(4, seed=3), gan.generate(4, seed=3), atol=1e-6)
    assert int(restored.d_optimizer.iterations) == 8 and int(restored.g_optimizer.iterations) == 4
    for saved, loaded in zip(gan.d_optimizer.variables, restored.d_optimizer.variables):
        np.testing.assert_allclose(np.array(saved), np.array(loaded))
    restored.fit(data, epochs=1, verbose=0)
    assert int(restored.g_optimizer.iterations) == 8


def test_generate_is_deterministic_per_seed_and_uses_sample_latents():
    gan = tiny_gan()
    a, b, c = gan.generate(5, seed=1), gan.generate(5, seed=1), gan.generate(5, seed=2)
    assert a.shape == (5,) + SHAPE and a.min() >= -1 and a.max() <= 1
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    np.testing.assert_allclose(a, gan.generator(sample_latents(5, 8, 1), training=False), atol=1e-6)


def test_training_latents_differ_per_step_and_stream():
    gan = tiny_gan()
    z0, z1, g0 = gan.sample_latents(4, 0, 0), gan.sample_latents(4, 0, 1), gan.sample_latents(4, 1, 0)
    assert not np.allclose(z0, z1) and not np.allclose(z0, g0)
    np.testing.assert_array_equal(z0, gan.sample_latents(4, 0, 0))


def test_conditional_gan_trains_and_generates_requested_labels():
    gan = tiny_gan(cls=ConditionalGAN, num_classes=3)
    labels = np.arange(32) % 3
    gan.fit(tf.data.Dataset.from_tensor_slices((tiny_images(), labels)).batch(8), epochs=1, verbose=0)
    assert int(gan.g_optimizer.iterations) == 4
    with_zero, with_two = gan.generate(2, seed=0, labels=[0, 0]), gan.generate(2, seed=0, labels=[2, 2])
    assert with_zero.shape == (2,) + SHAPE and not np.allclose(with_zero, with_two)
    with pytest.raises(UsageError, match=r"labels must be in \[0, 3\)"):
        gan.generate(2, labels=[5])


def test_bad_arguments_are_reported_clearly():
    generator, discriminator = dcgan_generator(8, SHAPE, base_filters=4), dcgan_discriminator(SHAPE, base_filters=4)
    with pytest.raises(UsageError, match="d_steps must be a positive integer"):
        GAN(generator, discriminator, d_steps=0)
    with pytest.raises(UsageError, match="latent_dim=16 does not match the generator's latent input size 8"):
        GAN(generator, discriminator, latent_dim=16)
    with pytest.raises(UsageError, match="unconditional and takes no labels"):
        GAN(generator, discriminator).generate(2, labels=[1, 2])
    with pytest.raises(UsageError, match="needs a generator taking"):
        ConditionalGAN(generator, discriminator, num_classes=10)
    with pytest.raises(UsageError, match="d_optimizer= and g_optimizer="):
        GAN(generator, discriminator).compile(optimizer="adam")
    with pytest.raises(UsageError, match="Call gan.compile"):
        GAN(generator, discriminator).train_step(tf.constant(tiny_images(2)))


def test_generate_progress_draws_a_bar_on_a_terminal_only(capsys, monkeypatch):
    """A log file gets no progress bar: Keras would append each redraw with its escape codes there."""
    gan = tiny_gan()
    gan.generate(64, seed=0, progress=True, batch_size=16)
    assert capsys.readouterr().out == ""  # pytest's captured stdout is not a terminal
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    gan.generate(64, seed=0, progress=True, batch_size=16)
    assert "64/64" in capsys.readouterr().out
