"""Age-cGAN conditional editing (`tfgan_app.gans.agecgan`, Antipov et al. 2017): its defining mechanisms.

The encoder loss ‖z − E(G(z, y))‖² trains E and never G; the identity-preserving latent optimisation lowers the
identity loss from E(x); an edit is G(z*, y_target); the preset trains, exports its conditional generator and edits
the user's files from the CLI.
"""

import glob
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_app import losses
from tfgan_app.architectures import dcgan_discriminator, mlp_generator
from tfgan_app.cli.main import main
from tfgan_app.errors import UsageError
from tfgan_app.gans import AgeCGAN
from tfgan_app.gans.sampling import ENCODER_LATENTS, stream_seed
from tfgan_app.images import to_uint8

SHAPE, LATENT, CLASSES = (8, 8, 1), 8, 3


def tiny(seed=0, **options):
    keras.utils.set_random_seed(seed)
    # An MLP generator (Glorot init): its images depend on z from the start, so E has something to invert.
    gan = AgeCGAN(mlp_generator(LATENT, SHAPE, CLASSES, hidden_units=(32,)),
                  dcgan_discriminator(SHAPE, CLASSES, base_filters=4), num_classes=CLASSES, encoder_filters=8,
                  **options)
    gan.compile(d_optimizer=keras.optimizers.Adam(2e-3), g_optimizer=keras.optimizers.Adam(2e-3))
    return gan


