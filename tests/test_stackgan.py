"""StackGAN (Zhang et al. 2017): conditioning-augmentation KL, matching-aware D per stage, stage II on stage I's
output, stage I first and then frozen, the KL in a real train step, save/load/resume, export of stage-II images."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_app import training
from tfgan_app.architectures.stackgan import low_resolution, stackgan_generator
from tfgan_app.architectures.text import kl_to_standard_normal, text_discriminator
from tfgan_app.artifacts.layout import read_metadata
from tfgan_app.data.captions import caption_vocabulary, captions_for
from tfgan_app.errors import UsageError
from tfgan_app.export import export_run
from tfgan_app.gans.stackgan import StackGAN
from tfgan_app.images import to_uint8
from tfgan_app.presets import apply_overrides, load_preset

SHAPE, LENGTH, LATENT = (8, 8, 1), 8, 4
SIZES = {"embedding_dim": 4, "cond_dim": 2}


def tiny_stackgan(stage1_steps=2, **kwargs) -> StackGAN:
    vocabulary = caption_vocabulary("mnist")
    size = len(vocabulary) + 2
    generator = stackgan_generator(LATENT, SHAPE, size, LENGTH, base_filters=4, stage2_filters=4, residual_blocks=1,
                                   **SIZES)
    gan = StackGAN(generator, text_discriminator(SHAPE, size, LENGTH, base_filters=4, **SIZES),
                   text_discriminator(low_resolution(SHAPE), size, LENGTH, base_filters=4,
                                      name="stage1_discriminator", **SIZES),
                   vocabulary, stage1_steps=stage1_steps, sample_captions=captions_for("mnist", range(10)), **kwargs)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-2, beta_1=0.5),
                g_optimizer=keras.optimizers.Adam(1e-2, beta_1=0.5), loss="non_saturating")
    return gan


def batch(gan: StackGAN, n: int = 6, seed: int = 0):
    images = tf.constant(np.random.default_rng(seed).uniform(-1, 1, (n,) + SHAPE).astype(np.float32))
    return images, gan.encode(captions_for("mnist", [i % 10 for i in range(n)]))


def weights(model: keras.Model):
    return [np.array(w) for w in model.weights]  # BatchNorm statistics included


def same(before, model) -> bool:
    return all(np.array_equal(b, np.array(a)) for b, a in zip(before, model.weights))


def test_conditioning_augmentation_kl_is_the_closed_form_and_samples_epsilon():
    keras.utils.set_random_seed(0)
    gan = tiny_stackgan()
    _, tokens = batch(gan)
    for stage, stats_model, generator in ((1, gan.ca_stats, gan.stage1_generator),
                                          (2, gan.stage2_ca_stats, gan.stage2_generator)):
        stats = np.asarray(stats_model(tokens))
        mu, log_var = np.split(stats.astype(np.float64), 2, axis=1)
        # KL(N(mu, sigma^2) || N(0, 1)) per dimension: log(1/sigma) + (sigma^2 + mu^2)/2 - 1/2, summed.
        closed_form = np.sum(-0.5 * log_var + 0.5 * (np.exp(log_var) + mu ** 2) - 0.5, axis=1)
        np.testing.assert_allclose(kl_to_standard_normal(stats), closed_form, rtol=1e-5, atol=1e-6)
        with gan.in_stage(stage):
            np.testing.assert_allclose(gan.conditioning_kl(tokens), closed_form, rtol=1e-5, atol=1e-6)
        augmentation = generator.get_layer("conditioning_augmentation")
        np.testing.assert_allclose(augmentation(stats, training=False), mu, rtol=1e-6)  # inference: c = mu
        sampled = np.asarray(augmentation(stats, training=True))
        assert np.abs(sampled - mu).min() > 0  # training: c = mu + sigma * eps, eps ~ N(0, I) drawn
    assert not np.allclose(gan.ca_stats(tokens), gan.stage2_ca_stats(tokens))  # each stage has its own CA


def test_mismatched_captions_are_negatives_for_each_stage():
    keras.utils.set_random_seed(1)
    gan = tiny_stackgan()
    images, tokens = batch(gan, 4)
    softplus = lambda x: np.log1p(np.exp(x))  # noqa: E731
    for stage, network, side in ((1, gan.stage1_discriminator, 4), (2, gan.discriminator, 8)):
        with gan.in_stage(stage):
            real, _ = gan.unpack_batch((images, tokens))
            assert real.shape[1] == side
            r = gan.discriminate(real, tokens).numpy()
            f = tf.constant([[-1.0], [0.3], [0.0], [1.0]])
            wrong = network([real, tf.roll(tokens, 1, axis=0)], training=True).numpy()[:, 0]
            expected = softplus(-r[:, 0]) + 0.5 * softplus(f.numpy()[:, 0]) + 0.5 * softplus(wrong)
            np.testing.assert_allclose(gan.discriminator_loss(tf.constant(r), f, real, None, tokens), expected,
                                       rtol=1e-4)


def test_stage_two_refines_stage_one_output():
    keras.utils.set_random_seed(2)
    gan = tiny_stackgan()
    rng = np.random.default_rng(2)  # redrawn weights: freshly initialised, the images are ~1e-6
    for weight in gan.generator.trainable_weights:
        weight.assign(rng.normal(0.0, 0.5, tuple(weight.shape)).astype(np.float32))
    z = tf.constant(np.random.default_rng(2).normal(size=(3, LATENT)).astype(np.float32))
    tokens = gan.encode(["a handwritten seven", "the digit one", "a handwritten two"])
    low = gan.stage1_generator([z, tokens], training=False)
    assert low.shape == (3, 4, 4, 1)
    composite = gan.generator([z, tokens], training=False).numpy()
    np.testing.assert_allclose(composite, gan.stage2_generator([low, tokens], training=False), atol=1e-6)
    with gan.in_stage(2):
        np.testing.assert_allclose(gan.fake_samples(z, tokens, 1, 0, training=False), composite, atol=1e-6)
    last = gan.stage1_generator.layers[-2]  # the conv before tanh
    kernel = last.kernel
    kernel.assign(kernel + 0.5)
    assert np.abs(gan.generator([z, tokens], training=False).numpy() - composite).max() > 1e-2


def test_fit_trains_stage_one_then_stage_two_with_stage_one_frozen_and_saves(tmp_path):
    keras.utils.set_random_seed(3)
    gan = tiny_stackgan(stage1_steps=2)
    data = tf.data.Dataset.from_tensors(batch(gan, 6)).repeat()
    networks = {"g1": gan.stage1_generator, "d1": gan.stage1_discriminator, "g2": gan.stage2_generator,
                "d2": gan.discriminator}
    start = {name: weights(model) for name, model in networks.items()}
    gan.fit(data, epochs=1, steps_per_epoch=2, verbose=0)
    assert gan.current_stage() == 2
    assert not same(start["g1"], gan.stage1_generator) and not same(start["d1"], gan.stage1_discriminator)
    assert same(start["g2"], gan.stage2_generator) and same(start["d2"], gan.discriminator)
    after_stage1 = {name: weights(model) for name, model in networks.items()}
    gan.fit(data, epochs=1, steps_per_epoch=2, verbose=0)
    assert same(after_stage1["g1"], gan.stage1_generator) and same(after_stage1["d1"], gan.stage1_discriminator)
    assert not same(after_stage1["g2"], gan.stage2_generator) and not same(after_stage1["d2"], gan.discriminator)
    counters = [int(o.iterations) for o in (gan.d_optimizer, gan.g_optimizer, gan.stage2_d_optimizer,
                                            gan.stage2_g_optimizer)]
    assert counters == [2, 2, 2, 2]
    # save / load: the stage counters, the stage-I discriminator, stage II's Adam moments and the outputs come back.
    gan.save(tmp_path / "stackgan.keras")
    restored = keras.saving.load_model(tmp_path / "stackgan.keras")
    assert isinstance(restored, StackGAN) and restored.stage1_steps == 2 and restored.current_stage() == 2
    assert [int(o.iterations) for o in (restored.d_optimizer, restored.g_optimizer, restored.stage2_d_optimizer,
                                        restored.stage2_g_optimizer)] == counters
    assert same(weights(gan.stage1_discriminator), restored.stage1_discriminator)
    np.testing.assert_allclose(restored.generate(4, seed=0), gan.generate(4, seed=0), atol=1e-6)
    for mine, theirs in zip(gan.stage2_g_optimizer.variables, restored.stage2_g_optimizer.variables):
        np.testing.assert_array_equal(np.array(mine), np.array(theirs))  # stage II's Adam moments too


def test_kl_enters_the_generator_loss_of_a_train_step():
    keras.utils.set_random_seed(4)
    gan = tiny_stackgan(stage1_steps=1)
    data = batch(gan, 6)
    for stage in (1, 2):
        snapshot = [np.array(v) for v in gan.variables] + [np.array(v) for o in (
            gan.d_optimizer, gan.g_optimizer, gan.stage2_d_optimizer, gan.stage2_g_optimizer) for v in o.variables]
        variables = list(gan.variables) + [v for o in (gan.d_optimizer, gan.g_optimizer, gan.stage2_d_optimizer,
                                                      gan.stage2_g_optimizer) for v in o.variables]
        losses = {}
        for weight in (0.0, 5.0):
            for variable, value in zip(variables, snapshot):
                variable.assign(value)
            gan.reset_metrics()
            gan.kl_weight = weight
            assert gan.current_stage() == stage
            with gan.in_stage(stage):
                kl = float(np.mean(gan.conditioning_kl(data[1])))
            losses[weight] = float(gan.train_step(data)["g_loss"])
        assert kl > 0.01
        np.testing.assert_allclose(losses[5.0] - losses[0.0], 5.0 * kl, rtol=1e-3)


def test_trains_under_mixed_bfloat16():
    """`mixed_precision: auto` picks mixed_bfloat16 on CPUs with AVX-512 BF16: the CA's ε must follow μ's dtype."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        keras.utils.set_random_seed(5)
        gan = tiny_stackgan(stage1_steps=1)
        data = batch(gan, 4)
        for stage in (1, 2):
            assert gan.current_stage() == stage
            assert np.isfinite(float(gan.train_step(data)["g_loss"]))
    finally:
        keras.config.set_dtype_policy(previous)


