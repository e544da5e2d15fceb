"""Text-conditioned GAN: captions from labels, conditioning augmentation, matching-aware loss, a short run."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_app.architectures.text import (ConditioningAugmentation, MaskedMean, kl_to_standard_normal,
                                          text_discriminator, text_generator)
from tfgan_app.data.captions import caption_vocabulary, captions_for, load_captioned, make_vectorizer
from tfgan_app.errors import UsageError
from tfgan_app.gans.text_conditioned import TextConditionedGAN
from tfgan_app.images import save_grid

SHAPE, LENGTH = (28, 28, 1), 8


def tiny_textgan(**kwargs):
    vocabulary = caption_vocabulary("mnist")
    size = len(vocabulary) + 2
    gan = TextConditionedGAN(text_generator(8, SHAPE, size, LENGTH, base_filters=4, embedding_dim=8, cond_dim=4),
                             text_discriminator(SHAPE, size, LENGTH, base_filters=4, embedding_dim=8, cond_dim=4),
                             vocabulary, sample_captions=captions_for("mnist", range(10)), **kwargs)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
                g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5), loss="non_saturating")
    return gan


def test_captions_come_from_labels_and_tokenise_consistently():
    assert captions_for("mnist", [7, 1]) == ["a handwritten seven", "a handwritten one"]
    assert captions_for("fashion_mnist", [9], template=3) == ["a grey ankle boot"]
    vectorizer = make_vectorizer(caption_vocabulary("mnist"), LENGTH)
    vocabulary = vectorizer.get_vocabulary()
    tokens = np.asarray(vectorizer(["a handwritten seven"]))[0]
    assert [vocabulary[t] for t in tokens[:3]] == ["a", "handwritten", "seven"] and not tokens[3:].any()
    info, words = load_captioned("mnist", 16, split="test", seed=0)
    images, batch_tokens = next(iter(info.dataset))
    assert images.shape == (16,) + SHAPE and batch_tokens.shape == (16, LENGTH) and batch_tokens.dtype == tf.int32
    decoded = {" ".join(vocabulary[t] for t in row if t) for row in batch_tokens.numpy()}
    every_caption = {c for t in range(4) for c in captions_for("mnist", range(10), t)}
    assert decoded <= every_caption
    with pytest.raises(UsageError):
        load_captioned("cifar10", 4)


def test_masked_mean_ignores_padding():
    embeddings = tf.constant([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])
    np.testing.assert_allclose(MaskedMean()([embeddings, tf.constant([[5, 6, 0]])]), [[2.0, 3.0]])


def test_conditioning_augmentation_and_its_kl_match_the_formulas():
    mu, log_var = np.array([[0.5, -1.0]], np.float32), np.array([[0.2, -0.4]], np.float32)
    stats = np.concatenate([mu, log_var], axis=1)
    expected = 0.5 * np.sum(mu ** 2 + np.exp(log_var) - 1 - log_var, axis=1)
    np.testing.assert_allclose(kl_to_standard_normal(stats), expected, rtol=1e-6)
    assert float(kl_to_standard_normal(np.zeros((1, 4), np.float32))[0]) == 0.0
    layer = ConditioningAugmentation(seed=0)
    np.testing.assert_allclose(layer(stats, training=False), mu)
    samples = np.stack([np.asarray(layer(np.repeat(stats, 2000, 0), training=True)) for _ in range(2)])
    samples = samples.reshape(-1, 2)
    np.testing.assert_allclose(samples.mean(0), mu[0], atol=0.05)
    np.testing.assert_allclose(samples.std(0), np.exp(0.5 * log_var[0]), atol=0.05)


def test_losses_are_matching_aware_and_include_the_kl_term():
    gan = tiny_textgan(kl_weight=3.0)
    images = tf.random.uniform((4,) + SHAPE, -1, 1)
    tokens = gan.encode(captions_for("mnist", [0, 1, 2, 3]))
    real_logits, fake_logits = tf.constant([[1.0], [0.5], [-0.2], [2.0]]), tf.constant([[-1.0], [0.3], [0.0], [1.0]])
    wrong = gan.discriminator([images, tf.roll(tokens, 1, axis=0)], training=True).numpy()[:, 0]
    softplus = lambda x: np.log1p(np.exp(x))  # noqa: E731
    r, f = real_logits.numpy()[:, 0], fake_logits.numpy()[:, 0]
    expected = softplus(-r) + 0.5 * softplus(f) + 0.5 * softplus(wrong)
    np.testing.assert_allclose(gan.discriminator_loss(real_logits, fake_logits, images, None, tokens), expected,
                               rtol=1e-4)
    kl = kl_to_standard_normal(gan.ca_stats(tokens)).numpy()
    np.testing.assert_allclose(gan.generator_loss(fake_logits, None, images, tokens), softplus(-f) + 3.0 * kl,
                               rtol=1e-4)


def test_projection_discriminator_adds_the_image_text_inner_product():
    size = len(caption_vocabulary("mnist")) + 2
    d = text_discriminator(SHAPE, size, LENGTH, base_filters=4, embedding_dim=8, cond_dim=4, projection=True)
    parts = keras.Model(d.inputs, [d.get_layer("joint_logit").output, d.get_layer("pooled_features").output,
                                   d.get_layer("projection").output])
    images = tf.random.stateless_uniform((3,) + SHAPE, seed=[0, 1], minval=-1, maxval=1)
    tokens = make_vectorizer(caption_vocabulary("mnist"), LENGTH)(captions_for("mnist", [1, 2, 3]))
    joint, pooled, caption = [np.asarray(t) for t in parts([images, tokens], training=False)]
    expected = joint[:, 0] + np.sum(pooled * caption, axis=1)
    np.testing.assert_allclose(np.asarray(d([images, tokens], training=False))[:, 0], expected, rtol=1e-5,
                               atol=1e-6)


def test_short_training_run_generates_from_captions(tmp_path):
    keras.utils.set_random_seed(0)
    gan = tiny_textgan()
    info, _ = load_captioned("mnist", 16, split="test", seed=0)
    g_before = [np.array(v) for v in gan.generator.trainable_variables]
    history = gan.fit(info.dataset, epochs=1, steps_per_epoch=10, verbose=0)
    assert all(np.isfinite(history.history[k][0]) for k in ("d_loss", "g_loss"))
    assert any(not np.allclose(b, a) for b, a in zip(g_before, gan.generator.trainable_variables))
    sevens = gan.generate(4, seed=0, labels=["a handwritten seven"])
    assert sevens.shape == (4,) + SHAPE
    assert not np.allclose(sevens, gan.generate(4, seed=0, labels=["a handwritten one"]))
    grid = gan.generate(10, seed=0)  # the stored sample captions, one per class
    save_grid(str(tmp_path / "textgan.png"), grid, cols=10)
    with pytest.raises(UsageError, match="captions"):
        gan.generate(2, labels=[1, 2])
    gan.save(tmp_path / "textgan.keras")
    restored = keras.saving.load_model(tmp_path / "textgan.keras")
    assert isinstance(restored, TextConditionedGAN) and restored.vocabulary == gan.vocabulary
    np.testing.assert_allclose(restored.generate(4, seed=0, labels=["a handwritten seven"]), sevens, atol=1e-5)


def test_preset_builds_the_text_gan():
    from tfgan_app.presets import load_preset
    preset = load_preset("textgan_mnist")
    info, vocabulary = load_captioned(preset.dataset.split(":", 1)[1], 2, split="test")
    gan = TextConditionedGAN.from_preset(preset, info)
    assert gan.vocabulary == vocabulary and gan.sample_captions == captions_for("mnist", range(10))
    assert gan.generate(3, seed=0).shape == (3,) + SHAPE and gan.kl_weight == preset.gan_options["kl_weight"]
    assert "joint_logit" in {layer.name for layer in gan.discriminator.layers}  # the projection discriminator