def data(num=32, seed=0):
    """Class c: a bright vertical bar at column 2 + 2c, with random brightness (structure E and G can learn)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(num) % CLASSES
    images = np.full((num, *SHAPE), -1.0, np.float32)
    for image, label, level in zip(images, labels, rng.uniform(0.2, 1.0, num)):
        image[:, 2 + 2 * label] = level
    return images, labels.astype(np.int32)


def test_latent_reconstruction_loss_is_the_per_example_mean_squared_error():
    z, z_hat = np.random.default_rng(0).normal(size=(2, 5, 3)).astype(np.float32)
    np.testing.assert_allclose(losses.latent_reconstruction_loss(z, z_hat), ((z - z_hat) ** 2).mean(axis=1),
                               rtol=1e-6)


def test_encoder_loss_is_the_formula_and_trains_only_the_encoder():
    gan = tiny()
    labels = tf.constant([0, 1, 2, 0], tf.int32)
    with tf.GradientTape(persistent=True) as tape:
        loss = gan.encoder_loss(labels)
    # Same latents as the step's stream, same networks: the formula of the paper, computed here.
    z = tf.random.stateless_normal([4, LATENT], seed=stream_seed(gan.seed, ENCODER_LATENTS, gan.g_optimizer.iterations))
    expected = losses.latent_reconstruction_loss(z, gan.encoder(gan.generator([z, labels], training=True),
                                                                training=True))
    np.testing.assert_allclose(loss.numpy(), expected.numpy(), rtol=1e-5)
    assert all(g is None for g in tape.gradient(loss, gan.generator.trainable_variables))  # G's output held fixed
    assert all(g is not None for g in tape.gradient(loss, gan.encoder.trainable_variables))


def test_a_train_step_updates_the_encoder_and_reports_its_loss():
    gan = tiny()
    before = [w.numpy().copy() for w in gan.encoder.trainable_weights]
    images, labels = data()
    logs = gan.train_on_batch(images, labels, return_dict=True)
    assert "encoder_mse" in logs and logs["encoder_mse"] > 0
    assert any(not np.array_equal(b, w.numpy()) for b, w in zip(before, gan.encoder.trainable_weights))


def test_the_encoder_learns_to_invert_the_generator():
    gan = tiny()
    images, labels = data()
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).repeat().batch(16)
    first = gan.fit(dataset, epochs=1, steps_per_epoch=10, verbose=0).history["encoder_mse"][-1]
    gan.fit(dataset, epochs=1, steps_per_epoch=120, verbose=0)
    last = gan.fit(dataset, epochs=1, steps_per_epoch=40, verbose=0).history["encoder_mse"][-1]
    assert last < 0.8 * first  # epoch means of ‖z − E(G(z, y))‖²; a frozen encoder stays at ~first


def _trained(steps=150):
    gan = tiny()
    images, labels = data()
    gan.fit(tf.data.Dataset.from_tensor_slices((images, labels)).repeat().batch(16), epochs=1, steps_per_epoch=steps,
            verbose=0)
    return gan, images, labels


@pytest.fixture(scope="module")
def trained():
    return _trained()


def test_latent_optimisation_lowers_the_identity_loss_from_the_encoders_start(trained):
    gan, _, _ = trained
    # Images G can make exactly: x = G(z_true, y). E(x) starts near z_true; the optimisation must close the gap.
    labels = tf.constant([0, 1, 2, 0, 1, 2], tf.int32)
    images = gan.sampling_generator([tf.random.stateless_normal([6, LATENT], seed=[1, 2]), labels], training=False)
    latents, history = gan.invert(images, labels, steps=60, learning_rate=0.05)
    start = gan.identity_loss(images, gan.sampling_generator([gan.encoder(images), labels])).numpy()
    np.testing.assert_allclose(history[0], start, rtol=1e-5)  # z0 = E(x)
    assert latents.shape == (6, LATENT)
    assert np.all(history[-1] < history[0]) and history[-1].mean() < 0.5 * history[0].mean(), history[[0, -1]]


def test_an_edit_is_the_generator_at_the_optimised_latent_under_the_target_condition(trained):
    gan, images, labels = trained
    edited = gan.edit(images[:3], target_labels=[2, 2, 2], source_labels=labels[:3], steps=0)
    expected = gan.sampling_generator([gan.encoder(images[:3]), tf.constant([2, 2, 2])], training=False)
    np.testing.assert_allclose(edited, expected.numpy(), atol=1e-6)
    other = gan.edit(images[:3], target_labels=[0, 0, 0], source_labels=labels[:3], steps=0)
    assert not np.allclose(edited, other)  # the condition changes the image
    inferred = gan.infer_condition(images[:3])
    assert inferred.shape == (3,) and inferred.dtype == np.int32 and set(inferred) <= set(range(CLASSES))


@pytest.mark.parametrize("call, message", [
    (lambda gan, x: gan.edit(x, [CLASSES]), r"target_labels must be in \[0, 3\). Received"),
    (lambda gan, x: gan.invert(x, [0], steps=-1), "steps must be an integer >= 0. Received: steps=-1"),
    (lambda gan, x: gan.invert(x, [0], learning_rate=0), "Received: learning_rate=0"),
    (lambda gan, x: gan.edit(x[..., 0], [0]), "Expected images"),
])
def test_bad_edit_arguments_are_one_line_errors(call, message):
    gan = tiny()
    with pytest.raises(UsageError, match=message):
        call(gan, data(2)[0])


def test_the_encoder_is_saved_with_the_model(tmp_path):
    gan = tiny()
    images, labels = data()
    gan.train_on_batch(images, labels)
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    restored = keras.saving.load_model(path)
    assert isinstance(restored, AgeCGAN) and restored.encoder_weight == gan.encoder_weight
    np.testing.assert_allclose(restored.edit(images[:2], [1, 1], labels[:2], steps=0),
                               gan.edit(images[:2], [1, 1], labels[:2], steps=0), atol=1e-6)


def _write_pngs(folder, images):
    from PIL import Image
    os.makedirs(folder, exist_ok=True)
    for i, image in enumerate(to_uint8(images)):
        Image.fromarray(image[..., 0]).save(os.path.join(folder, f"digit_{i}.png"))


def test_the_preset_trains_exports_and_edits_files_from_the_cli(tmp_path, capsys):
    run, export = str(tmp_path / "run"), str(tmp_path / "export")
    assert main(["tfgan", "train", "--model=agecgan_mnist", "--epochs=1", "--steps_per_epoch=2", "--batch_size=8",
                 f"--output_dir={run}", "--set", "generator_options.base_filters=8",
                 "--set", "discriminator_options.base_filters=4", "--set", "gan_options.encoder_filters=4"]) == 0
    assert main(["tfgan", "export", f"--run_dir={run}", f"--base={export}", "--tflite=float32"]) == 0
    assert os.path.isfile(os.path.join(export, "agecgan_mnist", "1", "saved_model.pb"))
    inputs = str(tmp_path / "inputs")
    _write_pngs(inputs, np.random.default_rng(0).uniform(-1, 1, (3, 28, 28, 1)))
    out = str(tmp_path / "edited")
    assert main(["tfgan", "generate", f"--model={run}", f"--inputs={inputs}", "--condition=7", "--edit_steps=3",
                 f"--output_dir={out}"]) == 0
    assert sorted(os.path.basename(p) for p in glob.glob(os.path.join(out, "*.png"))) == \
        ["digit_0.png", "digit_1.png", "digit_2.png"]
    assert "Edited 3 image(s) to class 7" in capsys.readouterr().out
    for argv, message in [
        ([f"--model={run}", "--condition=7", f"--output_dir={out}"], "pass --inputs"),
        ([f"--model={run}", f"--inputs={inputs}", "--condition=10", f"--output_dir={out}"], r"class in \[0, 10\)"),
        ([f"--model={run}", f"--inputs={inputs}", "--condition=1", "--labels=3", f"--output_dir={out}"],
         "--labels do not apply"),
        ([f"--model={run}", f"--inputs={inputs}", "--condition=1", "--timeout=5", f"--output_dir={out}"],
         "--timeout do not apply"),  # a run directory is read locally: no served model to wait for
        ([f"--model={export}/agecgan_mnist", f"--inputs={inputs}", "--condition=1", f"--output_dir={out}"],
         "gan.keras holds the encoder"),
    ]:
        assert main(["tfgan", "generate"] + argv) == 2, argv
        err = capsys.readouterr().err
        assert message.replace("\\", "") in err.replace("\\", "") or __import__("re").search(message, err), (argv, err)
        assert "Traceback" not in err