def test_options_are_checked():
    with pytest.raises(UsageError, match="stage1_steps=0"):
        tiny_stackgan(stage1_steps=0)
    vocabulary = caption_vocabulary("mnist")
    size = len(vocabulary) + 2
    generator = stackgan_generator(LATENT, SHAPE, size, LENGTH, base_filters=4, stage2_filters=4, residual_blocks=1)
    with pytest.raises(UsageError, match=r"stage1 discriminator must judge stage1 images of shape \(4, 4, 1\)"):
        StackGAN(generator, text_discriminator(SHAPE, size, LENGTH), text_discriminator(SHAPE, size, LENGTH),
                 vocabulary)
    with pytest.raises(UsageError, match="ema_decay"):
        tiny_stackgan(ema_decay=0.9)


def test_preset_run_resumes_into_stage_two_and_exports_stage_two_images(tmp_path):
    preset = apply_overrides(load_preset("stackgan_mnist"), [
        "latent_dim=4", "batch_size=4", "epochs=1", "steps_per_epoch=2", "gan_options.stage1_steps=2",
        "generator_options.base_filters=4", "generator_options.stage2_filters=4",
        "generator_options.residual_blocks=1", "discriminator_options.base_filters=4"])
    run = str(tmp_path / "run")
    training.train(preset, run, verbose=0)
    trained = training.train(apply_overrides(preset, ["epochs=2"]), run, verbose=0, resume=True)
    gan = trained.gan
    assert [int(o.iterations) for o in (gan.g_optimizer, gan.stage2_g_optimizer)] == [2, 2]
    assert json.load(open(os.path.join(run, "config.json")))["vocabulary"] == gan.vocabulary
    result = export_run(run, base_dir=str(tmp_path / "export"), quantizations=())
    assert read_metadata(result.version_dir)["kind"] == "text"
    signatures = tf.saved_model.load(result.version_dir).signatures
    captions = ["a handwritten seven", "the digit one"]
    images = signatures["generate_from_captions"](seed=np.int64(4), captions=tf.constant(captions))["images"]
    assert images.shape == (2, 28, 28, 1)  # stage II's resolution, not stage I's 14 x 14
    expected = to_uint8(gan.generate(2, seed=4, labels=captions)).astype(int)
    assert np.abs(images.numpy().astype(int) - expected).max() <= 1
