"""EBGAN and BEGAN (`tfgan_app.gans.energy`): their defining mechanisms against the papers' formulas.

BEGAN: the k_t equilibrium update, the k_t-weighted D loss and the convergence measure M, checked on a
real train step. EBGAN: the margin in D's loss and the pulling-away term on the fakes' codes. Both: the
energy is the auto-encoder's reconstruction error; the presets train from the CLI and export.
"""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_app import losses
from tfgan_app.architectures import autoencoder_discriminator, dcgan_generator
from tfgan_app.cli.main import main
from tfgan_app.errors import UsageError
from tfgan_app.gans.energy import BEGAN, EBGAN, began_k_update, convergence_measure

SHAPE = (8, 8, 1)


def tiny(cls, **options):
    keras.utils.set_random_seed(0)
    gan = cls(dcgan_generator(8, SHAPE, base_filters=4), autoencoder_discriminator(SHAPE, base_filters=4, code_dim=4),
              **options)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3))
    return gan


def images(num=16, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (num, *SHAPE)).astype(np.float32)


def test_reconstruction_energy_is_the_per_example_l1_or_squared_error():
    x, r = images(3, 0), images(3, 1)
    np.testing.assert_allclose(losses.reconstruction_energy(x, r, 1), np.abs(x - r).mean(axis=(1, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(losses.reconstruction_energy(x, r, 2), ((x - r) ** 2).mean(axis=(1, 2, 3)), rtol=1e-5)
    with pytest.raises(UsageError, match="Received: power=3"):
        losses.reconstruction_energy(x, r, 3)


def test_pulling_away_term_matches_the_paper_over_pairs_of_examples():
    codes = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)  # N != code size: axes matter
    unit = codes / np.linalg.norm(codes, axis=1, keepdims=True)
    n = len(codes)
    expected = sum((unit[i] @ unit[j]) ** 2 for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    np.testing.assert_allclose(float(losses.pulling_away_term(codes)), expected, rtol=1e-5)
    assert float(losses.pulling_away_term(np.eye(4, dtype=np.float32))) == pytest.approx(0.0, abs=1e-6)
    assert float(losses.pulling_away_term(np.ones((4, 3), np.float32))) == pytest.approx(1.0, rel=1e-5)


@pytest.mark.parametrize("k, real, fake", [(0.0, 0.4, 0.1), (0.3, 0.1, 0.5), (0.999, 2.0, 0.0), (0.0005, 0.0, 1.0)])
def test_began_k_update_is_the_clipped_proportional_control(k, real, fake):
    gamma, lambda_k = 0.5, 0.01
    expected = np.clip(k + lambda_k * (gamma * real - fake), 0.0, 1.0)
    assert float(began_k_update(k, real, fake, gamma, lambda_k)) == pytest.approx(expected, abs=1e-7)
    assert float(convergence_measure(real, fake, gamma)) == pytest.approx(real + abs(gamma * real - fake), rel=1e-6)


def test_began_train_step_weights_fakes_by_k_and_updates_k_from_the_step_energies():
    gan = tiny(BEGAN, gamma=0.5, lambda_k=0.1, initial_k=0.5)
    logs = {k: float(v) for k, v in gan.train_on_batch(images(), return_dict=True).items()}
    # d_real / d_fake are the mean energies L(x), L(G(z_D)) of the D step; g_loss is L(G(z_G)).
    assert logs["d_loss"] == pytest.approx(logs["d_real"] - 0.5 * logs["d_fake"], rel=1e-4)
    balance = 0.5 * logs["d_real"] - logs["g_loss"]
    assert abs(balance) > 1e-3  # a sign-flipped update would land elsewhere
    expected_k = np.clip(0.5 + 0.1 * balance, 0, 1)
    assert logs["k"] == pytest.approx(expected_k, rel=1e-4) and float(gan.k) == pytest.approx(expected_k, rel=1e-4)
    assert logs["convergence"] == pytest.approx(logs["d_real"] + abs(balance), rel=1e-4)


def test_began_k_is_saved_with_the_model(tmp_path):
    gan = tiny(BEGAN, gamma=0.7, lambda_k=0.05, initial_k=0.2)
    gan.train_on_batch(images())
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    restored = keras.saving.load_model(path)
    assert type(restored) is BEGAN and (restored.gamma, restored.lambda_k) == (0.7, 0.05)
    assert float(restored.k) == pytest.approx(float(gan.k)) and float(gan.k) != pytest.approx(0.2)


def test_autoencoder_energy_is_the_reconstruction_error_of_what_d_sees():
    gan = tiny(BEGAN)
    x = images(4)
    reconstructions, codes = (np.asarray(t) for t in gan.discriminator(x, training=False))
    outputs = gan.discriminate(tf.constant(x), None, training=False).numpy()
    np.testing.assert_allclose(outputs[:, 0], np.abs(x - reconstructions).mean(axis=(1, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(outputs[:, 1:], codes, rtol=1e-5)
    ebgan = tiny(EBGAN)
    squared = ebgan.discriminate(tf.constant(x), None, training=False).numpy()[:, 0]
    reconstructions = np.asarray(ebgan.discriminator(x, training=False)[0])
    np.testing.assert_allclose(squared, ((x - reconstructions) ** 2).mean(axis=(1, 2, 3)), rtol=1e-5)


def test_ebgan_margin_and_pulling_away_term():
    gan = tiny(EBGAN, margin=1.0, pt_weight=0.1)
    codes = np.random.default_rng(1).normal(size=(3, 4)).astype(np.float32)
    real = tf.constant(np.c_[[0.2, 0.3, 0.1], codes], tf.float32)
    fake = tf.constant(np.c_[[0.4, 1.5, 1.0], codes], tf.float32)
    d_loss = gan.discriminator_loss(real, fake, None, None, None).numpy()
    np.testing.assert_allclose(d_loss, [0.2 + 0.6, 0.3 + 0.0, 0.1 + 0.0], rtol=1e-6)  # max(0, m − D(G(z)))
    g_loss = gan.generator_loss(fake, None, None, None).numpy()
    pt = float(losses.pulling_away_term(codes))
    np.testing.assert_allclose(g_loss, np.array([0.4, 1.5, 1.0]) + 0.1 * pt, rtol=1e-5)
    assert float(gan.extra_trackers["pulling_away"].result()) == pytest.approx(pt, rel=1e-5)


@pytest.mark.parametrize("cls, options, message", [
    (BEGAN, {"gamma": 1.5}, "gamma=1.5"), (BEGAN, {"lambda_k": -1}, "lambda_k=-1"),
    (EBGAN, {"margin": 0}, "margin=0"), (EBGAN, {"feature_matching": True}, "feature_matching"),
    (EBGAN, {"pack": 2}, "pack=2")])
def test_bad_options_are_usage_errors(cls, options, message):
    with pytest.raises(UsageError, match=message):
        tiny(cls, **options)


@pytest.mark.parametrize("model", ["began_mnist", "ebgan_mnist"])
def test_preset_trains_from_the_cli_and_exports(model, image_folder, tmp_path, capsys):
    out, base = str(tmp_path / "run"), str(tmp_path / "export")
    assert main(["tfgan", "train", f"--model={model}", f"--dataset=folder:{image_folder}", "--epochs=1",
                 "--steps_per_epoch=2", "--batch_size=4", "--latent_dim=8", "--set", "image_size=8",
                 "--set", "generator_options.base_filters=4", "--set", "discriminator_options.base_filters=4",
                 f"--output_dir={out}"]) == 0
    assert ("k: " in capsys.readouterr().out) == (model == "began_mnist")
    assert main(["tfgan", "export", f"--run_dir={out}", f"--base={base}", "--tflite=float32"]) == 0
    with open(os.path.join(base, model, "1", "tflite", "generator.json")) as f:
        assert all(e["parity"]["meets_threshold"] for e in json.load(f)["files"].values())
